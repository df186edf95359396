"""Host work per step of a device run (issue 27: "no host work per step"), measured on any machine.

A device run's wall time is its kernels plus the host's part (copies, Python, launching, waiting).
With every kernel timed (``_core.gpu_profile_start``), the host's part of a call of n steps is
wall - kernels. Fitting it over two step counts splits it into a part per call (sending the
state, the lists' start, bringing results back: O(N) once a call) and a part per step. The part
per step must not grow with N: a step's launches are kept once and run for every step of a chunk
(the device's clock), and nothing of the state crosses to the host between the host's looks.

On the host backend (``--backend host``, no GPU needed) the "kernels" are the same ops run on the
CPU, so the host's part is exactly what a GPU run would pay besides its kernels; on a GPU
(``--backend cuda``) the same table is the real one (profiling waits for the device around each
launch, which adds a constant per launch).

    PYTHONPATH=. python benchmarks/host_work.py --backend host              # N = 1e3, 1e4, 1e5
    PYTHONPATH=. python benchmarks/host_work.py --backend cuda --sizes 10000 100000 1000000
"""

import argparse
import os
import time

import numpy as np

from hoomd_adjoint import _core

from gpu import make  # (the GPU benchmark's LJ liquid: rho = 0.8, r_cut = 2.5, Brownian)


def host_seconds(call):
    """(wall, kernels) seconds of call() with every kernel timed."""
    _core.gpu_profile_start()
    t = time.perf_counter()
    call()
    wall = time.perf_counter() - t
    kernels = sum(s for _, s in _core.gpu_profile_stop().values())
    return wall, kernels


def loss(frame):
    x = frame.positions
    return float(np.sum(x * x)), 2 * x


def main():
    import hoomd_adjoint as ha

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--backend", choices=["host", "cuda"], default="host", help="where the device code runs (default: host)"
    )
    ap.add_argument(
        "--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="particle counts (default: 1e3 1e4 1e5)"
    )
    ap.add_argument("--steps", type=int, nargs=2, default=[10, 60], help="the two step counts fitted (default: 10 60)")
    args = ap.parse_args()
    if args.steps[0] < 1 or args.steps[1] <= args.steps[0]:
        ap.exit(2, f"host_work.py: --steps: two counts, the second larger, got {args.steps}\n")
    device = ha.device._HostBackendGPU() if args.backend == "host" else ha.device.GPU()
    print(
        f"# {device.name} ({args.backend} backend); load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    print("# host = wall - kernels; fitted over the two step counts as a + b steps")
    print(
        f"{'N':>8} {'run':>9} {'host a (s)':>11} {'host b (ms/step)':>17} {'kernels (ms/step)':>18} {'host share/step':>16}"
    )
    n1, n2 = args.steps
    for N in args.sizes:
        for what in ("forward", "gradient"):
            host, kern = [], []
            for n in (n1, n2):
                sim, lj = make(device, N, warm=20)
                if what == "forward":
                    wall, k = host_seconds(lambda: sim.run(n))
                else:
                    wall, k = host_seconds(lambda: ha.adjoint.gradient(sim, n, loss, [lj]))
                host.append(wall - k)
                kern.append(k)
            b = (host[1] - host[0]) / (n2 - n1)
            a = host[0] - b * n1
            kb = (kern[1] - kern[0]) / (n2 - n1)
            share = b / (b + kb) if b + kb > 0 else float("nan")
            print(f"{N:>8} {what:>9} {a:>11.4f} {1e3 * b:>17.4f} {1e3 * kb:>18.3f} {share:>16.1%}", flush=True)


if __name__ == "__main__":
    main()
