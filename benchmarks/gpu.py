"""GPU vs CPU throughput of the embedded engine (needs a CUDA build and a GPU).

Prints particle-steps per second for the forward benchmark's 3D LJ liquid (rho = 0.8, r_cut 2.5,
buffer 0.4, Brownian kT = 1.2, dt = 1e-4, lattice start, 200 warm-up steps) on the CPU with all
cores and on the GPU, side by side.

    PYTHONPATH=. python benchmarks/gpu.py --sizes 10000 100000 1000000
"""
import argparse
import os
import time

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import cubic


def make(device, N):
    sim = ha.Simulation(device=device, seed=7)
    sim.create_state_from_snapshot(cubic(N, 0.8, 3))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.2)
    sim.operations.integrator = ha.md.Integrator(dt=1e-4, methods=[bd], forces=[lj])
    sim.run(200)
    return sim


def rate(sim, N, target=2.0):
    steps = 10
    while True:
        t = time.perf_counter()
        sim.run(steps)
        el = time.perf_counter() - t
        if el > target / 4:
            break
        steps *= 4
    steps = max(10, int(steps * target / el))
    t = time.perf_counter()
    sim.run(steps)
    return N * steps / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--target", type=float, default=2.0, help="seconds per measurement")
    args = ap.parse_args()
    cpu = ha.device.CPU()
    gpu = ha.device.GPU()
    print(f"# CPU: {cpu.num_cpu_threads} threads ({os.cpu_count()} cores); GPU: {gpu.name}")
    print(f"{'N':>9} {'CPU p-steps/s':>14} {'GPU p-steps/s':>14} {'GPU/CPU':>8}")
    for N in args.sizes:
        c = rate(make(cpu, N), N, args.target)
        g = rate(make(gpu, N), N, args.target)
        print(f"{N:>9} {c:>14.3e} {g:>14.3e} {g / c:>8.1f}")


if __name__ == "__main__":
    main()
