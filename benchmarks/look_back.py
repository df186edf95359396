"""What building the backward sweep's neighbour lists from earlier states saves (docs/adjoint.md).

The checkpointed gradient of benchmarks/adjoint.py part 1 (3D LJ, N = 10^4, 1000 steps, Brownian
or Langevin, 2 threads) at several budgets, with the look-back off and on. The two ways alternate
in one process, best of ``--repeats``: the machine drifts by 5-10% within minutes, more than the
difference, so separate processes cannot resolve it. The list builds are exact counts; the
gradients are the same to the bit either way (tests/test_adjoint.py).

    PYTHONPATH=. python benchmarks/look_back.py [--method langevin] [--budgets 750 500 32]
"""

import argparse
import time

import hoomd_adjoint as ha
from adjoint import energy_loss, lj_sim


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", choices=["brownian", "langevin"], default="brownian")
    ap.add_argument("--budgets", type=int, nargs="+", default=[750, 500, 32], help="states")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--N", type=int, default=10000)
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()
    per = 72 if args.method == "langevin" else 24  # bytes a state takes per particle
    best, builds = {}, {}
    try:
        for _ in range(args.repeats):
            for budget in args.budgets:
                for on in (False, True):
                    ha.adjoint._LOOK_BACK = on
                    sim, lj = lj_sim(args.N, method=args.method)
                    sim.run(10)
                    t = time.perf_counter()
                    res = ha.adjoint.gradient(
                        sim, args.steps, loss=energy_loss(lj), wrt=[lj], memory=budget * per * args.N
                    )
                    el = time.perf_counter() - t
                    best[budget, on] = min(best.get((budget, on), el), el)
                    builds[budget, on] = res.diagnostics["nlist_builds"]
    finally:
        ha.adjoint._LOOK_BACK = True
    print(f"# {args.method}, N = {args.N}, {args.steps} steps, best of {args.repeats}, alternating in one process")
    print(f"{'budget (states)':>15} {'builds, off':>12} {'builds, on':>11} {'s, off':>8} {'s, on':>7} {'on/off':>7}")
    for b in args.budgets:
        print(
            f"{b:>15} {builds[b, False]:>12} {builds[b, True]:>11} {best[b, False]:>8.2f} {best[b, True]:>7.2f} "
            f"{best[b, True] / best[b, False]:>7.2f}"
        )


if __name__ == "__main__":
    main()
