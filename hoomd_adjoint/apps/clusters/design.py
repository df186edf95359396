"""Design of transition barriers and Kramers rates between two adjacent cluster states through
the 21 binding energies B (PNAS 2021, Eqs. 5 and 6; Figs. 3B and 4).

    barriers:  L = (dE_ab - dE*_ab)^2 + (dE_ba - dE*_ba)^2          (Eq. 5)
    rates:     L = ((k_ab - k*_ab) / k*_ab)^2 + ((k_ba - k*_ba) / k*_ba)^2

The rate loss is Eq. 6 with each term divided by its target squared. It has the same minimum
(k = k*), but Eq. 6 as printed weighs the two terms by the rates' magnitudes: with a rate ten
times the other, the smaller one's gradient is lost under the larger one's (measured: a 23 %
error left on k*_ab = 0.018 next to k*_ba = 1.75 after 18 iterations, against 0.09 % scaled).

RMSProp on B; every ``steps`` optimisation steps (one "iteration", 50 in the paper) the
transition state is found again by a doubly nudged elastic band (warm-started from the last
band). Between band searches this implementation follows the two minima and the saddle by
Newton steps after every change of B, so every loss value and gradient is exact at the current
B (envelope theorem for barriers, implicit differentiation for the rate prefactors); the paper
instead held the positions fixed for the 50 steps. B is kept above ``B_min`` (the model needs
B > 0). The step size halves every ``anneal`` iterations: RMSProp steps are about lr per
parameter, and the 0.2 % goal on a 3 kT barrier is 0.006 kT.

Several transitions from one state a (to b_1 .. b_K) are designed at once by summing their
losses (the designability study, Fig. 5).

``optimizer="gauss-newton"`` instead takes damped, minimum-norm Gauss-Newton steps
dB = -J^+ r (J: the values' exact B-Jacobian at the followed stationary points, r: the
residuals), each capped at ``trust`` kT per parameter and halved until the loss falls with every
state and saddle kept. RMSProp moves all 21 B by about lr each, including those the targets do
not need, and at short range that loses states (Fig. 5 at alpha = 40: 77 of 511 designs); the
minimum-norm step changes B only along the rows of J.
"""

import dataclasses
import time

import numpy as np

from ...optim import RMSProp
from ...transitions import geometry, kramers, point, stationary
from . import paths

__all__ = ["design", "Result", "OBJECTIVES", "OPTIMIZERS"]

OBJECTIVES = ("barriers", "rates")
OPTIMIZERS = ("rmsprop", "gauss-newton")


@dataclasses.dataclass
class Result:
    """An optimisation: final ``B``; the achieved ``values`` (K, 2) (barriers in kT or rates in
    1/time; forward a->b_k, then backward) against ``target`` (K, 2), their relative ``errors``;
    the loss per step (``losses``); one record per iteration (``iterations``: B, values, band
    energies, whether every band search succeeded); the wall time in seconds; the final
    stationary points ``a``, ``b`` (K, N, 3) and ``ts`` (K, N, 3); ``adjacent`` (K): whether quenches
    from the final saddle still end in a and b_k (one barrier; a warning says when not)."""

    objective: str
    target: np.ndarray
    B: np.ndarray
    values: np.ndarray
    losses: list
    iterations: list
    seconds: float
    a: np.ndarray = None
    b: np.ndarray = None
    ts: np.ndarray = None
    adjacent: list = None

    @property
    def errors(self):
        return np.abs(self.values - self.target) / np.abs(self.target)

    @property
    def loss(self):
        return self.losses[-1]

    def summary(self):
        """JSON-safe summary."""
        return dict(
            objective=self.objective,
            target=self.target.tolist(),
            values=self.values.tolist(),
            errors=self.errors.tolist(),
            B=self.B.tolist(),
            loss=self.loss,
            seconds=self.seconds,
            refound=[it["refound"] for it in self.iterations],
            adjacent=self.adjacent,
            # the final stationary points, so that a design can be re-checked from its JSON
            # (Cluster(B), then energies, Hessians, a fresh band between a and b)
            points=None
            if self.a is None
            else dict(a=np.asarray(self.a).tolist(), b=np.asarray(self.b).tolist(), ts=np.asarray(self.ts).tolist()),
        )


def _evaluate(cluster, xa, xb, xs, objective, kT, gamma, gradient=True, exact=True):
    """Values (K, 2) (forward, backward per path) and their B-gradients (K, 2, P). Barriers need
    only energies and dU/dB (envelope theorem); rates the Kramers machinery. ``exact=False``
    accepts points that are no longer stationary (the paper's fixed positions)."""
    if objective == "barriers":
        K = len(xb)
        d = cluster.derivatives(np.concatenate([[xa], xb, xs]).reshape(2 * K + 1, -1), wrt_B=gradient)
        if exact and np.abs(d["gradient"]).max() > 1e-6:
            raise ValueError("design: a state or saddle is not stationary")
        E = d["energy"]
        vals = np.stack([E[K + 1 :] - E[0], E[K + 1 :] - E[1 : K + 1]], axis=1)
        if not gradient:
            return vals, None
        phi = d["dE"]
        return vals, np.stack([phi[K + 1 :] - phi[0], phi[K + 1 :] - phi[1 : K + 1]], axis=1)
    gtol = 1e-6 if exact else np.inf
    A = point(cluster, xa, gradient=gradient, implicit=exact, gtol=gtol, name="state a")
    vals, grads = [], []
    for b, t in zip(xb, xs):
        S = point(cluster, t, gradient=gradient, implicit=exact, gtol=gtol, name="saddle")
        B = point(cluster, b, gradient=gradient, implicit=exact, gtol=gtol, name="state b")
        fwd = kramers(cluster, A, S, kT=kT, gamma=gamma, gradient=gradient)
        bwd = kramers(cluster, B, S, kT=kT, gamma=gamma, gradient=gradient)
        vals.append([fwd.k, bwd.k])
        grads.append([fwd.d_k, bwd.d_k])
    return np.array(vals), (np.array(grads) if gradient else None)


def _minimum(cluster, x):
    """The minimum that state x has moved to at the cluster's new B: Newton steps from x, or, when
    they fail (their basin of convergence is narrow at short range: at alpha = 40, from R2 moved
    by 0.005 at random, 3 of 10 starts fail), a full minimisation that must end in the same state
    (short-range contact graph and handedness). RuntimeError if it does not: the state is gone at
    this B."""
    from .packings import handedness, state_contacts

    try:
        return stationary(cluster, x, index=0)
    except (ValueError, RuntimeError):
        # minimize keeps L-BFGS's point where its last Newton steps fail (floppy clusters): here
        # the point must be a minimum to rounding, or the state counts as lost
        y = stationary(cluster, cluster.minimize(x), index=0)
        if (state_contacts(cluster, y), handedness(y)) != (state_contacts(cluster, x), handedness(x)):
            raise RuntimeError("the state is no longer a minimum: it relaxes into another") from None
        return geometry.align(y, x)


def _follow(cluster, xa, xb, xs, images, bands):
    """The minima and saddles at the cluster's new B, by Newton steps from the old ones; a saddle
    that changed index is searched for again by a band. None if a state or a saddle is lost."""
    try:
        xa = _minimum(cluster, xa)
        xb = [_minimum(cluster, b) for b in xb]
    except (ValueError, RuntimeError):
        return None
    out = []
    for b, t, band in zip(xb, xs, bands):
        try:
            out.append(stationary(cluster, t, index=1))
        except (ValueError, RuntimeError):
            p = paths.connect(cluster, xa, b, images=images, band=band, check=False, max_iter=2000)
            if p is None:
                return None
            out.append(p.ts)
    return xa, xb, out


class _Saddles:
    """The transition states of K designed transitions, found again at each iteration's B: by
    Newton steps from the last saddle (``mode="newton"``, a band only when that fails) or by a
    band (a DNEB, ``mode="band"``), warm-started from the last band."""

    def __init__(self, cluster, K, images, follow, mode):
        self.cluster, self.images, self.follow, self.mode = cluster, images, follow, mode
        self.xs, self.bands = [None] * K, [None] * K

    def find(self, xa, xb, first, B):
        """(band energies per transition (None where none was run), whether every band search
        succeeded)."""
        energies, ok = [], True
        for k in range(len(xb)):
            if self.mode == "newton" and self.xs[k] is not None:
                try:
                    self.xs[k] = stationary(self.cluster, self.xs[k], index=1)
                    energies.append(None)
                    continue
                except (ValueError, RuntimeError):
                    pass
            p = self._band(xa, xb[k], k, first)
            if p is None and self.xs[k] is None:
                raise RuntimeError(f"design: state a and state b[{k}] are not adjacent (no single-barrier band)")
            if p is None and not self.follow:
                raise RuntimeError(f"design: the saddle between a and b[{k}] was lost at B = {B.tolist()}")
            if p is None:
                ok = False  # the band search failed at this B: keep following the last saddle
                energies.append(None)
            else:
                self.xs[k], self.bands[k] = p.ts, p.band.images
                energies.append(p.band.energies.tolist())
        return energies, ok

    def _band(self, xa, xb, k, first):
        # the last band as a warm start, kept when it still shows one clean barrier; else a fresh
        # band from the straight line (a warm start can drift into another valley)
        p = None
        if self.bands[k] is not None:
            p = paths.connect(self.cluster, xa, xb, images=self.images, band=self.bands[k], check=False, max_iter=5000)
            if p is not None and len(p.band.maxima(prominence=2e-2 * p.band.barrier)) != 1:
                p = None
        if p is None:
            p = paths.connect(self.cluster, xa, xb, images=self.images, check=first)
        return p


def _check_input(b, target, objective, search, optimizer, follow, **counts):
    """The states b as (K, N, 3) and the targets as (K, 2), or a ValueError naming the argument."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if optimizer == "gauss-newton" and not follow:
        raise ValueError("optimizer='gauss-newton' needs follow=True (its steps use the exact Jacobian)")
    if search not in ("band", "newton"):
        raise ValueError(f"search must be 'band' or 'newton', got {search!r}")
    xb = np.asarray(b, dtype=np.float64)
    xb = xb.reshape((1,) + xb.shape) if xb.ndim == 2 else xb
    K = len(xb)
    target = np.asarray(target, dtype=np.float64)
    if target.size != 2 * K or not np.all(np.isfinite(target)) or np.any(target <= 0):
        raise ValueError(f"target must be {K} pair(s) of positive numbers (forward, backward), got {target.tolist()}")
    target = target.reshape(K, 2)
    for name, v in counts.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return xb, target


def _lost(B, where):
    """The error of a design whose every step back still loses a state or a saddle."""
    return RuntimeError(
        f"design: a state or saddle changes character (e.g. the saddle gains a second unstable mode) {where} "
        f"B = {B.tolist()}"
    )


def _gauss_newton(cluster, points, values, grads, target, weight, evaluate, images, bands, B_min, trust):
    """One damped minimum-norm Gauss-Newton step from the cluster's B and the stationary
    ``points`` (xa, xb, xs), with their ``values`` and B-gradients ``grads``: the step -J^+ r, scaled to at most ``trust`` kT per parameter and
    halved (up to 6 times) until every state and saddle is kept and the loss falls. Returns
    (B, points, trust for the next step), or None when even the smallest step keeps the structure
    but does not lower the loss (converged: a least-squares point). RuntimeError when the smallest
    step still loses a state or a saddle (the landscape changes here, as in RMSProp)."""
    B = cluster.B.copy()
    r = ((values - target) / weight).ravel()
    J = (grads / weight[..., None]).reshape(len(r), -1)
    step = -np.linalg.lstsq(J, r, rcond=1e-10)[0]
    for _ in range(7):
        cluster.set_B(np.maximum(B + step * min(1.0, trust / np.abs(step).max()), B_min))
        moved = _follow(cluster, *points, images, bands)
        if moved is not None and np.sum(((evaluate(*moved, gradient=False)[0] - target) / weight) ** 2) < r @ r:
            return cluster.B.copy(), moved, min(2.0 * trust, 1.0)
        trust *= 0.5
    cluster.set_B(B)
    if moved is None:
        raise _lost(B, f"within {2 * trust:.3g} kT of")
    return None


def _rmsprop_steps(cluster, states, saddles, target, weight, evaluate, opt, scale, n, tol, B_min, follow, losses, bar):
    """Up to n RMSProp steps (step sizes ``scale`` times the optimiser's) from the states (xa, xb)
    and ``saddles.xs`` (updated when followed); returns (B, xa, xb, done): done once every value
    is within ``tol``. A step that loses a state or a saddle is taken back and halved, up to 6
    times in a row (RuntimeError after that)."""
    xa, xb = states
    B, shrink, backtracks = cluster.B.copy(), 1.0, 0
    for _ in range(n):
        values, grads = evaluate(xa, xb, saddles.xs, exact=follow)
        r = (values - target) / weight
        losses.append(float(np.sum(r * r)))
        if tol is not None and np.all(np.abs(values - target) < tol * target):
            return B, xa, xb, True
        g = 2.0 * np.einsum("kd,kdp->p", r / weight, grads)
        B_new = np.maximum(opt.step(B, g, scale * shrink), B_min)
        cluster.set_B(B_new)
        if not follow:
            B = B_new
            bar.update()
            continue
        moved = _follow(cluster, xa, xb, saddles.xs, saddles.images, saddles.bands)
        if moved is None:  # a state or a saddle changed character: step back, smaller
            cluster.set_B(B)
            shrink *= 0.5
            backtracks += 1
            if backtracks > 6:  # a step 64 times smaller still loses them: the landscape changes here
                raise _lost(B, "beyond")
            continue
        B, (xa, xb, saddles.xs), backtracks = B_new, moved, 0
        bar.update()
    return B, xa, xb, False


def _gauss_newton_steps(cluster, states, saddles, target, weight, evaluate, n, tol, B_min, trust, losses, bar):
    """Up to n :func:`_gauss_newton` steps from the states (xa, xb) and ``saddles.xs`` (updated);
    returns (B, xa, xb, trust, done): done once every value is within ``tol`` or no step lowers
    the loss (converged to rounding)."""
    xa, xb = states
    for _ in range(n):
        values, grads = evaluate(xa, xb, saddles.xs)
        losses.append(float(np.sum(((values - target) / weight) ** 2)))
        if tol is not None and np.all(np.abs(values - target) < tol * target):
            return cluster.B.copy(), xa, xb, trust, True
        points = (xa, xb, saddles.xs)
        moved = _gauss_newton(
            cluster, points, values, grads, target, weight, evaluate, saddles.images, saddles.bands, B_min, trust
        )
        if moved is None:
            return cluster.B.copy(), xa, xb, trust, True
        B, (xa, xb, saddles.xs), trust = moved
        bar.update()
    return cluster.B.copy(), xa, xb, trust, False


def design(
    cluster,
    a,
    b,
    target,
    objective="barriers",
    iterations=18,
    steps=50,
    lr=0.05,
    anneal=2,
    kT=1.0,
    gamma=1.0,
    images=100,
    B_min=0.5,
    tol=None,
    follow=True,
    search="band",
    optimizer="rmsprop",
    progress=False,
):
    """Optimise ``cluster.B`` so that the transition(s) a <-> b have the ``target`` barriers or rates.

    Args:
        cluster: a :class:`~hoomd_adjoint.apps.clusters.Cluster`; its B is the start, and is left at
            the optimum.
        a: the state (positions, (N, 3)).
        b: an adjacent state (N, 3), or K of them (K, N, 3) to design K transitions at once.
        target: (forward, backward) per transition, shape (2,) or (K, 2): barriers a->b and
            b->a (kT), or rates (1/time).
        objective: ``"barriers"`` (Eq. 5) or ``"rates"`` (Eq. 6, scaled by the targets).
        iterations, steps: band searches, and RMSProp steps after each (18 and 50 in the paper).
        lr, anneal: RMSProp step size (kT per parameter), halved every ``anneal`` iterations.
        kT, gamma: temperature and drag of the Kramers rates.
        images: interior images of the bands.
        B_min: lower bound on every B (kT).
        tol: stop early once every relative error is below this (default: run everything).
        follow: follow the stationary points by Newton steps after every step (exact losses and
            gradients); False holds them fixed between band searches, as the paper did.
        search: how each iteration finds the transition states again: ``"band"`` (a DNEB, as
            in the paper) or ``"newton"`` (Newton steps from the last saddle, a band only when
            that fails: far cheaper when many transitions are designed at once).
        optimizer: ``"rmsprop"`` (the paper's) or ``"gauss-newton"`` (minimum-norm steps, see
            the module; ``iterations * steps`` steps at most, with ``follow=True``).
        progress: show a progress bar.

    Returns:
        :class:`Result`.
    """
    from tqdm.auto import tqdm

    xb, target = _check_input(
        b, target, objective, search, optimizer, follow, iterations=iterations, steps=steps, anneal=anneal
    )
    K = len(xb)
    weight = target if objective == "rates" else np.ones_like(target)
    t0 = time.perf_counter()
    opt = RMSProp(lr)
    B = cluster.B.copy()
    xa = stationary(cluster, a, index=0)
    xb = [geometry.align(stationary(cluster, y, index=0), xa) for y in xb]
    saddles = _Saddles(cluster, K, images, follow, search)
    trust = 1.0  # Gauss-Newton: the largest change of any B in one step (kT)

    def evaluate(xa, xb, xs, gradient=True, exact=True):
        return _evaluate(cluster, xa, xb, xs, objective, kT, gamma, gradient=gradient, exact=exact)

    losses, record = [], []
    bar = tqdm(total=iterations * steps, disable=not progress, desc=f"{objective} design")

    done = False
    warned = set()  # transitions whose loss of adjacency was reported
    for it in range(iterations):
        if not follow and it > 0:  # the fixed points are stale: minimise the states again
            try:
                xa = _minimum(cluster, xa)
                xb = [_minimum(cluster, y) for y in xb]
            except (ValueError, RuntimeError) as e:
                raise RuntimeError(f"design: a state was lost at B = {B.tolist()}: {e}") from None
        energies, ok = saddles.find(xa, xb, it == 0, B)
        values, _ = _evaluate(cluster, xa, xb, saddles.xs, objective, kT, gamma, gradient=False)
        record.append(dict(iteration=it, B=B.tolist(), values=values.tolist(), band_energies=energies, refound=ok))
        record[-1]["adjacent"] = _recheck(cluster, xa, xb, saddles.xs, f"at iteration {it}", warned)
        scale = 0.5 ** (it // anneal)
        if optimizer == "gauss-newton":
            B, xa, xb, trust, done = _gauss_newton_steps(
                cluster, (xa, xb), saddles, target, weight, evaluate, steps, tol, B_min, trust, losses, bar
            )
        else:
            B, xa, xb, done = _rmsprop_steps(
                cluster, (xa, xb), saddles, target, weight, evaluate, opt, scale, steps, tol, B_min, follow, losses, bar
            )
        if done:
            break
    bar.close()
    if not follow:  # the stationary points at the final B
        xa = _minimum(cluster, xa)
        xb = [_minimum(cluster, y) for y in xb]
        saddles.xs = [stationary(cluster, t, index=1) for t in saddles.xs]
    energies, ok = saddles.find(xa, xb, False, B)
    values, _ = _evaluate(cluster, xa, xb, saddles.xs, objective, kT, gamma, gradient=False)
    r = (values - target) / weight
    losses.append(float(np.sum(r * r)))
    record.append(dict(iteration=len(record), B=B.tolist(), values=values.tolist(), band_energies=energies, refound=ok))
    seconds, adjacent = time.perf_counter() - t0, _recheck(cluster, xa, xb, saddles.xs, "at the final B", warned)
    record[-1]["adjacent"] = adjacent
    points = (xa, np.array(xb), np.array(saddles.xs))
    return Result(objective, target, B, values, losses, record, seconds, *points, adjacent)


def _adjacent(cluster, xa, xb, xs):
    """Per transition k: whether saddle xs[k] still is an index-1 saddle from which quenches,
    displaced both ways along its unstable mode, end in a and in b_k (one barrier: steepest
    descent joins them through it alone). About 7 ms per transition at alpha = 5. Not a fresh
    band: from the straight line a band can pass b, detour over a second barrier to a third state
    and come back to b (measured at the (3, 5) kT design: barriers 0.96 and 2.08 kT to a state
    1.1 kT above b), which reads as an intermediate minimum although the saddle joins a and b."""
    out = []
    for k in range(len(xb)):
        try:
            same = paths.joins(paths.descend(cluster, stationary(cluster, xs[k], index=1)), xa, xb[k])
        except (ValueError, RuntimeError):
            same = False
        out.append(bool(same))
    return out


def _recheck(cluster, xa, xb, xs, where="at the final B", warned=None):
    """:func:`_adjacent`, with a RuntimeWarning naming each transition that is no longer one
    barrier (once per transition: those in ``warned`` are not named again; ``warned`` grows)."""
    import warnings

    warned = set() if warned is None else warned
    out = _adjacent(cluster, xa, xb, xs)
    for k in [k for k, ok in enumerate(out) if not ok and k not in warned]:
        warned.add(k)
        warnings.warn(
            f"design: transition a -> b[{k}] is no longer one barrier {where}: quenches from its saddle "
            "do not end in a and b",
            RuntimeWarning,
            stacklevel=3,
        )
    return out
