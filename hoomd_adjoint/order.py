"""Local order parameters with exact gradients: 2D bond-orientational order psi_k and 3D
Steinhardt q_l, shaped like freud's compute objects (``freud.order.Hexatic``,
``freud.order.Steinhardt``).

Settings go to the constructor; ``compute(system)`` takes a GSD frame or snapshot, the
:class:`~hoomd_adjoint.adjoint.Frame` a loss receives, or a ``(box, points)`` pair, and returns
the object, whose ``particle_order`` holds the result. ``gradient(g)`` is the vector-Jacobian
product: the derivative, with respect to the positions (N, 3), of ``sum_i g_i * order_i`` (for
complex psi_k, of ``sum_i Re(conj(g_i) psi_i)``, i.e. ``g = dL/dRe psi + i dL/dIm psi``).

**Neighbour weight.** A bond i-j of length r counts with weight w(r): 1 for r <= r_on, 0 for
r >= r_max, and the C2 smoothstep 1 - 10x^3 + 15x^4 - 6x^5 (x = (r - r_on)/(r_max - r_on)) in
between, so the order parameters, and a loss built on them, are twice differentiable as bonds
form and break. ``r_on = r_max`` (the default) is a hard cutoff: every bond shorter than r_max
counts fully, which is freud's definition with an ``r_max`` neighbour query, and the values agree
with freud's to its float32 precision. Per particle the weighted sums are divided by
max(W_i, 1), W_i = sum_j w_ij: the plain mean over neighbours whenever the weights add up to at
least one bond (always, with a hard cutoff and any neighbour), and continuous as a particle's
first neighbour arrives (a plain division would jump from 0 to |psi| = 1).

Lengths are in the simulation's length unit; positions must lie in the box (they do in every
frame the engine writes). The neighbour query is the engine's cell list, so a compute costs
O(N) pairs.
"""

import math

import numpy as np
from numpy.polynomial import legendre as _legendre
from numpy.polynomial import polynomial as _poly

from . import _core
from .box import Box

__all__ = ["Hexatic", "Steinhardt", "system_box_points"]


def system_box_points(system):
    """``(box list [Lx, Ly, Lz, xy, xz, yz], points (N, 3) float64)`` of a system: a GSD frame
    (``configuration.box``, ``particles.position``), a loss's Frame (``box``, ``positions``) or a
    ``(box, points)`` pair."""
    if isinstance(system, tuple) and len(system) == 2:
        box, points = system
    elif hasattr(system, "configuration") and hasattr(system, "particles"):
        box, points = system.configuration.box, system.particles.position
    elif hasattr(system, "box") and hasattr(system, "positions"):
        box, points = system.box, system.positions
    else:
        raise TypeError(
            f"system must be a GSD frame, a loss Frame or a (box, points) pair, got {type(system).__name__}"
        )
    box = Box.from_box(box).to_list()
    points = np.ascontiguousarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must be an (N, 3) array, got shape {np.shape(points)}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite")
    return box, points


class _Weighted:
    """Shared by the order parameters: neighbour cutoffs and the smooth bond weight."""

    def __init__(self, r_max, r_on):
        r_max = float(r_max)
        r_on = r_max if r_on is None else float(r_on)
        if not (math.isfinite(r_max) and r_max > 0):
            raise ValueError(f"r_max must be positive and finite, got {r_max}")
        if not (math.isfinite(r_on) and 0 <= r_on <= r_max):
            raise ValueError(f"r_on must be in [0, r_max = {r_max}], got {r_on}")
        self.r_max, self.r_on = r_max, r_on

    def weight(self, r):
        """w(r) and dw/dr for bond lengths r."""
        if self.r_on >= self.r_max:
            return np.where(r < self.r_max, 1.0, 0.0), np.zeros_like(r)
        x = np.clip((r - self.r_on) / (self.r_max - self.r_on), 0.0, 1.0)
        w = 1.0 - x**3 * (10.0 - 15.0 * x + 6.0 * x * x)
        dw = -30.0 * x * x * (1.0 - x) ** 2 / (self.r_max - self.r_on)
        return w, dw

    def _bonds(self, system):
        """Directed bonds (i, j) both ways, with d = r_j - r_i, r = |d|, w, dw/dr."""
        box, points = system_box_points(system)
        pairs, d = _core.neighbor_pairs(box, points, self.r_max)
        i = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
        j = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
        d = np.concatenate([d, -d])
        r = np.sqrt(np.einsum("ij,ij->i", d, d))
        w, dw = self.weight(r)
        return len(points), i, j, d, r, w, dw

    min_neighbors = 1.0

    def _norm(self, N, i, w):
        W = np.bincount(i, weights=w, minlength=N)
        return W, np.maximum(W, self.min_neighbors)


class Hexatic(_Weighted):
    """2D bond-orientational order psi_k,i = sum_j w_ij exp(i k theta_ij) / max(W_i, 1), with
    theta_ij the angle of r_j - r_i to the x axis (freud's ``Hexatic(k)`` in the hard-cutoff
    limit). k = 6: hexagonal (triangular lattice) order, k = 3: honeycomb, k = 4: square.

    Args:
        k: symmetry (a positive integer).
        r_max: neighbour cutoff (length).
        r_on: where the weight starts to fall (default r_max: a hard cutoff).
        min_neighbors: the sums are divided by max(W_i, min_neighbors). 1 (default) is freud's
            mean over the neighbours; k makes psi_k a measure of k-fold *coordination*: a particle
            with fewer than k neighbours (one neighbour alone has |psi_k| = 1) cannot reach 1.
    """

    def __init__(self, k=6, r_max=1.5, r_on=None, min_neighbors=1):
        if isinstance(k, bool) or int(k) != k or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        super().__init__(r_max, r_on)
        self.k = int(k)
        self.min_neighbors = float(min_neighbors)
        if not (math.isfinite(self.min_neighbors) and self.min_neighbors >= 1):
            raise ValueError(f"min_neighbors must be >= 1, got {min_neighbors!r}")

    def compute(self, system):
        N, i, j, d, r, w, dw = self._bonds(system)
        theta = np.arctan2(d[:, 1], d[:, 0])
        e = np.exp(1j * self.k * theta)
        W, norm = self._norm(N, i, w)
        S = np.bincount(i, weights=(w * e).real, minlength=N) + 1j * np.bincount(i, weights=(w * e).imag, minlength=N)
        self.particle_order = S / norm
        self._cache = (N, i, j, d, r, w, dw, e, W, norm)
        return self

    def gradient(self, g):
        """d/d(positions) (N, 3) of sum_i Re(conj(g_i) psi_i), for complex g (N,) (of the last compute)."""
        N, i, j, d, r, w, dw, e, W, norm = self._cache
        g = np.broadcast_to(np.asarray(g, dtype=complex), (N,))
        psi = self.particle_order
        # d psi_i / d d_ij = [e (dw/dr) d/r + i k w e dtheta/dd - psi_i (dw/dr) d/r [W_i > n]] / max(W_i, n)
        rinv = np.where(r > 0, 1.0 / np.where(r > 0, r, 1.0), 0.0)
        dtheta = np.stack([-d[:, 1], d[:, 0]], axis=1) * (rinv * rinv)[:, None]
        radial = d[:, :2] * (dw * rinv)[:, None]
        over = (W > self.min_neighbors)[i]  # where max(W, n) = W, the normalisation depends on the bond too
        coef_r = (e - np.where(over, psi[i], 0.0)) / norm[i]  # multiplies radial
        coef_t = 1j * self.k * w * e / norm[i]  # multiplies dtheta
        gc = np.conj(g[i])
        c = (gc * coef_r).real[:, None] * radial + (gc * coef_t).real[:, None] * dtheta
        out = np.zeros((N, 3))
        np.add.at(out[:, :2], j, c)  # d = r_j - r_i
        np.add.at(out[:, :2], i, -c)
        return out


class Steinhardt(_Weighted):
    """3D Steinhardt order q_l,i = sqrt(4 pi / (2l + 1) sum_m |q_lm,i|^2), with
    q_lm,i = sum_j w_ij Y_lm(u_ij) / max(W_i, 1) (u_ij the unit vector from i to j), or with
    ``average=True`` the neighbour-averaged q_lm of Lechner and Dellago,
    (q_lm,i + sum_j q_lm,j) / (n_i + 1) over i's neighbours j (freud's ``Steinhardt(l)`` and
    ``Steinhardt(l, average=True)`` in the hard-cutoff limit; with smooth weights the average is
    weighted by w_ij and divided by 1 + W_i).

    Args:
        l: spherical-harmonic degree (a non-negative integer; 4 and 6 are the usual).
        r_max, r_on: neighbour cutoff and weight (see the module docstring).
        average: neighbour-averaged q_l.
    """

    def __init__(self, l=6, r_max=1.5, r_on=None, average=False):
        if isinstance(l, bool) or int(l) != l or l < 0:
            raise ValueError(f"l must be a non-negative integer, got {l!r}")
        super().__init__(r_max, r_on)
        self.l = int(l)
        self.average = bool(average)
        # Y_lm(u) = N_lm (-1)^m (u_x + i u_y)^m P_l^(m)(u_z) for m >= 0: a polynomial in the unit
        # vector's components, smooth everywhere (no angles, no poles); |Y_l,-m| = |Y_lm|.
        self._dP = [_legendre.leg2poly(_legendre.legder([0] * self.l + [1], m)) for m in range(self.l + 1)]
        self._N = [
            math.sqrt((2 * l + 1) / (4 * math.pi) * math.factorial(l - m) / math.factorial(l + m))
            for m in range(self.l + 1)
        ]

    def _ylm(self, u):
        """Y_lm(u) for m = 0..l, (M, l+1), and dY/du, (M, l+1, 3)."""
        x, y, z = u[:, 0], u[:, 1], u[:, 2]
        xy = x + 1j * y
        Y = np.empty((len(u), self.l + 1), complex)
        dY = np.empty((len(u), self.l + 1, 3), complex)
        for m in range(self.l + 1):
            c = self._N[m] * (-1) ** m
            pm = _poly.polyval(z, self._dP[m])
            pm1 = _poly.polyval(z, self._dP[m + 1]) if m + 1 <= self.l else np.zeros_like(z)
            am = xy**m
            am1 = m * xy ** (m - 1) if m > 0 else np.zeros_like(xy)
            Y[:, m] = c * am * pm
            dY[:, m, 0] = c * am1 * pm
            dY[:, m, 1] = c * 1j * am1 * pm
            dY[:, m, 2] = c * am * pm1
        return Y, dY

    def compute(self, system):
        N, i, j, d, r, w, dw = self._bonds(system)
        u = d / r[:, None]
        Y, dY = self._ylm(u)
        W, norm = self._norm(N, i, w)
        qlm = np.zeros((N, self.l + 1), complex)
        np.add.at(qlm, i, w[:, None] * Y / norm[i][:, None])
        if self.average:
            cnt = 1.0 + W
            Q = qlm.copy()
            np.add.at(Q, i, w[:, None] * qlm[j])
            Q /= cnt[:, None]
        else:
            cnt, Q = None, qlm
        mult = np.full(self.l + 1, 2.0)
        mult[0] = 1.0  # m and -m alike
        s = (np.abs(Q) ** 2 * mult).sum(axis=1) * (4 * math.pi / (2 * self.l + 1))
        self.particle_order = np.sqrt(s)
        self._cache = (N, i, j, d, r, w, dw, u, Y, dY, W, norm, qlm, Q, cnt, mult)
        return self

    def gradient(self, g):
        """d/d(positions) (N, 3) of sum_i g_i q_l,i, for real g (N,) (of the last compute)."""
        N, i, j, d, r, w, dw, u, Y, dY, W, norm, qlm, Q, cnt, mult = self._cache
        g = np.broadcast_to(np.asarray(g, dtype=float), (N,))
        q = self.particle_order
        # dL/dQ_lm (as the complex G with dL = Re(conj(G) dQ)): g q / q^2 * (4 pi/(2l+1)) mult Q
        scale = np.where(q > 0, g / np.where(q > 0, q, 1.0), 0.0) * (4 * math.pi / (2 * self.l + 1))
        G = scale[:, None] * mult[None, :] * Q
        dw_bond = np.zeros(len(i))  # dL/dw_ij for each directed bond
        if self.average:
            Gq = G / cnt[:, None]  # dL/dqlm_i through Q_i
            Gq_all = Gq.copy()
            np.add.at(Gq_all, j, w[:, None] * Gq[i])  # q_lm,j feeds Q_i with weight w_ij
            dw_bond += (np.conj(Gq[i]) * qlm[j]).real.sum(axis=1)
            dW = -(np.conj(G) * Q).real.sum(axis=1) / cnt  # through cnt = 1 + W_i
            dw_bond += dW[i]
            Gq = Gq_all
        else:
            Gq = G
        # q_lm,i = sum_j w_ij Y_lm(u_ij) / max(W_i, 1)
        over = W > self.min_neighbors
        dnorm = np.where(over, -(np.conj(Gq) * qlm).real.sum(axis=1) / norm, 0.0)
        dw_bond += (np.conj(Gq[i]) * Y).real.sum(axis=1) / norm[i] + dnorm[i]
        dY_bond = np.einsum("bm,bmk->bk", np.conj(Gq[i]), dY).real * (w / norm[i])[:, None]
        # u = d / r: du/dd = (I - u u^T) / r; w(r): dw/dd = dw/dr u
        dd = (dY_bond - np.einsum("bk,bk->b", dY_bond, u)[:, None] * u) / r[:, None] + (dw_bond * dw)[:, None] * u
        out = np.zeros((N, 3))
        np.add.at(out, j, dd)
        np.add.at(out, i, -dd)
        return out
