"""Command line: ``hoomd-adjoint honeycomb design|measure`` (the main job: hoomd_adjoint/apps/assembly/cli.py),
``hoomd-adjoint clusters states|path|design|reproduce`` and ``hoomd-adjoint spider
optimize|validate|plot`` run the papers' workflows (each application registers its own commands);
``hoomd-adjoint demo`` runs one Brownian simulation and a gradient;
``hoomd-adjoint sweep run|status|merge DIR`` runs a slice of, reports on and merges a
:mod:`hoomd_adjoint.sweep`."""

import os
import sys
import time

import numpy as np

from hoomd_adjoint import _cli as _a


def _demo_figure(args, sim, params, times, energies, names, dE, wall):
    """The demo's four panels: the potential, the final frame, the relaxation, the gradient."""
    import matplotlib.pyplot as plt

    snap = sim.state.get_snapshot()
    pos, L = snap.particles.position, snap.configuration.box[:2]
    fig, ax = plt.subplots(1, 4, figsize=(19, 4.6), gridspec_kw=dict(width_ratios=[1, 1.15, 1, 0.8]))
    r = np.linspace(0.85, 2.5, 400)
    V = (
        5 / r**12
        - params["a0"] / r**10
        + params["a1"] * np.exp(-params["a2"] * r)
        - 0.4 * np.exp(-40 * (r - params["a3"]) ** 2)
    )
    ax[0].plot(r, V, color="tab:blue")
    ax[0].axhline(0, color="0.7", lw=0.8, gid="reference")
    ax[0].set_ylim(-1.5, 2.0)
    ax[0].set(
        xlabel="r (σ)",
        ylabel="V(r) (ε)",
        title="pair potential of Rechtsman et al.\n(a = "
        + ", ".join(f"{params[n]:g}" for n in ("a0", "a1", "a2", "a3"))
        + "; b = 5, 0.4, 40)",
    )
    # bonds between neighbours closer than 1.35 (first shell), as one collection
    from matplotlib.collections import LineCollection

    d = pos[:, None, :2] - pos[None, :, :2]
    d -= np.array(L) * np.round(d / np.array(L))
    r2 = np.einsum("ijk,ijk->ij", d, d)
    i, j = np.nonzero(np.triu(r2 < 1.35**2, 1))
    ax[1].add_collection(
        LineCollection([(pos[a, :2], pos[a, :2] - d[a, b]) for a, b in zip(i, j)], colors="0.6", lw=0.8, zorder=1)
    )
    ncoord = np.sum(r2 < 1.35**2, axis=1) - 1
    sc = ax[1].scatter(
        pos[:, 0], pos[:, 1], c=ncoord, cmap="viridis", vmin=0, vmax=6, s=60, zorder=2, edgecolor="k", lw=0.4
    )
    fig.colorbar(sc, ax=ax[1], label="neighbours within r < 1.35 σ (honeycomb: 3)")
    ax[1].set_aspect("equal")
    ax[1].set_xlim(-L[0] / 2, L[0] / 2)
    ax[1].set_ylim(-L[1] / 2, L[1] / 2)
    ax[1].set(xlabel="x (σ)", ylabel="y (σ)", title=f"final frame, step {sim.timestep}\n(grey: bonds r < 1.35 σ)")
    ax[2].plot(times, energies, color="tab:red", label="potential energy per particle")
    ax[2].axvline(args.steps // 2 * args.dt, color="0.6", ls=":", label=f"end of the kT ramp (then kT = {args.kT:g} ε)")
    ax[2].set(
        xlabel="time (τ)",
        ylabel="potential energy per particle (ε)",
        title=f"relaxation: kT {args.kT_start:g} → {args.kT:g} ε",
    )
    ax[2].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax[3].bar(names, [dE[n] for n in names], color=["tab:blue" if dE[n] < 0 else "tab:orange" for n in names])
    ax[3].axhline(0, color="0.5", lw=0.8, gid="reference")
    ax[3].set(
        xlabel="parameter a_k",
        ylabel="d(E/N)/d a_k (ε per unit of a_k)",
        title=f"exact gradient of the final E/N\nthrough the last {args.grad_steps} steps",
    )
    fig.suptitle(
        f"hoomd-adjoint demo: N = {args.N} particles in 2D at density {args.density:g} σ⁻², Brownian dynamics "
        f"(dt = {args.dt:g} τ), kT {args.kT_start:g} → {args.kT:g} ε over the first {args.steps // 2} of "
        f"{args.steps} steps ({wall:.1f} s)"
    )
    return fig


def demo(args):
    """2D Brownian dynamics of particles with the honeycomb-forming Rechtsman potential
    (PNAS 2021 seed paper, Eq. 1), then the exact gradient of the final energy with respect to
    the potential's parameters: writes a GSD trajectory and a PNG summary."""
    from hoomd_adjoint.communicator import one_process

    if one_process("hoomd-adjoint demo"):  # one simulation: every rank would write the same files
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import gsd.hoomd

    import hoomd_adjoint as ha
    from hoomd_adjoint.lattice import random_packing

    os.makedirs(args.out, exist_ok=True)
    traj_path = os.path.join(args.out, "trajectory.gsd")
    png_path = os.path.join(args.out, "demo.png")
    params = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)  # Rechtsman et al.'s optimised values

    frame = random_packing(args.N, args.density, dimensions=2, min_dist=0.9, seed=args.seed)
    sim = ha.Simulation(device=ha.device.CPU(), seed=args.seed)
    sim.create_state_from_snapshot(frame)
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    pot.params[("A", "A")] = params
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=ha.variant.Ramp(args.kT_start, args.kT, 0, args.steps // 2))
    sim.operations.integrator = ha.md.Integrator(dt=args.dt, methods=[bd], forces=[pot])
    period = max(1, args.steps // 100)
    sim.operations.writers.append(ha.write.GSD(trigger=ha.trigger.Periodic(period), filename=traj_path, mode="wb"))

    energies, times = [], []
    t0 = time.perf_counter()
    from tqdm.auto import tqdm

    with tqdm(total=args.steps, unit="step", disable=args.quiet, desc="Brownian dynamics") as bar:
        while sim.timestep < args.steps:
            n = min(period, args.steps - sim.timestep)
            sim.run(n)
            bar.update(n)
            energies.append(pot.energy / args.N)
            times.append(sim.timestep * args.dt)
    wall = time.perf_counter() - t0

    # Sensitivity of the final energy to the potential's design parameters: the exact gradient
    # through the last stretch of Brownian dynamics (the discrete adjoint).
    t1 = time.perf_counter()
    names = ["a0", "a1", "a2", "a3"]  # the designed parameters (b0, b1, b2 stay fixed)
    res = ha.adjoint.gradient(sim, args.grad_steps, loss=ha.loss.PotentialEnergy(pot), wrt=[(pot, names)])
    grad_wall = time.perf_counter() - t1
    dE = res.grad(pot)[("A", "A")]

    fig = _demo_figure(args, sim, params, times, energies, names, dE, wall)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110, bbox_inches="tight")
    with gsd.hoomd.open(traj_path, "r") as t:
        nframes = len(t)
    print(f"wrote {traj_path} ({nframes} frames) and {png_path}")
    print(
        f"{args.steps} steps of N = {args.N} in {wall:.2f} s ({args.steps * args.N / wall:.3g} particle-steps/s); "
        f"final energy per particle {energies[-1]:.4f}"
    )
    print(
        f"d(E/N)/d(a0..a3) through the last {args.grad_steps} steps ({grad_wall:.2f} s): "
        + ", ".join(f"{n} {dE[n]:+.4g}" for n in names)
    )
    return 0


def _print_status(directory, status, file=None):
    missing = status["missing"]
    shown = ", ".join(map(str, missing[:20])) + (", ..." if len(missing) > 20 else "")
    print(
        f"{directory}: {status['total']} jobs, {status['done']} done, {status['failed']} failed, "
        f"{len(missing)} missing" + (f" (jobs {shown})" if missing else ""),
        file=file,
    )


def _load_function(spec):
    """'package.module:function' or 'path/to/file.py:function' -> the function (the one the
    command line's check loaded, if it did: a file's module runs once)."""
    import importlib
    import importlib.util

    if spec in _LOADED:
        return _LOADED.pop(spec)

    if ":" not in spec:
        raise ValueError(f"--function {spec}: use module:function or file.py:function")
    where, name = spec.rsplit(":", 1)
    if where.endswith(".py"):
        mod_spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(where))[0], where)
        if mod_spec is None or not os.path.exists(where):
            raise ValueError(f"--function {spec}: no file {where}")
        module = importlib.util.module_from_spec(mod_spec)
        mod_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    if not callable(getattr(module, name, None)):
        raise ValueError(f"--function {spec}: {where} has no function {name!r}")
    return getattr(module, name)


def sweep_run(args):
    """Run this process's slice of a sweep: --part k/n, --mpi (part = rank/size), or every job.
    Under mpirun the ranks share the jobs (part = rank/size) with --mpi or without."""
    import json

    from hoomd_adjoint.communicator import launched, shared
    from hoomd_adjoint.sweep import JobError, Sweep

    rank, size = launched()
    if size > 1 and args.part is not None:  # every rank would run the same slice
        if rank == 0:
            print(
                f"hoomd-adjoint sweep run: --part {args.part} under mpirun would run that slice on each of the "
                f"{size} ranks; leave --part out (the ranks share the jobs) or run without mpirun",
                file=sys.stderr,
            )
        return 2
    world = None
    if args.mpi or size > 1:
        world = shared("hoomd-adjoint sweep run")
        if world is None:
            return 2
    error = None
    try:
        if args.mpi and world.mpi_comm is None:
            raise ImportError('--mpi needs mpi4py (pip install "hoomd-adjoint[mpi]")')
        function = _load_function(args.function)
        if args.jobs:
            with open(args.jobs) as f:
                jobs = json.load(f)
        else:
            jobs = Sweep.open(args.directory).jobs
        first = world is None or world.partition == 0
        s = Sweep(function, jobs, args.directory)
        s.run(
            part=args.part,
            comm=None if world is None else world.mpi_comm,
            progress=not args.quiet and first,
            on_error=args.on_error,
        )
    except (ValueError, FileNotFoundError, ImportError, JobError) as e:
        error = f"hoomd-adjoint sweep run: {e}"
    errors = [error]
    if world is not None and world.num_ranks > 1:
        # every rank comes here, failed or not: this waits for all slices, so the status below is the
        # whole sweep's, and the first rank says each distinct error once
        errors = world.allgather(error)
        if world.partition != 0:
            return 1 if any(errors) else 0
    errors = list(dict.fromkeys(e for e in errors if e))
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        return 1
    _print_status(args.directory, s.status())
    return 0


def sweep(args):
    """Status of a sweep directory, or its results merged into one CSV table (a file, or stdout)."""
    from hoomd_adjoint.communicator import one_process
    from hoomd_adjoint.sweep import Sweep

    if one_process(f"hoomd-adjoint sweep {args.action}"):  # one reader and writer: nothing to share
        return 2

    try:
        s = Sweep.open(args.directory)
    except FileNotFoundError as e:
        print(f"hoomd-adjoint sweep {args.action}: {e}", file=sys.stderr)
        return 1
    # With the table on stdout, the status goes to stderr so the table can be piped.
    to_stdout = args.action == "merge" and args.csv is None
    _print_status(args.directory, s.status(), file=sys.stderr if to_stdout else sys.stdout)
    if args.action == "merge":
        try:
            s.write_csv(sys.stdout if to_stdout else args.csv, allow_missing=args.allow_missing)
        except ValueError as e:
            print(f"hoomd-adjoint sweep {args.action}: {e}", file=sys.stderr)
            return 1
        if not to_stdout:
            print(f"wrote {args.csv}")
    return 0


def _check_demo(args):
    _a.out_folder("--out", args.out)
    _a.check_packing("--density", args.density, 0.9, args.N)  # demo's random start: min_dist 0.9
    _a.check_box(args.N, "--density", args.density, 2.5 + 0.4)  # demo's r_cut and Cell(buffer=0.4)


_LOADED = {}  # --function's function, loaded by the check, for the command to use (not loaded twice)


def _check_sweep_run(args):
    import importlib.util

    spec = args.function
    if ":" not in spec or not all(spec.rsplit(":", 1)):
        raise _a.Usage(f"--function {spec}: use module:function or file.py:function")
    where = spec.rsplit(":", 1)[0]
    if where.endswith(".py"):
        _a.in_file("--function", where)
    else:
        try:
            found = importlib.util.find_spec(where)
        except (ImportError, ValueError) as e:
            raise _a.Usage(f"--function {spec}: cannot import {where} ({e})") from None
        if found is None:
            raise _a.Usage(f"--function {spec}: no module {where}")
    if args.jobs:
        jobs = _a.in_json("--jobs", args.jobs)
        if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
            raise _a.Usage(f"--jobs {args.jobs}: needs a JSON list of job dicts")
        _a.out_folder("directory", args.directory)
    elif not os.path.isfile(os.path.join(args.directory, "jobs.json")):
        raise _a.Usage(f"directory {args.directory}: no sweep there (no jobs.json); give --jobs to start one")
    try:
        _LOADED[spec] = _load_function(spec)  # runs the module: its own errors are the user's input too
    except (ValueError, ImportError, OSError, SyntaxError) as e:
        raise _a.Usage(str(e) if str(e).startswith("--function") else f"--function {spec}: {e}") from None


def _check_sweep(args):
    if not os.path.isfile(os.path.join(args.directory, "jobs.json")):
        raise _a.Usage(f"directory {args.directory}: no sweep there (no jobs.json)")
    if getattr(args, "csv", None) is not None:
        _a.out_file("--out", args.csv)


def parser():
    """The ``hoomd-adjoint`` argument parser (every subcommand's; see :func:`main`)."""
    from . import __version__

    top = _a.Parser(
        prog="hoomd-adjoint",
        description="Differentiable molecular dynamics: the workflows of the papers it reproduces, a demo, "
        "and sweeps.\n'hoomd-adjoint COMMAND --help' describes each command and its options.",
        epilog="Bad input stops a command before it runs or writes anything, with one line and exit status "
        "2;\na failed run exits with status 1, Ctrl-C with 130 (saying how to resume).\n"
        "HA_TRACEBACK=1 shows the full traceback of the last two instead.",
    )
    top.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version and exit"
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="command")
    from .apps.assembly.cli import add_parser as add_honeycomb

    add_honeycomb(sub)
    from .apps.clusters.cli import add_parser as add_clusters

    add_clusters(sub)
    from .apps.spider.cli import add_parser as add_spider

    add_spider(sub)
    p = sub.add_parser(
        "demo", help="run a 2D honeycomb-potential Brownian simulation; write GSD + PNG", description=demo.__doc__
    )
    p.add_argument(
        "--out", type=_a.text("a folder"), default="demo-output", help="output folder (trajectory.gsd, demo.png)"
    )
    p.add_argument("--N", type=_a.integer(2), default=200, help="number of particles")
    p.add_argument("--density", type=_a.real(0, open_lo=True), default=0.69, help="number density (1/area)")
    p.add_argument("--kT", type=_a.real(0), default=0.05, help="final temperature (energy units)")
    p.add_argument("--kT-start", type=_a.real(0), default=0.25, help="starting temperature of the linear ramp")
    p.add_argument(
        "--dt",
        type=_a.real(0, open_lo=True),
        default=5e-4,
        help="time step (the r^-12 core is stiff: 1e-3 can be unstable)",
    )
    p.add_argument(
        "--steps", type=_a.integer(2), default=40000, help="Brownian steps (the temperature ramps over the first half)"
    )
    p.add_argument("--seed", type=_a.integer(0, 0xFFFF), default=1, help="random seed of the start and the noise")
    p.add_argument(
        "--grad-steps",
        type=_a.integer(1),
        default=1000,
        help="steps (after the run) to differentiate the final energy through",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=demo, check=_check_demo, single="hoomd-adjoint demo")
    p = sub.add_parser(
        "sweep",
        help="run, report on and merge a sweep's jobs (hoomd_adjoint.sweep)",
        description="Run a slice of a hoomd_adjoint.sweep's jobs (run), report on its folder "
        "(status), or merge its results into one CSV table (merge).",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="action")
    a = actions.add_parser(
        "run", help="run a slice of the jobs (resumes: finished jobs are skipped)", description=sweep_run.__doc__
    )
    a.add_argument("directory", type=_a.text("a folder"), help="the sweep's folder (results/ and jobs.json go there)")
    a.add_argument(
        "--function",
        required=True,
        help="module:function or file.py:function, called as function(job dict) -> dict of results",
    )
    a.add_argument("--jobs", help="JSON file with the list of job dicts (default: the folder's jobs.json)")
    a.add_argument("--part", type=_a.part, help="k/n: run jobs i with i %% n == k (k is 0-based; default: every job)")
    a.add_argument("--mpi", action="store_true", help="under mpirun: part = rank/size")
    a.add_argument(
        "--on-error",
        choices=["raise", "record"],
        default="raise",
        help="a failing job stops the run (raise) or is saved as failed and skipped (record)",
    )
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(
        func=sweep_run, check=_check_sweep_run, resume_hint="again", mpi_part=True
    )  # under mpirun, --part is refused by the command, whatever else is given
    a = actions.add_parser("status", help="print how many jobs are done, failed and missing", description=sweep.__doc__)
    a.add_argument("directory", help="the sweep's folder (holds jobs.json and results/)")
    a.set_defaults(func=sweep, check=_check_sweep, single="hoomd-adjoint sweep status")
    a = actions.add_parser(
        "merge", help="print the status and write all results as one CSV table", description=sweep.__doc__
    )
    a.add_argument("directory", help="the sweep's folder (holds jobs.json and results/)")
    a.add_argument(
        "--out", dest="csv", type=_a.text("a file name"), default=None, help="output CSV file (default: stdout)"
    )
    _a.alias(a, "--csv", "csv")
    a.add_argument("--allow-missing", action="store_true", help="merge even if some jobs have no result")
    a.set_defaults(func=sweep, check=_check_sweep, single="hoomd-adjoint sweep merge")
    return top


def _command(args):
    return " ".join(x for x in ("hoomd-adjoint", args.command, getattr(args, "action", None)) if x)


def _interrupted(args, argv):
    """The one line for Ctrl-C: how to continue where the command can, else that it stopped."""
    import shlex

    how = getattr(args, "resume_hint", None)
    how = how(args) if callable(how) else how
    if how == "--resume":
        if not os.path.isfile(os.path.join(args.out, "state.json")):
            return "interrupted before the first iteration was saved: nothing to resume; run the command again"
        again = ["hoomd-adjoint"] + list(argv) + ([] if "--resume" in argv else ["--resume"])
        return f"interrupted; the last finished iteration is saved: continue with {shlex.join(again)}"
    if how == "again":
        return (
            "interrupted; finished jobs are saved: run the same command again to continue "
            f"({shlex.join(['hoomd-adjoint'] + list(argv))})"
        )
    return "interrupted"


def main(argv=None):
    """``hoomd-adjoint``: parse and check every argument (one line and status 2 for bad input,
    before anything runs or is written), run the command; a failed run ends with one line and
    status 1, Ctrl-C with one line (how to resume) and status 130. ``HA_TRACEBACK=1`` shows
    the traceback of the last two instead."""
    from hoomd_adjoint.communicator import launched, one_process

    argv = sys.argv[1:] if argv is None else [str(x) for x in argv]
    _LOADED.clear()
    try:
        args, extra = parser().parse_known_args(argv)
    except SystemExit as e:  # --help, --version, or bad input (said in one line by _cli.Parser)
        return e.code
    name = _command(args)
    if extra:  # said by the subcommand, which argparse leaves to the top parser
        _a.say(name, f"unrecognized arguments: {' '.join(extra)} (see {name} --help)")
        return 2
    debug = os.environ.get("HA_TRACEBACK", "") not in ("", "0")
    try:
        rank, size = launched()
        single = getattr(args, "single", None)
        if size > 1 and callable(single):
            single = single(args)
        if size > 1 and single and one_process(single):  # under mpirun: refused whatever the arguments
            return 2
        # under mpirun, --part of a sweep is refused by the command itself, before anything: say that first
        if not (size > 1 and getattr(args, "mpi_part", False) and args.part is not None):
            args.check(args)
        status = args.func(args)
    except _a.Usage as e:
        _a.say(name, e)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        _a.say(name, _interrupted(args, argv))
        from hoomd_adjoint.communicator import abort_if_shared, launched

        if launched()[0] == 0:  # after saying how to resume: stop any rank the Ctrl-C did not reach
            abort_if_shared(130)
        return 130
    except (ValueError, TypeError, FileExistsError, FileNotFoundError, NotADirectoryError, IsADirectoryError) as e:
        if debug:
            raise
        _a.say(name, e)  # the library's own checks of what the user gave
        return 2
    except (RuntimeError, ArithmeticError, OSError) as e:
        if debug:
            raise
        why = str(e) if type(e) is RuntimeError else f"{type(e).__name__}: {e}"
        _a.say(name, why, every_rank=True)  # a run that failed: any rank may say why
        from hoomd_adjoint.communicator import abort_if_shared

        abort_if_shared(1)  # the other ranks of a shared command would wait for this one forever
        return 1
    return 0 if status is None else status


if __name__ == "__main__":
    sys.exit(main())
