"""Differentiating a HOOMD-blue script: what recording costs HOOMD-blue, and what a gradient costs.

LJ at density 0.84 in 3D (kT = 1.2, Langevin, r_cut = 2.5, nlist buffer 0.4), HOOMD-blue on one
core. For N = 10^4 and 10^5 it times, interleaved and repeated (median):

- HOOMD-blue's own ``sim.run(steps)`` (the reference: seconds per step);
- the same run while the adjoint's recorder copies every state (positions, velocities,
  accelerations in tag order: what a fully stored adjoint needs), with the C++ component's
  ``hoomd.adjoint.Recorder`` and with the Python ``hoomd.custom.Action`` reading local snapshots;
- the same with the storage written once before the run: the difference to the row above is the
  first touch of freshly allocated memory (page faults; expensive in virtual machines), which
  any stored adjoint pays, the embedded engine's too;
- the same run recording only 8 binomial checkpoints (a memory budget of 8 states);
- ``hoomd_adjoint.bridge.gradient`` (HOOMD-blue forward + recording + the adjoint on the embedded
  twin) against HOOMD-blue's forward run, and the embedded engine's gradient against its own run.

    PYTHONPATH=<hoomd prefix>:. python benchmarks/hoomd_recording.py [--sizes 10000 100000] [--steps 50]

Run it on a quiet machine (nothing else on the cores); it prints a table.
"""

import argparse
import statistics
import time

import numpy as np


def script(N, seed=1):
    import hoomd

    L = (N / 0.84) ** (1 / 3)
    n = int(np.ceil(N ** (1 / 3)))
    g = (np.arange(n) + 0.5) * L / n - L / 2
    pts = np.array(np.meshgrid(g, g, g, indexing="ij")).reshape(3, -1).T[:N]
    snap = hoomd.Snapshot()
    snap.configuration.box = [L, L, L, 0, 0, 0]
    snap.particles.N = N
    snap.particles.types = ["A"]
    snap.particles.position[:] = pts
    snap.particles.velocity[:] = np.random.default_rng(seed).normal(size=(N, 3))
    sim = hoomd.Simulation(device=hoomd.device.CPU(), seed=seed)
    sim.create_state_from_snapshot(snap)
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim.operations.integrator = hoomd.md.Integrator(
        dt=0.005, methods=[hoomd.md.methods.Langevin(filter=hoomd.filter.All(), kT=1.2)], forces=[lj]
    )
    sim.run(20)  # past the first list builds
    return sim, lj


def recorded_run(sim, steps, recorder, slots=None, touched=False):
    """One run with the adjoint's recorder: every state (slots=None) or ``slots`` checkpoints.
    ``touched``: the storage is written once before the timed run (first-touch page faults,
    which every freshly allocated adjoint storage pays, are then left out)."""
    from hoomd_adjoint import adjoint
    from hoomd_adjoint import bridge
    from hoomd_adjoint._revolve import Revolve

    tw = bridge.twin(sim)
    tw._prepare_run()
    eng = adjoint._Engine(tw, "langevin")
    t0 = sim.timestep
    drv = bridge.HoomdForward(sim, check_steps=0, recorder=recorder)
    if slots is None:
        block, checkpoints = eng.new_states(steps), set()
        if touched:
            for x in block:
                x.fill(0.0)
    else:
        block = None  # the checkpoints a gradient's forward run keeps: the schedule's right spine
        checkpoints = {t0 + k for k in Revolve(steps, slots).checkpoints()}
    t = time.perf_counter()
    drv.run(eng, steps, t0, block, checkpoints, [])
    return time.perf_counter() - t


def plain_run(sim, steps):
    t = time.perf_counter()
    sim.run(steps)
    return time.perf_counter() - t


def loss(frame):
    return float(np.sum(frame.positions[:, 0])), np.tile([1.0, 0.0, 0.0], (len(frame.positions), 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import hoomd
    from hoomd_adjoint import adjoint
    from hoomd_adjoint import bridge

    try:
        import hoomd.adjoint  # noqa: F401

        recorders = ["component", "python"]
    except ImportError:
        recorders = ["python"]
    print(
        f"HOOMD-blue {hoomd.version.version} (CPU, one core); LJ rho = 0.84, Langevin; {args.steps} steps per "
        f"run, median of {args.repeats} interleaved repeats\n"
    )
    rows = []
    for N in args.sizes:
        # every timed run starts from the same state (a fresh script, same seed): the runs do the
        # same work (neighbour-list rebuilds included), so they differ only by what is timed
        times = {
            k: []
            for k in ["hoomd"]
            + [f"all:{r}" for r in recorders]
            + [f"touched:{r}" for r in recorders]
            + [f"cp:{recorders[0]}"]
        }
        for _ in range(args.repeats):
            times["hoomd"].append(plain_run(script(N)[0], args.steps))
            for r in recorders:
                times[f"all:{r}"].append(recorded_run(script(N)[0], args.steps, r))
                times[f"touched:{r}"].append(recorded_run(script(N)[0], args.steps, r, touched=True))
            times[f"cp:{recorders[0]}"].append(recorded_run(script(N)[0], args.steps, recorders[0], slots=8))
        med = {k: statistics.median(v) for k, v in times.items()}
        base = med["hoomd"]
        rows.append((N, "HOOMD-blue sim.run", base / args.steps * 1e3, ""))
        for k, v in med.items():
            if k == "hoomd":
                continue
            what = {
                "all": "record every state, ",
                "touched": "every state, storage touched, ",
                "cp": "record 8 checkpoints, ",
            }[k.split(":")[0]] + k.split(":")[1]
            rows.append((N, what, v / args.steps * 1e3, f"{100 * (v - base) / base:+.1f}%"))
        # gradient / forward, HOOMD-blue forward (fully stored) and the embedded engine alone
        sim, lj = script(N)
        t = time.perf_counter()
        res = bridge.gradient(sim, args.steps, loss, wrt=[lj])
        tg = time.perf_counter() - t
        rows.append(
            (
                N,
                f"gradient, HOOMD-blue forward ({res.diagnostics['recorder']})",
                tg / args.steps * 1e3,
                f"{tg / base:.2f}x fwd",
            )
        )
        sim, lj = script(N)
        tw = bridge.twin(sim)
        t = time.perf_counter()
        tw.run(args.steps)
        tf = time.perf_counter() - t
        tw = bridge.twin(sim)
        t = time.perf_counter()
        adjoint.gradient(tw, args.steps, loss, wrt=[tw._hoomd_forces[id(lj)]])
        te = time.perf_counter() - t
        rows.append((N, "embedded engine sim.run", tf / args.steps * 1e3, f"{tf / base:.2f}x HOOMD"))
        rows.append((N, "gradient, embedded engine", te / args.steps * 1e3, f"{te / tf:.2f}x its fwd"))
    print(f"{'N':>7s}  {'what':48s} {'ms/step':>9s}  {'vs HOOMD run':>13s}")
    for N, what, ms, rel in rows:
        print(f"{N:7d}  {what:48s} {ms:9.3f}  {rel:>13s}")


if __name__ == "__main__":
    main()
