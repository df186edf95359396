"""Replica batches on the device (issue 27): the papers' workload, an Ensemble gradient of R
replicas of N = 100 particles, run replica by replica and as one batch, in one run.

Workload: the honeycomb replica (2D, N = 100 at density 0.69, the Rechtsman potential at the
paper's parameters, r_cut 2.5 shifted, Brownian kT = 0.15, gamma = 1, dt = 5e-4, a random start),
the gradient of mean |x|^2 at the last step with respect to a0..a3 through ``--steps`` steps,
every state stored. Columns, seconds per replica-gradient:

* ``alone``: the replicas one after another, each ``adjoint.gradient`` on the device;
* ``batch``: ``Ensemble.gradient`` with the replicas on the device: every engine call of all
  replicas at once, one kernel per op for the batch (cpp/device/BatchRun.h);
* ``cpu``: one replica on one CPU thread, for scale;
* ``JAX MD``: where ``jax_md`` is importable, its best configuration for a batch on the same
  device (``_jax_ensemble.py``: ``vmap`` over the replicas, neighbour lists, float64, the loss
  the final energy per particle), from the same starting positions (compile time excluded);
* ``kernels/step``: device launches per step of the batch (the same for any R: the evidence that
  a step's work is one launch per op); ``host share``: the part of the batch's wall time that is
  not kernel time (the profile's sum; measured in a second, profiled run).

On the host backend (no GPU: ``--backend host``) the kernels run one thread after another on the
CPU, so the times say nothing of a GPU; the launch counts and the host share do. On a GPU the
default is R = 1, 64, 1024, 4096 and 3300 steps; give ``--R`` and ``--steps`` to change them.

    PYTHONPATH=. python benchmarks/gpu_batch.py                                # a GPU
    PYTHONPATH=. python benchmarks/gpu_batch.py --backend host --R 1 4 16 --steps 100
"""

import argparse
import time

import numpy as np

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from hoomd_adjoint.lattice import random_packing

RECHTSMAN = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)  # PNAS 2021 Table S1, the honeycomb former


def replica(device, i):
    sim = ha.Simulation(device=device(), seed=11 + i)
    sim.create_state_from_snapshot(random_packing(100, 0.69, dimensions=2, min_dist=0.9, seed=i))
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    pot.params[("A", "A")] = dict(RECHTSMAN)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.15, default_gamma=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=5e-4, methods=[bd], forces=[pot])
    return sim


def loss(frame):
    x = frame.positions
    return float(np.sum(x * x) / len(x)), 2 * x / len(x)


def wrt(sim):
    return [(sim.operations.integrator.forces[0], ["a0", "a1", "a2", "a3"])]


def jax_md(R, steps):
    """JAX MD's vmapped batch gradient from the same starts: seconds per replica, or None."""
    try:
        import jax_md  # noqa: F401
    except ImportError:
        return None
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _jax_ensemble import jax_md_batch

    frames = []
    for i in range(R):
        f = random_packing(100, 0.69, dimensions=2, min_dist=0.9, seed=i)
        L = f.configuration.box[0]
        frames.append(np.mod(np.asarray(f.particles.position)[:, :2] + L / 2, L))
    out = jax_md_batch(
        np.array(frames), L, steps=steps, kT=0.15, gamma=1.0, dt=5e-4, params=tuple(RECHTSMAN.values()), r_cut=2.5
    )
    return out["seconds_per_replica"]


def alone(device, R, steps):
    sims = [replica(device, i) for i in range(R)]
    t = time.perf_counter()
    for sim in sims:
        ha.adjoint.gradient(sim, steps, loss, wrt(sim))
    return (time.perf_counter() - t) / R


def batch(device, R, steps, profiled=False):
    ens = ha.Ensemble(lambda i: replica(device, i), replicas=R, threads=1)
    if profiled:
        _core.gpu_profile_start()
    t = time.perf_counter()
    ens.gradient(steps, loss, wrt)
    wall = time.perf_counter() - t
    prof = dict(_core.gpu_profile_stop()) if profiled else {}
    return wall / R, wall, prof


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["cuda", "host"], default="cuda" if _core.gpu_available() else "host")
    ap.add_argument(
        "--R", type=int, nargs="+", help="replica counts (default: 1 64 1024 4096 on a GPU, 1 4 16 on host)"
    )
    ap.add_argument("--steps", type=int, help="steps differentiated (default 3300 on a GPU, 100 on host)")
    ap.add_argument("--no-jax-on-host", action="store_true", help="skip JAX MD when timing the host backend")
    args = ap.parse_args()
    cuda = args.backend == "cuda"
    device = ha.device.GPU if cuda else ha.device._HostBackendGPU
    Rs = args.R or ([1, 64, 1024, 4096] if cuda else [1, 4, 16])
    steps = args.steps or (3300 if cuda else 100)
    name = _core.gpu_name() if cuda else "host backend (kernels on one CPU thread)"
    print(f"# device: {name}; {steps} steps, N = 100, d/d(a0..a3); seconds per replica-gradient")
    cpu = alone(lambda: ha.device.CPU(num_cpu_threads=1), 1, steps)
    print(
        "| R | alone | batch | cpu (1 thread) | JAX MD | batch / alone | JAX MD / batch | kernels/step | host share |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for R in Rs:
        a = alone(device, min(R, 16), steps)  # (one by one: R's replicas all cost the same)
        b, _, _ = batch(device, R, steps)
        _, wall, prof = batch(device, R, steps, profiled=True)
        kernels = {k: v for k, v in prof.items() if not k.startswith(("copies ", "fills "))}
        launches = sum(calls for calls, _ in kernels.values())
        # (device work: the kernels, copies within the device and fills; the rest is the host's)
        kernel = sum(sec for k, (_, sec) in prof.items() if k not in ("copies to the device", "copies to the host"))
        j = jax_md(R, steps) if cuda or not args.no_jax_on_host else None
        jax_cols = f"{j:.4g} | {j / b:.3g}" if j is not None else "– | –"
        # a gradient takes 2 steps a step: the forward run and the sweep
        print(
            f"| {R} | {a:.4g} | {b:.4g} | {cpu:.4g} | {jax_cols.split(' | ')[0]} | {b / a:.3g} | "
            f"{jax_cols.split(' | ')[1]} | {launches / (2 * steps):.1f} | {max(0.0, 1 - kernel / wall):.0%} |"
        )


if __name__ == "__main__":
    main()
