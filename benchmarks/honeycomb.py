"""One honeycomb design iteration: wall time per variant, and JAX MD's time for the same batch.

An iteration of the Fig. 1 design (``hoomd_adjoint.apps.assembly.honeycomb``): R replicas of
N = 100 particles at the honeycomb density 0.690, kT = 0.15, dt = 5e-4, 3300 steps, the replica-averaged
gradient of mean L_H(3300) with respect to a0..a3, on this machine's cores.
Rows: our truncated (300-step), reverse and forward variants, and, when ``jax_md`` is
importable, JAX MD's vmapped batch (``_jax_ensemble.py``: neighbour lists, checkpointed reverse
mode, float64) for the same replicas, steps and protocol. JAX MD's loss is the final energy
per particle: L_H has no JAX MD implementation, and on the order of 1 ms it is a small part of
a 3300-step gradient. Each case runs in its own process.

    PYTHONPATH=. python benchmarks/honeycomb.py              # R = 32 (~3 min with JAX MD)
    PYTHONPATH=. python benchmarks/honeycomb.py --R 8 --no-jax
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def case_ours(R, variant):
    import numpy as np
    from hoomd_adjoint.apps.assembly import honeycomb as hc
    import tempfile

    d = hc.Design(tempfile.mkdtemp(), objective="assemble", steps=3300, variant=variant, replicas=R)
    t0 = time.perf_counter()
    L, g, _, failures = d.evaluate(np.array(hc.RECHTSMAN), 0)
    return dict(seconds=time.perf_counter() - t0, loss=L, failures=failures)


def case_jax(R):
    import numpy as np

    sys.path.insert(0, HERE)
    from _jax_ensemble import jax_md_batch
    from hoomd_adjoint.apps.assembly import honeycomb as hc

    P = hc.Protocol()
    frames = []
    for i in range(R):  # the same melted starts as ours
        sim = hc.simulation(hc.RECHTSMAN, "honeycomb", i, P)
        frames.append(np.array(sim.state.get_snapshot().particles.position)[:, :2])
    L = sim.state.box.Lx
    frames = np.mod(np.array(frames) + L / 2, L)
    out = jax_md_batch(frames, L, steps=3300, kT=P.kT, gamma=P.gamma, dt=P.dt, params=hc.RECHTSMAN, r_cut=P.r_cut)
    return dict(seconds=out["seconds_total"], compile=out["compile_seconds"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--R", type=int, default=32)
    ap.add_argument("--no-jax", action="store_true")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        kind, *rest = args.case.split(":")
        print(json.dumps(case_jax(args.R) if kind == "jax" else case_ours(args.R, rest[0])))
        return
    cases = [
        ("ours truncated (300)", "ours:truncated"),
        ("ours reverse", "ours:reverse"),
        ("ours forward", "ours:forward"),
    ]
    if not args.no_jax:
        try:
            import jax_md  # noqa: F401

            cases.append(("JAX MD vmap, reverse (final energy)", "jax"))
        except ImportError:
            print("jax_md is not importable: JAX MD row skipped")
    load = os.getloadavg()[0]
    print(f"one design iteration: R = {args.R} replicas x 3300 steps, N = 100; load average before: {load:.2f}")
    print(f"{'case':40s} {'s / iteration':>14s} {'s / replica':>12s}")
    rows = {}
    for label, case in cases:
        r = subprocess.run(
            [sys.executable, __file__, "--R", str(args.R), "--case", case],
            capture_output=True,
            text=True,
            env=dict(os.environ, JAX_ENABLE_X64="1"),
        )
        if r.returncode:
            print(f"{label:40s} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        rows[case] = res["seconds"]
        extra = f"  (+ {res['compile']:.0f} s compile)" if "compile" in res else ""
        print(f"{label:40s} {res['seconds']:14.2f} {res['seconds'] / args.R:12.4f}{extra}")
    if "jax" in rows and "ours:reverse" in rows:
        print(
            f"JAX MD / ours reverse: {rows['jax'] / rows['ours:reverse']:.1f}x; "
            f"JAX MD / ours truncated: {rows['jax'] / rows['ours:truncated']:.1f}x"
        )


if __name__ == "__main__":
    main()
