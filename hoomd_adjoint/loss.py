"""Built-in losses for :func:`hoomd_adjoint.adjoint.gradient`.

A loss is any callable ``loss(frame) -> (value, d value / d positions)``; these are ready-made
ones. Each accepts the :class:`~hoomd_adjoint.adjoint.Frame` the adjoint passes.
"""
import numpy as np

from . import _core


def _unwrapped(frame):
    """Positions unwrapped through the images (the box's lattice vectors times the image)."""
    L = np.array(frame.box, dtype=float)
    a = np.array([[L[0], 0, 0], [L[3] * L[1], L[1], 0], [L[4] * L[2], L[5] * L[2], L[2]]])  # lattice vectors
    n = frame.image.astype(float)
    return frame.positions + n[:, 0:1] * a[0] + n[:, 1:2] * a[1] + n[:, 2:3] * a[2]  # (no BLAS threads woken)


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
        _, _, eparams = _core.force_jacobian(cpp, np.zeros_like(F))
        scale = 1.0 / cpp.N if self.per_particle else 1.0
        return E * scale, -F * scale, {self.force: eparams[k] * scale}


class MeanSquaredDisplacement:
    """Mean over particles of |r(t) - r_ref|^2, with r(t) unwrapped through the images."""

    def __init__(self, reference):
        """``reference``: (N, 3) unwrapped reference positions, e.g. the initial ones."""
        ref = np.asarray(reference, dtype=float)
        if ref.ndim != 2 or ref.shape[1] != 3 or len(ref) == 0:
            raise ValueError(f"MeanSquaredDisplacement: reference must be an (N, 3) array with N > 0, got shape {ref.shape}")
        if not np.all(np.isfinite(ref)):
            raise ValueError(f"MeanSquaredDisplacement: reference positions of tags "
                             f"{np.flatnonzero(~np.isfinite(ref).all(axis=1))[:10].tolist()} are not finite")
        self.reference = ref

    def __call__(self, frame):
        if len(frame.positions) != len(self.reference):
            raise ValueError(f"MeanSquaredDisplacement: the reference holds {len(self.reference)} particles, the "
                             f"simulation {len(frame.positions)}")
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
                raise ValueError(f"GroupDistance: {name} holds tags {g[g >= N][:5].tolist()}, but there are only {N} "
                                 "particles")
        r = _unwrapped(frame)
        d = r[self.a].mean(axis=0) - r[self.b].mean(axis=0)
        dist = float(np.sqrt(np.dot(d, d)))
        if dist == 0.0:
            raise FloatingPointError(f"GroupDistance: the two groups' centres coincide at step {frame.timestep}; "
                                     "the distance has no gradient there")
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
