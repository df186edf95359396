"""Stationary points, harmonic (Kramers) transition rates, and their exact parameter gradients.

The rate from minimum A over saddle S (PNAS 2021, Eqs. 3-4, overdamped, unit masses):

    k = omega_b / (2 pi gamma) * prod_l omega^A_l / prod'_l omega^S_l * exp(-(E_S - E_A) / kT),

with omega = sqrt(lambda) for the eigenvalues lambda of the Hessian of U, omega_b = sqrt|lambda_b|
the unstable one at S, and the rigid-body zero modes (6 in 3D, 3 in 2D) removed by projecting the
Hessian onto the internal coordinates, not by an eigenvalue threshold. Equivalently
k = |lambda_b| / (2 pi gamma) sqrt(det'H_A / |det'H_S|) exp(-Delta E / kT).

Gradients with respect to the parameters theta of the potential (the cluster's B):

- barrier, by the envelope theorem (grad U = 0 at both points): dDeltaE = dU/dtheta(S) - dU/dtheta(A);
- log det'H along the moving stationary point, d log|det'H| = tr(H^+ dH) with
  dH = dH/dtheta + D3U[dx*], dx* = -H^+ d(grad U)/dtheta (implicit differentiation);
- the unstable eigenvalue, dlambda_b = u_b^T dH u_b.

The model is any object with ``derivatives(x, order, wrt_B)`` returning energy, gradient,
hessian, third, dE, dG and dH (see :meth:`hoomd_adjoint.apps.clusters.Cluster.derivatives`).
"""

import dataclasses

import numpy as np

from .geometry import internal_basis

__all__ = ["stationary", "Point", "point", "Rate", "kramers"]


def _internal(x, rigid):
    n = np.size(x)
    return internal_basis(np.reshape(x, (-1, 3))) if rigid else np.eye(n)


def stationary(model, x, index=None, gtol=1e-10, trust=0.05, max_iter=100, rigid=True):
    """Newton's method on grad U = 0 in the internal coordinates, from x (a minimum or a saddle
    nearby, e.g. the highest image of a band). Steps are capped at ``trust`` (length).

    Args:
        index: if given, the number of negative internal Hessian eigenvalues required (0 for a
            minimum, 1 for a transition state); a point of another index raises ValueError.
        gtol: converged when the largest gradient component is below this.
        rigid: remove the rigid-body modes (particles in 3D, x of shape (N, 3)).

    Returns:
        The stationary point, shaped like x.
    """
    shape = np.shape(x)
    x = np.array(x, dtype=np.float64).ravel()
    for it in range(max_iter + 1):
        d = model.derivatives(x, order=2)
        g, H = d["gradient"].ravel(), d["hessian"]
        if np.abs(g).max() < gtol:
            break
        if it == max_iter:
            raise RuntimeError(
                f"stationary: no convergence in {max_iter} Newton steps (largest gradient component "
                f"{np.abs(g).max():.3g} > gtol {gtol})"
            )
        U = _internal(x, rigid)
        w, V = np.linalg.eigh(U.T @ H @ U)
        step = -U @ (V @ ((V.T @ (U.T @ g)) / w))
        n = np.linalg.norm(step)
        x = x + (step * (trust / n) if n > trust else step)
    if index is not None:
        U = _internal(x, rigid)
        w = np.linalg.eigvalsh(U.T @ H @ U)
        neg = int(np.sum(w < 0))
        if neg != index:
            raise ValueError(
                f"stationary: the point reached has {neg} negative Hessian eigenvalue(s), not {index} "
                f"(eigenvalues {np.round(w[:3], 4).tolist()} ...)"
            )
    return x.reshape(shape)


@dataclasses.dataclass
class Point:
    """A stationary point: energy, internal Hessian eigenvalues ``lam`` (ascending) and vectors
    ``modes`` (columns, in the full space), the pseudo-inverse ``Hplus``, and (with gradients)
    the parameter derivatives ``dE`` (P,), ``dx`` = dx*/dtheta (P, n), ``dlogdet``
    = d log|det'H|/dtheta and ``dlam0`` = d lambda_0/dtheta (P,), total (implicit) or partial."""

    x: np.ndarray
    energy: float
    lam: np.ndarray
    modes: np.ndarray
    Hplus: np.ndarray
    dE: np.ndarray = None
    dx: np.ndarray = None
    dlogdet: np.ndarray = None
    dlam0: np.ndarray = None

    @property
    def index(self):
        return int(np.sum(self.lam < 0))

    @property
    def logdet(self):
        return float(np.sum(np.log(np.abs(self.lam))))


def point(model, x, gradient=True, implicit=True, rigid=True, gtol=1e-6, name="point"):
    """Evaluate stationary point x: spectrum and, with ``gradient``, parameter derivatives."""
    d = model.derivatives(x, order=3 if gradient and implicit else 2, wrt_B=gradient)
    g = d["gradient"].ravel()
    if np.abs(g).max() > gtol:
        raise ValueError(
            f"{name} is not stationary: largest gradient component {np.abs(g).max():.3g} > {gtol} "
            f"(refine it with transitions.stationary first; the envelope theorem needs grad U = 0)"
        )
    U = _internal(x, rigid)
    lam, V = np.linalg.eigh(U.T @ d["hessian"] @ U)
    modes = U @ V
    Hplus = (modes / lam) @ modes.T
    p = Point(np.array(x, dtype=np.float64), float(d["energy"]), lam, modes, Hplus)
    if gradient:
        dH = d["dH"]  # (P, n, n), partial at fixed x
        p.dE = d["dE"]
        u0 = modes[:, 0]
        p.dlogdet = np.einsum("ij,kji->k", Hplus, dH)
        p.dlam0 = np.einsum("i,kij,j->k", u0, dH, u0)
        if implicit:
            T = d["third"]
            p.dx = -d["dG"] @ Hplus  # (P, n): -H^+ d(grad U)/dtheta (H^+ symmetric)
            p.dlogdet = p.dlogdet + p.dx @ np.einsum("ijl,ij->l", T, Hplus)
            p.dlam0 = p.dlam0 + p.dx @ np.einsum("i,ijl,j->l", u0, T, u0)
    return p


@dataclasses.dataclass
class Rate:
    """A Kramers rate from ``minimum`` over ``saddle``: ``k``, ``log_k``, ``barrier`` = E_S - E_A,
    ``prefactor`` nu (k = nu exp(-barrier/kT)), and with gradients their derivatives with respect
    to the parameters: ``d_barrier``, ``d_log_k``, ``d_k``."""

    k: float
    log_k: float
    barrier: float
    prefactor: float
    minimum: Point
    saddle: Point
    d_barrier: np.ndarray = None
    d_log_k: np.ndarray = None

    @property
    def d_k(self):
        return None if self.d_log_k is None else self.k * self.d_log_k


def kramers(model, minimum, saddle, kT=1.0, gamma=1.0, gradient=True, implicit=True, rigid=True):
    """The harmonic transition rate from ``minimum`` over ``saddle`` (PNAS 2021, Eq. 4).

    Args:
        model: provides ``derivatives`` (see the module docstring).
        minimum, saddle: stationary points (refine with :func:`stationary`); or :class:`Point`
            objects already evaluated (reused, e.g. one saddle for both directions).
        kT, gamma: temperature (energy) and drag coefficient (force x time / length).
        gradient: also the parameter derivatives of the barrier and of log k.
        implicit: include the motion of the stationary points with the parameters (exact);
            False gives the partial derivative at fixed positions, as in the paper.
        rigid: project out the rigid-body modes (particles in 3D).

    Returns:
        :class:`Rate`.
    """
    from .. import _checks

    kT = _checks.real("kT", kT, lo=0.0, lo_open=True)
    gamma = _checks.real("gamma", gamma, lo=0.0, lo_open=True)
    A = minimum if isinstance(minimum, Point) else point(model, minimum, gradient, implicit, rigid, name="minimum")
    S = saddle if isinstance(saddle, Point) else point(model, saddle, gradient, implicit, rigid, name="saddle")
    if A.index != 0:
        raise ValueError(f"minimum has {A.index} negative Hessian eigenvalue(s)")
    if S.index != 1:
        raise ValueError(f"saddle has {S.index} negative Hessian eigenvalues, not 1")
    barrier = S.energy - A.energy
    lam_b = -S.lam[0]
    log_nu = np.log(lam_b / (2 * np.pi * gamma)) + 0.5 * (A.logdet - S.logdet)
    log_k = log_nu - barrier / kT
    r = Rate(float(np.exp(log_k)), float(log_k), float(barrier), float(np.exp(log_nu)), A, S)
    if gradient:
        r.d_barrier = S.dE - A.dE
        r.d_log_k = S.dlam0 / S.lam[0] + 0.5 * (A.dlogdet - S.dlogdet) - r.d_barrier / kT
    return r
