"""Minimum-energy paths by the doubly nudged elastic band (Trygubenko and Wales, J. Chem. Phys.
120, 2082 (2004)), with the improved tangent of Henkelman and Jonsson (J. Chem. Phys. 113, 9978
(2000)) and an optional climbing image (Henkelman, Uberuaga and Jonsson, ibid. 9901).

A band of images between two minima relaxes under, for each interior image i with unit tangent t:

    F_i = -grad_perp V_i + k (|x_{i+1} - x_i| - |x_i - x_{i-1}|) t + F~_i,

the true force without its component along the path, the springs' force along it, and (the
"doubly nudged" part) the springs' perpendicular force with its component along the true
perpendicular force removed, F~ = F_s_perp - (F_s_perp . g^) g^. The climbing image feels
-grad V + 2 (grad V . t) t and no springs, so it ends on the saddle.

Works for any ``fun(x) -> (energy, gradient)`` of a flat coordinate vector, and evaluates all
images of all bands in one call when given ``batch(X) -> (energies, gradients)``. For clusters
of particles (``rigid=True``) the end point is Kabsch-aligned onto the start and the rigid-body
modes are projected out of every image's force, so the band does not spend images on rotations.
"""

import dataclasses

import numpy as np

from .. import _checks
from .geometry import align, remove_rigid

__all__ = ["Band", "neb", "band_forces"]


@dataclasses.dataclass
class Band:
    """A relaxed band: ``images`` (M+2, n) including the end points, their ``energies``, the
    index ``ts`` of the highest image (the transition state when climbing), the FIRE ``steps``
    and the largest force component left, ``max_force``."""

    images: np.ndarray
    energies: np.ndarray
    ts: int
    steps: int
    max_force: float = 0.0

    @property
    def s(self):
        """Reaction coordinate: cumulative distance along the band, 0 at the start."""
        return np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(self.images, axis=0), axis=1))]

    @property
    def transition_state(self):
        return self.images[self.ts]

    @property
    def barrier(self):
        """Energy of the highest image above the start."""
        return float(self.energies[self.ts] - self.energies[0])

    def maxima(self, prominence=1e-6):
        """Indices of the interior maxima of the energy along the band that stand at least
        ``prominence`` (energy) above the lowest points on both sides of them: one for a path over
        a single barrier; more when the path passes an intermediate minimum."""
        from scipy.signal import find_peaks

        return [int(i) for i in find_peaks(self.energies, prominence=prominence)[0]]


def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


def band_forces(X, V, G, k, climb):
    """Forces on the interior images of bands X (..., M+2, n) with energies V (..., M+2) and
    gradients G (..., M+2, n); ``climb`` (bool, or one per band) makes each band's highest
    interior image climb. Returns (..., M, n)."""
    tp, tm = X[..., 2:, :] - X[..., 1:-1, :], X[..., 1:-1, :] - X[..., :-2, :]
    vp, v0, vm = V[..., 2:], V[..., 1:-1], V[..., :-2]
    # improved tangent: upwind on monotone stretches, energy-weighted at extrema
    big = np.maximum(np.abs(vp - v0), np.abs(vm - v0))[..., None]
    small = np.minimum(np.abs(vp - v0), np.abs(vm - v0))[..., None]
    t = np.where((vp > vm)[..., None], tp * big + tm * small, tp * small + tm * big)
    t = np.where(((vp > v0) & (v0 > vm))[..., None], tp, t)
    t = np.where(((vp < v0) & (v0 < vm))[..., None], tm, t)
    n = np.linalg.norm(t, axis=-1, keepdims=True)
    t = np.where(n > 0, t / np.where(n > 0, n, 1.0), tm / np.linalg.norm(tm, axis=-1, keepdims=True))
    g = G[..., 1:-1, :]
    g_perp = g - _dot(g, t)[..., None] * t
    f_par = (k * (np.linalg.norm(tp, axis=-1) - np.linalg.norm(tm, axis=-1)))[..., None] * t
    spring = k * (tp - tm)
    s_perp = spring - _dot(spring, t)[..., None] * t
    gn2 = _dot(g_perp, g_perp)[..., None]
    dneb = np.where(gn2 > 0, s_perp - _dot(s_perp, g_perp)[..., None] * g_perp / np.where(gn2 > 0, gn2, 1.0), 0.0)
    F = -g_perp + f_par + dneb
    top = np.argmax(v0, axis=-1)
    is_top = (np.arange(v0.shape[-1]) == top[..., None]) & np.asarray(climb)[..., None]
    F_climb = -g + 2.0 * _dot(g, t)[..., None] * t
    return np.where(is_top[..., None], F_climb, F)


def neb(
    fun,
    start,
    end,
    images=100,
    k=1.0,
    climb=True,
    ftol=1e-4,
    max_iter=100000,
    dt=0.01,
    dt_max=0.1,
    max_step=0.05,
    band=None,
    batch=None,
    rigid=False,
    optimizer="fire",
):
    """Relax doubly nudged elastic bands between ``start`` and ``end``.

    Args:
        fun: ``fun(x) -> (energy, gradient)`` for one configuration (flat array).
        start, end: the end points (minima), fixed; (n,) for one band or (bands, n) for several,
            relaxed together (one batched evaluation per step, FIRE state per band).
        images: interior images (default 100), first placed on the straight line.
        k: spring constant (energy / length^2).
        climb: make the highest image climb to the saddle (once the band is within 10 ftol).
        ftol: converged when no interior image feels a force component above this.
        dt, dt_max, max_step, max_iter: FIRE settings (see :func:`hoomd_adjoint.optim.fire`).
        band: starting bands (images+2, n) or (bands, images+2, n) instead of straight lines
            (a warm start; their ends are replaced by start and end).
        batch: ``batch(X) -> (energies, gradients)`` for X (m, n): all images in one call.
        rigid: the coordinates are particles (N x 3): Kabsch-align each end onto its start and
            project the rigid-body modes out of every image's force.
        optimizer: ``"fire"`` (default) or ``"lbfgs"`` (scipy L-BFGS-B on the band energy with
            the nudged forces; falls back to FIRE when its line search fails).

    Returns:
        :class:`Band`, or a list of them for several bands.
    """
    images = _checks.integer("images", images, lo=1)
    if optimizer not in ("fire", "lbfgs"):
        raise ValueError(f"optimizer must be 'fire' or 'lbfgs', got {optimizer!r}")
    a = np.asarray(start, dtype=np.float64)
    # one band: a flat vector, or (N, 3) particles with rigid=True; otherwise a leading band axis
    single = a.ndim == 1 or (rigid and a.ndim == 2 and a.shape[-1] == 3)
    b = np.asarray(end, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"start and end differ in shape: {a.shape} and {b.shape}")
    n = a.size if single else a[0].size
    a, b = a.reshape(-1, n), b.reshape(-1, n)
    nb = len(a)
    if rigid:
        if n % 3:
            raise ValueError(f"rigid=True needs N x 3 coordinates, got {n} per configuration")
        b = align(b.reshape(nb, -1, 3), a.reshape(nb, -1, 3)).reshape(nb, n)
    if band is None:
        X = a[:, None] + np.linspace(0.0, 1.0, images + 2)[None, :, None] * (b - a)[:, None]
    else:
        X = np.array(band, dtype=np.float64).reshape(nb, images + 2, n)
        X[:, 0], X[:, -1] = a, b
    if batch is None:

        def batch(Y):
            out = [fun(y) for y in Y]
            return np.array([float(o[0]) for o in out]), np.array(
                [np.asarray(o[1], dtype=np.float64).ravel() for o in out]
            )

    Ve, Ge = batch(np.concatenate([a, b]))
    Ve, Ge = Ve.reshape(2, nb), Ge.reshape(2, nb, n)

    def evaluate(inner, climbing):
        V, G = batch(inner.reshape(-1, n))
        V = np.concatenate([Ve[0][:, None], V.reshape(nb, images), Ve[1][:, None]], axis=1)
        G = np.concatenate([Ge[0][:, None], G.reshape(nb, images, n), Ge[1][:, None]], axis=1)
        Y = np.concatenate([a[:, None], inner, b[:, None]], axis=1)
        F = band_forces(Y, V, G, k, climbing)
        if rigid:
            F = remove_rigid(inner, F)
        return V, F

    inner = X[:, 1:-1].copy()
    climbing = np.zeros(nb, dtype=bool)
    steps = 0
    if optimizer == "lbfgs" and nb == 1:
        inner, steps = _lbfgs(evaluate, inner, climb, ftol, max_iter, k, a, b)
    inner, climbing, s2, V, F = _fire(evaluate, inner, climb, ftol, dt, dt_max, max_step, max_iter)
    steps += s2
    bands = []
    for m in range(nb):
        Y = np.concatenate([a[m][None], inner[m], b[m][None]])
        bands.append(
            Band(
                images=Y,
                energies=V[m],
                ts=1 + int(np.argmax(V[m, 1:-1])),
                steps=steps,
                max_force=float(np.abs(F[m]).max()),
            )
        )
    return bands[0] if single else bands


def _fire(
    evaluate,
    x,
    climb,
    ftol,
    dt,
    dt_max,
    max_step,
    max_iter,
    n_min=5,
    f_inc=1.1,
    f_dec=0.5,
    alpha_start=0.1,
    f_alpha=0.99,
):
    """FIRE with one state per band (x: bands, images, n); a band stops when converged."""
    nb = len(x)
    v = np.zeros_like(x)
    dt = np.full(nb, float(dt))
    alpha = np.full(nb, alpha_start)
    n_pos = np.zeros(nb, dtype=int)
    climbing = np.zeros(nb, dtype=bool)
    for step in range(max_iter + 1):
        V, F = evaluate(x, climbing)
        fmax = np.abs(F).reshape(nb, -1).max(axis=1)
        if climb:  # climbing starts once the band is roughly in place, so it climbs the right hill
            climbing |= fmax < 10 * ftol
        done = (fmax < ftol) & (climbing if climb else True)
        if done.all():
            return x, climbing, step, V, F
        if step == max_iter:
            break
        P = _dot(F.reshape(nb, -1), v.reshape(nb, -1))
        Fn = np.linalg.norm(F.reshape(nb, -1), axis=1)
        vn = np.linalg.norm(v.reshape(nb, -1), axis=1)
        up = P > 0
        mix = np.where(up, alpha, 0.0)[:, None, None]
        v = np.where(up[:, None, None], (1 - mix) * v + mix * (vn / np.where(Fn > 0, Fn, 1.0))[:, None, None] * F, 0.0)
        grow = up & (n_pos > n_min)
        dt = np.where(grow, np.minimum(dt * f_inc, dt_max), np.where(up, dt, dt * f_dec))
        alpha = np.where(grow, alpha * f_alpha, np.where(up, alpha, alpha_start))
        n_pos = np.where(up, n_pos + 1, 0)
        v = v + dt[:, None, None] * F
        move = dt[:, None, None] * v
        big = np.abs(move).reshape(nb, -1).max(axis=1)
        move *= (max_step / np.maximum(big, max_step))[:, None, None]  # cap the largest move
        move[done] = 0.0
        v[done] = 0.0
        x = x + move
    worst = int(np.argmax(fmax))
    raise RuntimeError(
        f"neb did not converge in {max_iter} steps: band {worst} has a force component {fmax[worst]:.3g} > ftol {ftol}"
    )


def _lbfgs(evaluate, x, climb, ftol, max_iter, k, a, b):
    """L-BFGS-B (scipy) on the band energy, with the nudged forces as its gradient. The nudged
    force field is not a gradient field, so a line search can fail: FIRE then takes over."""
    from scipy.optimize import minimize

    shape = x.shape
    count = [0]

    def f(flat):
        count[0] += 1
        inner = flat.reshape(shape)
        V, F = evaluate(inner, np.array([False]))
        Y = np.concatenate([a[:, None], inner, b[:, None]], axis=1)
        E = V[:, 1:-1].sum() + 0.5 * k * (np.diff(Y, axis=1) ** 2).sum()
        return float(E), -F.ravel()

    # bounds keep the line search's trial steps near the band (the nudged field is not a
    # gradient: unbounded trial steps can leave the region where the energy is finite)
    span = float(np.abs(b - a).max())
    x0 = x.ravel()
    res = minimize(
        f,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=list(zip(x0 - span, x0 + span)),
        options=dict(gtol=10 * ftol if climb else ftol, ftol=0.0, maxiter=max_iter, maxcor=20),
    )
    if not np.all(np.isfinite(res.x)):
        return x, count[0]
    return res.x.reshape(shape), count[0]
