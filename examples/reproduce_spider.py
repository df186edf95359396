"""Reproduce the spider results of the colloidal-reactions seed (Krueger, King & Brenner 2023,
Figs. 2-4) with hoomd-adjoint.

- Fig. 2: the octahedron, optimised from the weak (log eps_H = 3.5, alpha_H = 1.5) and strong
  (8.5, 1.0) starts; loss curves beside the authors' logged traces.
- Fig. 3: the icosahedron from (5.5, 1.5) and (9.2, 1.5).
- Fig. 4: spread of the converged parameters over 5 seeds and 5 perturbed starts (log eps_H + N(0, 0.1)).
- Validation: 10,000-step runs over 20 seeds with each optimised spider (and the cargo in the
  icosahedron): extraction, intact shell, detachment, release fractions; a GSD trajectory each.

Every optimisation is resumable (run the same command again after an interruption). Outputs go
to --out; --figures copies the PNG/JSON summaries (e.g. to docs/figures); --reference names the
authors' figures/preprint/data directory to draw their traces::

    python examples/reproduce_spider.py --out runs/spider --figures docs/figures   # hours on two cores
    python examples/reproduce_spider.py --smoke                                    # seconds
"""

import argparse
import json
import os
import shutil
import tempfile

from hoomd_adjoint.apps.spider import Optimization, figures, validate

RUNS = {  # name: (shell, start, iterations)
    "oct-weak": ("octahedron", "weak", 500),
    "oct-strong": ("octahedron", "strong", 1250),
    "ico-weak": ("icosahedron", "weak", 250),
    "ico-strong": ("icosahedron", "strong", 250),
}
SPREAD_ITERATIONS = 500  # the paper's for the low-energy start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/spider")
    ap.add_argument("--figures", default=None)
    ap.add_argument("--reference", default=None, help="the authors' figures/preprint/data directory")
    ap.add_argument("--only", nargs="*", default=["fig2", "fig3", "fig4", "validate"])
    ap.add_argument("--smoke", action="store_true", help="tiny budgets in a temporary directory")
    args = ap.parse_args(argv)
    runs, spread_it, kw, val = dict(RUNS), SPREAD_ITERATIONS, {}, dict(seeds=20, steps=10000)
    if args.smoke:
        args.out = tempfile.mkdtemp(prefix="spider-smoke-")
        runs = {k: (s, st, 2) for k, (s, st, _) in RUNS.items()}
        spread_it, kw, val = 2, dict(replicas=2, steps=50), dict(seeds=2, steps=200)
    os.makedirs(args.out, exist_ok=True)
    outputs = []

    def optimise(name, shell, start, iterations, **extra):
        opt = Optimization(os.path.join(args.out, name), shell=shell, start=start, resume=True, **kw, **extra)
        opt.run(iterations)
        return os.path.join(args.out, name)

    for fig, names in (("fig2", ["oct-weak", "oct-strong"]), ("fig3", ["ico-weak", "ico-strong"])):
        if fig in args.only:
            dirs = [optimise(n, *runs[n]) for n in names]
            out = os.path.join(args.out, f"spider-{fig}-losses.png")
            s = figures.plot_losses(dirs, out, reference=args.reference)
            with open(out.replace(".png", ".json"), "w") as f:
                json.dump(s, f, indent=1)
            outputs += [out, out.replace(".png", ".json")]
            print(fig, json.dumps(s, indent=1)[:1500])
    if "fig4" in args.only:
        dirs = [optimise(f"fig4-seed{k}", "octahedron", "weak", spread_it, seed=k) for k in range(1, 6)]
        dirs += [
            optimise(f"fig4-perturbed{k}", "octahedron", "weak", spread_it, seed=k, perturb=0.1) for k in range(1, 6)
        ]
        out = os.path.join(args.out, "spider-fig4-spread.png")
        s = figures.plot_spread(dirs, out)
        with open(out.replace(".png", ".json"), "w") as f:
            json.dump(s, f, indent=1)
        outputs += [out, out.replace(".png", ".json")]
        print("fig4", json.dumps(s, indent=1)[:1500])
    if "validate" in args.only:
        summary = {}
        for name, cargo in (("oct-weak", False), ("oct-strong", False), ("ico-strong", True)):
            state = os.path.join(args.out, name, "state.json")
            if not os.path.exists(state):
                continue
            d = os.path.join(args.out, f"validate-{name}")
            summary[name] = validate.validate(d, state, shell=runs[name][0], cargo=cargo, **val)
            shutil.copy(os.path.join(d, "trajectory.png"), os.path.join(args.out, f"spider-validate-{name}.png"))
            outputs.append(os.path.join(args.out, f"spider-validate-{name}.png"))
        with open(os.path.join(args.out, "spider-validation.json"), "w") as f:
            json.dump(summary, f, indent=1)
        outputs.append(os.path.join(args.out, "spider-validation.json"))
        print("validation", json.dumps(summary, indent=1))
    if args.figures:
        os.makedirs(args.figures, exist_ok=True)
        for path in outputs:
            shutil.copy(path, args.figures)


if __name__ == "__main__":
    main()
