"""Built-in losses for :func:`hoomd_adjoint.adjoint.gradient`.

A loss is any callable ``loss(frame) -> (value, d value / d positions)``; these are ready-made
ones. Each accepts the :class:`~hoomd_adjoint.adjoint.Frame` the adjoint passes.
"""

import copy

import numpy as np

from . import _core


def _unwrapped(frame):
    """Positions unwrapped through the images (the box's lattice vectors times the image)."""
    from .box import Box
    from .state import _lattice_vectors

    return frame.positions + _lattice_vectors(Box.from_box(frame.box).to_matrix(), frame.image.astype(float))


class PotentialEnergy:
    """Potential energy of one pair force (energy units), per particle by default.

    Depends on the force's parameters directly as well as through the positions.
    """

    def __init__(self, force, per_particle=True):
        from .md.pair import Pair

        if not isinstance(force, Pair):
            raise TypeError(f"PotentialEnergy needs a pair force, got {force!r}")
        self.force = force
        self.per_particle = bool(per_particle)

    def __call__(self, frame):
        sim = frame._sim
        cpp = sim.state._cpp
        forces = list(sim.operations.integrator.forces)
        k = [i for i, f in enumerate(forces) if f is self.force]
        if not k:
            raise ValueError(f"PotentialEnergy: {self.force!r} is not a force of this simulation's integrator")
        k = k[0]
        if cpp.N == 0 and self.per_particle:
            raise ValueError("PotentialEnergy(per_particle=True) of a system without particles")
        cpp.compute_net_force()
        E = self.force._cpp.energy
        F = self.force._cpp.forces
        if hasattr(self.force._cpp, "energy_forces"):  # (a Table's F need not be -dU/dr)
            F = self.force._cpp.energy_forces(cpp)
        _, _, eparams = _core.force_jacobian(cpp, np.zeros_like(F))
        scale = 1.0 / cpp.N if self.per_particle else 1.0
        return E * scale, -F * scale, {self.force: eparams[k] * scale}


class MeanSquaredDisplacement:
    """Mean over particles of |r(t) - r_ref|^2, with r(t) unwrapped through the images."""

    def __init__(self, reference):
        """``reference``: (N, 3) unwrapped reference positions, e.g. the initial ones."""
        ref = np.asarray(reference, dtype=float)
        if ref.ndim != 2 or ref.shape[1] != 3 or len(ref) == 0:
            raise ValueError(
                f"MeanSquaredDisplacement: reference must be an (N, 3) array with N > 0, got shape {ref.shape}"
            )
        if not np.all(np.isfinite(ref)):
            raise ValueError(
                f"MeanSquaredDisplacement: reference positions of tags "
                f"{np.flatnonzero(~np.isfinite(ref).all(axis=1))[:10].tolist()} are not finite"
            )
        self.reference = ref

    def __call__(self, frame):
        if len(frame.positions) != len(self.reference):
            raise ValueError(
                f"MeanSquaredDisplacement: the reference holds {len(self.reference)} particles, the "
                f"simulation {len(frame.positions)}"
            )
        d = _unwrapped(frame) - self.reference
        n = len(d)
        return float(np.sum(d * d) / n), 2.0 * d / n


class GroupDistance:
    """Distance between the centres (unweighted mean positions, unwrapped) of two groups of tags."""

    def __init__(self, group_a, group_b):
        self.a = self._tags("group_a", group_a)
        self.b = self._tags("group_b", group_b)

    @staticmethod
    def _tags(name, group):
        arr = np.asarray(group)
        if arr.ndim != 1 or len(arr) == 0:
            raise ValueError(f"GroupDistance: {name} must be a non-empty list of particle tags, got {group!r:.80}")
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"GroupDistance: {name} must hold integer tags, got {arr.dtype} values {arr[:5].tolist()}")
        if np.any(arr < 0):
            raise ValueError(f"GroupDistance: {name} holds negative tags {arr[arr < 0][:5].tolist()}")
        return arr.astype(np.int64)

    def __call__(self, frame):
        N = len(frame.positions)
        for name, g in (("group_a", self.a), ("group_b", self.b)):
            if np.any(g >= N):
                raise ValueError(
                    f"GroupDistance: {name} holds tags {g[g >= N][:5].tolist()}, but there are only {N} particles"
                )
        r = _unwrapped(frame)
        d = r[self.a].mean(axis=0) - r[self.b].mean(axis=0)
        dist = float(np.sqrt(np.dot(d, d)))
        if dist == 0.0:
            raise FloatingPointError(
                f"GroupDistance: the two groups' centres coincide at step {frame.timestep}; "
                "the distance has no gradient there"
            )
        g = np.zeros_like(r)
        u = d / dist
        np.add.at(g, self.a, u / len(self.a))
        np.add.at(g, self.b, -u / len(self.b))
        return dist, g


def from_jax(fn):
    """Adapt ``fn(positions) -> scalar`` written with JAX into a loss (needs ``jax``).

    The gradient comes from ``jax.value_and_grad`` in float64; ``fn`` receives the (N, 3)
    positions as a JAX array and may also take the frame as a keyword: ``fn(x, frame=frame)``.
    """
    import inspect

    import jax

    jax.config.update("jax_enable_x64", True)
    takes_frame = "frame" in inspect.signature(fn).parameters

    def loss(frame):
        f = (lambda x: fn(x, frame=frame)) if takes_frame else fn
        value, grad = jax.value_and_grad(f)(jax.numpy.asarray(frame.positions))
        return float(value), np.asarray(grad, dtype=np.float64)

    return loss


def from_torch(fn):
    """Adapt ``fn(positions) -> scalar`` written with PyTorch into a loss (needs ``torch``).

    ``fn`` receives the (N, 3) positions as a float64 tensor with ``requires_grad=True``.
    """
    import torch

    def loss(frame):
        x = torch.tensor(frame.positions, dtype=torch.float64, requires_grad=True)
        value = fn(x)
        (grad,) = torch.autograd.grad(value, x)
        return float(value.detach()), grad.numpy().astype(np.float64)

    return loss


class Triangular:
    """Triangular-lattice loss L_T = 1 - mean_i |psi_6,i|^4 (dimensionless, 2D).

    psi_6 is divided by max(W_i, 6) (``order.Hexatic(min_neighbors=6)``), so only a particle with
    six neighbours at 60 degrees reaches 1. L_T is 0 for a perfect triangular lattice and close to
    1 for a disordered one: the fourth power suppresses the |psi_6| ~ 1/sqrt(n) that a random
    arrangement of n neighbours has. Neighbours: first shell,
    weighted smoothly between ``r_on`` and ``r_max`` (see :mod:`hoomd_adjoint.order`); the
    defaults suit a nearest-neighbour distance near 1.06 (the Rechtsman potential's lattices),
    whose second shell starts at 1.83 (honeycomb) or 2.1 (triangular).
    """

    def __init__(self, r_max=1.45, r_on=1.25, k=6, power=4):
        from .order import Hexatic

        self.psi = Hexatic(k, r_max=r_max, r_on=r_on, min_neighbors=k)  # k-fold coordination
        self.power = int(power)
        if self.power < 2 or self.power % 2:
            raise ValueError(f"power must be an even integer >= 2, got {power!r}")

    def order(self, frame):
        """|psi_k,i|^power per particle (N,), d/dpsi as the complex G of order.Hexatic.gradient,
        and the computed Hexatic (its own copy: one loss may serve replicas on many threads)."""
        hexatic = copy.copy(self.psi).compute(frame)
        psi = hexatic.particle_order
        a2 = np.abs(psi) ** 2
        h = self.power // 2
        return a2**h, h * a2 ** (h - 1) * 2.0 * psi, hexatic  # d|psi|^(2h) = h |psi|^(2h-2) d|psi|^2

    def __call__(self, frame):
        a, da, hexatic = self.order(frame)
        N = len(a)
        return float(1.0 - a.mean()), hexatic.gradient(-da / N)

    def value(self, frame):
        """The loss alone, without its gradient (what observing a run needs): the same number."""
        return float(1.0 - self.order(frame)[0].mean())


class Honeycomb(Triangular):
    """Honeycomb loss L_H: one minus the honeycomb order of the most honeycomb-like region.

    Per particle a_i = |psi_3,i|^4, psi_3 divided by max(W_i, 3): 1 on a honeycomb lattice, where
    each particle has three neighbours 120 degrees apart; 0 on a triangular one, where psi_3
    cancels; small for a particle with fewer than three neighbours. A region is a
    particle and its neighbours within ``region`` (smooth weight from region/2):
    chi_i = (a_i + sum_j K_ij a_j) / (1 + sum_j K_ij). The most ordered region is picked by a
    smooth maximum, M = log(mean_i exp(beta chi_i)) / beta (``beta = sharpness``), and
    L_H = 1 - M: near 1 for a liquid, 0 for a perfect honeycomb. A crystallite of a few
    dozen particles already lowers L_H while the bulk average barely moves, which is why L_H
    leads bulk order as an indicator of crystallisation (the PNAS paper's "most honeycomb-like
    region"). Everything is smooth in the positions, with exact gradients.
    """

    def __init__(self, r_max=1.45, r_on=1.25, region=3.0, sharpness=20.0, power=4):
        super().__init__(r_max=r_max, r_on=r_on, k=3, power=power)
        from .order import _Weighted

        self.region = _Weighted(float(region), float(region) / 2)
        self.sharpness = float(sharpness)
        if not (np.isfinite(self.sharpness) and self.sharpness > 0):
            raise ValueError(f"sharpness must be positive and finite, got {sharpness!r}")

    def regions(self, frame):
        """chi_i per particle (N,), with what the gradient needs."""
        a, da, hexatic = self.order(frame)
        N, i, j, d, r, K, dK = self.region._bonds(frame)
        C = 1.0 + np.bincount(i, weights=K, minlength=N)
        chi = (a + np.bincount(i, weights=K * a[j], minlength=N)) / C
        return chi, (a, da, hexatic, N, i, j, d, r, K, dK, C)

    def _smooth_max(self, chi):
        """M and the exponentials exp(beta chi_i - max) it is made of."""
        z = self.sharpness * chi
        zmax = z.max()
        e = np.exp(z - zmax)
        return (zmax + np.log(e.mean())) / self.sharpness, e

    def value(self, frame):
        """The loss alone, without its gradient (what observing a run needs): the same number."""
        return float(1.0 - self._smooth_max(self.regions(frame)[0])[0])

    def __call__(self, frame):
        chi, (a, da, hexatic, N, i, j, d, r, K, dK, C) = self.regions(frame)
        M, e = self._smooth_max(chi)
        p = e / e.sum()  # dM/dchi_i
        # chi_i = (a_i + sum_j K_ij a_j) / C_i
        g_a = p / C + np.bincount(j, weights=p[i] * K / C[i], minlength=N)
        grad = hexatic.gradient(-g_a * da)  # L = 1 - M
        gK = -p[i] * (a[j] - chi[i]) / C[i]  # dL/dK_ij
        rinv = np.where(r > 0, 1.0 / np.where(r > 0, r, 1.0), 0.0)
        c = (gK * dK * rinv)[:, None] * d  # along d = r_j - r_i
        np.add.at(grad, j, c)
        np.add.at(grad, i, -c)
        return float(1.0 - M), grad
