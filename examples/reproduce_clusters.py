"""Reproduce the colloidal-cluster results of the PNAS 2021 seed (Figs. 3-5) with hoomd-adjoint.

- Fig. 3B: energy along the R1 -> R2 path while a barrier design (3 and 5 kT) converges.
- Fig. 4A / 4C: 49 barrier targets ({2..8} kT both ways) and 49 rate targets (+-1 decade).
- Fig. 3C: one MD run mapped onto the path, filtered and binarised.
- Figs. 4B, 4D: five rate designs checked by first-exit Brownian MD from both states.
- Fig. 5: designability of all 511 subsets of 9 pathways: rank prediction against optimisation.

Every grid is a resumable sweep (run the same command again after an interruption; slice with
--part k/n across processes). Outputs: JSON and PNG in --out, copied to docs/figures with
--figures::

    python examples/reproduce_clusters.py --out runs/clusters        # about 1.5 hours on two cores
    python examples/reproduce_clusters.py --smoke                    # seconds: the same code, tiny sizes
"""

import argparse
import os
import shutil
import tempfile

from hoomd_adjoint.apps.clusters import reproduce as rp


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/clusters")
    ap.add_argument("--figures", default=None, help="copy the PNG/JSON summaries here (e.g. docs/figures)")
    ap.add_argument("--part", default=None, help="slice k/n of each sweep")
    ap.add_argument("--only", nargs="*", default=["fig3b", "fig3c", "fig4a", "fig4c", "md", "fig5"])
    ap.add_argument("--smoke", action="store_true", help="tiny budgets in a temporary directory")
    args = ap.parse_args(argv)
    limit = None
    if args.smoke:
        rp.DESIGN.update(iterations=2, steps=5)
        args.out = tempfile.mkdtemp(prefix="clusters-smoke-")
        args.only = ["fig3b", "fig3c", "fig4a", "fig4c"]
        limit = 2
    if "fig3c" in args.only:
        print("Fig. 3C:", rp.fig3c(args.out))
        outputs = ["fig3c.png", "fig3c.json"]
    else:
        outputs = []
    if "fig3b" in args.only:
        r = rp.fig3b(args.out, progress=True)
        print(f"Fig. 3B: targets 3, 5 kT -> {r.values[0, 0]:.4f}, {r.values[0, 1]:.4f} kT in {r.seconds:.1f} s")
    for name, objective in (("fig4a", "barriers"), ("fig4c", "rates")):
        if name in args.only:
            rp.grid(objective, args.out, part=args.part, progress=True, limit=limit)
    if "md" in args.only:
        rp.md_validation(args.out, part=args.part, progress=True)
    if "fig5" in args.only:
        rp.designability(args.out, part=args.part, progress=True)
    outputs += ["fig3b.png", "fig3b.json"]
    if {"fig4a", "fig4c"} & set(args.only):
        print("Fig. 4:", rp.plot_grid(args.out))
        outputs += ["fig4.png", "fig4.json"]
    if "md" in args.only:
        s = rp.plot_md(args.out)
        print(f"MD: {s['within_2se']}/{s['n']} rates within 2 SE of Kramers")
        outputs += ["md.png", "md.json"]
    if "fig5" in args.only:
        print("Fig. 5:", rp.plot_designability(args.out))
        outputs += ["fig5.png", "fig5.json"]
    if args.figures:
        os.makedirs(args.figures, exist_ok=True)
        for f in outputs:
            if os.path.exists(os.path.join(args.out, f)):
                shutil.copy(os.path.join(args.out, f), os.path.join(args.figures, "clusters-" + f))
    if args.smoke:
        shutil.rmtree(args.out)


if __name__ == "__main__":
    main()
