"""How one point of the Fig. 2 line search scales over threads and MPI ranks.

One point of ``hoomd_adjoint.apps.assembly.ratio_line.RatioLine`` at Rechtsman's potential (s = 0):
R replicas per lattice of N = 100 (default 96, as examples/reproduce_honeycomb.py), each lattice
observed until its mean loss has crossed 1/2 and run 10% beyond (about 450 triangular and 7700
honeycomb steps), with the bootstrap errors. A line search is a sequence of such points, so this
is the unit of the reproduction's Fig. 2 cost. Cases: one process on 1, 2, ... threads, and
``mpirun -n k`` with one thread per rank (the Ensemble shares the replicas over the ranks). Each
case runs in its own process and prints its wall time; the half-times must be the same in every
case (it is checked).

    PYTHONPATH=. python benchmarks/honeycomb_ranks.py               # R = 96
    PYTHONPATH=. python benchmarks/honeycomb_ranks.py --R 16
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def case(R, threads):
    from hoomd_adjoint.apps.assembly import honeycomb as hc
    from hoomd_adjoint.apps.assembly import ratio_line
    from hoomd_adjoint.communicator import Communicator

    comm = Communicator()
    out = tempfile.mkdtemp()
    try:
        line = ratio_line.RatioLine(
            out, hc.RECHTSMAN, [0.3, 2.4, -0.5, -0.05], replicas=R, threads=threads, communicator=comm
        )
        t0 = time.perf_counter()
        p = line.point(0.0)
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if comm.partition == 0:
        print(json.dumps(dict(seconds=seconds, loss=[p["t_H"], p["t_T"]], failures=len(p["failed"]))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--R", type=int, default=96, help="replicas per lattice (default: 96)")
    ap.add_argument("--max", type=int, default=os.cpu_count(), help="most threads and ranks (default: all cores)")
    ap.add_argument("--case", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        return case(*args.case)
    load = os.getloadavg()[0]
    print(f"one line-search point at Rechtsman's potential, R = {args.R} replicas per lattice")
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores" + (" (loaded)" if load > 0.5 else ""))
    me = [os.path.abspath(__file__), "--case", str(args.R)]
    rows, k = [], 1
    while k <= args.max:
        rows.append((f"1 process, {k} thread{'s' * (k > 1)}", [sys.executable, *me, str(k)]))
        if k > 1:
            rows.append((f"mpirun -n {k}, 1 thread each", ["mpirun", "-n", str(k), sys.executable, *me, "1"]))
        k *= 2
    base, loss = None, None
    print(f"| {'case':<28} | {'s / point':>13} | {'speed-up':>8} |")
    print(f"|{'-' * 30}|{'-' * 15}|{'-' * 10}|")
    for label, cmd in rows:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            print(f"| {label:<28} | failed: {r.stderr.strip().splitlines()[-1:]} |")
            continue
        res = json.loads(r.stdout.strip().splitlines()[-1])
        base = base or res["seconds"]
        if loss is not None and res["loss"] != loss:
            print(f"  (half-times differ: {res['loss']!r} vs {loss!r})")
        loss = res["loss"]
        print(f"| {label:<28} | {res['seconds']:13.1f} | {base / res['seconds']:8.2f} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
