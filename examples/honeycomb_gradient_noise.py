"""How noisy are exact gradients through long Brownian runs? The honeycomb design's dL_H/da.

For replicas of the honeycomb system (Rechtsman parameters, the default protocol), the exact
gradient of L_H after T steps (reverse mode; forward mode gives the same numbers) for T = 300,
1000, 3300, and the truncated gradient of L_H(3300) through its last 300 steps. Printed per
parameter: the replica mean, its standard error, and |mean| / sem, the signal-to-noise ratio
of a batch mean. Written as a Markdown table to --out (the committed table changes only when asked
to: ``--out docs/figures/honeycomb_gradient_noise.md``).

    python examples/honeycomb_gradient_noise.py --replicas 48
"""

import argparse
import os

import numpy as np

import hoomd_adjoint as ha
from hoomd_adjoint.apps.assembly import honeycomb as hc


def per_replica(R, steps, truncate=None):
    ens = ha.Ensemble(lambda i: hc.simulation(hc.RECHTSMAN, "honeycomb", hc.MEASURE_SEED + i), replicas=R)
    pot = lambda sim: sim.operations.integrator.forces[0]  # noqa: E731
    res = ens.gradient(
        steps,
        loss=lambda sim: hc.order_loss("honeycomb"),
        wrt=lambda sim: [(pot(sim), list(hc.NAMES))],
        truncate=truncate,
    )
    return np.array([[g[("A", "A")][n] for n in hc.NAMES] for g in res.grads(0) if g is not None])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=48)
    ap.add_argument(
        "--out",
        default="runs/honeycomb_gradient_noise.md",
        help="the table (docs/figures/honeycomb_gradient_noise.md updates the committed one)",
    )
    args = ap.parse_args()
    lines = [
        f"dL_H/da over {args.replicas} replicas (Rechtsman start, kT = {hc.Protocol().kT}): "
        "mean ± standard error, and |mean|/sem",
        "",
        "| gradient | " + " | ".join(hc.NAMES) + " | median |mean|/sem |",
        "|---|" + "---|" * 5,
    ]
    for label, steps, trunc in (
        ("exact, T = 300", 300, None),
        ("exact, T = 1000", 1000, None),
        ("exact, T = 3300", 3300, None),
        ("truncated 300 of T = 3300", 3300, 300),
    ):
        g = per_replica(args.replicas, steps, trunc)
        mean, sem = g.mean(0), g.std(0, ddof=1) / np.sqrt(len(g))
        snr = np.abs(mean) / sem
        lines.append(
            f"| {label} | "
            + " | ".join(f"{m:.3g} ± {s:.2g} ({r:.1f})" for m, s, r in zip(mean, sem, snr))
            + f" | {np.median(snr):.1f} |"
        )
        print(lines[-1], flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
