"""The spider's gradient (colloidal reactions, Fig. 2): seconds and peak memory per batch gradient
of the octahedron system (10 replicas x 1000 steps of rigid-body Langevin, the eight parameters),
ours with every state stored and with a checkpoint budget, beside JAX MD as the authors ran it
(rigid-body nvt_langevin, jax.checkpoint every 10 steps, vmapped batch; benchmarks/spider_jaxmd.py)
when jax_md is importable. Each configuration runs in its own process, so peak RSS is its own.
Also the wall time of whole optimisations from their saved histories (``--runs DIR ...``).

    python benchmarks/spider.py [--replicas 10] [--steps 1000] [--ranks 2] [--runs runs/spider/oct-weak ...]

Run it on a quiet machine; it prints a table.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def ours(replicas, steps, memory, repeats):
    """Batch gradient (replicas shared by the MPI ranks, if several): (median s, peak RSS MiB summed
    over the ranks, stored bytes per replica, loss, grad)."""
    import numpy as np
    from hoomd_adjoint.communicator import Communicator
    from hoomd_adjoint.apps.spider import design, model

    comm = Communicator()
    p = model.Params.start("octahedron", "weak")
    times, out = [], None
    for rep in range(repeats):
        comm.barrier_all()
        t = time.perf_counter()
        evs = []
        for r in range(comm.partition, replicas, comm.num_partitions):
            cx = model.Complex("octahedron", p, seed=r)
            evs.append(design.evaluate(cx, steps=steps, memory=memory))
        evs = [e for part in comm.allgather(evs) for e in part]
        times.append(time.perf_counter() - t)
        out = evs
    rss = sum(comm.allgather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    return dict(
        seconds_per_gradient=float(np.median(times)),
        peak_rss_mib=rss,
        ranks=comm.num_partitions,
        stored_bytes=max(e.peak_bytes for e in out),
        loss=float(np.mean([e.loss for e in out])),
        grad=np.mean([e.grad for e in out], axis=0).tolist(),
        main=comm.partition == 0,
    )


def child(args):
    res = ours(args.replicas, args.steps, args.memory, args.repeats)
    if res.pop("main"):
        print(json.dumps(res))


def run_child(argv, ranks=1):
    import shutil

    launch = [shutil.which("mpirun") or "mpirun", "-n", str(ranks)] if ranks > 1 else []
    r = subprocess.run(
        launch + [sys.executable, os.path.abspath(__file__)] + argv, capture_output=True, text=True, env={**os.environ}
    )
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=10)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-jax", action="store_true", help="skip JAX MD")
    ap.add_argument("--ranks", type=int, default=os.cpu_count() or 1, help="MPI ranks for the all-cores row")
    ap.add_argument("--runs", nargs="*", default=[], help="optimisation directories: report their wall time")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    if args.child:
        return child(args)
    base = ["--child", "--replicas", str(args.replicas), "--steps", str(args.steps), "--repeats", str(args.repeats)]
    rows = {}
    full = run_child(base)
    rows["hoomd-adjoint, every state stored"] = full
    budget = full["stored_bytes"] // 10  # a tenth of the states: binomial checkpointing
    rows["hoomd-adjoint, checkpoints (1/10 of the states)"] = run_child(base + ["--memory", str(budget)])
    if args.ranks > 1:  # JAX MD's XLA uses every core: so may we (replicas across MPI ranks)
        rows[f"hoomd-adjoint, stored, {args.ranks} MPI ranks"] = run_child(base, ranks=args.ranks)
    jax = None
    if not args.no_jax:
        try:
            import jax_md  # noqa: F401

            out = os.path.join(os.path.dirname(args.json or "/tmp/x"), "spider_jaxmd.json")
            r = subprocess.run(
                [
                    sys.executable,
                    os.path.join(HERE, "spider_jaxmd.py"),
                    "--replicas",
                    str(args.replicas),
                    "--steps",
                    str(args.steps),
                    "--repeats",
                    str(max(2, args.repeats - 1)),
                    "--json",
                    out,
                ],
                capture_output=True,
                text=True,
                env={**os.environ, "JAX_PLATFORMS": "cpu"},
            )
            if r.returncode == 0:
                with open(out) as f:
                    jax = json.load(f)
                rows["JAX MD (authors' set-up: checkpoint every 10 steps)"] = jax
            else:
                print("JAX MD run failed:", r.stderr[-1500:], file=sys.stderr)
        except ImportError:
            pass
    print(
        f"\nOctahedron + spider, {args.replicas} replicas x {args.steps} steps, gradient of the 8 parameters "
        f"(loadavg at start {os.getloadavg()[0]:.2f})\n"
    )
    print(f"{'configuration':55s} {'s / gradient':>13s} {'peak RSS MiB':>13s} {'stored MiB':>11s} {'loss':>10s}")
    for name, r in rows.items():
        stored = r.get("stored_bytes")
        print(
            f"{name:55s} {r['seconds_per_gradient']:13.3f} {r['peak_rss_mib']:13.1f} "
            f"{'' if stored is None else f'{stored / 2**20:11.2f}'} {r['loss']:10.4f}"
        )
    if jax is not None:
        print(
            f"\nspeed-up over JAX MD (which uses every core): one core {jax['seconds_per_gradient'] / full['seconds_per_gradient']:.1f}x"
            + "".join(
                f", {r['ranks']} ranks {jax['seconds_per_gradient'] / r['seconds_per_gradient']:.1f}x"
                for r in rows.values()
                if r.get("ranks", 1) > 1
            )
            + f" (JAX compile {jax['compile_s']:.1f} s not included); peak RSS ratio "
            f"{full['peak_rss_mib'] / jax['peak_rss_mib']:.3f}"
        )
    runs = {}
    from hoomd_adjoint.apps.spider.figures import run_names

    names = run_names(args.runs)  # relative names: no machine's paths in the result file
    for d in args.runs:
        with open(os.path.join(d, "state.json")) as f:
            h = json.load(f)["history"]
        runs[names[d]] = r = dict(iterations=len(h), wall_s=sum(x["wall"] for x in h))
        print(
            f"optimisation {d}: {len(h)} iterations in {r['wall_s'] / 60:.1f} min "
            f"({r['wall_s'] / max(1, len(h)):.2f} s per iteration)"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, runs=runs, loadavg=os.getloadavg()), f, indent=1)


if __name__ == "__main__":
    main()
