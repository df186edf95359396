"""External fields (hoomd.md.external.field): forces on each particle from its type, charge and
position, with HOOMD-blue 4.8.2's arithmetic (engine/ExternalField.h)."""

import numpy as np

from ... import _core
from ...typeparam import TypeParameterDict, as_real, show
from ..pair import Force

__all__ = ["Electric"]


def _vector(what, value):
    """Three finite numbers."""
    try:
        vals = [as_real(f"{what}[{k}]", v) for k, v in enumerate(value)]
    except TypeError:
        raise TypeError(f"{what} must be three numbers (Ex, Ey, Ez), got {show(value)}") from None
    if len(vals) != 3:
        raise ValueError(f"{what} must be three numbers (Ex, Ey, Ez), got {len(vals)}")
    return tuple(vals)


class _Vectors(TypeParameterDict):
    def _check_value(self, key, value):
        return _vector(f"{self._what}[{key[0]!r}]", value)


class Electric(Force):
    """A uniform electric field per particle type: F_i = q_i E, U_i = -q_i E . r_i (``r_i`` wrapped
    into the box), HOOMD-blue's ``md.external.field.Electric``.

    ``E[type] = (Ex, Ey, Ez)`` (force / charge; default (0, 0, 0)). The field is differentiable:
    ``wrt=[field]`` gives ``grad(field)[type] = {'Ex': ..., 'Ey': ..., 'Ez': ...}``.
    """

    _param_spec = {"Ex": None, "Ey": None, "Ez": None}

    def __init__(self):
        self._simulation = None
        self.E = _Vectors("E", 1, default=(0.0, 0.0, 0.0), owner="Electric", types=self._types)

    def _types(self):
        sim = self._simulation
        return None if sim is None or sim._state is None else sim.state.particle_types

    def _check_attachable(self, simulation):
        if self._simulation is not None and self._simulation is not simulation:
            integ = self._simulation.operations.integrator
            if integ is not None and any(f is self for f in integ.forces):
                raise ValueError("this Electric field is already a force of another Simulation's integrator")

    def _plan(self, state):
        types = state.particle_types
        self.E.check_types(types)
        return [self.E[t] for t in types]

    def _attach(self, simulation):
        self._check_attachable(simulation)
        self._simulation = simulation
        if self._cpp is None:
            self._cpp = _core.ElectricField()

    def _push(self, plan):
        for t, E in enumerate(plan):
            self._cpp.set_field(t, list(E))

    def _grad_dict(self, flat, types):
        """{type: {'Ex', 'Ey', 'Ez'}} from the engine's ntypes x 3 gradient."""
        g = np.broadcast_to(np.asarray(flat, dtype=float).reshape(-1), (3 * len(types),)).reshape(len(types), 3)
        return {t: {n: float(g[k, c]) for c, n in enumerate(self._param_spec)} for k, t in enumerate(types)}

    def __repr__(self):
        return "Electric()"
