"""Design a potential whose honeycomb crystal assembles at a chosen rate relative to the triangular one.

The PNAS 2021 seed's first workflow, in a few lines of the Python API (``hoomd-adjoint honeycomb
design`` is the same as a command). N = 100 particles in 2D with the Rechtsman potential; its
a0..a3 are tuned by RMSProp on replica-averaged gradients so that the mean L_T crosses 1/2 at
t*_T = 1/k_T and the mean L_H at t*_H = 1/k_H (times in steps). The state is saved after every
iteration: run the script again to continue where it stopped::

    python examples/honeycomb.py --iterations 10
    python examples/honeycomb.py --iterations 20          # ten more, resumed bit-identically
"""

import argparse

from hoomd_adjoint.apps.assembly import honeycomb as hc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="honeycomb-example")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--t-T", type=int, default=400, help="target triangular half-time (steps)")
    ap.add_argument("--t-H", type=int, default=6400, help="target honeycomb half-time (steps)")
    args = ap.parse_args()

    design = hc.Design(
        args.out,
        objective="rates",
        k_T=1 / args.t_T,
        k_H=1 / args.t_H,
        variant="truncated",  # adjoint through the last 300 steps before each t*
        replicas=16,
        lr=0.01,
        protocol=hc.Protocol(),
        resume=True,
    )
    design.run(args.iterations)  # progress bar; out/state.json after every iteration
    summary = design.report(replicas=32)  # fresh replicas: curves.csv, design.png, GSD files
    for label in ("start", "designed"):
        s = summary[label]
        print(
            f"{label:9s} a = {[round(x, 3) for x in s['params']]}: t½_H = {s['t_H']:.0f}, "
            f"t½_T = {s['t_T']:.0f} steps (targets {args.t_H}, {args.t_T})"
        )


if __name__ == "__main__":
    main()
