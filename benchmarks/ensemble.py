"""Batches of replica gradients: hoomd-adjoint's Ensemble against JAX MD's vmapped batch.

The PNAS 2021 honeycomb gradient: N = 100 particles in 2D, Rechtsman potential (a0..a3 =
5.89, 17.9, 2.49, 1.823; r_cut = 2.5, shifted), density 0.6, Brownian kT = 0.2, gamma = 1,
dt = 1e-3, 3300 steps, d/d(a0..a3) of the final potential energy per particle, each replica from
its own random start (minimum distance 0.9) and seed. For R = 1, 4, 16, 64 replicas, seconds per
replica-gradient:

* ours on 1 and 2 threads (``ha.Ensemble(threads=...)``, one process),
* ours on 2 MPI ranks of one thread each (``mpirun -n 2``, when mpi4py and mpirun are there),
* JAX MD computing the same batch with ``jax.vmap`` in one ``jax.jit``, with its neighbour list
  and checkpointed reverse mode (``_jax_ensemble.py``), when ``jax_md`` is importable.

Every case runs in a process of its own, so that peak RSS is that case's. Goal: >= 20x JAX MD's
batched time per replica-gradient on the same two cores.

    PYTHONPATH=. python benchmarks/ensemble.py                     # the full table (~10 min)
    PYTHONPATH=. python benchmarks/ensemble.py --R 1 4 --steps 500 --no-jax
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
N, DENSITY, KT, GAMMA, DT, R_CUT, BUFFER = 100, 0.6, 0.2, 1.0, 1e-3, 2.5, 0.4
PARAMS = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)


def start(i):
    """Replica i's starting frame (random, minimum distance 0.9)."""
    from hoomd_adjoint.lattice import random_packing

    return random_packing(N, DENSITY, dimensions=2, min_dist=0.9, seed=1000 + i)


def build(i):
    import hoomd_adjoint as ha

    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=i)
    sim.create_state_from_snapshot(start(i))
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=BUFFER), default_r_cut=R_CUT, mode="shift")
    pot.params[("A", "A")] = dict(PARAMS)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=KT, default_gamma=GAMMA)
    sim.operations.integrator = ha.md.Integrator(dt=DT, methods=[bd], forces=[pot])
    return sim


def case_ours(R, steps, threads):
    import hoomd_adjoint as ha

    comm = ha.communicator.Communicator()
    ens = ha.Ensemble(build, replicas=R, threads=threads, communicator=comm)
    comm.barrier_all()
    t0 = time.perf_counter()
    res = ens.gradient(
        steps,
        lambda sim: ha.loss.PotentialEnergy(sim.operations.integrator.forces[0]),
        lambda sim: [(sim.operations.integrator.forces[0], ["a0", "a1", "a2", "a3"])],
    )
    comm.barrier_all()
    seconds = time.perf_counter() - t0
    g = res.grad(0)[("A", "A")]
    rss = comm.allgather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return dict(
        seconds=seconds,
        rss=max(rss),
        mean_grad=[g[k] for k in ("a0", "a1", "a2", "a3")],
        ranks=comm.num_partitions,
        rank=comm.partition,
    )


def case_jax(R, steps):
    sys.path.insert(0, HERE)
    from _jax_ensemble import jax_md_batch

    L = (N / DENSITY) ** 0.5
    pos = np.stack([np.asarray(start(i).particles.position)[:, :2] for i in range(R)])
    pos = pos + L / 2  # JAX MD's periodic space is [0, L)
    out = jax_md_batch(
        pos, L, steps=steps, kT=KT, gamma=GAMMA, dt=DT, params=tuple(PARAMS.values()), r_cut=R_CUT, dr_threshold=BUFFER
    )
    return dict(
        seconds=out["seconds_total"],
        compile=out["compile_seconds"],
        rss=out["peak_rss_bytes"],
        mean_grad=np.mean(out["grads"], axis=0).tolist(),
    )


def run_case(argv, mpi_ranks=0):
    """One case in a fresh process (or under mpirun); returns its JSON result, None on failure."""
    cmd = [sys.executable, os.path.abspath(__file__), "--case"] + argv
    if mpi_ranks:
        cmd = [shutil.which("mpirun") or "mpirun", "-n", str(mpi_ranks)] + cmd
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.stderr.write(f"case {' '.join(argv)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}\n")
    return None


def have(module):
    """Importable? Found without importing it: Linux keeps a process's peak RSS across exec, so a
    parent that had imported JAX would lend its RSS to every case it starts."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--R", type=int, nargs="+", default=[1, 4, 16, 64])
    ap.add_argument("--steps", type=int, default=3300)
    ap.add_argument("--no-jax", action="store_true")
    ap.add_argument("--no-mpi", action="store_true")
    ap.add_argument("--case", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.case is not None:  # a worker: "ours R threads" or "jax R"
        kind, R = args.case[0], int(args.case[1])
        if kind == "ours":
            out = case_ours(R, args.steps, int(args.case[2]))
            if out["rank"] != 0:
                return
        else:
            out = case_jax(R, args.steps)
        print("RESULT " + json.dumps(out), flush=True)
        return

    jax = not args.no_jax and have("jax_md")
    mpi = not args.no_mpi and have("mpi4py") and shutil.which("mpirun") is not None
    print(
        f"PNAS honeycomb gradient, N = {N}, {args.steps} steps, d/d(a0..a3); cores: {os.cpu_count()}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    if not jax:
        print("(JAX MD not run: jax_md not importable or --no-jax)")
    if not mpi:
        print("(MPI not run: mpi4py/mpirun missing or --no-mpi)")
    head = (
        f"{'R':>4s} {'1 thread':>10s} {'2 threads':>10s} {'2 ranks':>10s} {'JAX MD':>10s} {'JAX/ours':>9s}"
        f" {'RSS ours':>9s} {'RSS JAX':>9s} {'JAX compile':>11s}"
    )
    print("seconds per replica-gradient (peak RSS in MiB, of the 2-thread run and of JAX MD's)")
    print(head)
    rows = []
    for R in args.R:
        one = run_case(["ours", str(R), "1", "--steps", str(args.steps)])
        two = run_case(["ours", str(R), "2", "--steps", str(args.steps)])
        ranks = run_case(["ours", str(R), "1", "--steps", str(args.steps)], mpi_ranks=2) if mpi else None
        jx = run_case(["jax", str(R), "--steps", str(args.steps)]) if jax else None

        def per(c):
            return None if c is None else c["seconds"] / R

        best = min(x for x in (per(one), per(two), per(ranks)) if x is not None)
        cells = [per(one), per(two), per(ranks), per(jx)]
        ratio = per(jx) / best if jx else None
        fmt = lambda x, w=10, p=4: f"{'-':>{w}s}" if x is None else f"{x:{w}.{p}f}"  # noqa: E731
        mib = lambda c: None if c is None else c["rss"] / 2**20  # noqa: E731
        print(
            f"{R:4d} " + " ".join(fmt(c) for c in cells) + f" {fmt(ratio, 9, 1)} {fmt(mib(two), 9, 0)}"
            f" {fmt(mib(jx), 9, 0)} {fmt(jx and jx['compile'], 11, 1)}",
            flush=True,
        )
        rows.append((R, one, two, ranks, jx))
    print("\nmean d(E/N)/d(a0..a3) per case (ours: identical for any threads and ranks; JAX MD: other noise):")
    for R, one, two, ranks, jx in rows:
        same = all(c is None or c["mean_grad"] == one["mean_grad"] for c in (two, ranks))
        print(
            f"R={R:3d} ours {np.round(one['mean_grad'], 6).tolist()} bitwise equal across threads/ranks: {same}"
            + (f"; JAX MD {np.round(jx['mean_grad'], 6).tolist()}" if jx else "")
        )


if __name__ == "__main__":
    main()
