"""Bars: segments between two constituents of a rigid body that repel particles through the
point-to-segment distance (the legs of the colloidal-reactions paper's spider)."""

import numpy as np

from .. import _core
from ..typeparam import as_real
from .pair import Force

__all__ = ["Bar"]


class Bar(Force):
    """Soft-sphere repulsion between bars and particles: for a bar from site a to site b and a
    particle at v, d = |v - c| with c the point of the segment nearest to v, and
    U = (epsilon / alpha) (1 - d / sigma)^alpha for d < sigma. The forces on a and b reach the body
    as force and torque (through the rigid-body transfer).

    Args:
        rigid: the :class:`~hoomd_adjoint.md.constrain.Rigid` whose bodies carry the bars.
        bars: ``{body type: [(k1, k2), ...]}``, constituent indices of each bar's ends.
        targets: the particle types the bars repel (never particles of the bar's own body).
        epsilon, sigma, alpha: energy, length > 0, exponent > 0; ``params`` holds them, and they
            are differentiable (``wrt=[bar]``).

    Every bar meets every target particle (no neighbour list): meant for a few bars and targets.
    """

    _param_spec = {"epsilon": None, "sigma": None, "alpha": None}

    def __init__(self, rigid, bars, targets, epsilon, sigma, alpha=2.0):
        from .constrain import Rigid

        if not isinstance(rigid, Rigid):
            raise TypeError(f"Bar: rigid must be a hoomd_adjoint.md.constrain.Rigid, got {rigid!r}")
        self.rigid = rigid
        self.bars = {}
        for t, pairs in dict(bars).items():
            pairs = [tuple(int(k) for k in p) for p in pairs]
            if any(len(p) != 2 or p[0] == p[1] or min(p) < 0 for p in pairs):
                raise ValueError(f"Bar: bars[{t!r}] must be pairs of two different constituent indices, got {pairs}")
            self.bars[t] = pairs
        if isinstance(targets, str):
            targets = [targets]
        self.targets = list(targets)
        self.params = {}
        self.set_params(epsilon=epsilon, sigma=sigma, alpha=alpha)
        self._simulation = None

    def set_params(self, epsilon=None, sigma=None, alpha=None):
        """Change parameters (checked first: a rejected value changes nothing)."""
        new = dict(self.params)
        for name, v, kw in (
            ("epsilon", epsilon, dict()),
            ("sigma", sigma, dict(lo=0.0, lo_open=True)),
            ("alpha", alpha, dict(lo=0.0, lo_open=True)),
        ):
            if v is not None:
                new[name] = as_real(f"Bar {name}", v, **kw)
        self.params = new

    def _check_attachable(self, simulation):
        if self._simulation is not None and self._simulation is not simulation:
            integ = self._simulation.operations.integrator
            if integ is not None and any(f is self for f in integ.forces):
                raise ValueError("this Bar is already a force of another Simulation's integrator")

    def _plan(self, state):
        types = list(state.particle_types)
        for t in list(self.bars) + self.targets:
            if t not in types:
                raise ValueError(f"Bar: type {t!r} is not in the state's types {types}")
        c = state._cpp
        body, typeid = np.asarray(c.body), np.asarray(c.typeid)
        tags = np.arange(body.size)
        ends = []
        for t, pairs in self.bars.items():
            d = self.rigid.body[t]
            if d is None:
                raise ValueError(f"Bar: type {t!r} has no rigid body definition")
            n = len(d["constituent_types"])
            if any(max(p) >= n for p in pairs):
                raise ValueError(f"Bar: bars[{t!r}] names constituent indices beyond the body's {n}")
            for centre in np.flatnonzero((typeid == types.index(t)) & (body == tags)):
                members = np.flatnonzero((body == centre) & (tags != centre))
                if members.size != n:
                    raise ValueError(f"Bar: body {centre} has {members.size} constituents, its definition {n}")
                for p in pairs:
                    ends += [int(members[p[0]]), int(members[p[1]])]
        points = np.flatnonzero(np.isin(typeid, [types.index(t) for t in self.targets])).tolist()
        return ends, points

    def _attach(self, simulation):
        self._check_attachable(simulation)
        self._simulation = simulation
        if self._cpp is None:
            self._cpp = _core.BarForce()

    def _push(self, plan):
        ends, points = plan
        self._cpp.set_bars(ends, points)
        self._cpp.set_params(self.params["epsilon"], self.params["sigma"], self.params["alpha"])

    def __repr__(self):
        return f"Bar(bars={self.bars}, targets={self.targets}, params={self.params})"
