"""Forward-simulation throughput benchmark for hoomd_adjoint (and HOOMD-blue, if installed).

Measures particle-steps per second (N * steps / wall time) of plain Brownian dynamics with
1 and 2 CPU threads for two systems:

* ``LJ``: 3D Lennard-Jones liquid, rho = 0.8, epsilon = sigma = 1, r_cut = 2.5 (mode "shift"),
  cell neighbour list with buffer 0.4, Brownian kT = 1.2, gamma = 1, dt = 1e-4, started from a
  simple-cubic lattice filling a cubic box; N = 1e3, 1e4, 1e5 by default.
* ``honeycomb``: 2D system of N = 100 at density 0.6 with the Rechtsman honeycomb potential
  (a0=5.89, a1=17.9, a2=2.49, a3=1.823, b0/b1/b2 default), r_cut = 2.5, mode "shift",
  Brownian kT = 0.2, gamma = 1, dt = 1e-3, started from a square lattice.

Each simulation is warmed up for 200 steps, then timed over a step count chosen (from a short
calibration run) so that one measurement takes about ``--target`` seconds. The 1- and
2-thread simulations (and HOOMD-blue's, if ``import hoomd`` works) are built once and their timed
runs are interleaved ``--repeats`` times; the best of the repeats is reported, because the
machine is shared and noisy. With other processes busy on the cores, OpenMP's default spinning
barriers make multi-thread runs far slower than one thread; ``OMP_WAIT_POLICY=passive`` softens
this, but only an idle machine gives meaningful thread-scaling numbers.

If HOOMD-blue 4.x is importable the same systems are run there (the honeycomb one through
``hoomd.md.pair.Table``, since HOOMD has no Rechtsman potential) and the ratio ours/HOOMD is
printed. Reference numbers for HOOMD-blue 4.8.2 single-thread CPU on this kind of machine are
printed for the LJ system in any case.

Run (from the repository root, with the extension built)::

    PYTHONPATH=. python benchmarks/forward.py                 # full run (minutes at N = 1e5)
    PYTHONPATH=. python benchmarks/forward.py --quick --sizes 1000
    PYTHONPATH=. python benchmarks/forward.py --systems lj --threads 1 2 4
"""

import argparse
import math
import os
import sys
import time

import gsd.hoomd
import numpy as np

import hoomd_adjoint as ha

# HOOMD-blue 4.8.2, single-thread CPU, LJ system above: particle-steps/s by N.
HOOMD_REFERENCE = {1000: 6.3e5, 10000: 8.6e5, 100000: 7.5e5}

LJ_RHO = 0.8
LJ_RCUT = 2.5
BUFFER = 0.4

HC_N = 100
HC_RHO = 0.6
HC_RCUT = 2.5
HC_PARAMS = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)
HC_DEFAULTS = dict(b0=5.0, b1=0.4, b2=40.0)

WARMUP_STEPS = 200


# ----------------------------------------------------------------------------------------------
# Initial configurations
# ----------------------------------------------------------------------------------------------
SCRAMBLE = False  # --scramble: tags in random order over the lattice sites


def lj_frame(n):
    """Simple-cubic lattice (first n sites of a ceil(n^(1/3))^3 lattice) in a cubic box; with
    --scramble the tags are a random permutation of the sites (as after long diffusion, or for a
    state read from elsewhere): what spatial locality is worth."""
    L = (n / LJ_RHO) ** (1.0 / 3.0)
    m = math.ceil(round(n ** (1.0 / 3.0), 9))
    a = L / m
    idx = np.arange(m**3)[:n]
    ijk = np.stack([idx % m, (idx // m) % m, idx // (m * m)], axis=1)
    pos = (ijk + 0.5) * a - L / 2
    if SCRAMBLE:
        pos = pos[np.random.default_rng(12345).permutation(n)]
    return _frame(n, [L, L, L, 0, 0, 0], pos)


def honeycomb_frame(n=HC_N):
    """Square lattice (first n sites of a ceil(sqrt(n))^2 lattice) in a 2D box at density 0.6."""
    L = math.sqrt(n / HC_RHO)
    m = math.ceil(round(math.sqrt(n), 9))
    a = L / m
    idx = np.arange(m * m)[:n]
    pos = np.zeros((n, 3))
    pos[:, 0] = (idx % m + 0.5) * a - L / 2
    pos[:, 1] = (idx // m + 0.5) * a - L / 2
    return _frame(n, [L, L, 0, 0, 0, 0], pos)


def _frame(n, box, pos):
    frame = gsd.hoomd.Frame()
    frame.configuration.box = box
    if box[2] == 0:
        frame.configuration.dimensions = 2
    frame.particles.N = n
    frame.particles.types = ["A"]
    frame.particles.typeid = np.zeros(n, dtype=np.uint32)
    frame.particles.position = np.asarray(pos, dtype=np.float32)
    return frame


# ----------------------------------------------------------------------------------------------
# Simulation builders: return a callable run(steps)
# ----------------------------------------------------------------------------------------------
def rechtsman_V_F(r):
    p = dict(HC_DEFAULTS, **HC_PARAMS)
    V = (
        p["b0"] / r**12
        - p["a0"] / r**10
        + p["a1"] * np.exp(-p["a2"] * r)
        - p["b1"] * np.exp(-p["b2"] * (r - p["a3"]) ** 2)
    )
    F = (
        12 * p["b0"] / r**13
        - 10 * p["a0"] / r**11
        + p["a1"] * p["a2"] * np.exp(-p["a2"] * r)
        - 2 * p["b1"] * p["b2"] * (r - p["a3"]) * np.exp(-p["b2"] * (r - p["a3"]) ** 2)
    )
    return V, F


def build_ours(system, n, threads, seed):
    frame = lj_frame(n) if system == "LJ" else honeycomb_frame(n)
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=threads), seed=seed)
    sim.create_state_from_snapshot(frame)
    nlist = ha.md.nlist.Cell(buffer=BUFFER)
    if system == "LJ":
        pot = ha.md.pair.LJ(nlist=nlist, default_r_cut=LJ_RCUT, mode="shift")
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
        kT, dt = 1.2, 1e-4
    else:
        pot = ha.md.pair.Rechtsman(nlist=nlist, default_r_cut=HC_RCUT, mode="shift")
        pot.params[("A", "A")] = dict(HC_PARAMS)
        kT, dt = 0.2, 1e-3
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=kT, default_gamma=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[bd], forces=[pot])
    sim.run(WARMUP_STEPS)
    return sim.run


def build_hoomd(hoomd, system, n, threads, seed):
    frame = lj_frame(n) if system == "LJ" else honeycomb_frame(n)
    try:
        device = hoomd.device.CPU(num_cpu_threads=threads)
    except TypeError:
        device = hoomd.device.CPU()
    device.notice_level = 0
    sim = hoomd.Simulation(device=device, seed=seed)
    sim.create_state_from_snapshot(frame)
    nlist = hoomd.md.nlist.Cell(buffer=BUFFER)
    if system == "LJ":
        pot = hoomd.md.pair.LJ(nlist=nlist, default_r_cut=LJ_RCUT, mode="shift")
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
        kT, dt = 1.2, 1e-4
    else:
        # No Rechtsman potential in HOOMD: tabulate it (shifted so that V(r_cut) = 0).
        r_min, width = 0.5, 2000
        r = np.linspace(r_min, HC_RCUT, width, endpoint=False)
        V, F = rechtsman_V_F(r)
        V_cut, _ = rechtsman_V_F(np.array([HC_RCUT]))
        pot = hoomd.md.pair.Table(nlist=nlist, default_r_cut=HC_RCUT)
        pot.params[("A", "A")] = dict(r_min=r_min, U=V - V_cut[0], F=F)
        kT, dt = 0.2, 1e-3
    bd = hoomd.md.methods.Brownian(filter=hoomd.filter.All(), kT=kT)
    bd.gamma["A"] = 1.0
    sim.operations.integrator = hoomd.md.Integrator(dt=dt, methods=[bd], forces=[pot])
    sim.run(WARMUP_STEPS)
    return sim.run


def timed(run, steps):
    t0 = time.perf_counter()
    run(steps)
    return time.perf_counter() - t0


def choose_steps(run, n, target):
    """Steps so that one timed run takes ~target seconds (calibrated on `run`)."""
    steps = max(10, int(2e5 / n))
    while True:
        dt = timed(run, steps)
        if dt > 0.2 * target or dt > 0.5:
            break
        steps *= 4
    return max(10, int(round(steps * target / dt)))


# ----------------------------------------------------------------------------------------------
def fmt(x):
    return "-" if x is None else f"{x:.3g}"


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10000, 100000],
        help="LJ particle counts (default: 1000 10000 100000)",
    )
    ap.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="CPU thread counts to compare (default: 1 2)"
    )
    ap.add_argument("--systems", nargs="+", choices=["lj", "honeycomb"], default=["lj", "honeycomb"])
    ap.add_argument(
        "--target", type=float, default=None, help="seconds per timed measurement (default 3, or 0.5 with --quick)"
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="interleaved repeats per measurement, best taken (default 3, or 1 with --quick)",
    )
    ap.add_argument("--quick", action="store_true", help="short runs, for smoke testing")
    ap.add_argument("--no-hoomd", action="store_true", help="skip HOOMD-blue even if installed")
    ap.add_argument(
        "--scramble",
        action="store_true",
        help="LJ: tags in random order over the lattice (HOOMD-blue sorts its particles; we keep "
        "tag order and read large systems in the neighbour list's spatial order)",
    )
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    global SCRAMBLE
    SCRAMBLE = args.scramble
    target = args.target if args.target is not None else (0.5 if args.quick else 3.0)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)

    hoomd = None
    if not args.no_hoomd:
        try:
            import hoomd  # noqa: F811

            if int(hoomd.version.version.split(".")[0]) < 4:
                print(f"# HOOMD-blue {hoomd.version.version} found; need 4.x, skipping it")
                hoomd = None
        except ImportError:
            hoomd = None
    print(
        f"# hoomd_adjoint forward benchmark: target {target:g} s/measurement, best of "
        f"{repeats}; HOOMD-blue: {hoomd.version.version if hoomd else 'not available'}"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# {os.cpu_count()} CPUs, load average {load:.2f}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )
    if load > 0.5 and max(args.threads) > 1:
        print(
            "# note: other processes are using the CPUs; multi-thread numbers (OpenMP barriers "
            "with spinning waits) can be far below single-thread ones. Try "
            "OMP_WAIT_POLICY=passive or an idle machine."
        )

    cases = []
    if "lj" in args.systems:
        cases += [("LJ", n) for n in args.sizes]
    if "honeycomb" in args.systems:
        cases.append(("honeycomb", HC_N))

    rows = []  # (system, n, threads, ours, hoomd)
    for system, n in cases:
        runners = {}
        for k in args.threads:
            runners[("ours", k)] = build_ours(system, n, k, args.seed)
            if hoomd is not None:
                try:
                    runners[("hoomd", k)] = build_hoomd(hoomd, system, n, k, args.seed)
                except Exception as exc:  # e.g. Table API differences between 4.x versions
                    print(f"# HOOMD-blue {system} N={n} threads={k} failed: {exc!r}")
        steps = choose_steps(runners[("ours", args.threads[0])], n, target)
        best = {key: math.inf for key in runners}
        for _ in range(repeats):
            for key, run in runners.items():
                best[key] = min(best[key], timed(run, steps))
        for k in args.threads:
            ours = n * steps / best[("ours", k)]
            ref = n * steps / best[("hoomd", k)] if ("hoomd", k) in best else None
            rows.append((system, n, k, ours, ref))
        print(f"# {system} N={n}: {steps} timed steps", file=sys.stderr, flush=True)

    one = {(s, n): o for s, n, k, o, _ in rows if k == 1}
    head = (
        f"{'system':<10} {'N':>7} {'threads':>7} {'part-steps/s':>13} {'vs 1 thr':>8}"
        f" {'HOOMD p-s/s':>12} {'ours/HOOMD':>10}"
    )
    print(head)
    print("-" * len(head))
    for s, n, k, o, h in rows:
        base = one.get((s, n))
        print(
            f"{s:<10} {n:>7} {k:>7} {o:>13.3e} {fmt(o / base if base else None):>8}"
            f" {(f'{h:.3e}' if h else '-'):>12} {fmt(o / h if h else None):>10}"
        )

    ref_rows = [(n, one[("LJ", n)]) for n in args.sizes if ("LJ", n) in one]
    if ref_rows:
        print()
        print("Reference: HOOMD-blue 4.8.2, 1 CPU thread, same LJ system")
        print(f"{'N':>7} {'HOOMD 4.8.2':>12} {'ours (1 thr)':>13} {'ours/ref':>9}")
        for n, o in ref_rows:
            ref = HOOMD_REFERENCE.get(n)
            print(f"{n:>7} {(f'{ref:.2e}' if ref else '-'):>12} {o:>13.3e} {fmt(o / ref if ref else None):>9}")


if __name__ == "__main__":
    main()
