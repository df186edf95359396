"""Reproduce the colloidal-cluster results of the PNAS 2021 seed (Figs. 3-5) with hoomd-adjoint.

- Fig. 3B: energy along the R1 -> R2 path while a barrier design (3 and 5 kT) converges.
- Fig. 4A / 4C: 49 barrier targets ({2..8} kT both ways) and 49 rate targets (+-1 decade).
- Fig. 3C: one MD run mapped onto the path, filtered and binarised.
- Figs. 4B, 4D: five rate designs checked by first-exit Brownian MD from both states (R1 <-> R2,
  and R2 <-> its relabelled twin, whose barriers are 4.5-5.7 kT).
- Fig. 5: designability of all 511 subsets of 9 pathways: rank prediction against optimisation.

Every grid is a resumable sweep (run the same command again after an interruption; slice with
--part k/n across processes). Outputs: JSON and PNG in --out, copied to docs/figures with
--figures::

    python examples/reproduce_clusters.py --out runs/clusters --model short   # one model
    python examples/reproduce_clusters.py --smoke                    # seconds: the same code, tiny sizes

Each model (``--model``: soft = alpha 5 cut at 4, the package default; tutorial = alpha 5 with
the authors' smooth cutoff 2.0-2.5; short = alpha 40) runs into its own subfolder of --out.
"""

import argparse
import os
import shutil
import tempfile

from hoomd_adjoint.apps.clusters import reproduce as rp


# The MD checks each model runs: short range's need ~80 core-hours (dt = 1.5e-6; docs/clusters.md),
# work for GPU replica batches; the soft model is the first run, kept as it was
MD_CHECKS = {"tutorial": ("reference", "twin"), "soft": ("reference",), "short": ()}


def run_model(model, out, only, part=None, limit=None):
    """Run (or resume) the results in ``only`` for one model into ``out``; return the output files."""
    outputs = []
    if "fig3c" in only:
        print(f"[{model}] Fig. 3C:", rp.fig3c(out, model))
        outputs += ["fig3c.png", "fig3c.json"]
    if "fig3b" in only:
        r = rp.fig3b(out, model, progress=True)
        print(
            f"[{model}] Fig. 3B: targets 3, 5 kT -> {r.values[0, 0]:.4f}, {r.values[0, 1]:.4f} kT in {r.seconds:.1f} s"
        )
        outputs += ["fig3b.png", "fig3b.json"]
    for name, objective in (("fig4a", "barriers"), ("fig4c", "rates")):
        if name in only:
            rp.grid(objective, out, model, part=part, progress=True, limit=limit)
    md = MD_CHECKS[model] if "md" in only else ()
    if "md" in only and not md:
        print(f"[{model}] MD check not run: first exits at this range take ~10^8 Brownian steps (docs/clusters.md)")
    for pair in md:
        rp.md_validation(out, model, pair=pair, part=part, progress=True)
    if "fig5" in only:
        rp.designability(out, model, part=part, progress=True, limit=limit)
    if {"fig4a", "fig4c"} & set(only):
        print(f"[{model}] Fig. 4:", rp.plot_grid(out, model))
        outputs += ["fig4.png", "fig4.json"]
    for pair in md:
        s = rp.plot_md(out, model, pair=pair)
        print(f"[{model}] MD ({pair}): {s['within_2se']}/{s['n']} rates within 2 SE of Kramers")
        name = os.path.basename(rp.md_dir(out, pair))
        outputs += [f"{name}.png", f"{name}.json"]
    if "fig5" in only:
        print(f"[{model}] Fig. 5:", rp.plot_designability(out, model))
        outputs += ["fig5.png", "fig5.json", "fig5-setup.json"]
    return outputs


def copy_figures(model, out, outputs, figures):
    """The PNG/JSON summaries and each finished sweep's table (CSV) into ``figures``, named
    clusters-<model>-<name>."""
    from hoomd_adjoint.sweep import Sweep

    os.makedirs(figures, exist_ok=True)
    for f in outputs:
        if os.path.exists(os.path.join(out, f)):
            shutil.copy(os.path.join(out, f), os.path.join(figures, f"clusters-{model}-{f}"))
    for name in ("fig4-barriers", "fig4-rates", "md", "md-twin", "fig5"):
        if os.path.exists(os.path.join(out, name, "jobs.json")):
            Sweep.open(os.path.join(out, name)).write_csv(
                os.path.join(figures, f"clusters-{model}-{name}.csv"), allow_missing=True
            )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/clusters", help="one subfolder per model (default: %(default)s)")
    ap.add_argument("--figures", default=None, help="copy the PNG/JSON summaries here (e.g. docs/figures)")
    ap.add_argument("--part", default=None, help="slice k/n of each sweep")
    ap.add_argument(
        "--model",
        nargs="*",
        choices=sorted(rp.MODELS),
        default=["tutorial", "short"],
        help="the Morse models to run (default: %(default)s)",
    )
    ap.add_argument("--only", nargs="*", default=["fig3b", "fig3c", "fig4a", "fig4c", "md", "fig5"])
    ap.add_argument("--smoke", action="store_true", help="tiny budgets in a temporary directory")
    args = ap.parse_args(argv)
    limit = None
    if args.smoke:
        rp.DESIGN.update(iterations=2, steps=5)
        args.out = tempfile.mkdtemp(prefix="clusters-smoke-")
        args.only = ["fig3b", "fig4a", "fig4c"]
        limit = 2
    for model in args.model:
        out = os.path.join(args.out, model)
        outputs = run_model(model, out, args.only, part=args.part, limit=limit)
        if args.figures:
            copy_figures(model, out, outputs, args.figures)
    if args.smoke:
        shutil.rmtree(args.out)


if __name__ == "__main__":
    main()
