"""Every figure the command line writes reads without the code (issue 31, item 3).

Each subcommand runs with tiny settings; ``Figure.savefig`` is wrapped to keep every figure it
writes, and each is checked as drawn:

- the figure has a title (a suptitle, or one on every panel) that names the system;
- every panel has x and y labels (3D axes a z label too). A panel that shows a configuration
  (particles, a shell) marks itself with ``ax.set_gid("picture")``: it needs a title, not axis
  labels. A colour bar needs its label;
- every line with data is labelled: it has an entry in a legend of its panel or of the figure,
  or it is the only line in its panel and the y label names it. Exempt are lines marked
  ``gid="reference"`` (zero lines, guides the title or footnote explains) and ``gid="boxplot"``
  (a box plot's glyphs, explained in the title);
- no legend covers plotted data: at most 5% of any line's length (sampled every display pixel)
  or of a scatter's points inside its panel falls within a legend's box.

The check itself is tested on a figure that breaks each rule.
"""

import json
import os

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from hoomd_adjoint import cli  # noqa: E402

EXEMPT = {"reference", "boxplot"}
COVER = 0.05  # the largest share of a line that a legend may hide


@pytest.fixture
def figures(monkeypatch):
    """The (file name, Figure) of every figure saved while the test runs."""
    saved = []
    original = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        saved.append((os.path.basename(str(fname)), self))
        return original(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


def _legends(fig):
    return [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)


def _dense(points, step=1.0):
    """A polyline in display coordinates sampled about every ``step`` pixels (NaNs break it)."""
    out = []
    for piece in np.split(points, np.flatnonzero(np.isnan(points).any(axis=1))):
        piece = piece[~np.isnan(piece).any(axis=1)]
        if len(piece) == 1:
            out.append(piece)
        for a, b in zip(piece[:-1], piece[1:]):
            n = max(2, int(np.hypot(*(b - a)) / step))
            out.append(a + np.linspace(0, 1, n)[:, None] * (b - a))
    return np.concatenate(out) if out else np.zeros((0, 2))


def _covered(fig):
    """(legend, what it covers, share) where a legend hides more than COVER of a line or scatter."""
    found = []
    for leg in _legends(fig):
        box = leg.get_window_extent()
        for ax in fig.axes:
            if ax.name == "3d" or ax.get_label() == "<colorbar>":
                continue
            frame = ax.get_window_extent()
            shapes = [
                (line.get_label(), _dense(line.get_transform().transform(line.get_xydata())))
                for line in ax.get_lines()
                if len(line.get_xdata())
            ]
            shapes += [
                (c.get_label(), c.get_offset_transform().transform(c.get_offsets()))
                for c in ax.collections
                if hasattr(c, "get_offsets") and len(c.get_offsets()) and type(c).__name__ == "PathCollection"
            ]
            for label, p in shapes:
                p = p[(p[:, 0] >= frame.x0) & (p[:, 0] <= frame.x1) & (p[:, 1] >= frame.y0) & (p[:, 1] <= frame.y1)]
                if len(p) == 0:
                    continue
                inside = np.mean((p[:, 0] > box.x0) & (p[:, 0] < box.x1) & (p[:, 1] > box.y0) & (p[:, 1] < box.y1))
                if inside > COVER:
                    found.append((label, round(float(inside), 3)))
    return found


def _flat(container):
    for item in container:
        if isinstance(item, (tuple, list)):
            yield from _flat(item)
        elif item is not None:
            yield item


def problems(name, fig):
    """What makes ``fig`` (saved as ``name``) unreadable without the code: a list of sentences."""
    fig.canvas.draw()
    out = []
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    if not suptitle and not all(ax.get_title() for ax in panels):
        out.append(f"{name}: no title (a suptitle, or one on every panel)")
    entries = {t.get_text() for leg in _legends(fig) for t in leg.get_texts()}
    for ax in fig.axes:
        where = f"{name}, panel {ax.get_title()!r}"
        if ax.get_label() == "<colorbar>":
            if not (ax.get_ylabel() or ax.get_xlabel()):
                out.append(f"{where}: a colour bar without a label")
            continue
        if ax.get_gid() == "picture":
            if not ax.get_title():
                out.append(f"{where}: a picture without a title")
        else:
            axes = "xyz" if ax.name == "3d" else "xy"
            out += [f"{where}: no {a} label" for a in axes if not getattr(ax, f"get_{a}label")()]
        named = {
            id(c.lines[0]): c.get_label()
            for c in ax.containers
            if isinstance(c, ErrorbarContainer) and c.lines[0] is not None
        }
        parts = {id(a) for c in ax.containers for a in _flat(c)}  # an error bar's caps belong to its entry
        lines = [
            ln
            for ln in ax.get_lines()
            if ln.get_gid() not in EXEMPT and len(ln.get_xdata()) and (id(ln) in named or id(ln) not in parts)
        ]
        for ln in lines:
            label = named.get(id(ln), ln.get_label())
            alone = len(lines) == 1 and ax.get_gid() != "picture" and ax.get_ylabel()
            if label not in entries and not alone:
                out.append(f"{where}: a line ({label!r}) with no legend entry")
    out += [f"{name}: a legend covers {share:.0%} of {label!r}" for label, share in _covered(fig)]
    return out


def _check(figures, expected):
    names = [name for name, _ in figures]
    assert sorted(set(names)) == sorted(expected), names
    found = [p for name, fig in figures for p in problems(name, fig)]
    assert not found, "\n".join(found)


def test_the_check_finds_unlabelled_axes_and_lines_and_a_legend_over_data():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    x = np.linspace(0, 1, 50)
    a.plot(x, x, label="rising")
    a.plot(x, 1 - x)  # no label
    a.legend(loc="center")  # on both lines' crossing
    b.plot(x, x**2, label="square")
    b.axhline(0.5, gid="reference")
    b.set(xlabel="x (σ)", ylabel="y (ε)")
    found = problems("broken.png", fig)
    plt.close(fig)
    assert "broken.png: no title (a suptitle, or one on every panel)" in found
    assert "broken.png, panel '': no x label" in found and "broken.png, panel '': no y label" in found
    assert "broken.png, panel '': a line ('_child1') with no legend entry" in found
    assert any(p.startswith("broken.png: a legend covers") and "'rising'" in p for p in found)
    assert not any("square" in p for p in found)  # alone in its labelled panel; the reference line is exempt


HONEYCOMB = ["--N", "36", "--quiet"]


@pytest.mark.parametrize(
    "objective", [["--steps", "40"], ["--objective", "rates", "--target-k-T", "0.05"]], ids=["assemble", "rates"]
)
def test_honeycomb_design(tmp_path, figures, objective):
    out = tmp_path / "d"
    argv = (
        [
            "honeycomb",
            "design",
            "--iterations",
            "2",
            "--replicas",
            "2",
            "--truncate",
            "10",
            "--check-replicas",
            "3",
            "--out",
            str(out),
        ]
        + objective
        + HONEYCOMB
    )
    if objective[1] == "40":
        argv += ["--check-steps", "40"]
    assert cli.main(argv) == 0
    _check(figures, ["design.png"])
    summary = json.loads((out / "summary.json").read_text())
    assert "half_times" in summary  # the note on null
    for label in ("start", "designed"):  # tiny runs never reach 1/2: null, never "inf" nor 0
        for key in ("t_H", "k_H"):
            assert summary[label][key] is None, (label, key, summary[label][key])


def test_honeycomb_measure(tmp_path, figures, capsys):
    assert (
        cli.main(
            ["honeycomb", "measure", "--replicas", "3", "--steps", "40", "--every", "10", "--out", str(tmp_path / "m")]
            + HONEYCOMB
        )
        == 0
    )
    _check(figures, ["curves.png"])
    ((_, fig),) = figures
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any("Rechtsman et al." in t for t in labels), labels  # the published potential, named as such
    assert "designed potential" not in [ax.get_title() for ax in fig.axes]
    printed = capsys.readouterr().out
    assert "t_H = not reached" in printed and "0.000e+00" not in printed and "inf" not in printed


def test_demo(tmp_path, figures):
    assert (
        cli.main(
            ["demo", "--N", "60", "--steps", "100", "--grad-steps", "10", "--quiet", "--out", str(tmp_path / "demo")]
        )
        == 0
    )
    _check(figures, ["demo.png"])


def test_clusters_path(tmp_path, figures):
    assert cli.main(["clusters", "path", "--images", "12", "--out", str(tmp_path / "p")]) == 0
    _check(figures, ["path.png"])
    ((_, fig),) = figures
    assert "B = 5 kT" in fig.axes[0].get_title()


def test_spider_validate_and_plot(tmp_path, figures):
    from hoomd_adjoint.apps.spider.figures import plot_spread

    runs = []
    for seed in (0, 1):
        runs.append(str(tmp_path / f"run{seed}"))
        assert (
            cli.main(
                [
                    "spider",
                    "optimize",
                    "--iterations",
                    "2",
                    "--replicas",
                    "2",
                    "--steps",
                    "5",
                    "--seed",
                    str(seed),
                    "--quiet",
                    "--out",
                    runs[-1],
                ]
            )
            == 0
        )
    assert (
        cli.main(
            [
                "spider",
                "validate",
                os.path.join(runs[0], "state.json"),
                "--seeds",
                "1",
                "--steps",
                "300",
                "--quiet",
                "--out",
                str(tmp_path / "v"),
            ]
        )
        == 0
    )
    assert cli.main(["spider", "plot"] + runs + ["--out", str(tmp_path / "losses.png")]) == 0
    authors = {"weak": {"base_radius": 3.731}, "strong": {"base_radius": 3.849}}  # (no strong runs: not drawn)
    s = plot_spread(runs, str(tmp_path / "spread.png"), authors=authors)  # (the Fig. 4 analogue: same rules)
    assert s["authors"] == authors and s["seeds"]["n"] == 2
    from hoomd_adjoint.apps.spider.figures import plot_validation

    summary = json.loads((tmp_path / "v" / "outcomes.json").read_text())["summary"]
    plot_validation({"a run": summary, "again": summary}, str(tmp_path / "validation.png"))
    _check(figures, ["trajectory.png", "losses.png", "spread.png", "validation.png"])


def test_clusters_reproduce(tmp_path, figures, monkeypatch):
    """The paper's cluster figures (fig3b, fig3c, fig4, md, fig5), each from a tiny run: a few
    designs of two iterations; fig5 from the committed setup (its search takes minutes)."""
    import shutil

    from hoomd_adjoint.apps.clusters import reproduce as rp

    monkeypatch.setattr(rp, "DESIGN", dict(iterations=2, steps=5))
    out = tmp_path / "c"
    assert cli.main(["clusters", "reproduce", "fig3b", "--out", str(out)]) == 0
    rp.fig3c(str(out), "soft", seeds=[5], frames=600)  # seed 5 crosses to R1 on the path (the committed figure)
    rp.grid("barriers", str(out), "soft", limit=2)
    rp.grid("rates", str(out), "soft", limit=2)
    rp.md_validation(str(out), "soft", limit=1, replicas=3)
    shutil.copy(
        os.path.join(os.path.dirname(__file__), "..", "docs", "figures", "clusters-soft-fig5-setup.json"),
        out / "fig5-setup.json",
    )
    rp.designability(str(out), "soft", limit=3)
    assert cli.main(["clusters", "reproduce", "plots", "--out", str(out)]) == 0
    _check(figures, ["fig3b.png", "fig3c.png", "fig4.png", "md.png", "fig5.png"])
    jobs = json.loads((out / "fig5" / "jobs.json").read_text())
    assert jobs[0] == {"index": 0, "subset": [0]}  # no path of this machine in the results


def test_reproduce_honeycomb_smoke(tmp_path, figures):
    """The honeycomb reproduction's figures (Figs. 1 and 2, Fig. 1's stages, the line search, the estimator
    comparison and L_H against bulk order), from --smoke."""
    import importlib.util

    script = os.path.join(os.path.dirname(__file__), "..", "examples", "reproduce_honeycomb.py")
    spec = importlib.util.spec_from_file_location("reproduce_honeycomb", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--smoke", "--work", str(tmp_path / "hc")])
    _check(
        figures,
        [
            "honeycomb_fig1.png",
            "honeycomb_fig1_progress.png",
            "honeycomb_fig2.png",
            "honeycomb_estimators.png",
            "honeycomb_line.png",
            "honeycomb_lead.png",
        ],
    )


def test_ratio_line_figure(tmp_path, figures):
    """The line search's figure (ratio_line.plot) with scan and refinement points (the last
    round's larger), the fit, the targets and the checks: labelled, legends clear of the data."""
    from hoomd_adjoint.apps.assembly import honeycomb as hc
    from hoomd_adjoint.apps.assembly import ratio_line as rl

    line = rl.RatioLine(tmp_path / "line", hc.RECHTSMAN, [0.3, 2.4, -0.5, -0.05], replicas=96)
    s = [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, -0.52, 0.56]
    line.points = [
        dict(s=x, replicas=96, y=-2.93 + 1.3 * x + 0.1 * x * x, se_y=0.09, t_T=400.0 * (1 + 0.1 * x), se_T=0.06)
        for x in s
    ]
    line.points += [  # the last round's points: larger batches
        dict(s=x, replicas=384, y=-2.93 + 1.3 * x + 0.1 * x * x, se_y=0.045, t_T=400.0, se_T=0.03) for x in (-0.5, 0.57)
    ]
    checks = [dict(s=-0.52, achieved=0.026, se=0.002, k_T=1 / 405), dict(s=0.56, achieved=0.098, se=0.007, k_T=1 / 420)]
    rl.plot(tmp_path / "line.png", line, checks, [0.1, 0.025], 400, degree=2, scan=7, check_replicas=200)
    _check(figures, ["line.png"])
