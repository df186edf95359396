"""Reproduce the honeycomb/triangular results of the PNAS 2021 seed (Figs. 1 and 2) with hoomd-adjoint.

Fig. 1 analogue: from Rechtsman et al.'s potential the honeycomb does not form within 3300 steps;
an RMSProp optimisation of mean L_H(3300) (truncated gradients) speeds it up. Measured on 200
fresh replicas: L_H and L_T against time for both potentials, the potentials, and L_H against the
bulk honeycomb order along trajectories (L_H leads).

Fig. 2 analogue: k*_T fixed, five target ratios k*_H/k*_T spanning a factor 4; each design
(forward-mode and truncated gradients) measured on 200 fresh replicas against its target.

Every design saves its state after each iteration, so an interrupted run picks up where it
stopped (run the same command again). Outputs: PNG figures and ``honeycomb_table.md`` in --figures,
the designs' own directories in --work::

    python examples/reproduce_honeycomb.py                 # about 20 minutes on two cores
    python examples/reproduce_honeycomb.py --smoke         # seconds: the same code, tiny sizes
"""
import argparse
import json
import os
import time

import numpy as np

from hoomd_adjoint.assembly import honeycomb as hc


def design(path, iterations, **kw):
    """Run (or resume) one design; returns (Design, wall seconds of this call)."""
    d = hc.Design(path, resume=True, **kw)
    t0 = time.perf_counter()
    d.run(iterations, progress=True)
    wall = time.perf_counter() - t0
    return d, wall


def lead_figure(path, a, protocol, replicas, steps, every):
    """L_H (most honeycomb-like region) against the bulk order 1 - mean_i |psi_3,i|^4 along assembly
    trajectories: L_H falls first."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import hoomd_adjoint as ha

    LH = hc.order_loss("honeycomb")
    ens = ha.Ensemble(lambda i: hc.simulation(a, "honeycomb", hc.MEASURE_SEED + i, protocol), replicas=replicas)
    s, region = ens.observe(steps, every, LH)
    ens = ha.Ensemble(lambda i: hc.simulation(a, "honeycomb", hc.MEASURE_SEED + i, protocol), replicas=replicas)
    _, bulk = ens.observe(steps, every, lambda f: 1.0 - LH.order(f)[0].mean())
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    for k in range(min(replicas, 6)):
        ax.plot(s, region[k], color="tab:blue", alpha=0.25, lw=0.8)
        ax.plot(s, bulk[k], color="tab:green", alpha=0.25, lw=0.8)
    ax.plot(s, region.mean(0), color="tab:blue", lw=2, label="L_H (most honeycomb-like region)")
    ax.plot(s, bulk.mean(0), color="tab:green", lw=2, label="bulk: 1 - mean |psi_3|^4")
    ax.axhline(0.5, color="0.6", lw=0.8)
    ax.set(xlabel="steps", ylabel="order loss", ylim=(0, 1.02),
           title=f"L_H leads bulk order ({replicas} replicas; thin: single ones)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    t_region, t_bulk = hc.half_time(s, region.mean(0)), hc.half_time(s, bulk.mean(0))
    return t_region, t_bulk


def ratio_figure(path, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.4))
    for variant, marker, c in (("forward", "o", "tab:purple"), ("truncated", "s", "tab:orange")):
        r = [x for x in rows if x["variant"] == variant]
        ax.plot([x["target"] for x in r], [x["achieved"] for x in r], marker, color=c, ms=7,
                label=f"{variant} gradients")
    for x in rows:
        ax.plot([x["target"]] * 2, [x["target"], x["achieved"]], color="0.8", lw=0.8, zorder=0)
    t = [v for x in rows for v in (x["target"], x["achieved"], x["start"]) if np.isfinite(v) and v > 0]
    lo, hi = min(t) / 1.6, max(t) * 1.6
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="achieved = target")
    if np.isfinite(rows[0]["start"]):
        ax.axhline(rows[0]["start"], color="0.5", lw=0.8, ls=":", label="Rechtsman (start)")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel="target k*_H / k*_T",
           ylabel="measured k_H / k_T (200 fresh replicas)", title="Designing the rate ratio")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--figures", default="docs/figures", help="where PNGs and the table go")
    ap.add_argument("--work", default="runs/honeycomb", help="design directories (resumable)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for a quick check of the script")
    args = ap.parse_args()
    os.makedirs(args.figures, exist_ok=True)
    if args.smoke:
        P = hc.Protocol(N=36, melt_steps=200)
        sizes = dict(fig1_its=2, fig1_R=2, fig1_anneal=1, fig2_anneal=1, fig1_steps=60, check=4, fig2_its=1, fig2_R=2, lead_R=2, lead_steps=60,
                     t_T=30, t_H=[40, 60], truncate=20, every=10)
    else:
        P = hc.Protocol()
        sizes = dict(fig1_its=80, fig1_R=48, fig1_anneal=30, fig1_steps=3300, check=200, fig2_its=12, fig2_R=16,
                     fig2_anneal=6, lead_R=16, lead_steps=10000, t_T=400, t_H=[4000, 5500, 8000, 11000, 16000],
                     truncate=300, every=33)
    S = sizes
    t_all = time.perf_counter()
    table = ["| quantity | value |", "|---|---|"]

    # ---- Fig. 1: speed up honeycomb assembly -----------------------------------------------------------
    d1, wall1 = design(os.path.join(args.work, "fig1"), S["fig1_its"], objective="assemble",
                       steps=S["fig1_steps"], variant="truncated", truncate=S["truncate"], replicas=S["fig1_R"],
                       anneal=S["fig1_anneal"], protocol=P)
    summary1 = d1.report(replicas=S["check"], steps=S["fig1_steps"], every=S["every"], progress=True)
    os.replace(os.path.join(d1.out, "design.png"), os.path.join(args.figures, "honeycomb_fig1.png"))
    t_reg, t_bulk = lead_figure(os.path.join(args.figures, "honeycomb_lead.png"), d1.params, P, S["lead_R"],
                                S["lead_steps"], max(1, S["lead_steps"] // 100))
    it_wall = np.mean([h["wall"] for h in d1.history])
    for label in ("start", "designed"):
        r = summary1[label]
        table.append(f"| Fig. 1 {label}: a | {', '.join(f'{x:.3f}' for x in r['params'])} |")
        table.append(f"| Fig. 1 {label}: mean L_H({S['fig1_steps']}) over {S['check']} fresh replicas | "
                     f"{r['L_H_end']:.3f} |")
        table.append(f"| Fig. 1 {label}: t½ honeycomb, triangular (steps) | {r['t_H']:.0f}, {r['t_T']:.0f} |")
    table.append(f"| L_H vs bulk order, designed potential: t½ (steps) | region {t_reg:.0f}, bulk {t_bulk:.0f} |")
    table.append(f"| one Fig. 1 iteration ({S['fig1_R']} replicas, truncated, two cores) | {it_wall:.2f} s |")

    # ---- Fig. 2: control k_H / k_T ------------------------------------------------------------------------
    k_T = 1.0 / S["t_T"]
    rows, t_fig2 = [], time.perf_counter()
    long_runs = dict(steps=dict(honeycomb=int(1.6 * max(S["t_H"])), triangular=4 * S["t_T"]),
                     every=dict(honeycomb=max(1, max(S["t_H"]) // 25), triangular=max(1, S["t_T"] // 25)))
    m = hc.measure(hc.RECHTSMAN, replicas=S["check"], protocol=P, progress=True, **long_runs)
    start_ratio = m["k_H"] / m["k_T"] if m["k_T"] else float("nan")
    table.append(f"| Rechtsman: k_H/k_T ({S['check']} replicas) | {start_ratio:.4f} (t½ {m['t_H']:.0f} and "
                 f"{m['t_T']:.0f} steps) |")
    for variant in ("forward", "truncated"):
        for t_H in S["t_H"]:
            d, wall = design(os.path.join(args.work, f"fig2-{variant}-{t_H}"), S["fig2_its"], objective="rates", k_T=k_T, k_H=1.0 / t_H, variant=variant, truncate=S["truncate"],
                             replicas=S["fig2_R"], anneal=S["fig2_anneal"], protocol=P)
            m = hc.measure(d.params, replicas=S["check"], steps=dict(honeycomb=int(1.6 * t_H), triangular=4 * S["t_T"]),
                           every=dict(honeycomb=max(1, t_H // 25), triangular=max(1, S["t_T"] // 25)),
                           protocol=P, progress=True)
            achieved = m["k_H"] / m["k_T"] if m["k_T"] else float("nan")
            rows.append(dict(variant=variant, target=S["t_T"] / t_H, achieved=achieved, start=start_ratio,
                             params=d.params.tolist(), k_T=m["k_T"], k_H=m["k_H"],
                             wall_iteration=float(np.mean([h["wall"] for h in d.history]))))
            print(f"{variant} target {S['t_T'] / t_H:.4f} achieved {achieved:.4f}")
    t_fig2 = time.perf_counter() - t_fig2
    ratio_figure(os.path.join(args.figures, "honeycomb_fig2.png"), rows)
    table.append(f"| Fig. 2: k*_T | 1/{S['t_T']} per step (t*_T = {S['t_T']} steps) |")
    for r in rows:
        err = (r["achieved"] / r["target"] - 1) * 100
        table.append(f"| Fig. 2 {r['variant']}: target k_H/k_T {r['target']:.4f} | achieved {r['achieved']:.4f} "
                     f"({err:+.0f}%), t½_T = {1 / r['k_T'] if r['k_T'] else float('inf'):.0f} steps; iteration {r['wall_iteration']:.1f} s |")
    table.append(f"| whole Fig. 2 sweep (10 designs + measurements, two cores) | {t_fig2 / 60:.1f} min |")
    table.append(f"| whole script | {(time.perf_counter() - t_all) / 60:.1f} min |")
    with open(os.path.join(args.figures, "honeycomb_table.md"), "w") as f:
        f.write("\n".join(table) + "\n")
    with open(os.path.join(args.work, "fig2.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print("\n".join(table))


if __name__ == "__main__":
    main()
