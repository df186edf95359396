"""GPU against CPU: forward throughput and the gradient's cost, in one run (issue 14's table).

System: the forward benchmark's 3D LJ liquid (rho = 0.8, epsilon = sigma = 1, r_cut = 2.5 in
mode "shift", cell list with buffer 0.4, Brownian kT = 1.2, gamma = 1, dt = 1e-4, simple-cubic
lattice start, 200 warm-up steps). For each N it prints

* forward particle-steps/s on the CPU (all cores) and on the GPU, and steps/s on the GPU; also
  on the GPU with its neighbour lists as rows instead of columns (``rows``);
* gradient / forward: the wall time of ``adjoint.gradient`` over ``--grad-steps`` steps (every
  state stored, d/d(epsilon, sigma), loss sum x^2 at the end) over that of ``sim.run`` of the same
  steps, on each device;
* the GPU gradient's largest relative difference from the CPU's (where both ran).

HOOMD-blue's own GPU speed for LJ is quoted for reference (hoomd-blue#2055: about 4.4e3 steps/s
at N = 64,000 on an A100, i.e. 2.8e8 particle-steps/s); issue 14's goal is a forward within 1.5x
of it on the same GPU. HOOMD-blue cannot be built on the lent machine within its time, so the
quote is of another GPU and another run: read the ratio as indicative.

    PYTHONPATH=. python benchmarks/gpu.py                          # N = 1e4, 6.4e4, 1e5, 1e6
    PYTHONPATH=. python benchmarks/gpu.py --backend host --sizes 1000 --grad-steps 20   # no GPU
"""

import argparse
import os
import time

import numpy as np

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import cubic

HOOMD_A100_64K_STEPS_PER_S = 4.4e3  # hoomd-blue#2055


def make(device, N, warm=200):
    sim = ha.Simulation(device=device, seed=7)
    sim.create_state_from_snapshot(cubic(N, 0.8, 3))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.2)
    sim.operations.integrator = ha.md.Integrator(dt=1e-4, methods=[bd], forces=[lj])
    sim.run(warm)
    return sim, lj


def rate(sim, N, target):
    """particle-steps/s over about `target` seconds"""
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


def loss(frame):
    x = frame.positions[:, 0]
    d = np.zeros_like(frame.positions)
    d[:, 0] = 2 * x
    return float(np.sum(x * x)), d


def gradient_cost(sim, lj, steps):
    """(gradient wall time / forward wall time, gradient values) over `steps` steps"""
    snap = sim.state.get_snapshot()
    t = time.perf_counter()
    sim.run(steps)
    fwd = time.perf_counter() - t
    sim.state.set_snapshot(snap)
    t = time.perf_counter()
    r = ha.adjoint.gradient(sim, steps, loss, [lj])
    grad = time.perf_counter() - t
    g = r.grad(lj)[("A", "A")]
    return grad / fwd, np.array([g["epsilon"], g["sigma"]])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 64000, 100000, 1000000])
    ap.add_argument("--target", type=float, default=2.0, help="seconds per forward measurement")
    ap.add_argument("--grad-steps", type=int, default=200)
    ap.add_argument("--cpu-max", type=int, default=100000, help="largest N also run on the CPU")
    ap.add_argument(
        "--profile",
        type=int,
        default=None,
        metavar="N",
        help="then time every kernel of a forward run and a gradient at this N (on the GPU)",
    )
    ap.add_argument(
        "--backend",
        choices=["cuda", "host"],
        default="cuda",
        help="host: the device code on the CPU (a check of this script without a GPU)",
    )
    args = ap.parse_args()
    cpu = ha.device.CPU()
    gpu = ha.device.GPU() if args.backend == "cuda" else ha.device._HostBackendGPU()
    print(f"# CPU: {cpu.num_cpu_threads} threads ({os.cpu_count()} cores); GPU: {gpu.name}")
    print(f"# load average at start: {os.getloadavg()[0]:.2f}")
    print(
        f"# HOOMD-blue (hoomd-blue#2055, A100): {HOOMD_A100_64K_STEPS_PER_S:.1e} steps/s at N = 64000 = "
        f"{HOOMD_A100_64K_STEPS_PER_S * 64000:.2e} particle-steps/s"
    )
    print(
        f"{'N':>9} {'CPU p-st/s':>11} {'GPU p-st/s':>11} {'rows':>10} {'GPU/CPU':>8} {'GPU st/s':>9} "
        f"{'CPU g/f':>8} {'GPU g/f':>8} {'GPU-CPU grad':>13}"
    )
    for N in args.sizes:
        on_cpu = N <= args.cpu_max
        c = cg = None
        if on_cpu:
            sim, lj = make(cpu, N)
            cr, cg = gradient_cost(sim, lj, args.grad_steps)  # (first: both from the same state)
            c = rate(sim, N, args.target)
        sim, lj = make(gpu, N)
        gr, gg = gradient_cost(sim, lj, args.grad_steps)
        g = rate(sim, N, args.target)
        sim, lj = make(gpu, N)  # the device lists as rows (the default is columns)
        lj.nlist._cpp.device_columns = False
        g_rows = rate(sim, N, args.target)
        diff = f"{np.max(np.abs(gg - cg) / np.abs(cg)):13.1e}" if on_cpu else f"{'-':>13}"
        print(
            f"{N:>9} {c or float('nan'):>11.3e} {g:>11.3e} {g_rows:>10.2e} {(g / c if c else float('nan')):>8.1f} {g / N:>9.1f} "
            f"{cr if on_cpu else float('nan'):>8.2f} {gr:>8.2f} {diff}",
            flush=True,
        )
    if args.profile:
        profile(gpu, args.profile, args.grad_steps)


def profile(gpu, N, steps):
    """Where a forward run and a gradient spend their time on the device, kernel by kernel (each
    launch waits for the device before and after, so the total is longer than unprofiled), with
    the device's neighbour lists in either layout."""
    for columns in (True, False):  # the device lists' two layouts (NeighborList.deviceColumns)
        layout = "columns" if columns else "rows"
        sim, lj = make(gpu, N)
        lj.nlist._cpp.device_columns = columns
        for what, run in (
            ("forward", lambda: sim.run(steps)),
            ("gradient", lambda: ha.adjoint.gradient(sim, steps, loss, [lj])),
        ):
            profile_one(f"{what}, lists as {layout}", N, steps, run)


def profile_one(title, N, steps, run):
    from hoomd_adjoint import _core

    _core.gpu_profile_start()
    t = time.perf_counter()
    run()
    wall = time.perf_counter() - t
    prof = _core.gpu_profile_stop()
    # (device work: kernels, copies within the device, fills; copies to and from the host are the host's)
    kernels = sum(s for k, (_, s) in prof.items() if k not in ("copies to the device", "copies to the host"))
    print(f"\n# {title}, N = {N}, {steps} steps, profiled: {wall:.3f} s, of which device work {kernels:.3f} s")
    print(f"{'kernel':>40} {'launches':>9} {'s':>8} {'share':>6} {'us/launch':>10}")
    for name, (calls, sec) in sorted(prof.items(), key=lambda kv: -kv[1][1]):
        print(f"{name:>40} {calls:>9} {sec:>8.3f} {sec / wall:>6.1%} {1e6 * sec / calls:>10.1f}")
    print(f"{'(host: transfers, Python, waiting)':>40} {'':>9} {wall - kernels:>8.3f} {(wall - kernels) / wall:>6.1%}")


if __name__ == "__main__":
    main()
