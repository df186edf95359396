"""Figures of the spider workflows: loss curves beside the paper's (Figs. 2-3) and the spread of
converged parameters over seeds and perturbed starts (Fig. 4)."""

import json
import os

import numpy as np

from .model import PARAM_NAMES

__all__ = ["plot_losses", "plot_spread", "plot_validation", "read_history"]

UNITS = dict(
    base_radius="σ",
    head_height="σ",
    base_particle_radius="σ",
    head_particle_radius="σ",
    log_eps_head="log of kT",
    alpha_head="1/σ",
    r_on="σ",
    r_cut="σ",
)

# the authors' logged traces (figures/preprint/data of rkruegs123/tuning-colloidal-reactions @ b2964fa)
REFERENCE = {
    ("octahedron", "weak"): "fig2/diffusive-loss.txt",
    ("octahedron", "strong"): "fig2/ex-abduct-loss.txt",
    ("icosahedron", "weak"): "fig3/diffusive_loss.txt",
    ("icosahedron", "strong"): "fig3/abduction_loss.txt",
}
# points of those traces quoted in the issue, drawn when the data directory is not at hand
REFERENCE_POINTS = {
    ("octahedron", "weak"): [(0, -4.37), (250, -6.5)],
    ("octahedron", "strong"): [(0, 958.2), (250, -5.1), (1250, -6.9)],
    ("icosahedron", "weak"): [(0, -5.46), (2532, -8.77)],  # the logs' first and last iterations
    ("icosahedron", "strong"): [(0, 90.14), (2502, -8.70)],
}


def read_history(run):
    with open(os.path.join(run, "state.json")) as f:
        state = json.load(f)
    return state["config"], state["history"]


def _symlog(ax):
    ax.set_yscale("symlog", linthresh=10.0)


def run_names(runs):
    """{run folder: its name relative to the runs' common folder} (``runs/spider/oct-weak`` and
    ``runs/spider/oct-strong`` are ``oct-weak`` and ``oct-strong``): how result files name runs."""
    full = [os.path.abspath(r) for r in runs]
    base = os.path.commonpath(full) if len(full) > 1 else os.path.dirname(full[0]) if full else ""
    names = {r: os.path.relpath(f, base) for r, f in zip(runs, full)}
    return names if len(set(names.values())) == len(names) else {r: r for r in runs}


def plot_losses(runs, output, reference=None):
    """One panel per (shell, start) among ``runs``: our batch-mean loss (band: batch min-max) and
    the authors' trace. Returns a summary per run (first/last loss and the paper's at the same
    iterations), keyed by :func:`run_names` (no machine's absolute paths in result files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, names, configs = {}, run_names(runs), {}
    for run in runs:
        config, history = read_history(run)
        configs[run] = config
        groups.setdefault((config["shell"], config["start"]), []).append((run, history))
    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 4), squeeze=False)
    summary = {}
    for ax, (key, items) in zip(axes[0], sorted(groups.items())):
        ref = None
        if reference is not None and os.path.exists(os.path.join(reference, REFERENCE[key])):
            ref = np.loadtxt(os.path.join(reference, REFERENCE[key]))
        if ref is not None:
            n = max(len(h) for _, h in items)
            ax.plot(
                np.arange(min(len(ref), max(n, 1))), ref[: max(n, 1)], c="0.5", lw=1.2, label="paper (authors' log)"
            )
        else:
            pts = np.array(REFERENCE_POINTS[key])
            ax.plot(pts[:, 0], pts[:, 1], "ks", label="paper (quoted points)")
        for run, h in items:
            it = np.array([r["iteration"] for r in h])
            c = configs[run]
            size = f"{c['replicas']} replicas x {c['steps']} steps" if "replicas" in c and "steps" in c else "a batch"
            ax.plot(it, [r["loss"] for r in h], lw=1.2, label=f"ours ({names[run]}): mean of {size}; band: min-max")
            ax.fill_between(it, [r["loss_min"] for r in h], [r["loss_max"] for r in h], alpha=0.2)
            s = dict(
                iterations=len(h),
                first=h[0]["loss"] if h else None,
                last=h[-1]["loss"] if h else None,
                last_params=dict(zip(PARAM_NAMES, h[-1]["params"])) if h else None,
                best=min(r["loss"] for r in h) if h else None,  # a run can fall off a cliff after its best
                best_iteration=int(it[np.argmin([r["loss"] for r in h])]) if h else None,
                seconds=float(sum(r["wall"] for r in h)),
            )
            if ref is not None and h:
                s["paper_first"], s["paper_at_last"] = float(ref[0]), float(ref[min(len(h), len(ref)) - 1])
            summary[names[run]] = s
        if key[1] == "strong":
            _symlog(ax)
        ax.set_title(f"spider on the {key[0]} shell, {key[1]} start of the head")
        ax.set_xlabel("iteration (Adam)")
        ax.set_ylabel("loss L_extract + L_remain (L_extract in σ)" + (" (symlog)" if key[1] == "strong" else ""))
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    plt.close(fig)
    return summary


def plot_spread(runs, output, authors=None):
    """Fig. 4 analogue: the last parameters of several runs (seeds, perturbed starts), one strip per
    parameter. Returns mean and standard deviation per parameter and group.

    ``authors``: the authors' converged values to draw beside the groups, {start ("weak" or
    "strong"): {parameter name: value}} (any subset of the parameters); kept in the summary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups, finals = {}, {}
    for run in runs:
        config, history = read_history(run)
        if not history:
            continue
        label = "perturbed start" if config.get("perturb") else "seeds"
        if config.get("start") == "strong":  # the strong start's ensembles beside the weak's
            label = f"strong: {label}"
        groups.setdefault(label, []).append(np.array(history[-1]["params"]))
        finals[os.path.basename(os.path.normpath(run))] = dict(
            zip(PARAM_NAMES, history[-1]["params"]), iterations=len(history), group=label
        )
    fig, axes = plt.subplots(1, len(PARAM_NAMES), figsize=(2.4 * len(PARAM_NAMES), 3.5))
    out = {}
    labels = sorted(groups)
    for label in labels:
        xs = np.array(groups[label])
        out[label] = dict(
            n=len(xs),
            mean=dict(zip(PARAM_NAMES, xs.mean(axis=0).tolist())),
            std=dict(zip(PARAM_NAMES, xs.std(axis=0).tolist())),
        )
    both = any(label.startswith("strong") for label in labels)  # short two-line ticks: "weak / seeds"
    ticks = [
        label.replace("strong: ", "strong\n").replace("perturbed start", "perturbed")
        if label.startswith("strong") or not both
        else "weak\n" + label.replace("perturbed start", "perturbed")
        for label in labels
    ]
    for k, ax in enumerate(axes):  # box plots of the final parameters, as the paper's Fig. 4
        data = [np.array(groups[label])[:, k] for label in labels]
        box = ax.boxplot(data, widths=0.5)
        for artist in (a for artists in box.values() for a in artists):
            artist.set_gid("boxplot")  # the box plot's glyphs, said in the title (tests/test_figures.py)
        for g, d in enumerate(data):
            ax.plot(
                np.full(len(d), g + 1) + np.linspace(-0.08, 0.08, len(d)),
                d,
                "o",
                ms=3,
                alpha=0.7,
                color=f"C{g}",
                label=f"{labels[g]}: one run each" if k == 0 else f"_{labels[g]}",
            )
        for start, values in (authors or {}).items():  # a line across that start's groups
            at = [g + 1 for g, label in enumerate(labels) if label.startswith("strong") == (start == "strong")]
            if PARAM_NAMES[k] in values and at:
                ax.plot(
                    [at[0] - 0.3, at[-1] + 0.3],
                    [values[PARAM_NAMES[k]]] * 2,
                    "--",
                    color="k" if start == "weak" else "tab:red",
                    lw=1,
                    label=f"authors' converged, {start} start" if k == 0 else "_",
                )
        ax.set_title(PARAM_NAMES[k], fontsize=8)
        ax.set_ylabel(f"final {PARAM_NAMES[k]} ({UNITS[PARAM_NAMES[k]]})", fontsize=8)
        ax.set_xticks(range(1, len(labels) + 1))
        ax.set_xticklabels(ticks, fontsize=7)
        ax.set_xlabel("runs", fontsize=8)
    fig.suptitle(
        "final spider parameters over runs (box: quartiles and median; whiskers: 1.5 x the interquartile range)",
        fontsize=9,
    )
    fig.legend(
        fontsize=8, loc="lower center", bbox_to_anchor=(0.5, -0.06), ncol=max(1, len(labels) + len(authors or {}))
    )
    fig.tight_layout()
    fig.savefig(output, dpi=120, bbox_inches="tight")
    plt.close(fig)
    out["runs"] = finals  # each run's last parameters and its iterations
    if authors:
        out["authors"] = {start: dict(values) for start, values in authors.items()}
    return out


def plot_validation(rows, output, goal=0.9):
    """The validation table as a figure: for each row (a name and its
    :func:`~hoomd_adjoint.apps.spider.validate.validate` summary) the fraction of runs passing each
    criterion of the strict test, with its binomial standard error, and the goal as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows)
    keys = ["extracted", "intact", "detached", "success", "released"]
    fig, ax = plt.subplots(figsize=(13, 0.42 * len(names) + 1.6))
    y = np.arange(len(names))
    for k, key in enumerate(keys):
        f = np.array([rows[n].get(f"{key}_fraction", np.nan) for n in names])
        se = np.array([rows[n].get(f"{key}_se", np.nan) for n in names])
        has = np.isfinite(f)
        ax.errorbar(
            f[has],
            y[has] + (k - 2) * 0.14,
            xerr=se[has],
            fmt="os^D*"[k],
            ms=7 if key == "success" else 5,
            color=f"C{k}",
            capsize=2,
            label=f"{key} (± 1 SE)",
        )
    ax.axvline(goal, color="k", ls="--", lw=1, label=f"goal {goal:g}")
    ax.set_yticks(y)
    size = [(rows[n]["seeds"], rows[n]["steps"]) for n in names]
    usual = max(set(size), key=size.count)  # said once in the title; a row that differs says its own
    ax.set_yticklabels(
        [
            (n if "legs" in n else f"{n} (legs {rows[n].get('leg_sigma', 1.0):g})")
            + ("" if s == usual else f" ({s[0]} seeds x {s[1]:,} steps)")
            for n, s in zip(names, size)
        ],
        fontsize=8,
    )
    ax.invert_yaxis()
    ax.set_xlim(-0.03, 1.03)
    ax.set_xlabel("fraction of runs passing, over the last 10% of each run")
    ax.set_ylabel("spider parameters")
    each = f": {usual[0]} seeds x {usual[1]:,} steps each" + (" unless a row says" if len(set(size)) > 1 else "")
    ax.set_title(f"strict validation of spiders{each} (docs/spider.md)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    fig.savefig(output, dpi=120, bbox_inches="tight")
    plt.close(fig)
