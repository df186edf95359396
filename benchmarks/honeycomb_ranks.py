"""How one Fig. 2 design iteration scales over threads and MPI ranks.

One iteration of the half-time rates objective (``hoomd_adjoint.apps.assembly.honeycomb``,
``rate_loss="half_time"``, common seeds, truncated window 300): R replicas per lattice of N = 100,
t*_T = 400 and t*_H (default 4000) steps, both lattices' observing and gradient passes, from the
Rechtsman start. Cases: one process on 1, 2, ... threads, and ``mpirun -n k`` with one thread per
rank (the Ensemble shares the replicas over the ranks). Each case runs in its own process and
prints its wall time; the objective must be the same in every case (it is checked).

    PYTHONPATH=. python benchmarks/honeycomb_ranks.py               # R = 64, t*_H = 4000
    PYTHONPATH=. python benchmarks/honeycomb_ranks.py --R 16 --t-H 2000
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def case(R, t_H, threads):
    import numpy as np

    from hoomd_adjoint.apps.assembly import honeycomb as hc
    from hoomd_adjoint.communicator import Communicator

    comm = Communicator()
    out = tempfile.mkdtemp()
    try:
        d = hc.Design(
            out,
            k_T=1 / 400,
            k_H=1 / t_H,
            replicas=R,
            rate_loss="half_time",
            common_seeds=True,
            threads=threads,
            communicator=comm,
        )
        t0 = time.perf_counter()
        L, g, _, failures = d.evaluate(np.array(hc.RECHTSMAN), 0)
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if comm.partition == 0:
        print(json.dumps(dict(seconds=seconds, loss=L, grad=[float(x) for x in g], failures=len(failures))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--R", type=int, default=64, help="replicas per lattice (default: 64)")
    ap.add_argument("--t-H", type=int, default=4000, help="t*_H in steps (default: 4000)")
    ap.add_argument("--max", type=int, default=os.cpu_count(), help="most threads and ranks (default: all cores)")
    ap.add_argument("--case", nargs=3, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        return case(*args.case)
    load = os.getloadavg()[0]
    print(f"one half-time design iteration, R = {args.R} per lattice, t*_H = {args.t_H}, t*_T = 400 steps")
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores" + (" (loaded)" if load > 0.5 else ""))
    me = [os.path.abspath(__file__), "--case", str(args.R), str(args.t_H)]
    rows, k = [], 1
    while k <= args.max:
        rows.append((f"1 process, {k} thread{'s' * (k > 1)}", [sys.executable, *me, str(k)]))
        if k > 1:
            rows.append((f"mpirun -n {k}, 1 thread each", ["mpirun", "-n", str(k), sys.executable, *me, "1"]))
        k *= 2
    base, loss = None, None
    print(f"| {'case':<28} | {'s / iteration':>13} | {'speed-up':>8} |")
    print(f"|{'-' * 30}|{'-' * 15}|{'-' * 10}|")
    for label, cmd in rows:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            print(f"| {label:<28} | failed: {r.stderr.strip().splitlines()[-1:]} |")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        base = base or res["seconds"]
        if loss is not None and res["loss"] != loss:
            print(f"  (objective differs: {res['loss']!r} vs {loss!r})")
        loss = res["loss"]
        print(f"| {label:<28} | {res['seconds']:13.1f} | {base / res['seconds']:8.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
