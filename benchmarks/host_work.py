"""Host work per step of a device run (issue 27: "no host work per step"), measured on any machine.

A device run's wall time is its kernels plus the host's part (copies, Python, launching, waiting).
With every kernel timed (``_core.gpu_profile_start``), the host's part of a call of n steps is
wall - kernels. Fitting it over two step counts splits it into a part per call (sending the
state, the lists' start, bringing results back: O(N) once a call) and a part per step. The part
per step must not grow with N: a step's launches are kept once and run for every step of a chunk
(the device's clock), and nothing of the state crosses to the host between the host's looks.
The step counts are chosen so that both calls make the same number of host looks that are
O(N) each and not per step: a forward run's chunks double from 1 to 128 steps (127 and 255 steps:
7 and 8 chunks, the eighth of 128), and a gradient's sweep pauses at 20 diagnostic points
whatever its length (40 and 80 steps).

On the host backend (``--backend host``, no GPU needed) the "kernels" are the same ops run on the
CPU, so the host's part is what a GPU run would pay besides its kernels; on a GPU (``--backend
cuda``) the same table is the real one (profiling waits for the device around each launch, which
adds a constant per launch). On the host backend the kernels take ~1000x longer than on a GPU,
and their run-to-run noise (a few per cent of a step) is larger than the host's part: the
deterministic evidence is the count of transfers between host and device, which must be the
same for n1 and n2 steps (none per step).

    PYTHONPATH=. python benchmarks/host_work.py --backend host              # N = 1e3, 1e4, 1e5
    PYTHONPATH=. python benchmarks/host_work.py --backend cuda --sizes 10000 100000 1000000
"""

import argparse
import os
import time

import numpy as np

from hoomd_adjoint import _core

from gpu import make  # (the GPU benchmark's LJ liquid: rho = 0.8, r_cut = 2.5, Brownian)


TRANSFERS = ("copies to the device", "copies to the host")


def host_seconds(call):
    """(wall, device work, transfers between host and device) of call(), every kernel timed."""
    _core.gpu_profile_start()
    t = time.perf_counter()
    call()
    wall = time.perf_counter() - t
    prof = _core.gpu_profile_stop()
    device = sum(s for k, (_, s) in prof.items() if k not in TRANSFERS)
    return wall, device, sum(prof.get(k, (0, 0))[0] for k in TRANSFERS)


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
    ap.add_argument(
        "--forward-steps", type=int, nargs=2, default=[127, 255], help="a run's two step counts (default: 127 255)"
    )
    ap.add_argument(
        "--gradient-steps", type=int, nargs=2, default=[40, 80], help="a gradient's two step counts (default: 40 80)"
    )
    args = ap.parse_args()
    for name in ("forward_steps", "gradient_steps"):
        n = getattr(args, name)
        if n[0] < 1 or n[1] <= n[0]:
            ap.exit(2, f"host_work.py: --{name.replace('_', '-')}: two counts, the second larger, got {n}\n")
    device = ha.device._HostBackendGPU() if args.backend == "host" else ha.device.GPU()
    print(f"# {device.name}; load average at start {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("# host = wall - device work (kernels, copies within the device, fills); fitted as a + b steps;")
    print("# transfers: copies between host and device in the call of n1 and of n2 steps")
    print(
        f"{'N':>8} {'run':>9} {'n1, n2':>9} {'host a (s)':>11} {'host b (ms/step)':>17} {'device (ms/step)':>17} "
        f"{'host share/step':>16} {'transfers':>10}"
    )
    for N in args.sizes:
        for what in ("forward", "gradient"):
            n1, n2 = args.forward_steps if what == "forward" else args.gradient_steps
            host, kern, moves = [], [], []
            for n in (n1, n2):
                sim, lj = make(device, N, warm=20)
                if what == "forward":
                    wall, k, m = host_seconds(lambda: sim.run(n))
                else:
                    wall, k, m = host_seconds(lambda: ha.adjoint.gradient(sim, n, loss, [lj]))
                host.append(wall - k)
                kern.append(k)
                moves.append(m)
            b = (host[1] - host[0]) / (n2 - n1)
            a = host[0] - b * n1
            kb = (kern[1] - kern[0]) / (n2 - n1)
            share = b / (b + kb) if b + kb > 0 else float("nan")
            print(
                f"{N:>8} {what:>9} {f'{n1}, {n2}':>9} {a:>11.4f} {1e3 * b:>17.4f} {1e3 * kb:>17.3f} {share:>16.1%} "
                f"{f'{moves[0]}, {moves[1]}':>10}",
                flush=True,
            )


if __name__ == "__main__":
    main()
