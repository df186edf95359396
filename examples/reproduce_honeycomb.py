"""Reproduce the honeycomb/triangular results of the PNAS 2021 seed (Figs. 1 and 2) with hoomd-adjoint.

Fig. 1 analogue: from Rechtsman et al.'s potential the honeycomb does not form within 3300 steps;
an RMSProp optimisation of mean L_H(3300) speeds it up: truncated gradients, first through the
last 300 steps, then through the last 1000 (two stages of 48 replicas per iteration, then larger
batches with smaller steps: 96, then 192), each stage's end measured on 200 fresh replicas. Also
L_H and L_T against time for both potentials, the potentials, and L_H against the bulk honeycomb
order along trajectories (L_H leads).

Fig. 2 analogue: k*_T = 1/400 per step, five target ratios k*_H/k*_T from 0.025 to 0.1. The
designs come from a line search along a gradient direction
(:mod:`hoomd_adjoint.apps.assembly.ratio_line`): from Rechtsman's potential toward Fig. 1's design
(after stage 3) with the adjoint gradient of ln t1/2_T projected out; seven points of 96 fresh
replicas per lattice span the targets, a weighted quadratic through every point gives each
target's s, three rounds add a point at each solution (the last on 384 replicas per lattice), and
each design is measured on 200 fresh replicas and on 400 more (the ratio with its bootstrap
standard error, alone and pooled). The estimators are measured against each other on the slowest
target (0.025): gradient descent on the value form with common seeds (B), on
the half-time form with fresh (C) and common seeds (B+C), and Gauss-Newton on the latter
(B+C+GN), 10 iterations of 64 replicas each, beside the line search (D); C, the one gradient
descent that reaches that target, also designs the other four. Table rows say how fast
a parameter step decorrelates the same replicas (why common random numbers do not help at these
times). With ``--estimators``, also the gradient-descent designs of every target (forward-mode
and truncated value form as in the first sweep, Gauss-Newton): hours on two cores.

Every design and every line point is saved as it finishes, so an interrupted run picks up where
it stopped (run the same command again). Outputs: the designs' own directories in --work, PNG
figures and ``honeycomb_table.md`` in --figures (default: WORK/figures). The committed figures in
docs/figures change only when asked to (``--figures docs/figures``). A --smoke run works in
WORK/smoke, so it never resumes into, nor blocks, a full run::

    python examples/reproduce_honeycomb.py --figures docs/figures   # about 2.5 hours on two cores
    python examples/reproduce_honeycomb.py --part 2/3               # one slice of the jobs, no figures
    python examples/reproduce_honeycomb.py --smoke                  # under a minute: the same code, tiny sizes

The jobs (0: Fig. 1's curriculum, the start's Fig. 2 measurement and the line search with its
checks; then each gradient-descent design with its measurement: the comparison's four and C at
the other targets, or with --estimators the whole sweep) can be sliced
over processes or machines with ``--part K/N`` (the jobs i with i % N == K - 1); a last call
without it resumes everything and draws the figures. Under mpirun every job's replicas are shared
over the ranks.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from hoomd_adjoint.apps.assembly import honeycomb as hc
from hoomd_adjoint.apps.assembly import ratio_line
from hoomd_adjoint.sweep import _write_json_atomic


def design(path, iterations, **kw):
    """Run (or resume) one design; returns (Design, wall seconds of this call)."""
    d = hc.Design(path, resume=True, **kw)
    t0 = time.perf_counter()
    d.run(iterations, progress=True)
    wall = time.perf_counter() - t0
    return d, wall


def cached(path, expect):
    """A saved JSON result whose entries match ``expect``, or None (then it is recomputed)."""
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        if all(saved.get(k) == v for k, v in expect.items()):
            return _floats(saved)
    return None


def _floats(x):
    """A saved result's half-times never reached back to Python's convention: null t_H, t_T as
    inf and null k_H, k_T as 0 (files saved before null was the convention hold "inf")."""
    if isinstance(x, dict):
        never = dict(t_H=math.inf, t_T=math.inf, k_H=0.0, k_T=0.0)
        return {k: never[k] if v is None and k in never else _floats(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_floats(v) for v in x]
    return float(x) if x in ("inf", "-inf", "nan") else x


def _t(t):
    """A half-time in the tables: steps, or "not reached" (docs/honeycomb.md)."""
    return hc.NOT_REACHED if math.isinf(t) else f"{t:.0f} steps"


def save(path, obj):
    _write_json_atomic(path, hc._json_safe(obj))


def measured(path, a, replicas, protocol, window, curves=False, first_seed=hc.MEASURE_SEED):
    """hc.measure's half-times and rates on the replicas ``first_seed`` ... (and with ``curves`` its
    curves), saved beside the design so that a rerun does not repeat them."""
    a = [float(x) for x in a]
    key = dict(params=a, replicas=replicas, window=json.loads(json.dumps(window)))
    if first_seed != hc.MEASURE_SEED:  # (files saved before the option existed stay valid)
        key["first_seed"] = first_seed
    m = cached(path, key)
    if m is not None and curves and "honeycomb" not in m:  # saved without the curves asked for now
        m = None
    if m is None:
        full = hc.measure(a, replicas=replicas, protocol=protocol, progress=True, first_seed=first_seed, **window)
        keep = ("t_H", "t_T", "k_H", "k_T") + (
            ("steps", "steps_H", "steps_T", "honeycomb", "triangular") if curves else ()
        )
        m = dict(
            key,
            window=window,
            **{k: full[k].tolist() if isinstance(full[k], np.ndarray) else full[k] for k in keep},
        )
        save(path, m)
    return {
        k: np.array(v, dtype=float) if k in ("steps", "steps_H", "steps_T", "honeycomb", "triangular") else v
        for k, v in m.items()
    }


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
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    shown = min(replicas, 6)
    for k in range(shown):  # a few single replicas, one legend entry per quantity
        ax.plot(s, region[k], color="tab:blue", alpha=0.25, lw=0.7, label=f"L_H, single replicas ({shown} shown)")
        ax.plot(s, bulk[k], color="tab:green", alpha=0.25, lw=0.7, label=f"bulk, single replicas ({shown} shown)")
    for y, color, label in (
        (region, "tab:blue", "L_H (most honeycomb-like region)"),
        (bulk, "tab:green", "bulk: 1 - mean |psi_3|^4"),
    ):
        mean, se = np.nanmean(y, 0), np.nanstd(y, 0) / np.sqrt(np.sum(~np.isnan(y), 0))
        ax.fill_between(s, mean - se, mean + se, color=color, alpha=0.3, lw=0)
        ax.plot(s, mean, color=color, lw=2, label=f"{label}: mean ± SE of {replicas}")
    ax.axhline(0.5, color="0.6", lw=0.8, gid="reference")
    ax.set(
        xlabel=f"time (Brownian steps of dt = {protocol.dt:g} tau)",
        ylabel="order loss (1: no honeycomb, 0: perfect)",
        ylim=(0, 1.02),
        title=f"2D honeycomb assembly (N = {protocol.N}), designed potential:\n"
        "L_H leads the bulk order (grey line: ½, the half-time criterion)",
    )
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(
        unique.values(), unique.keys(), fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.15), ncol=2
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")  # legends sit below the axes
    plt.close(fig)
    t_region, t_bulk = hc.half_time(s, region.mean(0)), hc.half_time(s, bulk.mean(0))
    return t_region, t_bulk


def ratio_figure(path, rows, N, replicas):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 5.6))
    for variant, marker, c in (
        ("line", "o", "tab:blue"),
        ("half-time-fresh", "^", "tab:red"),
        ("forward", "o", "tab:purple"),
        ("truncated", "s", "tab:orange"),
        ("gauss_newton", "D", "k"),
    ):
        r = [x for x in rows if x["variant"] == variant and x["below"] is None and x["achieved"] > 0]
        if r:
            ax.errorbar(
                [x["target"] for x in r],
                [x["achieved"] for x in r],
                yerr=[x["se"] for x in r],
                fmt=marker,
                color=c,
                ms=6,
                capsize=3,
                label=VARIANT_LABEL[variant]
                + (f"; checked on {replicas}" if variant == "line" else f"; on the comparison's {replicas}"),
            )
        r = [x for x in rows if x["variant"] == variant and x["below"] is not None]
        if r:
            ax.plot(
                [x["target"] for x in r],
                [x["below"] for x in r],
                "v",
                color=c,
                ms=8,
                mfc="none",
                label=f"{VARIANT_LABEL[variant].split('.')[0]}: upper bound (t½_H not reached in the window)",
            )
    # the same designs on more fresh replicas, drawn a little to the right of their targets
    for variant, key, marker, c, what in (
        ("line", "pooled", "o", "tab:blue", "D. the same designs on {n} fresh replicas (these {R} and more)"),
        ("half-time-fresh", "other", "^", "tab:red", "C. the same designs on D's {n}"),
    ):
        r = [x for x in rows if x["variant"] == variant and x.get(key)]
        if r:
            ax.errorbar(
                [x["target"] * 1.04 for x in r],
                [x[key] for x in r],
                yerr=[x[f"{key}_se"] for x in r],
                fmt=marker,
                mfc="none",
                color=c,
                ms=6,
                capsize=3,
                label=what.format(n=r[0][f"{key}_replicas"], R=replicas),
            )
    for x in rows:
        if not x["k_T"]:  # no half-time of either lattice: no marker, and no bound
            letter = VARIANT_LABEL[x["variant"]].split(".")[0]
            ax.text(
                x["target"],
                0.02,
                f"{letter}: no\nhalf-time",
                fontsize=6,
                ha="center",
                transform=ax.get_xaxis_transform(),
            )
            continue
        ax.plot(
            [x["target"]] * 2,
            [x["target"], x["below"] or x["achieved"]],
            color="0.8",
            lw=0.8,
            zorder=0,
            gid="reference",
        )  # target to achieved (the title says so)
    t = [v for x in rows for v in (x["target"], x["achieved"], x["start"], x["below"] or 0) if np.isfinite(v) and v > 0]
    lo, hi = min(t) / 1.6, max(t) * 1.6
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="achieved = target")
    ax.fill_between(
        [lo, hi], [0.9 * lo, 0.9 * hi], [1.1 * lo, 1.1 * hi], color="tab:green", alpha=0.12, lw=0, label="target ± 10%"
    )
    if np.isfinite(rows[0]["start"]):
        ax.axhline(rows[0]["start"], color="0.5", lw=0.8, ls=":", label="Rechtsman (start)")
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ticks = sorted({round(x["target"], 4) for x in rows})
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # ticks at the targets, no crowded minor labels
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_minor_locator(NullLocator())
        axis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{t:.3g}" for t in ticks], rotation=45)
    ax.set_yticklabels([f"{t:.3g}" for t in ticks])
    ax.set(
        xlim=(lo, hi),
        ylim=(lo, hi),
        xlabel="target k*_H / k*_T",
        ylabel="measured k_H / k_T (fresh replicas)",
        title=f"Fig. 2 analogue: honeycomb vs triangular\nassembly rates in 2D (N = {N}); grey: target to achieved;\n"
        "error bars: bootstrap SE over the replicas",
    )
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.2), ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")  # legends sit below the axes
    plt.close(fig)


def _sizes(smoke):
    """(protocol, sizes) of the full run or of a --smoke run."""
    if smoke:
        P = hc.Protocol(melt_steps=200)  # (N = 100: smaller systems hardly form a honeycomb)
        sizes = dict(
            fig1_stages=[(20, 2, 0.01, 1, 2), (40, 1, 0.005, 1, 2), (40, 1, 0.005, 1, 3)],
            fig1_R=2,
            fig1_steps=60,
            check=4,
            check_more=2,
            fig2=dict(forward=(1, 1, 20), truncated=(1, 1, 20)),
            fig2_R=2,
            fig2_gn=dict(iterations=2, replicas=3, truncate=20, half_time=dict(width=0.5)),
            compare=dict(iterations=2, replicas=3, anneal=1, half_time=dict(width=0.5)),
            decorrelation=dict(replicas=2, steps=200, every=100, eps=[1e-9, 1e-3]),
            line=dict(
                replicas=6,
                direction_replicas=4,
                toward_stage=3,
                s=[-0.2, 0.0, 0.2],
                rounds=1,
                last_round_replicas=6,
                degree=1,
                every=dict(honeycomb=100, triangular=10),
                max_steps=dict(honeycomb=12000, triangular=1600),
            ),
            lead_R=2,
            lead_steps=60,
            t_T=400,  # rates the line's few points can bracket (the designs run only 1-2 iterations)
            t_H=[2000, 4000],
            truncate=20,
            every=10,
        )
    else:
        P = hc.Protocol()
        sizes = dict(
            # (window, iterations, lr, halved every, replicas): the first three as designed on
            # 2026-12-05; then larger batches with smaller steps while the measured L_H(3300) improves
            fig1_stages=[
                (300, 80, 0.01, 30, 48),
                (1000, 30, 0.005, 15, 48),
                (1000, 30, 0.005, 15, 48),
                (1000, 40, 0.0025, 20, 96),
                (1000, 40, 0.00125, 20, 192),
            ],
            fig1_R=48,
            fig1_steps=3300,
            check=200,
            check_more=400,  # the line's designs: 400 more fresh replicas, pooled with the 200
            fig2_R=16,
            fig2=dict(forward=(12, 6, 300), truncated=(30, 15, 1000)),  # iterations, anneal, window
            # the half-time objective on common seeds, trust-region Gauss-Newton (stops within 2%)
            fig2_gn=dict(iterations=10, replicas=64, truncate=300, half_time=None),
            # the estimators measured against each other on the slowest target (docs/honeycomb.md)
            compare=dict(iterations=10, replicas=64, anneal=5, half_time=None),
            # the line search (hoomd_adjoint.apps.assembly.ratio_line): from Rechtsman's potential
            # toward Fig. 1's design after stage 3, ln t1/2_T's adjoint gradient (128 replicas)
            # projected out; 7 points spanning the targets, then 3 rounds of one point at each
            # target's solution; 96 replicas per lattice per point (the last round's: 384, so the
            # fit is tightest at the designs); a quadratic fit
            # the same replicas at a and a (1 + eps): how soon a step decorrelates them
            decorrelation=dict(replicas=16, steps=6000, every=1000, eps=[1e-9, 1e-6, 1e-3]),
            line=dict(
                replicas=96,
                direction_replicas=128,
                toward_stage=3,
                s=[-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75],
                rounds=3,
                last_round_replicas=384,
                degree=2,
                every=dict(honeycomb=100, triangular=16),
                max_steps=dict(honeycomb=48000, triangular=3200),
            ),
            lead_R=16,
            lead_steps=10000,
            t_T=400,
            t_H=[4000, 5500, 8000, 11000, 16000],
            truncate=300,
            every=33,
        )
    return P, sizes


def fig1(work, figures, P, S, table):
    """Fig. 1: the design curriculum, each stage's end measured on fresh replicas, the figures;
    rows of the table are appended to ``table``."""
    # ---- Fig. 1: speed up honeycomb assembly -----------------------------------------------------------
    # A curriculum of truncation windows: 300 steps first (low variance), then 1000 (less bias),
    # then larger batches with smaller steps; each stage starts where the previous one ended.
    start, history, stage_rows, progress, stages = hc.RECHTSMAN, [], [], [], []
    window = dict(steps=S["fig1_steps"], every=S["every"])
    ms = measured(os.path.join(work, "fig1-start.json"), hc.RECHTSMAN, S["check"], P, window, curves=True)
    progress.append((0, _end(ms)))
    for k, (truncate, its, lr, anneal, R) in enumerate(S["fig1_stages"]):
        d1, _ = design(
            os.path.join(work, "fig1" if k == 0 else f"fig1-stage{k + 1}"),
            its,
            objective="assemble",
            steps=S["fig1_steps"],
            variant="truncated",
            truncate=truncate,
            replicas=R,
            lr=lr,
            anneal=anneal,
            start=start,
            protocol=P,
        )
        history += [dict(h, iteration=len(history) + i) for i, h in enumerate(d1.history)]
        start = d1.params
        stages.append(start)
        name = "fig1-final.json" if k == len(S["fig1_stages"]) - 1 else f"fig1-stage{k + 1}.json"
        mf = measured(os.path.join(work, name), start, S["check"], P, window, curves=True)
        progress.append((len(history), _end(mf)))
        (L0, e0), (L1, e1) = progress[-2][1], progress[-1][1]
        stage_rows.append(
            f"| Fig. 1 stage {k + 1}: window {truncate} steps, {its} iterations of {R} replicas, lr {lr}, halved "
            f"every {anneal} | {np.mean([h['wall'] for h in d1.history]):.2f} s per iteration; then mean L_H"
            f"({S['fig1_steps']}) {L1:.3f} ± {e1:.3f} ({S['check']} fresh replicas; change {L1 - L0:+.3f} ± "
            f"{math.hypot(e0, e1):.3f}) |"
        )
    both = [("Rechtsman", np.array(hc.RECHTSMAN), ms), ("designed", start, mf)]
    hc.plot(
        os.path.join(figures, "honeycomb_fig1.png"),
        history,
        both,
        P,
        title=f"minimise mean L_H({S['fig1_steps']}): truncated gradients (windows "
        f"{', '.join(str(x[0]) for x in S['fig1_stages'])}), "
        f"{'/'.join(str(x[4]) for x in S['fig1_stages'])} replicas per iteration",
    )
    progress_figure(os.path.join(figures, "honeycomb_fig1_progress.png"), history, progress, S, P)
    hc.write_curves(os.path.join(work, "fig1-curves.csv"), both)
    t_reg, t_bulk = lead_figure(
        os.path.join(figures, "honeycomb_lead.png"),
        start,
        P,
        S["lead_R"],
        S["lead_steps"],
        max(1, S["lead_steps"] // 100),
    )
    for label, a, m in both:
        L_end, sem = _end(m)
        table.append(f"| Fig. 1 {label}: a | {', '.join(f'{x:.3f}' for x in a)} |")
        table.append(
            f"| Fig. 1 {label}: mean L_H({S['fig1_steps']}) over {S['check']} fresh replicas | "
            f"{L_end:.3f} ± {sem:.3f} |"
        )
        table.append(f"| Fig. 1 {label}: t½ triangular | {_t(m['t_T'])} |")
    table += stage_rows
    table.append(
        f"| L_H vs bulk order, designed potential: t½ ({S['lead_R']} replicas) | "
        f"region {_t(t_reg)}, bulk {_t(t_bulk)} |"
    )
    return stages


def _end(m):
    """Mean L_H at the end of a measurement's runs and its standard error over the replicas."""
    v = m["honeycomb"][:, -1]
    v = v[~np.isnan(v)]
    return float(v.mean()), float(v.std() / np.sqrt(v.size))


def progress_figure(path, history, progress, S, P):
    """Fig. 1's design, stage by stage: each iteration's batch objective (band: its standard error
    over the batch) and each stage's end measured on fresh replicas (error bars: standard errors)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.4))
    it = np.array([h["iteration"] for h in history])
    L = np.array([h["loss"] for h in history])
    se = np.array([h.get("sem_L_H") or np.nan for h in history], dtype=float)
    ax.fill_between(it, L - se, L + se, color="tab:blue", alpha=0.25, lw=0)
    ax.plot(it, L, color="tab:blue", lw=0.8, label="batch objective: mean L_H(3300) of the iteration's replicas (± SE)")
    x, y = [p[0] for p in progress], [p[1] for p in progress]
    ax.errorbar(
        x,
        [v[0] for v in y],
        yerr=[v[1] for v in y],
        fmt="o-",
        color="k",
        capsize=3,
        label=f"measured on {S['check']} fresh replicas (± SE) at the start and each stage's end",
    )
    edges = np.cumsum([0] + [st[1] for st in S["fig1_stages"]])
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        ax.axvline(hi, color="0.8", lw=0.8, gid="reference")
        st = S["fig1_stages"][k]
        ax.text(
            (lo + hi) / 2,
            0.995,
            f"{k + 1}: w{st[0]}\nR{st[4]}",
            ha="center",
            va="top",
            fontsize=7,
            transform=ax.get_xaxis_transform(),
        )
    ax.set(
        xlabel="design iteration (stages: window w steps, R replicas per iteration)",
        ylabel=f"mean L_H({S['fig1_steps']}) (dimensionless)",
        title=f"Fig. 1 design, stage by stage (N = {P.N}, kT = {P.kT})",
    )
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.15))
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


# The estimators measured against each other on the slowest target (docs/honeycomb.md), with
# Gauss-Newton on the half-time form and common seeds ("gauss_newton") and the line search.
COMPARE = {
    "value-common": dict(rate_loss="value", common_seeds=True, truncate=1000),
    "half-time-fresh": dict(rate_loss="half_time", common_seeds=False, truncate=300),
    "half-time-common": dict(rate_loss="half_time", common_seeds=True, truncate=300),
}
VARIANT_LABEL = {
    "line": "D. line search along a gradient direction, 96-384 fresh replicas per point",
    "forward": "A'. value form, forward mode, 16 fresh replicas",
    "truncated": "A. value form, truncated (1000), 16 fresh replicas",
    "value-common": "B. value form, truncated (1000), 64 common replicas",
    "half-time-fresh": "C. half-time, RMSProp, 64 fresh replicas",
    "half-time-common": "B+C. half-time, RMSProp, 64 common replicas",
    "gauss_newton": "B+C+GN. half-time, Gauss-Newton, 64 common replicas",
}


def fig2(work, figures, P, S, table, toward, estimators=False, mine=lambda job: True):
    """Fig. 2: the line search's designs (toward Fig. 1's design ``toward``), the estimator
    comparison on the slowest target and, with ``estimators``, one gradient-descent design per
    target ratio and variant, each measured on fresh replicas; rows of the table are
    appended to ``table``. Returns the designs' rows. ``mine(job)`` says which jobs (0: the start's
    measurement and the line search, then the designs in order) this call runs; unless it runs them
    all, it stops there (no figure, no rows: a later call without --part makes them)."""
    # ---- Fig. 2: control k_H / k_T ------------------------------------------------------------------------
    rows, t_fig2 = [], time.perf_counter()
    long_runs = dict(
        steps=dict(honeycomb=int(1.6 * max(S["t_H"])), triangular=4 * S["t_T"]),
        every=dict(honeycomb=max(1, max(S["t_H"]) // 25), triangular=max(1, S["t_T"] // 25)),
    )
    slowest = max(S["t_H"])  # the estimators measured against each other on the slowest target
    # ... and the one gradient-descent estimator that reached it (C) on the other targets too
    others = [("half-time-fresh", t_H) for t_H in S["t_H"] if t_H != slowest]
    jobs = [(v, slowest) for v in (*COMPARE, "gauss_newton")] + others
    if estimators:
        jobs = [(v, t_H) for v in (*S["fig2"], "gauss_newton") for t_H in S["t_H"]]
        jobs += [(v, slowest) for v in COMPARE] + others
    whole = all(mine(j) for j in range(len(jobs) + 1))
    if mine(0):
        m = measured(os.path.join(work, "rechtsman-measure.json"), hc.RECHTSMAN, S["check"], P, long_runs)
        start_ratio = m["k_H"] / m["k_T"] if m["k_T"] else float("nan")
        crn = decorrelation(work, P, S)
        line, solutions = line_design(work, P, S, toward)
        checked, line_compared = line_rows(work, P, S, line, solutions, start_ratio)
        rows += checked
    if not whole:  # a slice: its designs and their measurements only
        for j, (variant, t_H) in enumerate(jobs, start=1):
            if mine(j):
                _fig2_design(work, P, S, variant, t_H)
        return []
    table.append(
        f"| Rechtsman: k_H/k_T ({S['check']} replicas) | "
        f"{f'{start_ratio:.4f}' if m['k_H'] and m['k_T'] else hc.NOT_REACHED} (t½_H {_t(m['t_H'])}, "
        f"t½_T {_t(m['t_T'])}) |"
    )
    for variant, t_H in jobs:
        d, m, window = _fig2_design(work, P, S, variant, t_H)
        history = [
            {k: h.get(k) for k in ("iteration", "loss", "L_H", "L_T", "t_half_H", "t_half_T", "accepted")}
            for h in d.history
        ]
        walls = [h["wall"] for h in d.history]
        rows.append(_row(variant, S, t_H, m, window, start_ratio, d.params, d.iteration, walls, history))
        if (t_H == slowest and variant in (*COMPARE, "gauss_newton")) or variant == "half-time-fresh":
            # the comparison's designs, and C's at every target: also on the line checks' seeds
            n = S["check"] + S["check_more"]
            other = measured(
                os.path.join(d.out, "measure-other.json"),
                d.params,
                n,
                P,
                window,
                curves=True,
                first_seed=_check_seed(S),
            )
            ratio, se = _ratio(other)
            rows[-1].update(other=ratio, other_se=se, other_replicas=n)
        print(f"{variant} target {rows[-1]['target']:.4f} achieved {rows[-1]['achieved']:.4f}")
    t_fig2 = time.perf_counter() - t_fig2
    sweep = [r for r in rows if r["variant"] not in COMPARE or r["variant"] == "half-time-fresh"]
    ratio_figure(os.path.join(figures, "honeycomb_fig2.png"), sweep, P.N, S["check"])
    ratio_line.plot(
        os.path.join(figures, "honeycomb_line.png"),
        line,
        [r for r in rows if r["variant"] == "line"],
        [S["t_T"] / t_H for t_H in S["t_H"]],
        S["t_T"],
        S["line"]["degree"],
        len(S["line"]["s"]),
        S["check"],
        P,
    )
    compared = [r for r in rows if r["target"] == S["t_T"] / slowest and r["variant"] != "line"]
    compare_figure(
        os.path.join(figures, "honeycomb_estimators.png"), compared + [line_compared] * (line_compared is not None), S
    )
    table.append(f"| Fig. 2: k*_T | 1/{S['t_T']} per step (t*_T = {S['t_T']} steps) |")
    L = S["line"]
    if len([p for p in line.points if p["y"] is not None]) > L["degree"]:
        coef, _ = line.fit(L["degree"])
        pts = [p for p in line.points if p["y"] is not None]
        dof = len(pts) - L["degree"] - 1
        chi2 = sum(((np.polyval(coef, p["s"]) - p["y"]) / p["se_y"]) ** 2 for p in pts) / dof if dof else math.nan
        table.append(
            f"| Fig. 2 line search: points, wall time | {len(line.points)} points ({len(L['s'])} scan + "
            f"{len(line.points) - len(L['s'])} refinement) of {L['replicas']} replicas per lattice, the last round's "
            f"{L['last_round_replicas']}; "
            f"{sum(p['wall'] for p in line.points) / 60:.1f} min; degree-{L['degree']} fit, reduced chi² "
            f"{chi2:.2f} |"
        )
        first = _check_seed(S)
        table.append(
            f"| Fig. 2 line: the checks' fresh replicas (seeds) | {S['check']} ({first:,} … "
            f"{first + S['check'] - 1:,}), then {S['check_more']} more ({first + S['check']:,} … "
            f"{first + S['check'] + S['check_more'] - 1:,}), pooled |"
        )
    table += crn
    for t_H, (x, se_fit) in solutions.items():
        if x is None:
            table.append(f"| Fig. 2 line: target k_H/k_T {S['t_T'] / t_H:.4f} | outside the line's measured range |")
    for r in rows:
        got = _achieved(r)
        if r["variant"] == "line":
            how = f"s = {r['s']:+.4f} (fitted ln ratio ± {r['se_fit']:.3f}); a = {', '.join(f'{v:.4f}' for v in r['params'])}"
            if r.get("pooled"):
                got += (
                    f"; on {r['pooled_replicas']} fresh replicas {r['pooled']:.4f} ± {r['pooled_se']:.4f} "
                    f"({(r['pooled'] / r['target'] - 1) * 100:+.0f}%; t½_H {r['pooled_t'][0]:.0f}, t½_T "
                    f"{r['pooled_t'][1]:.0f} steps)"
                )
        else:
            how = f"{r['iterations']} iterations, {r['wall_iteration']:.1f} s per iteration"
        table.append(
            f"| Fig. 2 {r['variant']}: target k_H/k_T {r['target']:.4f} | achieved {got}; t½_H = "
            f"{_t(1 / r['k_H'] if r['k_H'] else math.inf)}, t½_T = "
            f"{_t(1 / r['k_T'] if r['k_T'] else math.inf)}; {how} |"
        )
    if line_compared is not None:
        r = line_compared
        table.append(
            f"| Fig. 2 line design for {r['target']:.4f} on the estimator comparison's {S['check']} replicas (seeds "
            f"{hc.MEASURE_SEED:,} …) | {_achieved(r)} |"
        )
    designs = [r for r in rows if r["variant"] != "line"]
    if designs:
        table.append(
            f"| Fig. 2: the {len(designs)} gradient-descent designs' iterations (recorded wall times, two cores) | "
            f"{sum(r['wall_design'] for r in designs) / 60:.1f} min |"
        )
    table.append(
        f"| Fig. 2 sweep in this run (designs resumed, measurements reused when saved) | {t_fig2 / 60:.1f} min |"
    )
    with open(os.path.join(work, "fig2.json"), "w") as f:
        json.dump(hc._json_safe(rows), f, indent=1)  # (rates never reached: null)
    return rows


def _achieved(r):
    """A Fig. 2 row's measured ratio for the table: ± its SE and its distance from the target, or
    the bound a half-time not reached gives."""
    if not r["k_T"]:  # no ratio, nor a bound on it
        return f"{hc.NOT_REACHED} (t½_T {hc.NOT_REACHED} within the window)"
    if r["below"] is not None:
        got = f"< {r['below']:.4f} (t½_H {hc.NOT_REACHED} within the window)"
    else:
        got = f"{r['achieved']:.4f} ± {r['se']:.4f} ({(r['achieved'] / r['target'] - 1) * 100:+.0f}%)"
    if r.get("other_replicas"):  # the estimator comparison's designs, also on the line's check replicas
        o = r["other"]
        said = f"{o:.4f} ± {r['other_se']:.4f} ({(o / r['target'] - 1) * 100:+.0f}%)" if o else hc.NOT_REACHED
        got += f"; on the line checks' {r['other_replicas']} replicas {said}"
    return got


def decorrelation(work, P, S):
    """Common random numbers at long times: the same replicas (seeds 0 ...) run with a and with
    a (1 + eps); the RMS over replicas of the change in L_H at a few times, against the replicas'
    own spread (the RMS difference of two independent replicas is sqrt(2) x that). Saved; returns
    table rows."""
    D = S["decorrelation"]
    path = os.path.join(work, "decorrelation.json")
    r = cached(path, dict(D))
    if r is None:
        runs = {
            eps: hc.curves(np.array(hc.RECHTSMAN) * (1 + eps), "honeycomb", D["replicas"], D["steps"], D["every"], 0, P)
            for eps in [0.0] + D["eps"]
        }
        steps, base = runs[0.0]
        r = dict(
            D,
            times=steps[1:].tolist(),
            spread=base[:, 1:].std(axis=0).tolist(),
            rms={
                str(eps): np.sqrt(((v - base)[:, 1:] ** 2).mean(axis=0)).tolist() for eps, (_, v) in runs.items() if eps
            },
        )
        save(path, r)
    head = " / ".join(f"{t:.0f}" for t in r["times"])
    rows = [
        f"| common random numbers: replica spread of L_H at t = {head} steps ({r['replicas']} replicas, Rechtsman) | "
        + " / ".join(f"{x:.3f}" for x in r["spread"])
        + " |"
    ]
    for eps, v in r["rms"].items():
        rows.append(
            f"| ... RMS change of each replica's L_H when a -> a (1 + {float(eps):g}) | "
            + " / ".join(f"{x:.1e}" for x in v)
            + " |"
        )
    return rows


def line_design(work, P, S, toward):
    """Fig. 2 by the line search (:func:`hoomd_adjoint.apps.assembly.ratio_line.search`) toward
    ``toward``, in WORK/line (each point saved as it is measured, so a rerun resumes): ``(RatioLine,
    {t*_H: (s, se of the fitted ln ratio)})``, (None, None) for a target outside the measured range."""
    L = S["line"]
    line, found = ratio_line.search(
        os.path.join(work, "line"),
        [S["t_T"] / t_H for t_H in S["t_H"]],
        toward,
        t_T=S["t_T"],
        s=L["s"],
        rounds=L["rounds"],
        degree=L["degree"],
        replicas=L["replicas"],
        last_round_replicas=L["last_round_replicas"],
        direction_replicas=L["direction_replicas"],
        every=L["every"],
        max_steps=L["max_steps"],
        protocol=P,
        progress=True,
    )
    return line, dict(zip(S["t_H"], found.values()))


def line_rows(work, P, S, line, solutions, start_ratio):
    """Each target's line-search design measured on fresh replicas: the rows of :func:`fig2`, and
    the slowest target's design on the estimator comparison's replicas (its row D)."""
    rows, walls = [], [p["wall"] for p in line.points]
    # The checks' seeds come after every other measurement's (and after those that checked the
    # previous version's designs): the same seeds start the same liquids with the same noise, and
    # a check whose errors the design was refined after must not check it again.
    first = _check_seed(S)
    for t_H, (x, se_fit) in solutions.items():
        if x is None:
            continue
        a = line.params(x)
        window = ratio_line.check_window(S["t_T"], t_H)
        m = measured(
            os.path.join(line.out, f"check-{t_H}.json"), a, S["check"], P, window, curves=True, first_seed=first
        )
        rows.append(_row("line", S, t_H, m, window, start_ratio, a, len(line.points), walls, []))
        rows[-1].update(s=x, se_fit=se_fit)
        # more fresh replicas (the next seeds): a 200-replica check's own error is about the goal's size
        more = measured(
            os.path.join(line.out, f"check-more-{t_H}.json"),
            a,
            S["check_more"],
            P,
            window,
            curves=True,
            first_seed=first + S["check"],
        )
        pooled = dict(steps_H=m["steps_H"], steps_T=m["steps_T"])
        for lattice, key in (("honeycomb", "H"), ("triangular", "T")):
            pooled[lattice] = np.vstack([m[lattice], more[lattice]])
            pooled[f"t_{key}"] = hc.half_time(pooled[f"steps_{key}"], np.nanmean(pooled[lattice], axis=0))
            pooled[f"k_{key}"] = 1.0 / pooled[f"t_{key}"]  # (0 when not reached, as hc.measure's)
        ratio, se = _ratio(pooled)
        rows[-1].update(
            pooled=ratio,
            pooled_se=se,
            pooled_replicas=S["check"] + S["check_more"],
            pooled_t=(pooled["t_H"], pooled["t_T"]),
        )
    slowest = max(S["t_H"])
    x = solutions[slowest][0]
    if x is None:
        return rows, None
    a, window = line.params(x), ratio_line.check_window(S["t_T"], slowest)
    # on the comparison's replicas (seeds 1 000 000 ...), as the gradient-descent designs are
    m = measured(os.path.join(line.out, f"compare-{slowest}.json"), a, S["check"], P, window, curves=True)
    compared = _row("line", S, slowest, m, window, start_ratio, a, len(line.points), walls, [])
    checked = next(r for r in rows if r["target"] == compared["target"])  # its check's 600 replicas
    compared.update(
        other=checked.get("pooled"), other_se=checked.get("pooled_se"), other_replicas=S["check"] + S["check_more"]
    )
    return rows, compared


def _check_seed(S):
    """The first seed of the line's checks: after every other measurement's (the comparison's 200)
    and after the 400 that checked the previous version's designs."""
    return hc.MEASURE_SEED + S["check"] + S["check_more"]


def _ratio(m):
    """A measurement's k_H/k_T and its bootstrap SE, or (None, None) where a half-time was not reached."""
    if not (m["k_H"] and m["k_T"]):
        return None, None
    return m["k_H"] / m["k_T"], ratio_line.ratio_se(m)


def _row(variant, S, t_H, m, window, start_ratio, params, iterations, walls, history):
    """One Fig. 2 result: the design measured on fresh replicas."""
    achieved = m["k_H"] / m["k_T"] if m["k_T"] else float("nan")
    # a honeycomb that has not reached 1/2 by the end of the window: its ratio is below this bound
    bound = S["t_T"] / m["t_T"] * S["t_T"] / window["steps"]["honeycomb"] if m["k_T"] else float("nan")
    return dict(
        variant=variant,
        target=S["t_T"] / t_H,
        achieved=achieved,
        se=ratio_line.ratio_se(m) if achieved > 0 else None,
        start=start_ratio,
        below=bound if achieved == 0 else None,
        params=[float(v) for v in params],
        k_T=m["k_T"],
        k_H=m["k_H"],
        iterations=iterations,
        wall_iteration=float(np.mean(walls)),
        wall_design=float(np.sum(walls)),
        history=history,
    )


def compare_figure(path, rows, S):
    """The estimators on one target: the ratio each design achieved on fresh replicas (± bootstrap
    SE), and the half-time forms' batch half-times against iteration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = rows[0]["target"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, 5.2), gridspec_kw=dict(width_ratios=(1, 1.2), wspace=0.3))
    order = [v for v in VARIANT_LABEL if any(r["variant"] == v for r in rows)]
    for y, v in enumerate(order):
        r = next(r for r in rows if r["variant"] == v)
        if r["achieved"] > 0:
            ax.errorbar(
                r["achieved"], y, xerr=r["se"], fmt="o", color="k", capsize=3, label=f"on the same {S['check']} (± SE)"
            )
        elif r["below"] is not None:
            ax.plot(r["below"], y, "<", color="k", mfc="none", label="upper bound (t½_H not reached)")
        if r.get("other"):  # the same design on the line checks' replicas (other seeds)
            ax.errorbar(
                r["other"],
                y - 0.25,
                xerr=r["other_se"],
                fmt="o",
                color="tab:blue",
                mfc="none",
                capsize=3,
                label=f"on {r['other_replicas']} others (the line checks' seeds; ± SE)",
            )
    ax.axvspan(0.9 * target, 1.1 * target, color="tab:green", alpha=0.15, lw=0, label="target ± 10%")
    ax.axvline(target, color="tab:green", lw=1, label=f"target {target:.4g}")
    ax.axvline(rows[0]["start"], color="0.5", lw=0.8, ls=":", label="Rechtsman (start)")
    ax.set_yticks(range(len(order)), [VARIANT_LABEL[v] for v in order], fontsize=7)
    ax.set(
        xlabel="measured k_H / k_T on fresh replicas (± bootstrap SE; <: upper bound)",
        ylabel="estimator",
        title=f"each estimator's design (target {target:.3g}: t*_H = {round(S['t_T'] / target)} steps)",
    )
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))  # one entry per kind of marker
    ax.legend(
        unique.values(), unique.keys(), fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.15), ncol=2
    )
    t_star = round(S["t_T"] / target)
    for v, c in (("half-time-fresh", "tab:orange"), ("half-time-common", "tab:purple"), ("gauss_newton", "k")):
        r = next((r for r in rows if r["variant"] == v), None)
        if r is None:
            continue
        h = [x for x in r["history"] if isinstance(x.get("t_half_H"), float)]
        bx.plot(
            [x["iteration"] for x in h],
            [x["t_half_H"] / t_star for x in h],
            "o-",
            ms=3,
            color=c,
            label=f"{VARIANT_LABEL[v]}: t½_H / t*_H",
        )
        bx.plot(
            [x["iteration"] for x in h],
            [x["t_half_T"] / S["t_T"] for x in h],
            "s--",
            ms=3,
            color=c,
            alpha=0.6,
            label="… t½_T / t*_T",
        )
    bx.axhspan(0.98, 1.02, color="tab:green", alpha=0.15, lw=0, label="± 2% (Gauss-Newton's stop)")
    bx.axhline(1, color="tab:green", lw=1, label="on target")
    bx.set(
        xlabel="iteration",
        ylabel="batch half-time / target (fitted, 64 replicas)",
        title="half-time forms: each iteration's batch t½",
    )
    bx.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.15), ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _fig2_design(work, P, S, variant, t_H):
    """One Fig. 2 design (run or resumed) and its measurement on fresh replicas (saved, with the
    curves for the ratio's standard error): ``(Design, measurement, window)``."""
    rates = dict(objective="rates", k_T=1.0 / S["t_T"], k_H=1.0 / t_H, protocol=P)
    if variant == "gauss_newton":
        gn = S["fig2_gn"]
        d, _ = design(
            os.path.join(work, f"fig2-gauss-newton-{t_H}"),
            gn["iterations"],
            variant="truncated",
            truncate=gn["truncate"],
            replicas=gn["replicas"],
            rate_loss="half_time",
            common_seeds=True,
            optimizer="gauss_newton",
            half_time=gn["half_time"],
            **rates,
        )
    elif variant in COMPARE:
        c = S["compare"]
        d, _ = design(
            os.path.join(work, f"compare-{variant}-{t_H}"),
            c["iterations"],
            variant="truncated",
            replicas=c["replicas"],
            anneal=c["anneal"],
            half_time=c["half_time"] if COMPARE[variant]["rate_loss"] == "half_time" else None,
            **COMPARE[variant],
            **rates,
        )
    else:
        its, anneal, truncate = S["fig2"][variant]
        name = f"fig2-{variant}-{t_H}" if variant == "forward" else f"fig2-{variant}{truncate}-{t_H}"
        d, _ = design(
            os.path.join(work, name),
            its,
            variant=variant,
            truncate=truncate,
            replicas=S["fig2_R"],
            anneal=anneal,
            **rates,
        )
    window = ratio_line.check_window(S["t_T"], t_H)
    path = os.path.join(d.out, "measure.json")
    return d, measured(path, d.params, S["check"], P, window, curves=True), window


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--figures",
        default=None,
        help="where PNGs and the table go (default: WORK/figures; docs/figures updates the committed ones)",
    )
    ap.add_argument("--work", default="runs/honeycomb", help="design directories (resumable)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for a quick check of the script (in WORK/smoke)")
    ap.add_argument(
        "--part",
        default=None,
        help="K/N: run only the K-th of N slices of the jobs (Fig. 1's curriculum, the start's measurement, "
        "each Fig. 2 design with its measurement), no figures; a last call without --part makes them",
    )
    ap.add_argument(
        "--estimators",
        action="store_true",
        help="also the gradient-descent designs of every target (forward, truncated, Gauss-Newton), not only "
        "the estimator comparison on the slowest: hours on two cores (--smoke runs them at tiny sizes)",
    )
    args = ap.parse_args(argv)
    part = None
    if args.part is not None:
        try:
            k, n = (int(v) for v in args.part.split("/"))
            assert 1 <= k <= n
        except (ValueError, AssertionError):
            print(f"{ap.prog}: --part must be K/N with 1 <= K <= N, got {args.part!r}", file=sys.stderr)
            return 2  # (one line, as the commands answer bad input)
        part = (k, n)
    # A smoke run's designs have other settings: in the full run's directories they would make it
    # refuse to resume them.
    work = os.path.join(args.work, "smoke") if args.smoke else args.work
    figures = args.figures or os.path.join(work, "figures")
    os.makedirs(figures, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    P, S = _sizes(args.smoke)
    t_all = time.perf_counter()
    table = ["| quantity | value |", "|---|---|"]
    estimators = args.estimators or args.smoke  # (a smoke run runs every code path)
    stage = S["line"]["toward_stage"] - 1  # the line points toward Fig. 1's design after this stage
    if part is not None:  # job 0: Fig. 1's curriculum, then the line search; the estimators' designs follow
        mine = lambda job: job % part[1] == part[0] - 1  # noqa: E731
        toward = fig1(work, figures, P, S, [])[stage] if mine(0) else None
        fig2(work, figures, P, S, [], toward, estimators, mine=mine)
        print(f"part {args.part}: done (run without --part for the figures and the table)")
        return
    toward = fig1(work, figures, P, S, table)[stage]
    fig2(work, figures, P, S, table, toward, estimators)
    table.append(f"| whole script, this run | {(time.perf_counter() - t_all) / 60:.1f} min |")
    with open(os.path.join(figures, "honeycomb_table.md"), "w") as f:
        f.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    raise SystemExit(main())
