"""Minimum-energy paths by the doubly nudged elastic band (Trygubenko and Wales, J. Chem. Phys.
120, 2082 (2004)), with the improved tangent of Henkelman and Jonsson (J. Chem. Phys. 113, 9978
(2000)) and an optional climbing image (Henkelman, Uberuaga and Jonsson, ibid. 9901).

A band of images between two minima relaxes under, for each interior image i with unit tangent t:

    F_i = -grad_perp V_i + k (|x_{i+1} - x_i| - |x_i - x_{i-1}|) t + F~_i,

the true force without its component along the path, the springs' force along it, and (the
"doubly nudged" part) the springs' perpendicular force with its component along the true
perpendicular force removed, F~ = F_s_perp - (F_s_perp . g^) g^. The climbing image feels
-grad V + 2 (grad V . t) t and no springs, so it ends on the saddle.

Works for any ``fun(x) -> (energy, gradient)`` of a flat coordinate vector (a
:class:`~hoomd_adjoint.clusters.Cluster`'s ``energy_and_gradient``, an analytic surface).
"""
import dataclasses

import numpy as np

from . import _checks

__all__ = ["Band", "neb"]


@dataclasses.dataclass
class Band:
    """A relaxed band: ``images`` (M+2, n) including the end points, their ``energies``, the
    index ``ts`` of the highest image (the transition state when climbing), and the reaction
    coordinate ``s`` (cumulative distance along the band, 0 at the start)."""
    images: np.ndarray
    energies: np.ndarray
    ts: int
    steps: int

    @property
    def s(self):
        return np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(self.images, axis=0), axis=1))]

    @property
    def transition_state(self):
        return self.images[self.ts]

    @property
    def barrier(self):
        """Energy of the highest image above the start."""
        return float(self.energies[self.ts] - self.energies[0])


def _tangent(x_prev, x, x_next, v_prev, v, v_next):
    """The improved (energy-weighted upwind) tangent of Henkelman and Jonsson, normalised."""
    tp, tm = x_next - x, x - x_prev
    if v_next > v > v_prev:
        t = tp
    elif v_next < v < v_prev:
        t = tm
    else:
        big, small = max(abs(v_next - v), abs(v_prev - v)), min(abs(v_next - v), abs(v_prev - v))
        t = tp * big + tm * small if v_next > v_prev else tp * small + tm * big
    n = np.linalg.norm(t)
    return t / n if n > 0 else tm / np.linalg.norm(tm)


def band_forces(X, V, G, k, climb):
    """Forces on the interior images of band X (M+2, n) with energies V and gradients G."""
    F = np.zeros_like(X)
    top = 1 + int(np.argmax(V[1:-1])) if climb else -1
    for i in range(1, len(X) - 1):
        t = _tangent(X[i - 1], X[i], X[i + 1], V[i - 1], V[i], V[i + 1])
        g = G[i]
        if i == top:
            F[i] = -g + 2.0 * (g @ t) * t
            continue
        g_perp = g - (g @ t) * t
        dp, dm = X[i + 1] - X[i], X[i] - X[i - 1]
        spring = k * (dp - dm)
        f_par = k * (np.linalg.norm(dp) - np.linalg.norm(dm)) * t
        s_perp = spring - (spring @ t) * t
        gn = np.linalg.norm(g_perp)
        dneb = s_perp - (s_perp @ g_perp) * g_perp / (gn * gn) if gn > 0 else 0.0
        F[i] = -g_perp + f_par + dneb
    return F


def neb(fun, start, end, images=100, k=1.0, climb=True, ftol=1e-4, max_iter=100000, dt=0.01, dt_max=0.1,
        max_step=0.05, band=None):
    """Relax a doubly nudged elastic band between ``start`` and ``end``.

    Args:
        fun: ``fun(x) -> (energy, gradient)`` for one configuration (flat array).
        start, end: the end points (minima); they stay fixed.
        images: interior images (default 100), first placed on the straight line.
        k: spring constant (energy / length^2).
        climb: make the highest image climb to the saddle (after the band has half converged).
        ftol: converged when no interior image feels a force component above this.
        dt, dt_max, max_step, max_iter: the FIRE settings (:func:`hoomd_adjoint.optim.fire`).
        band: a starting band (images+2, n) instead of the straight line.

    Returns:
        :class:`Band`.
    """
    from .optim import fire

    images = _checks.integer("images", images, lo=1)
    a = np.asarray(start, dtype=np.float64).ravel()
    b = np.asarray(end, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"start and end differ in size: {a.size} and {b.size}")
    if band is None:
        X = a + np.linspace(0.0, 1.0, images + 2)[:, None] * (b - a)
    else:
        X = np.array(band, dtype=np.float64).reshape(images + 2, a.size)
    ends = [fun(a), fun(b)]
    state = dict(climb=False, band=None)

    def evaluate(flat):
        Y = np.vstack([a, flat.reshape(images, a.size), b])
        out = [ends[0]] + [fun(y) for y in Y[1:-1]] + [ends[1]]
        V = np.array([float(o[0]) for o in out])
        G = np.array([np.asarray(o[1], dtype=np.float64).ravel() for o in out])
        F = band_forces(Y, V, G, k, state["climb"])
        state["band"] = (Y, V)
        return float(V.sum()), -F[1:-1].ravel()

    steps = 0
    # climbing starts once the band is roughly in place (10 ftol), so it climbs the right hill
    stages = [(10 * ftol, False), (ftol, True)] if climb else [(ftol, False)]
    x = X[1:-1].ravel()
    for tol, c in stages:
        state["climb"] = c
        x, _, n = fire(evaluate, x, ftol=tol, dt=dt, dt_max=dt_max, max_step=max_step, max_iter=max_iter)
        steps += n
    evaluate(x)
    Y, V = state["band"]
    return Band(images=Y, energies=V, ts=1 + int(np.argmax(V[1:-1])), steps=steps)
