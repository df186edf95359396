"""``hoomd-adjoint honeycomb design|measure``: honeycomb vs triangular assembly rates of the PNAS
2021 paper (Figs. 1-2): design the Rechtsman potential's a0..a3, or measure a potential's
assembly curves and rates."""

import os
import sys
import time

import numpy as np

from ... import _cli as _a


def _protocol(args):
    from . import honeycomb as hc

    return hc.Protocol(N=args.N, kT=args.kT, dt=args.dt, rho_T=args.rho_T)


def _seconds(t):
    return f"{t:.1f} s" if t < 10 else f"{t:.0f} s"


def honeycomb_design(args):
    """RMSProp design of the Rechtsman potential's a0..a3 for honeycomb/triangular assembly."""
    from . import honeycomb as hc
    from ...communicator import shared

    world = shared("hoomd-adjoint honeycomb design")  # under mpirun the ranks share the replicas
    if world is None:
        return 2
    try:
        k_H = None if args.objective == "assemble" else (args.k_H if args.k_H is not None else args.ratio * args.k_T)
        d = hc.Design(
            args.out,
            objective=args.objective,
            k_T=args.k_T,
            k_H=k_H,
            steps=args.steps,
            variant=args.variant,
            truncate=args.truncate,
            replicas=args.replicas,
            lr=args.lr,
            anneal=args.anneal,
            start=args.start,
            protocol=_protocol(args),
            threads=args.threads,
            resume=args.resume,
            engine=args.engine,
            communicator=world,
            max_failed=args.max_failed,
            rate_loss=args.rate_loss,
            common_seeds=args.common_seeds,
            optimizer=args.optimizer,
        )
    except (ValueError, TypeError, FileExistsError) as e:
        if world.partition == 0:  # every rank got the same arguments and files
            print(f"hoomd-adjoint honeycomb design: {e}", file=sys.stderr)
        return 2
    if d.iteration and world.partition == 0:
        print(f"resuming {d.state_path} after iteration {d.iteration - 1}")
    before, t0 = d.iteration, time.perf_counter()
    d.run(args.iterations, progress=not args.quiet)
    t1 = time.perf_counter()
    s = d.report(
        replicas=args.check_replicas,
        steps=args.check_steps,
        trajectories=True,
        progress=not args.quiet and world.partition == 0,
    )
    t2 = time.perf_counter()
    if d.communicator.partition != 0:  # under mpirun every rank ran replicas; one reports
        return 0
    ran = d.iteration - before
    now = f"iteration {before}" if ran == 1 else f"iterations {before} to {d.iteration - 1}"
    print(
        f"\ndesign: {ran} iteration{'s' * (ran != 1)} in {_seconds(t1 - t0)}"
        + (f" ({now}; the {before} before were resumed)" if before and ran else "")
        + (f" (all {before} were saved: nothing left to run)" if before and not ran else "")
        + f"; measuring the start and the design on {args.check_replicas} fresh replicas per lattice: "
        f"{_seconds(t2 - t1)}"
    )
    print(
        f"{'':10s} {'a0':>7s} {'a1':>7s} {'a2':>7s} {'a3':>7s} {'L_H(end)':>9s} {'k_H':>11s} {'k_T':>11s} "
        f"{'k_H/k_T':>11s}"
    )
    rate = lambda k: f"{k:11.2e}" if k else f"{hc.NOT_REACHED:>11s}"  # noqa: E731  no half-time within the runs
    for label in ("start", "designed"):
        r = s[label]
        print(
            f"{label:10s} " + " ".join(f"{x:7.3f}" for x in r["params"]) + f" {r['L_H_end']:9.3f} {rate(r['k_H'])} "
            f"{rate(r['k_T'])} " + (f"{r['ratio']:11.3f}" if r["ratio"] else f"{hc.NOT_REACHED:>11s}")
        )
    if "target_ratio" in s:
        print(f"target k_H/k_T = {s['target_ratio']:.4g}")
    for label in ("start", "designed"):  # what the table's means are over
        for lattice, used in s[label]["replicas_used"].items():
            failed = s[label]["failed"][lattice]
            print(
                f"{label} {lattice}: {used} of {args.check_replicas} replicas"
                + (
                    ""
                    if not failed
                    else "; left out: "
                    + "; ".join(f"seed {f['seed']} (stopped at timestep {f['step']}: {f['cause']})" for f in failed)
                )
            )
    if s["failed_in_design"]:
        print(
            f"{s['failed_in_design']} replica(s) failed during the design and were left out of their "
            f"iterations (design.csv: failures; state.json: failed)"
        )
    print(f"wrote {args.out}/: design.png curves.csv design.csv summary.json state.json honeycomb.gsd triangular.gsd")
    return 0


def honeycomb_measure(args):
    """Mean L_H(t), L_T(t) over fresh replicas of one potential; half-times and rates."""
    from . import honeycomb as hc
    from ...communicator import shared

    world = shared("hoomd-adjoint honeycomb measure")  # under mpirun the ranks share the replicas
    if world is None:
        return 2
    first = world.partition == 0  # every rank gets every replica's curve; the first writes and prints
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    try:
        m = hc.measure(
            args.params,
            replicas=args.replicas,
            steps=args.steps,
            every=args.every,
            protocol=_protocol(args),
            threads=args.threads,
            progress=not args.quiet and first,
            communicator=world,
            max_failed=args.max_failed,
        )
    except (ValueError, TypeError) as e:
        if first:
            print(f"hoomd-adjoint honeycomb measure: {e}", file=sys.stderr)
        return 2
    if not first:
        return 0
    measured = [("a = " + ", ".join(f"{x:g}" for x in args.params), np.array(args.params), m)]
    hc.write_curves(os.path.join(args.out, "curves.csv"), measured)
    hc.plot(os.path.join(args.out, "curves.png"), None, measured, _protocol(args))
    for key, line in zip("HT", hc.describe_replicas(m, args.replicas).values()):
        if m["k_" + key]:
            print(f"t_{key} = {m['t_' + key]:.1f} steps, k_{key} = {m['k_' + key]:.3e} /step ({line})")
        else:  # the convention for a half-time never reached (docs/honeycomb.md)
            print(
                f"t_{key} = {hc.NOT_REACHED} (mean L_{key} above 1/2 through step {int(m['steps_' + key][-1])}), "
                f"k_{key} = {hc.NOT_REACHED} ({line})"
            )
    print(
        f"measured {args.replicas} replicas per lattice in {_seconds(time.perf_counter() - t0)}; "
        f"wrote {args.out}/curves.csv and curves.png"
    )
    return 0


def _add_protocol(p):
    from .honeycomb import Protocol

    d = Protocol()
    p.add_argument("--N", type=_a.integer(2), default=d.N, help="particles per replica")
    p.add_argument("--kT", type=_a.real(0, open_lo=True), default=d.kT, help="temperature of the runs (epsilon)")
    p.add_argument("--dt", type=_a.real(0, open_lo=True), default=d.dt, help="time step (tau)")
    p.add_argument(
        "--rho-T",
        type=_a.real(0, open_lo=True),
        default=d.rho_T,
        help="triangular density (1/sigma^2); honeycomb runs at 2/3 of it",
    )
    p.add_argument("--threads", type=_a.integer(1), default=None, help="replicas run at once (default: the cores)")
    p.add_argument(
        "--max-failed",
        type=_a.real(0, hi=1),
        default=0.05,
        help="largest share of a batch's replicas that may blow up and be left out of its means "
        "(each is named); more stop the command",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _check_protocol(args):
    from .honeycomb import Protocol

    p = Protocol()
    # the triangular lattice is the denser of the two: the smaller box and the harder random start
    _a.check_packing("--rho-T", args.rho_T, p.min_dist, args.N)
    _a.check_box(args.N, "--rho-T", args.rho_T, p.r_cut + 0.4)  # honeycomb.simulation's Cell(buffer=0.4)


def _check_design(args):
    """honeycomb design: the objective's options, the output folder's state, the engine."""
    _a.resumable(args.out, args.resume, "a new design")
    targets = (("--target-k-T", args.k_T), ("--target-k-H", args.k_H), ("--target-ratio", args.ratio))
    if args.objective == "assemble" and args.rate_loss != "value":
        raise _a.Usage(f"--rate-loss {args.rate_loss} is a form of --objective rates: add --objective rates")
    if args.rate_loss != "value" and args.engine != "embedded":
        raise _a.Usage(f"--rate-loss {args.rate_loss} runs on the embedded engine: leave out --engine {args.engine}")
    if args.optimizer == "gauss_newton" and (args.rate_loss != "half_time" or not args.common_seeds):
        raise _a.Usage(
            "--optimizer gauss_newton compares the objective between iterations and needs a deterministic one: "
            "add --objective rates --rate-loss half_time --common-seeds"
        )
    if args.objective == "assemble":
        for option, value in targets:
            if value is not None:
                raise _a.Usage(
                    f"{option} {value:g} is a target of --objective rates, and this design is --objective "
                    f"assemble: add --objective rates, or leave out {option}"
                )
    else:
        if args.steps is not None:
            raise _a.Usage(
                f"--steps {args.steps} is the run length of --objective assemble; --objective rates runs "
                "each lattice to its target half-time (1/--target-k-T, 1/--target-k-H)"
            )
        if args.k_H is not None and args.ratio is not None:
            raise _a.Usage(f"--target-k-H {args.k_H:g} and --target-ratio {args.ratio:g}: give one of them")
        args.k_T = 1 / 400 if args.k_T is None else args.k_T
        if args.k_H is None:
            args.ratio = 1 / 16 if args.ratio is None else args.ratio
        for option, value, k in (
            ("--target-k-T", args.k_T, args.k_T),
            ("--target-k-H", args.k_H, args.k_H),
            ("--target-ratio", args.ratio, None if args.ratio is None else args.ratio * args.k_T),
        ):
            if k is not None and round(1.0 / k) < 1:
                rate = "" if option != "--target-ratio" else f" (k_H = ratio x k_T = {k:g})"
                raise _a.Usage(
                    f"{option} {value:g}{rate} is faster than one step: the half-time 1/k must be at least 1 step"
                )
    args.steps = 3300 if args.steps is None else args.steps
    if args.truncate is not None and args.variant != "truncated":
        raise _a.Usage(
            f"--truncate {args.truncate} is the window of --variant truncated, and this design is "
            f"--variant {args.variant}: leave out --truncate"
        )
    args.truncate = 300 if args.truncate is None else args.truncate
    if args.engine == "hoomd":
        try:
            import hoomd.adjoint  # noqa: F401
        except ImportError as e:
            raise _a.Usage(
                f"--engine hoomd needs HOOMD-blue and its hoomd.adjoint component (build it from "
                f"component/, docs/hoomd.md): {e}"
            ) from None
    _check_protocol(args)


def _check_measure(args):
    _a.out_folder("--out", args.out)
    if args.every > args.steps:
        raise _a.Usage(f"--every {args.every} is longer than the runs (--steps {args.steps})")
    _check_protocol(args)


def add_parser(sub):
    """Register ``honeycomb`` and its actions on an argparse subparsers object."""
    p = sub.add_parser(
        "honeycomb",
        help="honeycomb vs triangular assembly rates (PNAS 2021, Figs. 1-2)",
        description="Design the Rechtsman potential's a0..a3 for honeycomb/triangular assembly "
        "(design), or measure a potential's assembly curves and rates (measure).",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="action")
    _add_design(actions)
    _add_measure(actions)


def _add_design(actions):
    a = actions.add_parser(
        "design",
        help="RMSProp design of a0..a3 through replica batches; resumable",
        description=honeycomb_design.__doc__,
    )
    a.add_argument(
        "--out",
        type=_a.text("a folder"),
        default="honeycomb-design",
        help="output folder (state.json, design.csv, summary.json, plots, trajectories)",
    )
    a.add_argument(
        "--objective",
        choices=["assemble", "rates"],
        default="assemble",
        help="assemble: minimise mean L_H after --steps (Fig. 1); rates: hit the target rates k_T and k_H (Fig. 2)",
    )
    a.add_argument(
        "--target-k-T",
        dest="k_T",
        metavar="K",
        type=_a.real(0, open_lo=True),
        default=None,
        help="target triangular rate, 1/step (--objective rates; default: 0.0025 = 1/400)",
    )
    a.add_argument(
        "--target-k-H",
        dest="k_H",
        metavar="K",
        type=_a.real(0, open_lo=True),
        default=None,
        help="target honeycomb rate, 1/step (--objective rates; default: --target-ratio x --target-k-T)",
    )
    a.add_argument(
        "--target-ratio",
        dest="ratio",
        metavar="R",
        type=_a.real(0, open_lo=True),
        default=None,
        help="target k_H/k_T when --target-k-H is not given (--objective rates; default: 0.0625 = 1/16)",
    )
    _a.alias(a, "--ratio", "ratio")
    # --k-T sat beside --kT (the temperature): one typed for the other ran 60x colder without a word
    a.add_argument("--k-T", action=_a.Renamed, new="--target-k-T", why=" (--kT is the temperature)")
    a.add_argument("--k-H", action=_a.Renamed, new="--target-k-H")
    a.add_argument(
        "--steps", type=_a.integer(1), default=None, help="run length of --objective assemble, in steps (default: 3300)"
    )
    a.add_argument(
        "--variant",
        choices=["truncated", "forward", "reverse"],
        default="truncated",
        help="gradient: adjoint through the last --truncate steps, or exact forward/reverse mode",
    )
    a.add_argument(
        "--truncate", type=_a.integer(1), default=None, help="window of --variant truncated, in steps (default: 300)"
    )
    a.add_argument(
        "--rate-loss",
        choices=["value", "half_time"],
        default="value",
        help="--objective rates per lattice: (mean L(t*) - 1/2)^2 (value, the paper's) or (ln t1/2 - ln t*)^2 with "
        "t1/2 fitted to the batch's mean curve (half_time; docs/honeycomb.md)",
    )
    a.add_argument(
        "--common-seeds",
        action="store_true",
        help="the same replicas every iteration (common random numbers; default: fresh replicas each iteration)",
    )
    a.add_argument(
        "--optimizer",
        choices=["rmsprop", "gauss_newton"],
        default="rmsprop",
        help="rmsprop (--lr, --anneal) or gauss_newton: trust-region steps on ln t1/2 - ln t* that stop within 2%% "
        "(needs --rate-loss half_time --common-seeds; docs/honeycomb.md)",
    )
    a.add_argument(
        "--iterations",
        type=_a.integer(0),
        default=24,
        help="iterations in all (a resumed design counts those it has; gauss_newton may stop earlier)",
    )
    a.add_argument("--replicas", type=_a.integer(1), default=32, help="replicas per lattice per iteration")
    a.add_argument(
        "--lr", type=_a.real(0, open_lo=True), default=0.01, help="RMSProp step, relative to each parameter's start"
    )
    a.add_argument(
        "--anneal",
        type=_a.real(0, open_lo=True),
        default=None,
        help="halve the step every this many iterations (default: a constant step)",
    )
    a.add_argument(
        "--start",
        type=_a.real(),
        nargs=4,
        default=None,
        metavar="A",
        help="starting a0 a1 a2 a3 (default: Rechtsman et al.'s 5.89 17.9 2.49 1.823)",
    )
    a.add_argument(
        "--check-replicas",
        type=_a.integer(1),
        default=64,
        help="fresh replicas per lattice that measure the start and the design",
    )
    a.add_argument(
        "--check-steps",
        type=_a.integer(1),
        default=None,
        help="length of the measuring runs, in steps (default: 1.6 t*_H and 4 t*_T, or --steps)",
    )
    a.add_argument(
        "--resume", action="store_true", help="continue the design saved in --out (its state.json; the same settings)"
    )
    a.add_argument(
        "--engine",
        choices=["embedded", "hoomd"],
        default="embedded",
        help="what integrates the replicas: the embedded engine, or HOOMD-blue (needs HOOMD-blue and "
        "its hoomd.adjoint component; the adjoint runs along HOOMD-blue's recorded states)",
    )
    _add_protocol(a)
    a.set_defaults(func=honeycomb_design, check=_check_design, resume_hint="--resume")


def _add_measure(actions):
    a = actions.add_parser(
        "measure",
        help="mean L_H(t), L_T(t) of one potential; half-times and rates",
        description=honeycomb_measure.__doc__,
    )
    a.add_argument(
        "--params",
        type=_a.real(),
        nargs=4,
        default=[5.89, 17.9, 2.49, 1.823],
        metavar="A",
        help="the potential's a0 a1 a2 a3 (default: Rechtsman et al.'s)",
    )
    a.add_argument("--replicas", type=_a.integer(1), default=200, help="replicas per lattice")
    a.add_argument("--steps", type=_a.integer(1), default=3300, help="length of each run, in steps")
    a.add_argument("--every", type=_a.integer(1), default=33, help="steps between loss evaluations")
    a.add_argument(
        "--out", type=_a.text("a folder"), default="honeycomb-measure", help="output folder (curves.csv, curves.png)"
    )
    _add_protocol(a)
    a.set_defaults(func=honeycomb_measure, check=_check_measure)
