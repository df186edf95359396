"""Timings of the colloidal-cluster workflow (PNAS 2021, Figs. 3-4) on this machine: one
18-iteration barrier and rate design (the paper: about 3 minutes on a P100 GPU; goal here:
under 60 s on two CPU cores), a cold and a warm DNEB of 100 images, and one Kramers rate with
its exact gradient. Run it on a quiet machine; it prints a table::

    python benchmarks/clusters.py                 # the short-range model (alpha 40)
    python benchmarks/clusters.py --model soft    # alpha 5, cut at 4 (the first timings)
"""

import argparse
import os
import time

import numpy as np

from hoomd_adjoint.apps.clusters import Cluster, paths, reproduce
from hoomd_adjoint.apps.clusters.model import DEFAULT_MODEL, MODELS
from hoomd_adjoint.apps.clusters.design import design
from hoomd_adjoint.transitions import kramers, stationary


def clock(fn, repeat=1):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default=DEFAULT_MODEL, help="Morse model (default: %(default)s)")
    args = ap.parse_args(argv)
    rows = []
    c = Cluster.model(args.model, np.full(21, 5.0))
    a, b = reproduce.reference_pair(c)
    t, p = clock(lambda: paths.connect(c, a, b), 3)
    rows.append(("DNEB R1 -> R2, 100 images, cold (+ saddle, adjacency check)", t, f"{p.band.steps} FIRE steps"))
    c.set_B(c.B * (1 + 0.01 * np.random.default_rng(0).normal(size=21)))
    a1, b1 = stationary(c, a, index=0), stationary(c, b, index=0)
    t, q = clock(lambda: paths.connect(c, a1, b1, band=p.band.images, check=False), 3)
    rows.append(("DNEB warm start after a 1 % change of B", t, f"{q.band.steps} FIRE steps"))
    t, r = clock(lambda: kramers(c, q.a, q.ts), 20)
    rows.append(("Kramers rate + exact gradient (21 B, implicit)", t, f"k = {r.k:.4g}"))
    k0 = np.array(reproduce.start_rates(args.model))  # rate targets: the start rates times factors
    rate_targets = [tuple(np.round(k0 * f, 4)) for f in ((0.1, 1.0), (10.0, 0.1), (1.0, 0.1))]
    for objective, targets in (
        ("barriers", [(3.0, 5.0), (8.0, 2.0), (2.0, 8.0)]),
        ("rates", rate_targets),
    ):
        for target in targets:
            c.set_B(np.full(21, 5.0))
            t, res = clock(lambda: design(c, a, b, target, objective=objective))
            err = f"max error {100 * res.errors.max():.3f} %"
            rows.append((f"design {objective} {tuple(map(float, target))}: 18 x 50 steps", t, err))
    load = os.getloadavg()[0]
    print(f"# model {args.model}; load average at the end: {load:.2f} (2 cores; above ~1.2 another process ran)")
    print(f"| {'what':<62} | {'seconds':>8} | {'note':<22} |")
    print(f"|{'-' * 64}|{'-' * 10}|{'-' * 24}|")
    for what, sec, note in rows:
        print(f"| {what:<62} | {sec:8.3f} | {note:<22} |")


if __name__ == "__main__":
    main()
