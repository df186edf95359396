"""Command line: ``hoomd-adjoint honeycomb design`` designs assembly rates (the main job);
``hoomd-adjoint honeycomb measure`` measures a potential's assembly curves and rates;
``hoomd-adjoint clusters states|path|design|reproduce`` runs the colloidal-cluster workflows;
``hoomd-adjoint demo`` runs one Brownian simulation and a gradient;
``hoomd-adjoint sweep run|status|merge DIR`` runs a slice of, reports on and merges a
:mod:`hoomd_adjoint.sweep`."""
import argparse
import os
import sys
import time

import numpy as np

from hoomd_adjoint import _cli as _a


def demo(args):
    """2D Brownian dynamics of particles with the honeycomb-forming Rechtsman potential
    (PNAS 2021 seed paper, Eq. 1), then the exact gradient of the final energy with respect to
    the potential's parameters: writes a GSD trajectory and a PNG summary."""
    from hoomd_adjoint.communicator import one_process
    if one_process("hoomd-adjoint demo"):  # one simulation: every rank would write the same files
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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

    snap = sim.state.get_snapshot()
    pos, L = snap.particles.position, snap.configuration.box[:2]
    fig, ax = plt.subplots(1, 4, figsize=(19, 4.6), gridspec_kw=dict(width_ratios=[1, 1.15, 1, 0.8]))
    r = np.linspace(0.85, 2.5, 400)
    V = 5 / r**12 - params["a0"] / r**10 + params["a1"] * np.exp(-params["a2"] * r) - 0.4 * np.exp(-40 * (r - params["a3"]) ** 2)
    ax[0].plot(r, V, color="tab:blue")
    ax[0].axhline(0, color="0.7", lw=0.8, gid="reference")
    ax[0].set_ylim(-1.5, 2.0)
    ax[0].set(xlabel="r (σ)", ylabel="V(r) (ε)", title="pair potential of Rechtsman et al.\n(a = "
              + ", ".join(f"{params[n]:g}" for n in ("a0", "a1", "a2", "a3")) + "; b = 5, 0.4, 40)")
    # bonds between neighbours closer than 1.35 (first shell), as one collection
    from matplotlib.collections import LineCollection
    d = pos[:, None, :2] - pos[None, :, :2]
    d -= np.array(L) * np.round(d / np.array(L))
    r2 = np.einsum("ijk,ijk->ij", d, d)
    i, j = np.nonzero(np.triu(r2 < 1.35**2, 1))
    ax[1].add_collection(LineCollection([(pos[a, :2], pos[a, :2] - d[a, b]) for a, b in zip(i, j)],
                                        colors="0.6", lw=0.8, zorder=1))
    ncoord = np.sum(r2 < 1.35**2, axis=1) - 1
    sc = ax[1].scatter(pos[:, 0], pos[:, 1], c=ncoord, cmap="viridis", vmin=0, vmax=6, s=60, zorder=2, edgecolor="k", lw=0.4)
    fig.colorbar(sc, ax=ax[1], label="neighbours within r < 1.35 σ (honeycomb: 3)")
    ax[1].set_aspect("equal")
    ax[1].set_xlim(-L[0] / 2, L[0] / 2)
    ax[1].set_ylim(-L[1] / 2, L[1] / 2)
    ax[1].set(xlabel="x (σ)", ylabel="y (σ)", title=f"final frame, step {sim.timestep}\n(grey: bonds r < 1.35 σ)")
    ax[2].plot(times, energies, color="tab:red", label="potential energy per particle")
    ax[2].axvline(args.steps // 2 * args.dt, color="0.6", ls=":", label=f"end of the kT ramp (then kT = {args.kT:g} ε)")
    ax[2].set(xlabel="time (τ)", ylabel="potential energy per particle (ε)",
              title=f"relaxation: kT {args.kT_start:g} → {args.kT:g} ε")
    ax[2].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    ax[3].bar(names, [dE[n] for n in names], color=["tab:blue" if dE[n] < 0 else "tab:orange" for n in names])
    ax[3].axhline(0, color="0.5", lw=0.8, gid="reference")
    ax[3].set(xlabel="parameter a_k", ylabel="d(E/N)/d a_k (ε per unit of a_k)",
              title=f"exact gradient of the final E/N\nthrough the last {args.grad_steps} steps")
    fig.suptitle(f"hoomd-adjoint demo: N = {args.N} particles in 2D at density {args.density:g} σ⁻², Brownian dynamics "
                 f"(dt = {args.dt:g} τ), kT {args.kT_start:g} → {args.kT:g} ε over the first {args.steps // 2} of "
                 f"{args.steps} steps ({wall:.1f} s)")
    fig.tight_layout()
    fig.savefig(png_path, dpi=110, bbox_inches="tight")
    with gsd.hoomd.open(traj_path, "r") as t:
        nframes = len(t)
    print(f"wrote {traj_path} ({nframes} frames) and {png_path}")
    print(f"{args.steps} steps of N = {args.N} in {wall:.2f} s ({args.steps * args.N / wall:.3g} particle-steps/s); "
          f"final energy per particle {energies[-1]:.4f}")
    print(f"d(E/N)/d(a0..a3) through the last {args.grad_steps} steps ({grad_wall:.2f} s): "
          + ", ".join(f"{n} {dE[n]:+.4g}" for n in names))
    return 0


def _print_status(directory, status, file=None):
    missing = status["missing"]
    shown = ", ".join(map(str, missing[:20])) + (", ..." if len(missing) > 20 else "")
    print(f"{directory}: {status['total']} jobs, {status['done']} done, {status['failed']} failed, "
          f"{len(missing)} missing" + (f" (jobs {shown})" if missing else ""), file=file)


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
            print(f"hoomd-adjoint sweep run: --part {args.part} under mpirun would run that slice on each of the "
                  f"{size} ranks; leave --part out (the ranks share the jobs) or run without mpirun", file=sys.stderr)
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
        s.run(part=args.part, comm=None if world is None else world.mpi_comm, progress=not args.quiet and first,
              on_error=args.on_error)
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


def _protocol(args):
    from hoomd_adjoint.apps.assembly import honeycomb as hc
    return hc.Protocol(N=args.N, kT=args.kT, dt=args.dt, rho_T=args.rho_T)


def _seconds(t):
    return f"{t:.1f} s" if t < 10 else f"{t:.0f} s"


def honeycomb_design(args):
    """RMSProp design of the Rechtsman potential's a0..a3 for honeycomb/triangular assembly."""
    from hoomd_adjoint.apps.assembly import honeycomb as hc
    from hoomd_adjoint.communicator import shared

    world = shared("hoomd-adjoint honeycomb design")  # under mpirun the ranks share the replicas
    if world is None:
        return 2
    try:
        k_H = None if args.objective == "assemble" else (args.k_H if args.k_H is not None else args.ratio * args.k_T)
        d = hc.Design(args.out, objective=args.objective, k_T=args.k_T, k_H=k_H, steps=args.steps,
                      variant=args.variant, truncate=args.truncate, replicas=args.replicas, lr=args.lr,
                      anneal=args.anneal,
                      start=args.start, protocol=_protocol(args), threads=args.threads, resume=args.resume,
                      engine=args.engine, communicator=world, max_failed=args.max_failed)
    except (ValueError, TypeError, FileExistsError) as e:
        if world.partition == 0:  # every rank got the same arguments and files
            print(f"hoomd-adjoint honeycomb design: {e}", file=sys.stderr)
        return 2
    if d.iteration and world.partition == 0:
        print(f"resuming {d.state_path} after iteration {d.iteration - 1}")
    before, t0 = d.iteration, time.perf_counter()
    d.run(args.iterations, progress=not args.quiet)
    t1 = time.perf_counter()
    s = d.report(replicas=args.check_replicas, steps=args.check_steps, trajectories=True,
                 progress=not args.quiet and world.partition == 0)
    t2 = time.perf_counter()
    if d.communicator.partition != 0:  # under mpirun every rank ran replicas; one reports
        return 0
    ran = d.iteration - before
    now = f"iteration {before}" if ran == 1 else f"iterations {before} to {d.iteration - 1}"
    print(f"\ndesign: {ran} iteration{'s' * (ran != 1)} in {_seconds(t1 - t0)}"
          + (f" ({now}; the {before} before were resumed)" if before and ran else "")
          + (f" (all {before} were saved: nothing left to run)" if before and not ran else "")
          + f"; measuring the start and the design on {args.check_replicas} fresh replicas per lattice: "
            f"{_seconds(t2 - t1)}")
    print(f"{'':10s} {'a0':>7s} {'a1':>7s} {'a2':>7s} {'a3':>7s} {'L_H(end)':>9s} {'k_H':>11s} {'k_T':>11s} "
          f"{'k_H/k_T':>11s}")
    rate = lambda k: f"{k:11.2e}" if k else f"{hc.NOT_REACHED:>11s}"  # noqa: E731  no half-time within the runs
    for label in ("start", "designed"):
        r = s[label]
        print(f"{label:10s} " + " ".join(f"{x:7.3f}" for x in r["params"]) + f" {r['L_H_end']:9.3f} {rate(r['k_H'])} "
              f"{rate(r['k_T'])} " + (f"{r['ratio']:11.3f}" if r["ratio"] else f"{hc.NOT_REACHED:>11s}"))
    if "target_ratio" in s:
        print(f"target k_H/k_T = {s['target_ratio']:.4g}")
    for label in ("start", "designed"):  # what the table's means are over
        for lattice, used in s[label]["replicas_used"].items():
            failed = s[label]["failed"][lattice]
            print(f"{label} {lattice}: {used} of {args.check_replicas} replicas"
                  + ("" if not failed else "; left out: " + "; ".join(
                      f"seed {f['seed']} (stopped at timestep {f['step']}: {f['cause']})" for f in failed)))
    if s["failed_in_design"]:
        print(f"{s['failed_in_design']} replica(s) failed during the design and were left out of their "
              f"iterations (design.csv: failures; state.json: failed)")
    print(f"wrote {args.out}/: design.png curves.csv design.csv summary.json state.json honeycomb.gsd triangular.gsd")
    return 0


def honeycomb_measure(args):
    """Mean L_H(t), L_T(t) over fresh replicas of one potential; half-times and rates."""
    from hoomd_adjoint.apps.assembly import honeycomb as hc
    from hoomd_adjoint.communicator import shared

    world = shared("hoomd-adjoint honeycomb measure")  # under mpirun the ranks share the replicas
    if world is None:
        return 2
    first = world.partition == 0  # every rank gets every replica's curve; the first writes and prints
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    try:
        m = hc.measure(args.params, replicas=args.replicas, steps=args.steps, every=args.every,
                       protocol=_protocol(args), threads=args.threads, progress=not args.quiet and first,
                       communicator=world, max_failed=args.max_failed)
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
            print(f"t_{key} = {hc.NOT_REACHED} (mean L_{key} above 1/2 through step {int(m['steps_' + key][-1])}), "
                  f"k_{key} = {hc.NOT_REACHED} ({line})")
    print(f"measured {args.replicas} replicas per lattice in {_seconds(time.perf_counter() - t0)}; "
          f"wrote {args.out}/curves.csv and curves.png")
    return 0


def _add_protocol(p):
    from hoomd_adjoint.apps.assembly.honeycomb import Protocol
    d = Protocol()
    p.add_argument("--N", type=_a.integer(2), default=d.N, help="particles per replica")
    p.add_argument("--kT", type=_a.real(0, open_lo=True), default=d.kT, help="temperature of the runs (epsilon)")
    p.add_argument("--dt", type=_a.real(0, open_lo=True), default=d.dt, help="time step (tau)")
    p.add_argument("--rho-T", type=_a.real(0, open_lo=True), default=d.rho_T,
                   help="triangular density (1/sigma^2); honeycomb runs at 2/3 of it")
    p.add_argument("--threads", type=_a.integer(1), default=None, help="replicas run at once (default: the cores)")
    p.add_argument("--max-failed", type=_a.real(0, hi=1), default=0.05,
                   help="largest share of a batch's replicas that may blow up and be left out of its means "
                        "(each is named); more stop the command")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _check_packing(option, density, min_dist, N):
    """Random starts (no two particles closer than ``min_dist``) can be placed at ``density``."""
    import math

    from hoomd_adjoint.lattice import _RSA_JAMMING

    phi = density * math.pi * (min_dist / 2) ** 2
    if N > 1 and phi > _RSA_JAMMING[2]:
        raise _a.Usage(f"{option} {density:g} is too dense for the random starts (disks of diameter {min_dist:g} "
                       f"would cover {phi:.3g} of the plane, beyond the {_RSA_JAMMING[2]} random placement reaches): "
                       f"at most {_RSA_JAMMING[2] / (math.pi * (min_dist / 2) ** 2):.4g}")


def _check_box(N, option, density, reach):
    """The square box of N particles at ``density`` holds the pair cutoff plus the neighbour list's
    buffer (``reach``) less than half its side."""
    import math

    side = math.sqrt(N / density)
    if side <= 2 * reach:
        need = math.floor((2 * reach) ** 2 * density) + 1
        raise _a.Usage(f"--N {N} at {option} {density:g} makes a box of side {side:.3g}, less than twice the pair "
                       f"cutoff with its buffer ({reach:g}): use --N {need} or more")


def _check_protocol(args):
    from hoomd_adjoint.apps.assembly.honeycomb import Protocol
    p = Protocol()
    # the triangular lattice is the denser of the two: the smaller box and the harder random start
    _check_packing("--rho-T", args.rho_T, p.min_dist, args.N)
    _check_box(args.N, "--rho-T", args.rho_T, p.r_cut + 0.4)  # honeycomb.simulation's Cell(buffer=0.4)


def _check_design(args):
    """honeycomb design: the objective's options, the output folder's state, the engine."""
    _a.resumable(args.out, args.resume, "a new design")
    targets = (("--target-k-T", args.k_T), ("--target-k-H", args.k_H), ("--target-ratio", args.ratio))
    if args.objective == "assemble":
        for option, value in targets:
            if value is not None:
                raise _a.Usage(f"{option} {value:g} is a target of --objective rates, and this design is --objective "
                               f"assemble: add --objective rates, or leave out {option}")
    else:
        if args.steps is not None:
            raise _a.Usage(f"--steps {args.steps} is the run length of --objective assemble; --objective rates runs "
                           "each lattice to its target half-time (1/--target-k-T, 1/--target-k-H)")
        if args.k_H is not None and args.ratio is not None:
            raise _a.Usage(f"--target-k-H {args.k_H:g} and --target-ratio {args.ratio:g}: give one of them")
        args.k_T = 1 / 400 if args.k_T is None else args.k_T
        if args.k_H is None:
            args.ratio = 1 / 16 if args.ratio is None else args.ratio
        for option, value, k in (("--target-k-T", args.k_T, args.k_T),
                                 ("--target-k-H", args.k_H, args.k_H),
                                 ("--target-ratio", args.ratio, None if args.ratio is None else args.ratio * args.k_T)):
            if k is not None and round(1.0 / k) < 1:
                rate = "" if option != "--target-ratio" else f" (k_H = ratio x k_T = {k:g})"
                raise _a.Usage(f"{option} {value:g}{rate} is faster than one step: the half-time 1/k must be at "
                               "least 1 step")
    args.steps = 3300 if args.steps is None else args.steps
    if args.truncate is not None and args.variant != "truncated":
        raise _a.Usage(f"--truncate {args.truncate} is the window of --variant truncated, and this design is "
                       f"--variant {args.variant}: leave out --truncate")
    args.truncate = 300 if args.truncate is None else args.truncate
    if args.engine == "hoomd":
        try:
            import hoomd.adjoint  # noqa: F401
        except ImportError as e:
            raise _a.Usage(f"--engine hoomd needs HOOMD-blue and its hoomd.adjoint component (build it from "
                           f"component/, docs/hoomd.md): {e}") from None
    _check_protocol(args)


def _check_measure(args):
    _a.out_folder("--out", args.out)
    if args.every > args.steps:
        raise _a.Usage(f"--every {args.every} is longer than the runs (--steps {args.steps})")
    _check_protocol(args)


def _check_demo(args):
    _a.out_folder("--out", args.out)
    _check_packing("--density", args.density, 0.9, args.N)  # demo's random start: min_dist 0.9
    _check_box(args.N, "--density", args.density, 2.5 + 0.4)  # demo's r_cut and Cell(buffer=0.4)


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

    top = _a.Parser(prog="hoomd-adjoint",
                    description="Differentiable molecular dynamics: the workflows of the papers it reproduces, a demo, "
                                "and sweeps.\n'hoomd-adjoint COMMAND --help' describes each command and its options.",
                    epilog="Bad input stops a command before it runs or writes anything, with one line and exit status "
                           "2;\na failed run exits with status 1, Ctrl-C with 130 (saying how to resume).\n"
                           "HA_TRACEBACK=1 shows the full traceback of the last two instead.")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                     help="print the version and exit")
    sub = top.add_subparsers(dest="command", required=True, metavar="command")
    p = sub.add_parser("honeycomb", help="honeycomb vs triangular assembly rates (PNAS 2021, Figs. 1-2)",
                       description="Design the Rechtsman potential's a0..a3 for honeycomb/triangular assembly "
                                   "(design), or measure a potential's assembly curves and rates (measure).")
    actions = p.add_subparsers(dest="action", required=True, metavar="action")
    a = actions.add_parser("design", help="RMSProp design of a0..a3 through replica batches; resumable",
                           description=honeycomb_design.__doc__)
    a.add_argument("--out", type=_a.text("a folder"), default="honeycomb-design",
                   help="output folder (state.json, design.csv, summary.json, plots, trajectories)")
    a.add_argument("--objective", choices=["assemble", "rates"], default="assemble",
                   help="assemble: minimise mean L_H after --steps (Fig. 1); rates: hit the target rates k_T and k_H "
                        "(Fig. 2)")
    a.add_argument("--target-k-T", dest="k_T", metavar="K", type=_a.real(0, open_lo=True), default=None,
                   help="target triangular rate, 1/step (--objective rates; default: 0.0025 = 1/400)")
    a.add_argument("--target-k-H", dest="k_H", metavar="K", type=_a.real(0, open_lo=True), default=None,
                   help="target honeycomb rate, 1/step (--objective rates; default: --target-ratio x --target-k-T)")
    a.add_argument("--target-ratio", dest="ratio", metavar="R", type=_a.real(0, open_lo=True), default=None,
                   help="target k_H/k_T when --target-k-H is not given (--objective rates; default: 0.0625 = 1/16)")
    _a.alias(a, "--ratio", "ratio")
    # --k-T sat beside --kT (the temperature): one typed for the other ran 60x colder without a word
    a.add_argument("--k-T", action=_a.Renamed, new="--target-k-T", why=" (--kT is the temperature)")
    a.add_argument("--k-H", action=_a.Renamed, new="--target-k-H")
    a.add_argument("--steps", type=_a.integer(1), default=None,
                   help="run length of --objective assemble, in steps (default: 3300)")
    a.add_argument("--variant", choices=["truncated", "forward", "reverse"], default="truncated",
                   help="gradient: adjoint through the last --truncate steps, or exact forward/reverse mode")
    a.add_argument("--truncate", type=_a.integer(1), default=None,
                   help="window of --variant truncated, in steps (default: 300)")
    a.add_argument("--iterations", type=_a.integer(0), default=24,
                   help="RMSProp iterations in all (a resumed design counts those it has)")
    a.add_argument("--replicas", type=_a.integer(1), default=32, help="replicas per lattice per iteration")
    a.add_argument("--lr", type=_a.real(0, open_lo=True), default=0.01,
                   help="RMSProp step, relative to each parameter's start")
    a.add_argument("--anneal", type=_a.real(0, open_lo=True), default=None,
                   help="halve the step every this many iterations (default: a constant step)")
    a.add_argument("--start", type=_a.real(), nargs=4, default=None, metavar="A",
                   help="starting a0 a1 a2 a3 (default: Rechtsman et al.'s 5.89 17.9 2.49 1.823)")
    a.add_argument("--check-replicas", type=_a.integer(1), default=64,
                   help="fresh replicas per lattice that measure the start and the design")
    a.add_argument("--check-steps", type=_a.integer(1), default=None,
                   help="length of the measuring runs, in steps (default: 1.6 t*_H and 4 t*_T, or --steps)")
    a.add_argument("--resume", action="store_true",
                   help="continue the design saved in --out (its state.json; the same settings)")
    a.add_argument("--engine", choices=["embedded", "hoomd"], default="embedded",
                   help="what integrates the replicas: the embedded engine, or HOOMD-blue (needs HOOMD-blue and "
                        "its hoomd.adjoint component; the adjoint runs along HOOMD-blue's recorded states)")
    _add_protocol(a)
    a.set_defaults(func=honeycomb_design, check=_check_design, resume_hint="--resume")
    a = actions.add_parser("measure", help="mean L_H(t), L_T(t) of one potential; half-times and rates",
                           description=honeycomb_measure.__doc__)
    a.add_argument("--params", type=_a.real(), nargs=4, default=[5.89, 17.9, 2.49, 1.823], metavar="A",
                   help="the potential's a0 a1 a2 a3 (default: Rechtsman et al.'s)")
    a.add_argument("--replicas", type=_a.integer(1), default=200, help="replicas per lattice")
    a.add_argument("--steps", type=_a.integer(1), default=3300, help="length of each run, in steps")
    a.add_argument("--every", type=_a.integer(1), default=33, help="steps between loss evaluations")
    a.add_argument("--out", type=_a.text("a folder"), default="honeycomb-measure",
                   help="output folder (curves.csv, curves.png)")
    _add_protocol(a)
    a.set_defaults(func=honeycomb_measure, check=_check_measure)
    from .apps.clusters.cli import add_parser as add_clusters

    add_clusters(sub)
    from .apps.spider.cli import add_parser as add_spider

    add_spider(sub)
    p = sub.add_parser("demo", help="run a 2D honeycomb-potential Brownian simulation; write GSD + PNG",
                       description=demo.__doc__)
    p.add_argument("--out", type=_a.text("a folder"), default="demo-output",
                   help="output folder (trajectory.gsd, demo.png)")
    p.add_argument("--N", type=_a.integer(2), default=200, help="number of particles")
    p.add_argument("--density", type=_a.real(0, open_lo=True), default=0.69, help="number density (1/area)")
    p.add_argument("--kT", type=_a.real(0), default=0.05, help="final temperature (energy units)")
    p.add_argument("--kT-start", type=_a.real(0), default=0.25, help="starting temperature of the linear ramp")
    p.add_argument("--dt", type=_a.real(0, open_lo=True), default=5e-4,
                   help="time step (the r^-12 core is stiff: 1e-3 can be unstable)")
    p.add_argument("--steps", type=_a.integer(2), default=40000,
                   help="Brownian steps (the temperature ramps over the first half)")
    p.add_argument("--seed", type=_a.integer(0, 0xFFFF), default=1, help="random seed of the start and the noise")
    p.add_argument("--grad-steps", type=_a.integer(1), default=1000,
                   help="steps (after the run) to differentiate the final energy through")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=demo, check=_check_demo, single="hoomd-adjoint demo")
    p = sub.add_parser("sweep", help="run, report on and merge a sweep's jobs (hoomd_adjoint.sweep)",
                       description="Run a slice of a hoomd_adjoint.sweep's jobs (run), report on its folder "
                                   "(status), or merge its results into one CSV table (merge).")
    actions = p.add_subparsers(dest="action", required=True, metavar="action")
    a = actions.add_parser("run", help="run a slice of the jobs (resumes: finished jobs are skipped)",
                           description=sweep_run.__doc__)
    a.add_argument("directory", type=_a.text("a folder"), help="the sweep's folder (results/ and jobs.json go there)")
    a.add_argument("--function", required=True,
                   help="module:function or file.py:function, called as function(job dict) -> dict of results")
    a.add_argument("--jobs", help="JSON file with the list of job dicts (default: the folder's jobs.json)")
    a.add_argument("--part", type=_a.part, help="k/n: run jobs i with i %% n == k (k is 0-based; default: every job)")
    a.add_argument("--mpi", action="store_true", help="under mpirun: part = rank/size")
    a.add_argument("--on-error", choices=["raise", "record"], default="raise",
                   help="a failing job stops the run (raise) or is saved as failed and skipped (record)")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=sweep_run, check=_check_sweep_run, resume_hint="again",
                   mpi_part=True)  # under mpirun, --part is refused by the command, whatever else is given
    a = actions.add_parser("status", help="print how many jobs are done, failed and missing",
                           description=sweep.__doc__)
    a.add_argument("directory", help="the sweep's folder (holds jobs.json and results/)")
    a.set_defaults(func=sweep, check=_check_sweep, single="hoomd-adjoint sweep status")
    a = actions.add_parser("merge", help="print the status and write all results as one CSV table",
                           description=sweep.__doc__)
    a.add_argument("directory", help="the sweep's folder (holds jobs.json and results/)")
    a.add_argument("--out", dest="csv", type=_a.text("a file name"), default=None,
                   help="output CSV file (default: stdout)")
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
        return ("interrupted; finished jobs are saved: run the same command again to continue "
                f"({shlex.join(['hoomd-adjoint'] + list(argv))})")
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
