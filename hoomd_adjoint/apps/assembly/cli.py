"""``hoomd-adjoint honeycomb design|line|measure``: honeycomb vs triangular assembly rates of the
PNAS 2021 paper (Figs. 1-2): design the Rechtsman potential's a0..a3 (by gradient steps, or the
rate ratio by a line search along a gradient direction), or measure a potential's assembly curves
and rates."""

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


def _points_said(line):
    """ "22 points of 96 replicas per lattice" or, where the batches differ, "22 points: 17 of 96
    replicas per lattice, 5 of 384"."""
    from collections import Counter

    (R0, k0), *rest = sorted(Counter(p["replicas"] for p in line.points).items())
    if not rest:
        return f"{len(line.points)} points of {R0} replicas per lattice"
    return f"{len(line.points)} points: {k0} of {R0} replicas per lattice, " + ", ".join(f"{k} of {R}" for R, k in rest)


FIG1_DESIGN = (6.2363, 20.0979, 2.0059, 1.7852)  # Fig. 1's design after stage 3 (docs/honeycomb.md)
TARGETS = (0.1, 0.0727, 0.05, 0.0364, 0.025)  # the reproduction's five k*_H/k*_T (t*_T = 400 steps)


def honeycomb_line(args):
    """Design the rate ratio k_H/k_T by a line search along a gradient direction: measure
    ln(k_H/k_T) along a = start + s d (d: toward --toward, the adjoint gradient of ln t1/2_T
    projected out) on batches of fresh replicas, fit a weighted polynomial through every point,
    solve it for each --target-ratio, add a point at each solution (--rounds), and check each
    design on --check-replicas fresh replicas. Resumable: every point is saved as it is measured."""
    from . import honeycomb as hc
    from . import ratio_line as rl
    from ...communicator import shared

    world = shared("hoomd-adjoint honeycomb line")  # under mpirun the ranks share the replicas
    if world is None:
        return 2
    first = world.partition == 0
    t_T = round(1.0 / args.k_T)
    P = _protocol(args)
    t0 = time.perf_counter()
    try:
        line, found = rl.search(
            args.out,
            args.ratios,
            args.toward,
            t_T=t_T,
            s=args.s,
            rounds=args.rounds,
            degree=args.degree,
            replicas=args.replicas,
            last_round_replicas=args.last_round_replicas,
            direction_replicas=args.direction_replicas,
            start=args.start,
            protocol=P,
            threads=args.threads,
            communicator=world,
            max_failed=args.max_failed,
            progress=not args.quiet,
        )
    except ValueError as e:  # another line in --out
        if first:
            print(f"hoomd-adjoint honeycomb line: {e}", file=sys.stderr)
        return 2
    t1 = time.perf_counter()
    checks = []
    for ratio, (x, se_fit) in found.items():
        row = dict(ratio=ratio, s=x, se_fit=se_fit)
        if x is not None and args.check_replicas:
            t_H = round(t_T / ratio)
            m = hc.measure(
                line.params(x),
                replicas=args.check_replicas,
                protocol=P,
                threads=args.threads,
                communicator=world,
                max_failed=args.max_failed,
                progress=f"check {ratio:g}" if not args.quiet and first else False,
                **rl.check_window(t_T, t_H),
            )
            achieved = m["k_H"] / m["k_T"] if m["k_H"] and m["k_T"] else 0.0
            row.update(
                a=line.params(x).tolist(),
                achieved=achieved,
                se=rl.ratio_se(m) if achieved else None,
                k_H=m["k_H"],
                k_T=m["k_T"],
                used=m["used"],
                failed=hc._failed_json(m["failures"]),
            )
        checks.append(row)
    if not first:
        return 0
    from ...sweep import _write_json_atomic

    _write_json_atomic(os.path.join(args.out, "checks.json"), hc._json_safe(checks))
    done = [c for c in checks if c.get("achieved")]
    rl.plot(
        os.path.join(args.out, "line.png"),
        line,
        done,
        args.ratios,
        t_T,
        args.degree,
        len(args.s),
        args.check_replicas,
        P,
    )
    print(
        f"\nline: {_points_said(line)} ({_seconds(t1 - t0)} in this run); "
        f"checks on {args.check_replicas} fresh replicas: {_seconds(time.perf_counter() - t1)}"
    )
    print(f"{'target':>8s} {'s':>8s} {'fit ± SE (ln)':>14s} {'measured':>17s} {'off':>6s} {'t½_H':>7s} {'t½_T':>6s}")
    for c in checks:
        if c["s"] is None:
            print(f"{c['ratio']:8.4g} outside the line's measured range (extend --s)")
            continue
        if not c.get("achieved"):
            got = "not checked" if not args.check_replicas else hc.NOT_REACHED
            print(f"{c['ratio']:8.4g} {c['s']:+8.4f} {c['se_fit']:14.3f} {got:>17s}")
            continue
        print(
            f"{c['ratio']:8.4g} {c['s']:+8.4f} {c['se_fit']:14.3f} {c['achieved']:8.4f} ± {c['se']:.4f} "
            f"{(c['achieved'] / c['ratio'] - 1) * 100:+5.0f}% {1 / c['k_H']:7.0f} {1 / c['k_T']:6.0f}"
        )
    for c in done:
        for lattice, used in c["used"].items():
            if c["failed"][lattice]:
                print(
                    f"check {c['ratio']:g} {lattice}: {used} of {args.check_replicas} replicas; left out: {c['failed'][lattice]}"
                )
    print(f"wrote {args.out}/: line.json direction.json checks.json line.png")
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


def _check_line(args):
    """honeycomb line: the output folder's state, the targets, the scan."""
    _a.resumable(args.out, args.resume, "a new line", saved="line.json")
    if round(1.0 / args.k_T) < 1:
        raise _a.Usage(f"--target-k-T {args.k_T:g} is faster than one step: the half-time 1/k must be at least 1 step")
    if len(set(args.s)) <= args.degree:
        raise _a.Usage(
            f"--s {' '.join(f'{x:g}' for x in args.s)}: a degree-{args.degree} fit needs at least {args.degree + 1} different points"
        )
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
        "(design), design the rate ratio by a line search (line), or measure a potential's assembly curves "
        "and rates (measure).",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="action")
    _add_design(actions)
    _add_line(actions)
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


def _add_line(actions):
    a = actions.add_parser(
        "line",
        help="the rate ratio k_H/k_T by a line search along a gradient direction; resumable",
        description=honeycomb_line.__doc__,
    )
    a.add_argument(
        "--out",
        type=_a.text("a folder"),
        default="honeycomb-line",
        help="output folder (line.json, direction.json, checks.json, line.png)",
    )
    a.add_argument(
        "--target-ratio",
        dest="ratios",
        metavar="R",
        nargs="+",
        type=_a.real(0, open_lo=True),
        default=list(TARGETS),
        help="target k_H/k_T (default: the reproduction's five, " + " ".join(f"{r:g}" for r in TARGETS) + ")",
    )
    a.add_argument(
        "--target-k-T",
        dest="k_T",
        metavar="K",
        type=_a.real(0, open_lo=True),
        default=1 / 400,
        help="the triangular rate the direction keeps, 1/step: t*_T = 1/K (default: 0.0025 = 1/400)",
    )
    a.add_argument(
        "--start",
        type=_a.real(),
        nargs=4,
        default=[5.89, 17.9, 2.49, 1.823],
        metavar="A",
        help="a0 a1 a2 a3 at s = 0 (default: Rechtsman et al.'s)",
    )
    a.add_argument(
        "--toward",
        type=_a.real(),
        nargs=4,
        default=list(FIG1_DESIGN),
        metavar="A",
        help="a0 a1 a2 a3 the line heads for before ln t1/2_T's gradient is projected out (default: the Fig. 1 "
        "design, " + " ".join(f"{x:g}" for x in FIG1_DESIGN) + ")",
    )
    a.add_argument(
        "--s",
        type=_a.real(),
        nargs="+",
        default=[-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75],
        metavar="S",
        help="the scan's points (default: -0.75 to 0.75 in steps of 0.25)",
    )
    a.add_argument(
        "--rounds", type=_a.integer(0), default=3, help="refinement rounds: a point at each target's solution"
    )
    a.add_argument(
        "--last-round-replicas",
        type=_a.integer(2),
        default=None,
        metavar="R",
        help="replicas per lattice of the last round's points (default: 4 x --replicas, so the fit is tightest "
        "at the designs)",
    )
    a.add_argument("--degree", type=_a.integer(1, 3), default=2, help="degree of the fitted ln(k_H/k_T)(s)")
    a.add_argument("--replicas", type=_a.integer(2), default=96, help="fresh replicas per lattice per point")
    a.add_argument(
        "--direction-replicas",
        type=_a.integer(2),
        default=128,
        help="replicas of the adjoint gradient of ln t1/2_T at --start",
    )
    a.add_argument(
        "--check-replicas",
        type=_a.integer(0),
        default=200,
        help="fresh replicas that check each design (0: no checks)",
    )
    a.add_argument("--resume", action="store_true", help="continue the line saved in --out")
    _add_protocol(a)
    a.set_defaults(func=honeycomb_line, check=_check_line, resume_hint="--resume")


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
