"""``hoomd-adjoint spider optimize|search|validate|plot``: the shell-disassembly workflows of the
colloidal-reactions paper (Krueger, King & Brenner 2023, Figs. 2-4)."""

import json
import sys


def optimize(args):
    """Adam on the spider's eight parameters over replica batches; resumable (--resume)."""
    from ...communicator import shared
    from .optimize import Optimization

    world = shared("hoomd-adjoint spider optimize")  # under mpirun the ranks share each iteration's replicas
    if world is None:
        return 2
    from .design import End
    from .validate import load_params

    end = None
    if args.loss == "end":
        end = End(
            horizon=args.horizon,
            window=args.window,
            weight=args.end_weight,
            paper_steps=args.steps,
            reach=args.end_reach,
            intact=args.end_intact,
        )
    opt = Optimization(
        args.out,
        shell=args.shell,
        start=args.start if args.start_from is None else load_params(args.start_from),
        seed=args.seed,
        perturb=args.perturb,
        replicas=args.replicas,
        steps=args.steps,
        lr=args.lr,
        leg_sigma=args.leg_sigma,
        stable_shell=not args.no_stable_shell,
        resume=args.resume,
        communicator=world,
        loss=args.loss,
        end=end,
        cargo=args.cargo,
    )
    p = opt.run(args.iterations, progress=not args.quiet)
    h = opt.history
    if world.partition != 0:  # every rank has the same history; the first one prints it
        return 0
    print(
        json.dumps(
            dict(
                iterations=len(h),
                loss_first=h[0]["loss"] if h else None,
                loss_last=h[-1]["loss"] if h else None,
                params=p.__dict__,
            ),
            indent=1,
        )
    )
    print(f"wrote {args.out}/: state.json (resumable with --resume) and history.csv", file=sys.stderr)  # (stdout: JSON)


def validate(args):
    """Long runs with given parameters: extraction / intact-shell / detachment (and cargo) fractions."""
    from ...communicator import shared
    from .validate import validate as run

    world = shared("hoomd-adjoint spider validate")  # under mpirun the ranks share the seeds
    if world is None:
        return 2
    summary = run(
        args.out,
        args.params,
        shell=args.shell,
        seeds=args.seeds,
        steps=args.steps,
        cargo=args.cargo,
        leg_sigma=args.leg_sigma,
        first_seed=args.first_seed,
        progress=not args.quiet,
        communicator=world,
    )
    if world.partition == 0:  # every rank has the whole summary; the first one prints it
        print(json.dumps(summary, indent=1))
        print(
            f"wrote {args.out}/: outcomes.json (every run), trajectory.gsd and trajectory.png (the first run)",
            file=sys.stderr,
        )  # (stdout: the summary as JSON)


def search(args):
    """Forward random search: parameter sets drawn in a box, scored by the strict test on training
    seeds; the best re-scored on more. Resumable (candidates.jsonl); its best.json starts
    ``optimize --start-from`` and is judged by ``validate``."""
    from ...communicator import shared
    from .search import search as run

    world = shared("hoomd-adjoint spider search")  # under mpirun the ranks share the candidates
    if world is None:
        return 2
    best = run(
        args.out,
        shell=args.shell,
        candidates=args.candidates,
        seeds=args.seeds,
        top=args.top,
        rescore=args.rescore,
        first_seed=args.first_seed,
        steps=args.steps,
        cargo=args.cargo,
        leg_sigma=args.leg_sigma,
        seed=args.seed,
        communicator=world,
        progress=not args.quiet,
        around=args.around,
        spread=args.spread,
    )
    if world.partition == 0:
        print(json.dumps({k: best[k] for k in ("params", "names", "runs", "fractions")}, indent=1))
        print(f"wrote {args.out}/: candidates.jsonl (every candidate) and best.json", file=sys.stderr)


def plot(args):
    """Loss curves of optimisation runs (with the paper's traces if --reference names the authors' data)."""
    from ...communicator import one_process
    from .figures import plot_losses

    if one_process("hoomd-adjoint spider plot"):  # one figure: every rank would write it
        return 2
    print(plot_losses(args.runs, args.output, reference=args.reference))


def _check_optimize(args):
    from ..._cli import Usage, resumable

    resumable(args.out, args.resume, "a new optimisation")
    if args.loss != "end":
        for name in ("horizon", "window", "end_weight", "end_reach", "end_intact"):
            if getattr(args, name) is not None:
                raise Usage(f"--{name.replace('_', '-')} {getattr(args, name)} applies to --loss end")
    else:
        args.horizon = 10000 if args.horizon is None else args.horizon
        args.window = 1000 if args.window is None else args.window
        args.end_weight = 10.0 if args.end_weight is None else args.end_weight
        args.end_reach = 0.0 if args.end_reach is None else args.end_reach
        args.end_intact = 0.0 if args.end_intact is None else args.end_intact
        if args.steps + args.window > args.horizon:
            raise Usage(
                f"--horizon {args.horizon} must hold --steps {args.steps} (the paper's loss) and --window {args.window}"
            )
        if args.window < 100:
            raise Usage(f"--window {args.window}: the end-of-run terms are averaged every 100 steps; give 100 or more")
    if args.start_from is not None:
        _check_params("--start-from", args.start_from)


def _check_params(option, spec):
    from ..._cli import Usage
    from .validate import load_params

    try:
        load_params(spec).check()  # a state.json's parameters, or 8 numbers
    except (ValueError, TypeError, KeyError, OSError) as e:
        what = "a state.json of an optimisation, or 8 comma-separated numbers"
        raise Usage(f"{option} {spec}: {e if not isinstance(e, KeyError) else f'no {e} in it'} ({what})") from None


def _check_validate(args):
    from ..._cli import Usage, out_folder

    out_folder("--out", args.out)
    _check_params("params", args.params)
    if args.first_seed + args.seeds > 65536:
        raise Usage(
            f"--first-seed {args.first_seed} with --seeds {args.seeds}: the last seed would be "
            f"{args.first_seed + args.seeds - 1}, past HOOMD's 16 bits (65535)"
        )


def _check_search(args):
    from ..._cli import Usage, out_folder

    out_folder("--out", args.out)
    if args.spread is not None and args.around is None:
        raise Usage(f"--spread {args.spread} applies to a local search: give --around")
    if args.around is not None:
        from .validate import load_params

        import os

        if not os.path.isfile(args.around) and any(c.isalpha() and c not in "eE" for c in args.around):
            raise Usage(f"--around {args.around}: neither a file nor 8 comma-separated numbers")
        try:
            args.around = load_params(args.around).array().tolist()
        except (ValueError, KeyError, TypeError, OSError) as e:
            raise Usage(f"--around {args.around}: {e}") from None
        args.spread = 0.1 if args.spread is None else args.spread
    if args.top > args.candidates:
        raise Usage(f"--top {args.top} must be at most --candidates {args.candidates}")
    last = args.first_seed + args.seeds + args.rescore - 1
    if last > 65535:
        raise Usage(
            f"--first-seed {args.first_seed} with --seeds {args.seeds} and --rescore {args.rescore}: the last seed "
            f"would be {last}, past HOOMD's 16 bits (65535)"
        )


def _check_plot(args):
    import os

    from ..._cli import Usage, in_json, out_file

    for run in args.runs:
        state = in_json("runs", os.path.join(run, "state.json")) if os.path.isdir(run) else None
        if not isinstance(state, dict) or "config" not in state or "history" not in state:
            raise Usage(f"runs: {run} is not the output folder of a spider optimisation (no state.json with a history)")
    out_file("--out", args.output)
    if args.reference is not None and not os.path.isdir(args.reference):
        raise Usage(f"--reference {args.reference}: no such folder")


def add_parser(sub):
    """Register ``spider`` and its actions on an argparse subparsers object."""
    from ... import _cli as _a

    p = sub.add_parser(
        "spider",
        help="shell disassembly by a designed rigid spider (colloidal reactions, Figs. 2-4)",
        description=__doc__,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="action")

    def common(a, leg_sigma=1.0):
        a.add_argument(
            "--shell", choices=["octahedron", "icosahedron"], default="octahedron", help="the shell to take apart"
        )
        a.add_argument(
            "--leg-sigma",
            type=_a.real(0, open_lo=True),
            default=leg_sigma,
            help="range of the legs' repulsion (preprint: 1.0; the authors' revision: 2.25)",
        )
        a.add_argument("--quiet", action="store_true", help="no progress bar")

    a = actions.add_parser(
        "optimize", help="Adam over the 8 spider parameters; resumable", description=optimize.__doc__
    )
    common(a)
    a.add_argument("--start", choices=["weak", "strong"], default="weak", help="the paper's start of the head")
    a.add_argument(
        "--iterations",
        type=_a.integer(0),
        default=500,
        help="Adam iterations in all (a resumed run counts those it has)",
    )
    a.add_argument("--replicas", type=_a.integer(1), default=10, help="simulations per iteration")
    a.add_argument("--steps", type=_a.integer(1), default=1000, help="steps per simulation")
    a.add_argument("--lr", type=_a.real(0, open_lo=True), default=0.01, help="Adam's step size")
    a.add_argument("--seed", type=_a.integer(0), default=0, help="the run's seed (the replicas' seeds follow from it)")
    a.add_argument(
        "--perturb",
        type=_a.real(0),
        default=None,
        help="add N(0, perturb) to log eps_H of the start (Fig. 4; default: no perturbation)",
    )
    a.add_argument(
        "--start-from",
        default=None,
        help="start from these parameters instead: a state.json of an optimisation (its last), or 8 numbers "
        "(a curriculum; --start then only names the run)",
    )
    a.add_argument(
        "--loss",
        choices=["paper", "end"],
        default="paper",
        help="paper: L_extract after --steps + L_remain (+ stable shell); end: also the strict test's terms "
        "over the last --window steps of a --horizon-step run (docs/spider.md)",
    )
    a.add_argument("--horizon", type=_a.integer(1), default=None, help="--loss end: steps of the whole run (10000)")
    a.add_argument("--window", type=_a.integer(1), default=None, help="--loss end: last steps differentiated (1000)")
    a.add_argument("--end-weight", type=_a.real(0), default=None, help="--loss end: the end terms' weight (10)")
    a.add_argument(
        "--end-reach",
        type=_a.real(0),
        default=None,
        help="--loss end: weight of the head's range reaching the remaining shell at the end (0: off)",
    )
    a.add_argument(
        "--end-intact",
        type=_a.real(0),
        default=None,
        help="--loss end: weight of the remaining shell's edges coming unbonded at the end (0: off)",
    )
    a.add_argument(
        "--cargo",
        action="store_true",
        help="optimise with the cargo inside (the icosahedron; --loss end rewards its release)",
    )
    a.add_argument(
        "--no-stable-shell",
        action="store_true",
        help="leave out the authors' optional stable-shell term (the remaining vertices near their centre)",
    )
    a.add_argument(
        "--resume",
        action="store_true",
        help="continue the optimisation saved in --out (its state.json; the same settings)",
    )
    a.add_argument(
        "--out", type=_a.text("a folder"), default="spider-optimize", help="output folder (state.json, history.csv)"
    )
    a.set_defaults(func=optimize, check=_check_optimize, resume_hint="--resume")
    a = actions.add_parser("validate", help="success fractions of long runs", description=validate.__doc__)
    common(a)
    a.add_argument("params", help="a state.json of an optimisation, or 8 comma-separated parameters")
    a.add_argument("--seeds", type=_a.integer(1), default=40, help="independent runs")
    a.add_argument(
        "--first-seed",
        type=_a.integer(0, 65535),
        default=60000,
        help="run k has seed first-seed + k (16 bits, as HOOMD's seeds; the default is clear of the optimisations' replica seeds)",
    )
    a.add_argument("--steps", type=_a.integer(1), default=10000, help="steps per run")
    a.add_argument(
        "--cargo", action="store_true", help="with a cargo particle inside the shell (the paper: icosahedron)"
    )
    a.add_argument(
        "--out",
        type=_a.text("a folder"),
        default="spider-validate",
        help="output folder (outcomes.json, trajectory.gsd, trajectory.png)",
    )
    a.set_defaults(func=validate, check=_check_validate)
    _add_search(actions, common)
    a = actions.add_parser("plot", help="loss curves of optimisation runs", description=plot.__doc__)
    a.add_argument("runs", nargs="+", help="optimisation output folders")
    a.add_argument(
        "--out", dest="output", type=_a.text("a file name"), default="spider-losses.png", help="output image file"
    )
    _a.alias(a, "--output", "output")
    a.add_argument(
        "--reference",
        default=None,
        help="the authors' figures/preprint/data folder (default: a few points of their traces, built in)",
    )
    a.set_defaults(func=plot, check=_check_plot, single="hoomd-adjoint spider plot")


def _add_search(actions, common):
    from ... import _cli as _a

    a = actions.add_parser("search", help="forward random search scored by the strict test", description=search.__doc__)
    common(a, leg_sigma=2.25)
    a.add_argument("--candidates", type=_a.integer(1), default=200, help="parameter sets drawn")
    a.add_argument("--seeds", type=_a.integer(1), default=6, help="training runs per candidate")
    a.add_argument("--top", type=_a.integer(1), default=5, help="leaders re-scored on --rescore more runs")
    a.add_argument("--rescore", type=_a.integer(0), default=20, help="further training runs per leader")
    a.add_argument(
        "--first-seed",
        type=_a.integer(0, 65535),
        default=55000,
        help="training runs' first seed (clear of the optimisations' replica seeds and validate's 60000)",
    )
    a.add_argument("--steps", type=_a.integer(1), default=10000, help="steps per run")
    a.add_argument("--seed", type=_a.integer(0), default=0, help="the search's seed (candidate k: rng([seed, k]))")
    a.add_argument("--cargo", action="store_true", help="with the cargo inside (the icosahedron); release breaks ties")
    a.add_argument(
        "--around",
        default=None,
        help="a local search about these parameters (a state.json or best.json, or 8 comma-separated numbers); "
        "default: the box",
    )
    a.add_argument(
        "--spread",
        type=_a.real(0, open_lo=True),
        default=None,
        help="--around: each parameter within spread x max(|x|, 1) of it (0.1)",
    )
    a.add_argument(
        "--out", type=_a.text("a folder"), default="spider-search", help="output folder (candidates.jsonl, best.json)"
    )
    a.set_defaults(func=search, check=_check_search)
