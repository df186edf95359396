"""Threads on an idle and on a loaded machine: forward steps and gradients, 1 thread against the
default (all cores, adaptive) and against a fixed thread count.

Goals (issue 8): with every core busy with other processes, a run with the default threads is
never more than 1.2x slower than the same run on one thread, at any N; on an idle machine two
threads stay >= 1.8x faster than one at N >= 1e4.

The load is ``--load`` busy processes (default: one per core), started for the loaded half of
the table and stopped after it. Each case is timed ``--repeats`` times, interleaved, best kept
(for the loaded table the median, since the load is what is measured). Systems: the 2D honeycomb
system of the PNAS paper (N = 100) and a 3D LJ liquid (N = 1e3 .. 1e5), as in forward.py.

    PYTHONPATH=. python benchmarks/threads.py                 # both tables
    PYTHONPATH=. python benchmarks/threads.py --sizes 1000 10000 --no-loaded
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hoomd_adjoint as ha  # noqa: E402
import forward as fw  # noqa: E402

CONFIGS = [("1 thread", 1, False), ("2 fixed", 2, False), ("default", None, True)]


def build(system, n, threads, adaptive):
    run = fw.build_ours(system, n, threads or ha._core.max_threads(), 1)
    sim = run.__self__
    sim.state._cpp.adaptive_threads = adaptive
    return sim


def time_forward(sim, steps):
    t0 = time.perf_counter()
    sim.run(steps)
    return time.perf_counter() - t0


def time_gradient(sim, steps):
    pot = sim.operations.integrator.forces[0]
    t0 = time.perf_counter()
    ha.adjoint.gradient(sim, steps, ha.loss.PotentialEnergy(pot), [pot])
    return time.perf_counter() - t0


def cases(sizes, with_gradient):
    out = [("honeycomb", 100, "forward", 2000)]
    for n in sizes:
        out.append(("LJ", n, "forward", max(10, int(4e6 / n))))
    if with_gradient:
        out.append(("honeycomb", 100, "gradient", 1000))
        for n in sizes:
            if n <= 10000:
                out.append(("LJ", n, "gradient", max(10, int(1e6 / n))))
    return out


def table(case_list, repeats, loaded):
    rows = []
    for system, n, kind, steps in case_list:
        sims = {name: build(system, n, th, ad) for name, th, ad in CONFIGS}
        timer = time_forward if kind == "forward" else time_gradient
        times = {name: [] for name in sims}
        for name, sim in sims.items():  # warm-up: lists built, governor settled
            timer(sim, max(1, steps // 4))
        for _ in range(repeats):
            for name, sim in sims.items():
                times[name].append(timer(sim, steps))
        pick = statistics.median if loaded else min
        t = {name: pick(v) for name, v in times.items()}
        rows.append((system, n, kind, steps, t, sims["default"].state._cpp.thread_choice))
        print_row(rows[-1], flush=True)
    return rows


def print_header(title):
    print(f"\n{title}")
    print(
        f"{'system':10s} {'N':>7s} {'what':9s} {'steps':>6s} {'1 thread':>10s} {'2 fixed':>10s} {'default':>10s}"
        f" {'1/2fixed':>9s} {'1/default':>9s} {'default/1':>9s}  chosen"
    )


def print_row(row, flush=False):
    system, n, kind, steps, t, choice = row
    key = "step" if kind == "forward" else "adjoint"
    print(
        f"{system:10s} {n:7d} {kind:9s} {steps:6d} {t['1 thread']:10.4f} {t['2 fixed']:10.4f} {t['default']:10.4f}"
        f" {t['1 thread'] / t['2 fixed']:9.2f} {t['1 thread'] / t['default']:9.2f}"
        f" {t['default'] / t['1 thread']:9.2f}  {choice[key][0]} thr",
        flush=flush,
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 10000, 100000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--load", type=int, default=os.cpu_count(), help="busy processes for the loaded table")
    ap.add_argument("--no-loaded", action="store_true")
    ap.add_argument("--no-idle", action="store_true")
    ap.add_argument("--no-gradient", action="store_true")
    args = ap.parse_args(argv)
    print(
        f"cores: {os.cpu_count()}, default threads: {ha._core.max_threads()}, "
        f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT')}, load average before: {os.getloadavg()[0]:.2f}"
    )
    cl = cases(args.sizes, not args.no_gradient)
    if not args.no_idle:
        print_header("IDLE machine (best of repeats, seconds)")
        table(cl, args.repeats, loaded=False)
    if not args.no_loaded:
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
        try:
            time.sleep(0.5)
            print_header(f"LOADED machine: {args.load} busy processes (median of repeats, seconds)")
            table(cl, args.repeats, loaded=True)
        finally:
            for p in hogs:
                p.kill()


if __name__ == "__main__":
    main()
