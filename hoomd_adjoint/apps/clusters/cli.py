"""``hoomd-adjoint clusters ...``: the colloidal-cluster workflows from the command line.

hoomd-adjoint clusters states    --quenches 300 --out clusters-states
hoomd-adjoint clusters path      --B 5 --out clusters-path         # R1 -> R2: band, saddle, rates
hoomd-adjoint clusters design    --objective barriers --target 3 5 --out clusters-design
hoomd-adjoint clusters reproduce fig3b|fig3c|fig4a|fig4c|md|fig5|plots --out runs/clusters [--part k/n] [--pair twin]
"""

import functools
import json
import os
import sys

import numpy as np


def one_process(command):
    from ...communicator import one_process

    return one_process(command)


def _json(path, obj):
    from ...sweep import _write_json_atomic

    _write_json_atomic(path, obj)
    print(f"wrote {path}")


def _model(args):
    """The pair potential a command runs (--model, with --alpha, --r-cut, --r-on overriding its
    values), as Cluster's keyword arguments; also stored in the command's JSON."""
    from .model import MODELS

    m = dict(MODELS[args.model]["cluster"])
    if args.alpha is not None or args.r_cut is not None:  # another range: a hard cut unless --r-on
        m.pop("r_on", None)
    for key in ("alpha", "r_cut", "r_on"):
        if getattr(args, key) is not None:
            m[key] = getattr(args, key)
    m.setdefault("r_on", None)
    return m


def states(args):
    """Quench random starts; list the distinct rigid packings and labelled states found."""
    if one_process("hoomd-adjoint clusters states"):  # one random stream of quenches
        return 2
    from . import Cluster, packings

    c = Cluster(np.full(21, args.B), **_model(args))
    rng = np.random.default_rng(args.seed)
    found = packings.find_states(c, args.quenches, rng, contacts=15, progress=True, radius=args.radius)
    by = {}
    for s in found:
        by.setdefault(s.packing, []).append(s)
    rows = sorted(([min(s.energy for s in v), len(v), sum(s.hits for s in v)] for v in by.values()))
    print(f"{len(found)} labelled states of {len(by)} packings (N = 7, 15 contacts): {found.describe()}")
    print(f"{'packing':>8} {'energy (kT)':>12} {'states':>7} {'hits':>6}")
    for k, (E, n, h) in enumerate(rows):
        print(f"{k:8d} {E:12.4f} {n:7d} {h:6d}")
    os.makedirs(args.out, exist_ok=True)
    _json(
        os.path.join(args.out, "states.json"),
        dict(
            B=args.B,
            model=_model(args),
            quenches=args.quenches,
            radius=args.radius,
            failed=found.failed,
            packings=len(by),
            states=[dict(x=s.x.tolist(), energy=s.energy, graph=s.graph, hand=s.hand, hits=s.hits) for s in found],
        ),
    )


def path(args):
    """The DNEB path R1 -> R2 at uniform B: refined saddle, barriers and Kramers rates; PNG."""
    if one_process("hoomd-adjoint clusters path"):
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...transitions import kramers
    from . import Cluster, paths, reproduce

    c = Cluster(np.full(21, args.B), **_model(args))
    a, b = reproduce.reference_pair(c)
    p = paths.connect(c, a, b, images=args.images)
    if p is None:
        raise RuntimeError(f"R1 and R2 are not adjacent at --B {args.B:g} (no single-barrier band)")
    fwd = kramers(c, p.a, p.ts, kT=args.kT, gamma=args.gamma, gradient=False)
    bwd = kramers(c, p.b, p.ts, kT=args.kT, gamma=args.gamma, gradient=False)
    print(f"barriers: R1 -> R2 {p.barrier_ab:.6f} kT, R2 -> R1 {p.barrier_ba:.6f} kT")
    print(
        f"Kramers rates: R1 -> R2 {fwd.k:.6g}, R2 -> R1 {bwd.k:.6g} (prefactors {fwd.prefactor:.4g}, {bwd.prefactor:.4g})"
    )
    os.makedirs(args.out, exist_ok=True)
    E = p.band.energies - p.band.energies[0]
    last = len(E) - 1
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.plot(E, "o-", ms=2, label=f"relaxed band (DNEB, {last - 1} images between the states)")
    ax.plot(
        p.band.ts,
        p.barrier_ab,
        "*",
        ms=14,
        color="tab:red",
        label=f"refined saddle: barriers {p.barrier_ab:.3f} kT (R1 → R2), {p.barrier_ba:.3f} kT (R2 → R1)",
    )
    ax.plot([0, last], [0, p.barrier_ab - p.barrier_ba], "s", ms=7, color="k", label="the states R1 and R2 (minima)")
    for x, y, name in ((0, 0, "R1"), (last, p.barrier_ab - p.barrier_ba, "R2")):
        ax.annotate(name, (x, y), xytext=(0, 8), textcoords="offset points", ha="center")
    ax.set_xlabel(f"image along the band (R1 = 0, R2 = {last})")
    ax.set_ylabel("energy − E(R1) (kT)")
    ax.set_ylim(min(0, E.min()) - 0.15 * np.ptp(E), E.max() + 0.9 * np.ptp(E))  # room for the legend above
    ax.legend(fontsize=8, loc="upper center")
    ax.set_title(
        f"R1 → R2 path of 7 Morse spheres: B = {args.B:g} kT on all 21 pairs, α = {c.alpha:g}/σ\n"
        f"Kramers rates (kT = {args.kT:g}, γ = {args.gamma:g}): R1 → R2 {fwd.k:.4g}, R2 → R1 {bwd.k:.4g} "
        "per unit time",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "path.png"), dpi=150)
    plt.close(fig)
    print(f"wrote {os.path.join(args.out, 'path.png')}")
    _json(
        os.path.join(args.out, "path.json"),
        dict(
            B=args.B,
            model=_model(args),
            barriers=[p.barrier_ab, p.barrier_ba],
            rates=[fwd.k, bwd.k],
            prefactors=[fwd.prefactor, bwd.prefactor],
            energies=p.band.energies.tolist(),
            ts=p.ts.tolist(),
            a=p.a.tolist(),
            b=p.b.tolist(),
        ),
    )


def design_cmd(args):
    """Design the R1 <-> R2 barriers (Eq. 5) or Kramers rates (Eq. 6) through the 21 B_ab."""
    if one_process("hoomd-adjoint clusters design"):  # one optimisation, step after step
        return 2
    from . import Cluster, reproduce
    from .design import design

    c = Cluster(np.full(21, args.B), **_model(args))
    a, b = reproduce.reference_pair(c)
    r = design(
        c,
        a,
        b,
        args.target,
        objective=args.objective,
        iterations=args.iterations,
        steps=args.steps,
        lr=args.lr,
        anneal=args.anneal,
        kT=args.kT,
        gamma=args.gamma,
        optimizer=args.optimizer,
        progress=True,
    )
    unit = "kT" if args.objective == "barriers" else "1/time"
    print(
        f"targets {args.target[0]:g}, {args.target[1]:g} {unit} -> {r.values[0, 0]:.6g}, {r.values[0, 1]:.6g} "
        f"(errors {100 * r.errors[0, 0]:.3f} %, {100 * r.errors[0, 1]:.3f} %) in {r.seconds:.1f} s"
    )
    os.makedirs(args.out, exist_ok=True)
    _json(os.path.join(args.out, "design.json"), dict(r.summary(), model=_model(args), iterations=r.iterations))


def reproduce_cmd(args):
    """Run (or resume) one of the paper's cluster results; ``plots`` draws those finished.
    Under mpirun the ranks share a sweep's jobs (fig4a, fig4c, md, fig5: part = rank/size)."""
    from ...communicator import launched
    from . import reproduce as rp

    rank, size = launched()
    if size > 1:
        if args.what not in ("fig4a", "fig4c", "md", "fig5"):
            if one_process(f"hoomd-adjoint clusters reproduce {args.what}"):
                return 2
        elif args.part is not None:  # every rank would run the same slice
            if rank == 0:
                print(
                    f"hoomd-adjoint clusters reproduce: --part {args.part} under mpirun would run that slice on "
                    f"each of the {size} ranks; leave --part out (the ranks share the jobs) or run without mpirun",
                    file=sys.stderr,
                )
            return 2
        else:
            # The slices need no messages between the ranks: each saves its own jobs' results, and
            # the setup files that every rank computes are the same bytes, written atomically.
            args.part = f"{rank}/{size}"
    m = args.model
    if args.what == "fig3b":
        rp.fig3b(args.out, m, progress=True)
    elif args.what == "fig3c":
        print(rp.fig3c(args.out, m))
    elif args.what in ("fig4a", "fig4c"):
        rp.grid("barriers" if args.what == "fig4a" else "rates", args.out, m, part=args.part, progress=rank == 0)
    elif args.what == "md":
        rp.md_validation(args.out, m, pair=args.pair, part=args.part, progress=rank == 0)
    elif args.what == "fig5":
        rp.designability(args.out, m, part=args.part, progress=rank == 0)
    else:
        md = [(d, functools.partial(rp.plot_md, pair=p), d) for p, d in ((p, rp.md_dir("", p)) for p in rp.MD_PAIRS)]
        for name, fn, need in (
            [("fig4", rp.plot_grid, "fig4-barriers")] + md + [("fig5", rp.plot_designability, "fig5")]
        ):
            if os.path.isdir(os.path.join(args.out, need)):
                print(name, json.dumps(fn(args.out, m), indent=1)[:2000])


SWEEPS = ("fig4a", "fig4c", "md", "fig5")  # the reproductions that are sweeps (--part, shared under mpirun)


def _check_out(args):
    from ..._cli import Usage, out_folder

    m = _model(args)  # every command with --out has the model options
    if m["r_on"] is not None and m["r_on"] >= m["r_cut"]:
        cut = (
            f"--r-cut {m['r_cut']:g}"
            if args.r_cut is not None
            else f"the cutoff {m['r_cut']:g} of --model {args.model}"
        )
        raise Usage(f"--r-on {m['r_on']:g} must be below {cut}")
    out_folder("--out", args.out)


def _check_reproduce(args):
    from ..._cli import Usage, out_folder

    out_folder("--out", args.out)
    if args.pair != "reference" and args.what != "md":
        raise Usage(
            f"--pair {args.pair} chooses the states of the MD check; {args.what} has one pair (plots draws every pair run)"
        )
    if args.part is not None and args.what not in SWEEPS:
        raise Usage(f"--part {args.part} slices a sweep ({', '.join(SWEEPS)}); {args.what} is not one")
    if args.what == "plots" and not os.path.isdir(args.out):
        raise Usage(f"--out {args.out}: no such folder, so nothing to plot (run fig4a, fig4c, md or fig5 into it)")


def add_parser(sub):
    """Register ``clusters`` and its actions on an argparse subparsers object."""
    from ... import _cli as _a
    from .model import DEFAULT_MODEL, MODELS

    p = sub.add_parser(
        "clusters",
        help="colloidal clusters: states, DNEB paths, Kramers rates, design (PNAS 2021, Figs. 3-5)",
        description=__doc__,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="action")

    def model(a, B=5.0):
        a.add_argument(
            "--B", type=_a.real(0, open_lo=True), default=B, help="uniform binding energy to start from (kT)"
        )
        models(a)
        a.add_argument(
            "--alpha",
            type=_a.real(0, open_lo=True),
            default=None,
            help="Morse range parameter (1/sigma; default: the model's)",
        )
        a.add_argument(
            "--r-cut", type=_a.real(0, open_lo=True), default=None, help="cutoff (sigma; default: the model's)"
        )
        a.add_argument(
            "--r-on",
            type=_a.real(0),
            default=None,
            help="switch the energy smoothly to 0 between r_on and r_cut (XPLOR, as JAX MD's multiplicative "
            "cutoff; --model tutorial has 2 and 2.5); with --alpha or --r-cut and no --r-on: a hard cut at r_cut",
        )

    def models(a):
        a.add_argument(
            "--model",
            choices=sorted(MODELS),
            default=DEFAULT_MODEL,
            help="the Morse model: short (alpha 40, cut at 1.375: all five Arkus packings), tutorial (alpha 5, "
            "smooth cut 2-2.5, the authors' JAX MD tutorial), soft (alpha 5, cut at 4) (default: %(default)s)",
        )

    def kramers(a):
        a.add_argument("--kT", type=_a.real(0, open_lo=True), default=1.0, help="temperature of the Kramers rates")
        a.add_argument("--gamma", type=_a.real(0, open_lo=True), default=1.0, help="drag of the Kramers rates")

    def out(a, default, what):
        a.add_argument("--out", type=_a.text("a folder"), default=default, help=f"output folder ({what})")

    a = actions.add_parser("states", help="rigid packings of 7 spheres by quenches", description=states.__doc__)
    model(a)
    a.add_argument("--quenches", type=_a.integer(1), default=300, help="random starts to quench")
    a.add_argument("--seed", type=_a.integer(0), default=0, help="seed of the random starts")
    a.add_argument(
        "--radius",
        type=_a.real(1.0),
        default=1.15,
        help="radius of the ball the starts are drawn in (sigma; default %(default)s, compact: at alpha = 40 the "
        "wider 1.46 leaves a quarter of the quenches floppy)",
    )
    out(a, "clusters-states", "states.json")
    a.set_defaults(func=states, check=_check_out, single="hoomd-adjoint clusters states")
    a = actions.add_parser("path", help="R1 -> R2 band, saddle, barriers, Kramers rates", description=path.__doc__)
    model(a)
    a.add_argument("--images", type=_a.integer(1), default=100, help="interior images of the band (DNEB)")
    kramers(a)
    out(a, "clusters-path", "path.json, path.png")
    a.set_defaults(func=path, check=_check_out, single="hoomd-adjoint clusters path")
    a = actions.add_parser("design", help="barrier or rate design of R1 <-> R2", description=design_cmd.__doc__)
    model(a)
    a.add_argument(
        "--objective",
        choices=["barriers", "rates"],
        default="barriers",
        help="design the barriers (Eq. 5) or the Kramers rates (Eq. 6)",
    )
    a.add_argument(
        "--target",
        type=_a.real(0, open_lo=True),
        nargs=2,
        default=[3.0, 5.0],
        metavar="T",
        help="forward and backward target: barriers (kT) or rates (1/time)",
    )
    a.add_argument("--iterations", type=_a.integer(1), default=18, help="band searches (the paper: 18)")
    a.add_argument("--steps", type=_a.integer(1), default=50, help="optimiser steps per band search")
    a.add_argument("--lr", type=_a.real(0, open_lo=True), default=0.05, help="RMSProp step size (kT per parameter)")
    a.add_argument("--anneal", type=_a.integer(1), default=2, help="halve the step every this many iterations")
    a.add_argument(
        "--optimizer",
        choices=["rmsprop", "gauss-newton"],
        default="rmsprop",
        help="RMSProp (the paper's) or minimum-norm Gauss-Newton steps on the exact Jacobian (quadratic "
        "convergence; --lr and --anneal then unused) (default: %(default)s)",
    )
    kramers(a)
    out(a, "clusters-design", "design.json")
    a.set_defaults(func=design_cmd, check=_check_out, single="hoomd-adjoint clusters design")
    _add_reproduce(actions, models, out)


def _add_reproduce(actions, models, out):
    """Register ``clusters reproduce`` (``models`` and ``out`` add add_parser's shared options)."""
    from ... import _cli as _a

    a = actions.add_parser(
        "reproduce", help="the paper's cluster results as resumable sweeps", description=reproduce_cmd.__doc__
    )
    a.add_argument(
        "what",
        choices=["fig3b", "fig3c", "fig4a", "fig4c", "md", "fig5", "plots"],
        help="the result to run (fig4a, fig4c, md and fig5 are sweeps: rerun to continue), or plots",
    )
    out(a, "runs/clusters", "one subfolder per result")
    models(a)
    a.add_argument(
        "--part",
        type=_a.part,
        default=None,
        help="slice k/n of a sweep's jobs: jobs i with i %% n == k (default: every job)",
    )
    a.add_argument(
        "--pair",
        choices=["reference", "twin"],
        default="reference",
        help="md: the states whose designed rates MD checks: R1 <-> R2 (the paper's) or R2 and its relabelled "
        "twin (barriers 4.5-5.7 kT at alpha = 5; tutorial model) (default: %(default)s)",
    )
    a.set_defaults(
        func=reproduce_cmd,
        check=_check_reproduce,
        mpi_part=True,
        resume_hint=lambda args: "again" if args.what in SWEEPS else None,
        single=lambda args: None if args.what in SWEEPS else f"hoomd-adjoint clusters reproduce {args.what}",
    )
