"""Design of transition barriers and Kramers rates between two adjacent cluster states through
the 21 binding energies B (PNAS seed, Eqs. 5 and 6; Figs. 3B and 4).

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
"""
import dataclasses
import time

import numpy as np

from ..optim import RMSProp
from ..transitions import geometry, kramers, point, stationary
from . import paths

__all__ = ["design", "Result", "OBJECTIVES"]

OBJECTIVES = ("barriers", "rates")


@dataclasses.dataclass
class Result:
    """An optimisation: final ``B``, the achieved ``values`` (two barriers in kT or two rates in
    1/time, forward a->b then backward) against ``target``, their relative ``errors``, the loss
    per step (``losses``), one record per iteration (``iterations``: B, values, band energies,
    whether the band search succeeded), and the wall time in seconds."""
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

    @property
    def errors(self):
        return np.abs(self.values - self.target) / np.abs(self.target)

    def summary(self):
        """JSON-safe summary."""
        return dict(objective=self.objective, target=self.target.tolist(), values=self.values.tolist(),
                    errors=self.errors.tolist(), B=self.B.tolist(), loss=self.losses[-1], seconds=self.seconds,
                    refound=[it["refound"] for it in self.iterations])


def _evaluate(cluster, xa, xb, xs, objective, kT, gamma):
    """Values (forward, backward) and their B-gradients at the current stationary points."""
    rates = objective == "rates"
    S = point(cluster, xs, gradient=True, implicit=rates, name="saddle")
    fwd = kramers(cluster, xa, S, kT=kT, gamma=gamma, implicit=rates)
    bwd = kramers(cluster, xb, S, kT=kT, gamma=gamma, implicit=rates)
    if rates:
        return np.array([fwd.k, bwd.k]), np.array([fwd.d_k, bwd.d_k])
    return np.array([fwd.barrier, bwd.barrier]), np.array([fwd.d_barrier, bwd.d_barrier])


def _follow(cluster, xa, xb, xs, images, band):
    """The minima and the saddle at the cluster's new B, by Newton steps from the old ones; when
    the saddle is lost (it changed index), by a new band search. None if the states are lost."""
    try:
        xa = stationary(cluster, xa, index=0)
        xb = stationary(cluster, xb, index=0)
    except (ValueError, RuntimeError):
        return None
    try:
        return xa, xb, stationary(cluster, xs, index=1)
    except (ValueError, RuntimeError):
        p = paths.connect(cluster, xa, xb, images=images, band=band)
        return None if p is None else (xa, xb, p.ts)


def design(cluster, a, b, target, objective="barriers", iterations=18, steps=50, lr=0.05, anneal=3, kT=1.0,
           gamma=1.0, images=100, B_min=0.5, tol=None, progress=False):
    """Optimise ``cluster.B`` so that the transition a <-> b has the ``target`` barriers or rates.

    Args:
        cluster: a :class:`~hoomd_adjoint.clusters.Cluster`; its B is the start, and is left at
            the optimum.
        a, b: the two adjacent states (positions, (N, 3)).
        target: (forward, backward): barriers a->b and b->a (kT), or rates (1/time).
        objective: ``"barriers"`` (Eq. 5) or ``"rates"`` (Eq. 6).
        iterations, steps: band searches, and RMSProp steps after each (18 and 50 in the paper).
        lr, anneal: RMSProp step size (kT per parameter), halved every ``anneal`` iterations.
        kT, gamma: temperature and drag of the Kramers rates.
        images: interior images of the bands.
        B_min: lower bound on every B (kT).
        tol: stop early once every relative error is below this (default: run everything).
        progress: show a progress bar.

    Returns:
        :class:`Result`.
    """
    from tqdm.auto import tqdm

    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    target = np.asarray(target, dtype=np.float64).reshape(-1)
    if target.shape != (2,) or not np.all(np.isfinite(target)) or np.any(target <= 0):
        raise ValueError(f"target must be two positive numbers (forward, backward), got {target.tolist()}")
    for name, v in (("iterations", iterations), ("steps", steps), ("anneal", anneal)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    weight = target if objective == "rates" else np.ones(2)
    t0 = time.perf_counter()
    opt = RMSProp(lr)
    B = cluster.B.copy()
    xa = stationary(cluster, a, index=0)
    xb = geometry.align(stationary(cluster, b, index=0), xa)
    xs, band = None, None
    losses, record, backtracks = [], [], 0
    bar = tqdm(total=iterations * steps, disable=not progress, desc=f"{objective} design")
    for it in range(iterations):
        p = paths.connect(cluster, xa, xb, images=images, band=band)
        if p is None and xs is None:
            raise RuntimeError("design: the start states are not adjacent (no single-barrier band between them)")
        if p is not None:
            xs, band = p.ts, p.band.images
            energies = p.band.energies.tolist()
        else:
            energies = None  # the band search failed at this B: keep following the last saddle
        values, _ = _evaluate(cluster, xa, xb, xs, objective, kT, gamma)
        record.append(dict(iteration=it, B=B.tolist(), values=values.tolist(), band_energies=energies,
                           refound=p is not None))
        scale, shrink = 0.5 ** (it // anneal), 1.0
        for _ in range(steps):
            values, grads = _evaluate(cluster, xa, xb, xs, objective, kT, gamma)
            r = (values - target) / weight
            losses.append(float(r @ r))
            if tol is not None and np.all(np.abs(r) < tol * target / weight):
                break
            B_new = np.maximum(opt.step(B, 2.0 * r @ (grads / weight[:, None]), scale * shrink), B_min)
            cluster.set_B(B_new)
            moved = _follow(cluster, xa, xb, xs, images, band)
            if moved is None:  # the states or the saddle changed character: step back, smaller
                cluster.set_B(B)
                shrink *= 0.5
                backtracks += 1
                if backtracks > 20:
                    raise RuntimeError(f"design: the transition a <-> b cannot be followed beyond B = {B.tolist()}")
                continue
            B, (xa, xb, xs) = B_new, moved
            bar.update()
        else:
            continue
        break
    bar.close()
    values, _ = _evaluate(cluster, xa, xb, xs, objective, kT, gamma)
    r = (values - target) / weight
    losses.append(float(r @ r))
    p = paths.connect(cluster, xa, xb, images=images, band=band)
    record.append(dict(iteration=len(record), B=B.tolist(), values=values.tolist(),
                       band_energies=None if p is None else p.band.energies.tolist(), refound=p is not None))
    return Result(objective, target, B, values, losses, record, time.perf_counter() - t0, xa, xb, xs)
