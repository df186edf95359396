"""Built-in losses for :func:`hoomd_adjoint.adjoint.gradient`.

A loss is any callable ``loss(frame) -> (value, d value / d positions)``; these are ready-made
ones. Each accepts the :class:`~hoomd_adjoint.adjoint.Frame` the adjoint passes.
"""
import numpy as np

from . import _core


def _unwrapped(frame):
    """Positions unwrapped through the images (the box's lattice vectors times the image)."""
    L = np.array(frame.box, dtype=float)
    M = np.array([[L[0], L[3] * L[1], L[4] * L[2]], [0, L[1], L[5] * L[2]], [0, 0, L[2]]])
    return frame.positions + frame.image @ M.T


class PotentialEnergy:
    """Potential energy of one pair force (energy units), per particle by default.

    Depends on the force's parameters directly as well as through the positions.
    """

    def __init__(self, force, per_particle=True):
        self.force = force
        self.per_particle = per_particle

    def __call__(self, frame):
        sim = frame._sim
        cpp = sim.state._cpp
        forces = list(sim.operations.integrator.forces)
        k = [i for i, f in enumerate(forces) if f is self.force][0]
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
        self.reference = np.asarray(reference, dtype=float)

    def __call__(self, frame):
        d = _unwrapped(frame) - self.reference
        n = len(d)
        return float(np.sum(d * d) / n), 2.0 * d / n


class GroupDistance:
    """Distance between the centres (unweighted mean positions, unwrapped) of two groups of tags."""

    def __init__(self, group_a, group_b):
        self.a = np.asarray(group_a, dtype=int)
        self.b = np.asarray(group_b, dtype=int)

    def __call__(self, frame):
        r = _unwrapped(frame)
        d = r[self.a].mean(axis=0) - r[self.b].mean(axis=0)
        dist = float(np.sqrt(d @ d))
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
