"""Designing the rate ratio k_H/k_T by a regression line search along a gradient direction.

Why not gradient steps on batches: a honeycomb takes thousands of steps to form, and over that
horizon a relative change of 10^-3 in the parameters decorrelates every replica from its
unchanged twin within 1000 steps (docs/honeycomb.md, "Common random numbers"). A batch's
half-time is then an independent sample at every point, whatever its seeds, with a spread of
about 6% in ln t1/2 per lattice at 96 replicas: the size of the ±10% goal. Steps computed from
single batches (RMSProp, or Gauss-Newton with an acceptance test) chase that noise.

Here the parameters move along one line, a(s) = start + s d, where d is a gradient design's
direction (the Fig. 1 design, which speeds the honeycomb up) with the adjoint gradient of
ln t1/2_T projected out (so that, to first order, the triangular rate stays put). Every batch
measured along the line is one point (s, ln(k_H/k_T)) with a bootstrap standard error; a weighted
polynomial through all the points pools their replicas, so the fitted ratio at s is far more
precise than any one batch, and one scan serves every target. Each target's solution is then
measured again (refinement points join the fit; the last round's are larger, so that the fit is
tightest where the designs are) before the final check on fresh replicas.

Seeds: each point takes the next ``replicas`` seeds after the previous point's, from
``first_seed`` on (never a design's or a measurement's). Times are in steps; rates in 1/step.
"""

import math
import os
import time

import numpy as np

from ... import _checks
from . import honeycomb as hc

__all__ = ["LINE_SEED", "RatioLine", "check_window", "direction", "log_half_time_se", "plot", "ratio_se", "search"]

LINE_SEED = 3_000_000  # the line's replicas: none of a design's (0 ...) nor a measurement's (1 000 000 ...)


def direction(start, toward, grad_keep):
    """``toward - start`` with its component along ``grad_keep`` removed: a step along it leaves
    the quantity whose gradient is ``grad_keep`` unchanged to first order. All (4,)."""
    d = np.asarray(toward, dtype=np.float64) - np.asarray(start, dtype=np.float64)
    g = np.asarray(grad_keep, dtype=np.float64)
    return d - (g @ d) / (g @ g) * g


def log_half_time_se(steps, values, draws=300, seed=0):
    """Bootstrap standard error of ln t1/2 of the mean curve ``values`` (R, T) (rows with a NaN
    left out; the replicas resampled with replacement, a fixed generator): the half-time's relative
    error. Infinite when a resample never reaches 1/2."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v).any(axis=1)]
    rng = np.random.default_rng(seed)
    t = [hc.half_time(steps, v[rng.integers(0, len(v), len(v))].mean(axis=0)) for _ in range(draws)]
    return float(np.std(np.log(t))) if all(math.isfinite(x) for x in t) else math.inf


class RatioLine:
    """ln(k_H/k_T) along a(s) = ``start`` + s ``direction``, measured and fitted; saved after
    every point in ``out/line.json`` and resumed from it (other settings are refused by name).

    Args:
        out: directory for ``line.json``.
        start, direction: the line (4,) each; see :func:`direction`.
        replicas: replicas per lattice per point.
        every: sampling interval of the loss curves per lattice, ``{"honeycomb": n_H,
            "triangular": n_T}`` (steps); each run stops once its mean has crossed 1/2 at t_c and
            run on to (1 + ``past``) t_c, or at ``max_steps`` (then that half-time is not reached).
        past: how far past the crossing the runs go, a share of t_c: far enough that the
            bootstrap's resamples (which cross up to a few standard errors later) cross too; a
            resample that does not leaves the point out of the fit.
        max_steps: ``{"honeycomb": ..., "triangular": ...}``: the longest run per lattice.
        protocol, threads, communicator, max_failed: as for
            :class:`hoomd_adjoint.apps.assembly.honeycomb.Design` (a point with more failed
            replicas than ``max_failed`` allows raises :class:`~hoomd_adjoint.ReplicaError`).
        first_seed: the first point's first seed.
    """

    def __init__(
        self,
        out,
        start,
        direction,
        replicas=96,
        every=None,
        max_steps=None,
        protocol=None,
        threads=None,
        communicator=None,
        first_seed=LINE_SEED,
        max_failed=hc.MAX_FAILED,
        past=0.5,
    ):
        from ...communicator import Communicator

        self.out, self.protocol = out, protocol or hc.Protocol()
        self.threads, self.max_failed = threads, _checks.real("max_failed", max_failed, lo=0.0, hi=1.0)
        self.communicator = communicator if communicator is not None else Communicator()  # MPI.COMM_WORLD if any
        self.config = dict(
            start=[float(x) for x in hc._params(start)],
            direction=[float(x) for x in np.asarray(direction, dtype=np.float64).reshape(4)],
            replicas=_checks.integer("replicas", replicas, lo=2),
            every=dict(every or dict(honeycomb=100, triangular=16)),
            max_steps=dict(max_steps or dict(honeycomb=48000, triangular=3200)),
            first_seed=_checks.integer("first_seed", first_seed, lo=0),
            past=_checks.real("past", past, lo=0.0),
            protocol=self.protocol.as_dict(),
        )
        self.points = []
        path = os.path.join(out, "line.json")
        if os.path.exists(path):
            import json

            with open(path) as f:
                saved = json.load(f)
            differ = [k for k, v in self.config.items() if saved["config"].get(k) != v]
            if differ:
                said = "; ".join(
                    "protocol" if k == "protocol" else f"{k} {saved['config'].get(k)}, not {self.config[k]}"
                    for k in differ
                )
                raise ValueError(f"{path} holds a line with other settings ({said}): use another out")
            # (points saved before each had its own batch size were all of the line's)
            self.points = [dict(p, replicas=p.get("replicas", self.config["replicas"])) for p in saved["points"]]

    def params(self, s):
        """a(s), (4,)."""
        return np.array(self.config["start"]) + float(s) * np.array(self.config["direction"])

    def point(self, s, progress=False, round=0, replicas=None):
        """Measure the point at s on ``replicas`` replicas per lattice (default: the line's) or
        return it, if this line has it already (``round``: which refinement round asks for it, 0
        for the scan, recorded): a dict with ``s``, ``round``, ``replicas``, ``a``, ``t_H``,
        ``t_T`` (steps, inf: not reached), ``se_H``, ``se_T`` (bootstrap SE of ln t1/2), ``y`` =
        ln(k_H/k_T) = ln t_T - ln t_H and ``se_y`` (None where a half-time or its error is not
        finite: the point stays out of the fit), ``used``, ``failed`` (lattice seed: cause),
        ``first_seed``, ``wall`` (s)."""
        s, c = float(s), self.config
        R = c["replicas"] if replicas is None else _checks.integer("replicas", replicas, lo=2)
        for p in self.points:
            if p["s"] == s and p["replicas"] == R:
                return p
        first = max((p["first_seed"] + p["replicas"] for p in self.points), default=c["first_seed"])
        a, t0 = self.params(s), time.perf_counter()
        p = dict(s=s, round=int(round), replicas=R, a=a.tolist(), first_seed=first, used={}, failed={})
        for lattice in hc.LATTICES:
            seeds = range(first, first + R)
            ens = hc._ensemble(a, lattice, seeds, self.protocol, self.threads, self.communicator, self.max_failed)
            steps, v = hc.observe_past_half(ens, lattice, c["every"][lattice], c["max_steps"][lattice], c["past"])
            ok = ~np.isnan(v).any(axis=1)
            key = lattice[0].upper()
            p[f"t_{key}"] = hc.half_time(steps, v[ok].mean(axis=0))
            p[f"se_{key}"] = log_half_time_se(steps, v)
            p["used"][lattice] = int(ok.sum())
            p["failed"].update({f"{lattice} {k}": str(f) for k, f in hc._by_seed(ens.failures, seeds).items()})
        # (a batch whose resamples do not all reach 1/2 has no finite error: it stays out of the fit)
        finite = all(math.isfinite(p[k]) for k in ("t_H", "t_T", "se_H", "se_T"))
        p["y"] = math.log(p["t_T"]) - math.log(p["t_H"]) if finite else None
        p["se_y"] = math.hypot(p["se_H"], p["se_T"]) if finite else None
        p["wall"] = time.perf_counter() - t0
        self.points.append(p)
        main = self.communicator.partition == 0  # one writer under mpirun
        if main:
            self._save()
        if progress and main:
            if finite:
                ratio = f"{math.exp(p['y']):.4f} ± {p['se_y'] * math.exp(p['y']):.4f}"
            elif math.isfinite(p["t_H"]) and math.isfinite(p["t_T"]):
                ratio = f"{p['t_T'] / p['t_H']:.4f} (some resamples never reach 1/2: left out of the fit)"
            else:
                ratio = hc.NOT_REACHED
            left = f"; left out: {', '.join(p['failed'])}" if p["failed"] else ""  # (lattice seed: cause)
            print(
                f"line s = {s:+.4f}: t½_H {p['t_H']:.0f}, t½_T {p['t_T']:.0f} steps, k_H/k_T {ratio} ({p['wall']:.0f} s; "
                f"replicas used: {p['used']['honeycomb']}/{R} honeycomb, {p['used']['triangular']}/{R} triangular{left})"
            )
        return p

    def _save(self):
        from ...sweep import _write_json_atomic

        os.makedirs(self.out, exist_ok=True)
        _write_json_atomic(
            os.path.join(self.out, "line.json"), hc._json_safe(dict(config=self.config, points=self.points))
        )

    def fit(self, degree=2, points=None):
        """Weighted least squares of y = ln(k_H/k_T) against s through the points with a ``y``
        (weights 1/se_y^2; ``points``: the first that many of the line, default all): polynomial
        coefficients, highest power first, and their covariance."""
        pts = [p for p in self.points[:points] if p["y"] is not None]
        if len(pts) <= degree:
            raise ValueError(
                f"a degree-{degree} fit needs {degree + 1} points with both half-times; the line has {len(pts)}"
            )
        s = np.array([p["s"] for p in pts])
        y = np.array([p["y"] for p in pts])
        w = 1.0 / np.array([p["se_y"] for p in pts])
        coef, cov = np.polyfit(s, y, degree, w=w, cov="unscaled")
        return coef, cov

    def solve(self, ratio, degree=2, points=None):
        """The s where the fitted ln(k_H/k_T) equals ln ``ratio``, within the measured range of s
        (the root nearest the range's middle), and the fitted value's standard error there
        (ln units): ``(s, se)``, or ``(None, None)`` when the fit does not reach ``ratio`` there.
        ``points``: fit the first that many points only (default all)."""
        coef, cov = self.fit(degree, points)
        s_all = [p["s"] for p in self.points[:points] if p["y"] is not None]
        lo, hi = min(s_all), max(s_all)
        roots = np.roots(np.polysub(coef, [math.log(ratio)]))
        roots = [r.real for r in roots if abs(r.imag) < 1e-12 and lo <= r.real <= hi]
        if not roots:
            return None, None
        s = min(roots, key=lambda r: abs(r - (lo + hi) / 2))
        x = np.array([s**k for k in range(degree, -1, -1)])
        return float(s), float(np.sqrt(x @ cov @ x))


def check_window(t_T, t_H):
    """The runs that check a design of t*_T, t*_H (steps) on fresh replicas, as the ``steps`` and
    ``every`` of :func:`~hoomd_adjoint.apps.assembly.honeycomb.measure`: 1.6 t*_H and 4 t*_T, 25
    samples per t*."""
    return dict(
        steps=dict(honeycomb=int(1.6 * t_H), triangular=4 * t_T),
        every=dict(honeycomb=max(1, t_H // 25), triangular=max(1, t_T // 25)),
    )


def ratio_se(m, draws=1000, seed=0):
    """Bootstrap standard error of a measurement's k_H/k_T = t1/2_T / t1/2_H (``m`` from
    :func:`~hoomd_adjoint.apps.assembly.honeycomb.measure`): the replicas of each lattice
    resampled with replacement, a fixed generator (so a table is reproducible); a resample that
    never reaches 1/2 counts as ratio 0."""
    rng = np.random.default_rng(seed)
    H = m["honeycomb"][~np.isnan(m["honeycomb"]).any(1)]
    T = m["triangular"][~np.isnan(m["triangular"]).any(1)]
    out = []
    for _ in range(draws):
        t_H = hc.half_time(m["steps_H"], H[rng.integers(0, len(H), len(H))].mean(0))
        t_T = hc.half_time(m["steps_T"], T[rng.integers(0, len(T), len(T))].mean(0))
        out.append(t_T / t_H if math.isfinite(t_H) and math.isfinite(t_T) else 0.0)
    return float(np.std(out))


def search(
    out,
    ratios,
    toward,
    t_T=400,
    s=(-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75),
    rounds=3,
    degree=2,
    replicas=96,
    last_round_replicas=None,
    direction_replicas=128,
    start=hc.RECHTSMAN,
    every=None,
    max_steps=None,
    protocol=None,
    threads=None,
    communicator=None,
    max_failed=hc.MAX_FAILED,
    progress=False,
):
    """The whole line search for the rate ratios ``ratios`` (k_H/k_T), saved in ``out`` and resumed
    from it: ``(RatioLine, {ratio: (s, se of the fitted ln ratio)})``, ``(None, None)`` for a ratio
    outside the measured range.

    1. The direction: ``toward - start`` with the adjoint gradient of ln t1/2_T at ``start``
       (``direction_replicas`` replicas, seeds 0 ..., t*_T = ``t_T`` steps; saved in
       ``out/direction.json``) projected out.
    2. The scan: a point at each of ``s``.
    3. ``rounds`` rounds of one point at each ratio's solution of the weighted degree-``degree``
       fit through every point so far (the same s again on a rerun: it depends only on the saved
       points): ``replicas`` replicas per lattice, the last round's ``last_round_replicas``
       (default 4 ``replicas``: a point whose error is half a scan point's, where it matters).
    """
    import json

    from ...communicator import Communicator

    communicator = communicator if communicator is not None else Communicator()
    main = communicator.partition == 0
    last = _checks.integer(
        "last_round_replicas", 4 * replicas if last_round_replicas is None else last_round_replicas, lo=2
    )
    path = os.path.join(out, "direction.json")
    key = dict(start=[float(x) for x in hc._params(start)], replicas=int(direction_replicas), t_T=int(t_T))
    g = None
    if os.path.exists(path):
        with open(path) as f:
            g = json.load(f)
        differ = [f"{k} {g.get(k)}, not {v}" for k, v in key.items() if g.get(k) != v]
        if differ:
            raise ValueError(f"{path} holds the direction of other settings ({'; '.join(differ)}): use another out")
    if g is None:
        h = hc.half_time_gradient(
            start,
            "triangular",
            t_T,
            range(direction_replicas),
            protocol=protocol,
            threads=threads,
            communicator=communicator,
        )
        if h["grad"] is None:
            raise RuntimeError(f"the triangular curve at {list(key['start'])} has no half-time to move ({h['t_half']})")
        g = dict(
            key, t_half=h["t_half"], grad_ln_t=(h["grad"] / h["t_half"]).tolist(), toward=[float(x) for x in toward]
        )
        if main:
            from ...sweep import _write_json_atomic

            os.makedirs(out, exist_ok=True)
            _write_json_atomic(path, g)
    line = RatioLine(
        out,
        start,
        direction(start, toward, g["grad_ln_t"]),
        replicas=replicas,
        every=every,
        max_steps=max_steps,
        protocol=protocol,
        threads=threads,
        communicator=communicator,
        max_failed=max_failed,
    )
    for x in s:
        line.point(x, progress=progress)
    # Each refinement point's s comes from the fit through every point measured before it, so a
    # resumed search replays the same sequence and reuses the saved points in order.
    n = len({float(x) for x in s})  # (the scan's points come first)
    for k in range(1, rounds + 1):
        R = last if k == rounds else replicas
        for r in ratios:
            x, _ = _solve(line, r, degree, n)
            if x is None:
                continue
            x = round(x, 4)
            if n < len(line.points) and (line.points[n]["s"], line.points[n]["replicas"]) != (x, R):
                saved = line.points[n]
                raise ValueError(
                    f"{line.out}/line.json: point {n} is at s = {saved['s']} on "
                    f"{saved['replicas']} replicas, where this search asks for s = {x} on {R} "
                    "(saved by another version or settings): use another out"
                )
            line.point(x, progress=progress, round=k, replicas=R)
            n += 1
    return line, {r: _solve(line, r, degree) for r in ratios}


def _solve(line, ratio, degree, points=None):
    try:
        return line.solve(ratio, degree, points)
    except ValueError:  # too few points with a ratio (tiny batches)
        return None, None


def plot(path, line, checks, ratios, t_T, degree=2, scan=None, check_replicas=None, protocol=None):
    """The line search in two panels: each point's k_H/k_T (± bootstrap SE) against s with the
    fitted curve (± its SE), the target ``ratios`` and the ``checks`` (dicts with ``s``,
    ``achieved``, ``se``, ``k_T``: each design measured on ``check_replicas`` fresh replicas;
    optionally ``pooled``, ``pooled_se``, ``pooled_replicas``: on more);
    and t1/2_T along the line against t*_T = ``t_T``. The first ``scan`` points are the scan's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [p for p in line.points if p["y"] is not None]
    scan = len(pts) if scan is None else scan
    R = line.config["replicas"]
    refined = [p for p in pts if line.points.index(p) >= scan]
    larger = sorted({p["replicas"] for p in refined} - {R})  # (the last round's)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.5, 4.6))
    for group, fmt, label in (
        (
            [p for p in pts if line.points.index(p) < scan],
            "o",
            f"scan points ({R} replicas per lattice, ± bootstrap SE)",
        ),
        (
            [p for p in refined if p["replicas"] == R],
            "s",
            f"refinement points (at each target's solution; {R} replicas)",
        ),
        *(
            ([p for p in refined if p["replicas"] == n], "^", f"last round's refinement points ({n} replicas)")
            for n in larger
        ),
    ):
        if group:
            y, e = np.array([p["y"] for p in group]), np.array([p["se_y"] for p in group])
            ax.errorbar(
                [p["s"] for p in group],
                np.exp(y),
                yerr=[np.exp(y) - np.exp(y - e), np.exp(y + e) - np.exp(y)],
                fmt=fmt,
                color="tab:blue",
                mfc="none" if fmt != "o" else None,
                ms=4,
                capsize=2,
                label=label,
            )
    if len(pts) > degree:
        coef, cov = line.fit(degree)
        x = np.linspace(min(p["s"] for p in pts), max(p["s"] for p in pts), 200)
        X = np.vander(x, degree + 1)
        f, sd = X @ coef, np.sqrt(np.einsum("ij,jk,ik->i", X, cov, X))
        ax.fill_between(x, np.exp(f - sd), np.exp(f + sd), color="tab:blue", alpha=0.2, lw=0)
        ax.plot(x, np.exp(f), color="tab:blue", lw=1, label=f"weighted degree-{degree} fit (± SE)")
    for k, r in enumerate(ratios):
        ax.axhline(r, color="tab:green", lw=0.6, ls=":", label="targets" if k == 0 else None, gid="reference")
    done = [c for c in checks if c["achieved"] > 0]
    where = f"{check_replicas} fresh replicas" if check_replicas else "fresh replicas"
    if done:
        ax.errorbar(
            [c["s"] for c in done],
            [c["achieved"] for c in done],
            yerr=[c["se"] for c in done],
            fmt="D",
            color="k",
            ms=5,
            capsize=3,
            label=f"designs checked on {where} (± bootstrap SE)",
        )
    more = [c for c in done if c.get("pooled")]
    if more:  # the same designs on more fresh replicas (the check's and the next seeds)
        ax.errorbar(
            [c["s"] + 0.02 for c in more],
            [c["pooled"] for c in more],
            yerr=[c["pooled_se"] for c in more],
            fmt="D",
            mfc="none",
            color="k",
            ms=5,
            capsize=3,
            label=f"the same on {more[0]['pooled_replicas']} fresh replicas (drawn at s + 0.02)",
        )
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))  # 0.06, not 6 x 10^-2
    some = FuncFormatter(lambda v, _: f"{v:.3g}" if round(v / 10 ** math.floor(math.log10(v))) in (2, 3, 5) else "")
    ax.yaxis.set_minor_formatter(some)
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set(
        xlabel="s: a = start + s d\n(d: toward the Fig. 1 design, ln t½_T's gradient projected out)",
        ylabel="k_H / k_T",
        title="the line search: k_H / k_T along the line",
    )
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.22), ncol=2)
    tT = np.array([p["t_T"] for p in pts])
    bx.errorbar(
        [p["s"] for p in pts],
        tT,
        yerr=np.array([p["se_T"] for p in pts]) * tT,
        fmt="o",
        color="tab:orange",
        ms=4,
        capsize=2,
        label="line points (± bootstrap SE)",
    )
    if done:
        bx.plot([c["s"] for c in done], [1 / c["k_T"] for c in done], "D", color="k", ms=5, label=f"checks ({where})")
    bx.axhline(t_T, color="tab:green", lw=1, label=f"t*_T = {t_T} steps")
    N = f" (N = {protocol.N})" if protocol is not None else ""
    bx.set(xlabel="s", ylabel="t½_T (steps)", title=f"the triangular half-time along the line{N}")
    bx.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.15), ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
