"""``hoomd-adjoint spider optimize|validate|plot``: the shell-disassembly workflows of the
colloidal-reactions paper (Krueger, King & Brenner 2023, Figs. 2-4)."""
import json


def optimize(args):
    """Adam on the spider's eight parameters over replica batches; resumable (--resume)."""
    from ..communicator import shared
    from .optimize import Optimization

    world = shared("hoomd-adjoint spider optimize")  # under mpirun the ranks share each iteration's replicas
    if world is None:
        return 2
    opt = Optimization(args.out, shell=args.shell, start=args.start, seed=args.seed, perturb=args.perturb,
                       replicas=args.replicas, steps=args.steps, lr=args.lr, leg_sigma=args.leg_sigma,
                       stable_shell=not args.no_stable_shell, resume=args.resume, communicator=world)
    p = opt.run(args.iterations, progress=not args.quiet)
    h = opt.history
    if world.partition != 0:  # every rank has the same history; the first one prints it
        return 0
    print(json.dumps(dict(iterations=len(h), loss_first=h[0]["loss"] if h else None,
                          loss_last=h[-1]["loss"] if h else None, params=p.__dict__), indent=1))


def validate(args):
    """Long runs with given parameters: extraction / intact-shell / detachment (and cargo) fractions."""
    from ..communicator import shared
    from .validate import validate as run

    world = shared("hoomd-adjoint spider validate")  # under mpirun the ranks share the seeds
    if world is None:
        return 2
    summary = run(args.out, args.params, shell=args.shell, seeds=args.seeds, steps=args.steps, cargo=args.cargo,
                  leg_sigma=args.leg_sigma, progress=not args.quiet, communicator=world)
    if world.partition == 0:  # every rank has the whole summary; the first one prints it
        print(json.dumps(summary, indent=1))


def plot(args):
    """Loss curves of optimisation runs (with the paper's traces if --reference names the authors' data)."""
    from ..communicator import one_process
    from .figures import plot_losses

    if one_process("hoomd-adjoint spider plot"):  # one figure: every rank would write it
        return 2
    print(plot_losses(args.runs, args.output, reference=args.reference))


def add_parser(sub):
    """Register ``spider`` and its actions on an argparse subparsers object."""
    p = sub.add_parser("spider", help="shell disassembly by a designed rigid spider (colloidal reactions, Figs. 2-4)",
                       description=__doc__)
    actions = p.add_subparsers(dest="action", required=True)

    def common(a):
        a.add_argument("--shell", choices=["octahedron", "icosahedron"], default="octahedron")
        a.add_argument("--leg-sigma", type=float, default=1.0, help="range of the legs' repulsion (preprint: 1.0)")
        a.add_argument("--quiet", action="store_true", help="no progress bar")

    a = actions.add_parser("optimize", help="Adam over the 8 spider parameters; resumable", description=optimize.__doc__)
    common(a)
    a.add_argument("--start", choices=["weak", "strong"], default="weak", help="the paper's start of the head")
    a.add_argument("--iterations", type=int, default=500)
    a.add_argument("--replicas", type=int, default=10, help="simulations per iteration")
    a.add_argument("--steps", type=int, default=1000, help="steps per simulation")
    a.add_argument("--lr", type=float, default=0.01)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--perturb", type=float, default=None, help="add N(0, perturb) to log eps_H (Fig. 4)")
    a.add_argument("--no-stable-shell", action="store_true",
                   help="leave out the authors' optional stable-shell term (the remaining vertices near their centre)")
    a.add_argument("--resume", action="store_true")
    a.add_argument("--out", default="spider-optimize")
    a.set_defaults(func=optimize)
    a = actions.add_parser("validate", help="success fractions of long runs", description=validate.__doc__)
    common(a)
    a.add_argument("params", help="a state.json of an optimisation, or 8 comma-separated parameters")
    a.add_argument("--seeds", type=int, default=20)
    a.add_argument("--steps", type=int, default=10000)
    a.add_argument("--cargo", action="store_true", help="with the cargo inside (icosahedron)")
    a.add_argument("--out", default="spider-validate")
    a.set_defaults(func=validate)
    a = actions.add_parser("plot", help="loss curves of optimisation runs", description=plot.__doc__)
    a.add_argument("runs", nargs="+", help="optimisation output directories")
    a.add_argument("--output", default="spider-losses.png")
    a.add_argument("--reference", default=None, help="the authors' figures/preprint/data directory (optional)")
    a.set_defaults(func=plot)
