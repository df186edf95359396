"""Cost of exact gradients through whole trajectories (hoomd_adjoint.adjoint.gradient).

Prints, as tables:
  1. time(gradient) / time(forward run): 3D LJ liquid (rho 0.8, r_cut 2.5, buffer 0.4,
     Brownian kT 1.2, dt 1e-4, lattice start), full storage and with a checkpoint budget;
  2. peak resident memory against the number of steps at a fixed checkpoint budget (each case
     in a fresh subprocess, so the peaks do not mix);
  3. the PNAS honeycomb case: N = 100, 2D, Rechtsman potential, 3300 Brownian steps, d/d(a0..a3)
     of the final mean potential energy per particle (rho 0.6, kT 0.2, gamma 1, dt 1e-3,
     r_cut 2.5 shifted, a = (5, 1, 1, 1.6), random start with minimum distance 0.9), reverse and
     forward mode; with JAX MD side by side when `jax_md` is importable;
  4. 3D LJ, N = 4000, 1000 steps (rho 0.8, FCC start, kT 0.2, gamma 1, dt 1e-3, r_cut 2.5),
     seconds and peak memory per gradient, each case in a fresh subprocess; the neighbour-list
     buffer is a tuning choice (0.4 is HOOMD's default; 0.5 is fastest here);
  5. 3D LJ at N = 10^5 with lattice-ordered and with scrambled tags (30 steps): forward and
     gradient per step.

    PYTHONPATH=. python benchmarks/adjoint.py [--quick] [--parts 1 2 3 4]
    PYTHONPATH=. python benchmarks/adjoint.py --parts 2 --mem-N 100000 --mem-steps 1000 4000 16000  # hours
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import cubic, random_packing


def lj_sim(N, density=0.8, kT=1.2, dt=1e-4, threads=None, frame=None, method="brownian"):
    """The part-1 system; method="langevin" runs Langevin at dt 2e-3 instead (rare list builds)."""
    sim = ha.Simulation(device=ha.device.CPU(threads), seed=3)
    sim.create_state_from_snapshot(frame if frame is not None else cubic(N, density, 3))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    if method == "langevin":
        m, dt = ha.md.methods.Langevin(filter=ha.filter.All(), kT=kT), 2e-3
    else:
        m = ha.md.methods.Brownian(filter=ha.filter.All(), kT=kT)
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[m], forces=[lj])
    return sim, lj


def fcc(N, density):
    n = int(round((N / 4) ** (1 / 3)))
    a = (4 / density) ** (1 / 3)
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    g = np.array([[i, j, k] for i in range(n) for j in range(n) for k in range(n)])
    pos = ((g[:, None, :] + base[None]) * a).reshape(-1, 3)
    L = n * a
    pos = pos - L / 2 + 0.01
    import gsd.hoomd

    f = gsd.hoomd.Frame()
    f.configuration.box = [L, L, L, 0, 0, 0]
    f.particles.N = len(pos)
    f.particles.types = ["A"]
    f.particles.typeid = np.zeros(len(pos), np.uint32)
    f.particles.position = pos
    return f


def energy_loss(force):
    return ha.loss.PotentialEnergy(force)


def part1(args):
    N, steps = (2000, 200) if args.quick else (10000, 1000)
    per = 72 if args.method == "langevin" else 24  # bytes a state takes per particle
    print(f"\n## 1. gradient / forward, 3D LJ, N = {N}, {steps} {args.method} steps")
    print(f"{'run':<36} {'seconds':>9} {'ratio':>7}")
    fwd = 1e9
    for _ in range(1 if args.quick else 2):  # best of two: the machine is shared
        sim, lj = lj_sim(N, method=args.method)
        sim.run(10)
        builds = lj.nlist.num_builds
        t = time.perf_counter()
        sim.run(steps)
        fwd = min(fwd, time.perf_counter() - t)
        builds = lj.nlist.num_builds - builds
    print(f"{'forward (sim.run)':<36} {fwd:>9.2f} {1.0:>7.2f}   ({builds} list builds)")
    for label, memory in (
        ("gradient, full storage", None),
        (f"checkpoints, budget {3 * steps // 4} states", 3 * steps // 4 * per * N),
        (f"checkpoints, budget {steps // 2} states", steps // 2 * per * N),
        ("checkpoints, budget 32 states", 32 * per * N),
    ):
        times = []
        for _ in range(1 if args.quick else 2):  # best of two, as the forward; the first call also
            sim, lj = lj_sim(N, method=args.method)  # pays the first touch of the state storage
            sim.run(10)
            t = time.perf_counter()
            res = ha.adjoint.gradient(sim, steps, loss=energy_loss(lj), wrt=[lj], memory=memory)
            times.append(time.perf_counter() - t)
        el = min(times)
        d = res.diagnostics
        print(
            f"{label:<36} {el:>9.2f} {el / fwd:>7.2f}   (recomputed {d['recomputed_steps']} steps, "
            f"peak {d['stored_states_peak']} states, {d['nlist_builds']} list builds; "
            f"first call {times[0] / fwd:.2f})"
        )


def _peak_rss():
    """Peak resident memory of this process in bytes (VmHWM: unlike ru_maxrss it is not
    inherited across exec from the parent that started us)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _memory_case(N, steps, budget_states):
    sim, lj = lj_sim(N)
    t = time.perf_counter()
    res = ha.adjoint.gradient(sim, steps, loss=energy_loss(lj), wrt=[lj], memory=budget_states * 24 * N)
    return dict(
        seconds=time.perf_counter() - t,
        rss=_peak_rss(),
        peak_states=res.diagnostics["stored_states_peak"],
        stored=res.diagnostics["stored_bytes_peak"],
        recomputed=res.diagnostics["recomputed_steps"],
    )


def part2(args):
    N = args.mem_N or (2000 if args.quick else 10000)
    steps_list = args.mem_steps or ((100, 400, 1600) if args.quick else (250, 1000, 4000))
    budget = 16
    print(f"\n## 2. peak memory vs steps, 3D LJ, N = {N}, budget {budget} states ({budget * 24 * N / 2**20:.1f} MiB)")
    print(
        f"{'steps':>7} {'peak RSS MiB':>13} {'stored MiB':>11} {'recomputed':>11} {'recompute/steps':>16} {'seconds':>8}"
    )
    for steps in steps_list:
        code = (
            f"import sys, json; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import adjoint as b; print(json.dumps(b._memory_case({N}, {steps}, {budget})))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{steps:>7} {r['rss'] / 2**20:>13.1f} {r['stored'] / 2**20:>11.1f} {r['recomputed']:>11} "
            f"{r['recomputed'] / steps:>16.2f} {r['seconds']:>8.0f}",
            flush=True,
        )


def honeycomb_sim(a=(5.0, 1.0, 1.0, 1.6)):
    frame = random_packing(100, 0.6, dimensions=2, min_dist=0.9, seed=0)
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(frame)
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    pot.params[("A", "A")] = dict(a0=a[0], a1=a[1], a2=a[2], a3=a[3])
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.2, default_gamma=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[bd], forces=[pot])
    return sim, pot, frame


A_PARAMS = ["a0", "a1", "a2", "a3"]  # the designed parameters (b0, b1, b2 stay fixed)


def part3(args):
    steps = 3300
    print(f"\n## 3. PNAS honeycomb: N = 100, 2D, {steps} Brownian steps, d/d(a0..a3) of the final energy per particle")
    print(f"{'engine':<34} {'s/gradient':>11} {'vs ours':>8}")
    rows = {}
    for mode in ("reverse", "forward"):
        best = 1e9
        for _ in range(1 if args.quick else 3):
            sim, pot, _ = honeycomb_sim()
            t = time.perf_counter()
            res = ha.adjoint.gradient(sim, steps, loss=ha.loss.PotentialEnergy(pot), wrt=[(pot, A_PARAMS)], mode=mode)
            best = min(best, time.perf_counter() - t)
        g = res.grad(pot)[("A", "A")]
        rows[mode] = best
        print(
            f"{'hoomd-adjoint ' + mode:<34} {best:>11.3f} {1.0:>8.2f}   d/da = "
            + ", ".join(f"{g[k]:+.5f}" for k in ("a0", "a1", "a2", "a3"))
        )
    try:
        import jax_md  # noqa: F401
    except ImportError:
        print("(jax_md not importable: JAX MD comparison skipped; reference: ~3.1 s reverse, ~1.9 s forward)")
        return
    for mode, t in _jax_md_honeycomb(steps).items():
        print(f"{'JAX MD dense all-pairs ' + mode:<34} {t:>11.3f} {t / rows[mode]:>8.1f}")
    # JAX MD's fastest configuration: its neighbour list (OrderedSparse), one replica not vmapped
    # (so the rebuild test stays a lax.cond), jax.checkpoint segments; the same system and start
    from _jax_ensemble import jax_md_batch

    _, _, frame = honeycomb_sim()
    L = float(frame.configuration.box[0])
    best = {}
    for every in (33, 100):
        r = jax_md_batch(
            np.asarray(frame.particles.position)[None, :, :2],
            L,
            steps=steps,
            params=(5.0, 1.0, 1.0, 1.6),
            checkpoint_every=every,
        )
        best[every] = r["seconds_per_replica"]
    every = min(best, key=best.get)
    print(
        f"{'JAX MD neighbour list reverse':<34} {best[every]:>11.3f} {best[every] / rows['reverse']:>8.1f}"
        f"   (checkpoint every {every} steps; best of " + ", ".join(f"{k}: {v:.3f} s" for k, v in best.items()) + ")"
    )


def _jax_md_honeycomb(steps):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax_md import simulate, space

    _, _, frame = honeycomb_sim()
    L = frame.configuration.box[0]
    R0 = jnp.array(frame.particles.position[:, :2]) + L / 2
    displacement, shift = space.periodic(L)

    def pair(dr, a0, a1, a2, a3):
        V = 5 / dr**12 - a0 / dr**10 + a1 * jnp.exp(-a2 * dr) - 0.4 * jnp.exp(-40 * (dr - a3) ** 2)
        return V

    def loss(a):
        def V(dr):
            rc = 2.5
            v = pair(dr, *a) - pair(rc, *a)
            return jnp.where(dr < rc, v, 0.0)

        def E(R):
            dR = space.map_product(displacement)(R, R)
            dr = space.distance(dR)
            dr = jnp.where(dr > 0, dr, 10.0)
            return 0.5 * jnp.sum(V(dr))

        init, apply = simulate.brownian(E, shift, 1e-3, 0.2, gamma=1.0)
        state = init(jax.random.PRNGKey(0), R0)
        state = jax.lax.fori_loop(0, steps, lambda i, s: apply(s), state)
        return E(state.position) / 100

    a = jnp.array([5.0, 1.0, 1.0, 1.6])
    out = {}
    for mode, fn in (("reverse", jax.jit(jax.grad(loss))), ("forward", jax.jit(jax.jacfwd(loss)))):
        fn(a).block_until_ready()  # compile
        t = time.perf_counter()
        fn(a).block_until_ready()
        out[mode] = time.perf_counter() - t
    return out


def _lj4000_case(steps, memory, buffer):
    frame = fcc(4000, 0.8)
    sim, lj = lj_sim(None, kT=0.2, dt=1e-3, frame=frame)
    lj.nlist.buffer = buffer
    t = time.perf_counter()
    res = ha.adjoint.gradient(sim, steps, loss=energy_loss(lj), wrt=[lj], memory=memory)
    el = time.perf_counter() - t
    d = res.diagnostics
    return dict(
        seconds=el,
        rss=_peak_rss(),
        stored=d["stored_bytes_peak"],
        lists=d["nlist_bytes"],
        recomputed=d["recomputed_steps"],
    )


def part4(args):
    steps = 200 if args.quick else 1000
    print(f"\n## 4. 3D LJ, N = 4000, {steps} steps (rho 0.8, FCC, kT 0.2, dt 1e-3, r_cut 2.5), one process per row")
    print(f"{'run':<34} {'seconds':>8} {'peak RSS MiB':>13} {'states MiB':>11} {'lists MiB':>10} {'recomputed':>11}")
    here = os.path.dirname(os.path.abspath(__file__))
    for label, memory, buffer in (
        ("full storage, buffer 0.4", None, 0.4),
        ("full storage, buffer 0.5", None, 0.5),
        ("budget 160 MiB, buffer 0.5", 160 * 2**20, 0.5),
        ("budget 64 MiB, buffer 0.5", 64 * 2**20, 0.5),
    ):
        code = (
            f"import sys, json; sys.path.insert(0, {here!r}); import adjoint as b; "
            f"print(json.dumps(b._lj4000_case({steps}, {memory}, {buffer})))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{label:<34} {r['seconds']:>8.2f} {r['rss'] / 2**20:>13.0f} {r['stored'] / 2**20:>11.1f} "
            f"{r['lists'] / 2**20:>10.1f} {r['recomputed']:>11}"
        )
    print(
        "(JAX MD's best configuration, benchmarks/lj4000_jaxmd.py --format OrderedSparse, measured on this "
        "machine kind: 61-66 s and 1.97 GiB per gradient; Dense: 112 s, 2.5 GiB)"
    )


def part5(args):
    """Large N with lattice-ordered and with scrambled tags (as after long diffusion): the force
    and adjoint pair passes run in the neighbour list's spatial order when tags are scattered."""
    N, steps = (40000, 10) if args.quick else (100000, 30)
    print(f"\n## 5. gradient / forward, 3D LJ, N = {N}, {steps} Brownian steps, tags in lattice or random order")
    print(f"{'tags':<12} {'forward ms/step':>16} {'gradient ms/step':>17} {'ratio':>7}")
    for label in ("lattice", "scrambled"):
        frame = cubic(N, 0.8, 3)
        if label == "scrambled":
            frame.particles.position = frame.particles.position[np.random.default_rng(7).permutation(N)]
        best = [1e9, 1e9]
        for _ in range(1 if args.quick else 2):
            for k in (0, 1):
                sim, lj = lj_sim(None, frame=frame)
                sim.run(5)
                t = time.perf_counter()
                if k == 0:
                    sim.run(steps)
                else:
                    ha.adjoint.gradient(sim, steps, loss=energy_loss(lj), wrt=[lj])
                best[k] = min(best[k], time.perf_counter() - t)
        print(f"{label:<12} {best[0] / steps * 1e3:>16.1f} {best[1] / steps * 1e3:>17.1f} {best[1] / best[0]:>7.2f}")


def main():
    ap = argparse.ArgumentParser(description="adjoint benchmarks")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    ap.add_argument("--parts", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument(
        "--method",
        choices=["brownian", "langevin"],
        default="brownian",
        help="part 1: Brownian (dt 1e-4, a list build every ~10 steps) or Langevin (dt 2e-3)",
    )
    ap.add_argument("--mem-N", type=int, help="part 2: number of particles (default 10000)")
    ap.add_argument("--mem-steps", type=int, nargs="+", help="part 2: numbers of steps (default 250 1000 4000)")
    args = ap.parse_args()
    print(f"# hoomd-adjoint {ha.__version__}, {ha.device.CPU().num_cpu_threads} threads")
    for p in args.parts:
        {1: part1, 2: part2, 3: part3, 4: part4, 5: part5}[p](args)


if __name__ == "__main__":
    main()
