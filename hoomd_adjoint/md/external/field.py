"""External fields (hoomd.md.external.field): forces on each particle from its type, charge and
position, with HOOMD-blue 4.8.2's arithmetic (engine/ExternalField.h)."""

import numpy as np

from ... import _core
from ...typeparam import TypeParameterDict, as_real, show
from ..pair import Force

__all__ = ["Electric", "Periodic"]


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


class _External(Force):
    """What the external fields share: attaching to one simulation, the engine object."""

    _core_class = None

    def _types(self):
        sim = self._simulation
        return None if sim is None or sim._state is None else sim.state.particle_types

    def _check_attachable(self, simulation):
        if self._simulation is not None and self._simulation is not simulation:
            integ = self._simulation.operations.integrator
            if integ is not None and any(f is self for f in integ.forces):
                raise ValueError(
                    f"this {type(self).__name__} field is already a force of another Simulation's integrator"
                )

    def _core_object(self):
        return getattr(_core, self._core_class)()

    def _attach(self, simulation):
        self._check_attachable(simulation)
        self._simulation = simulation
        if self._cpp is None:
            self._cpp = self._core_object()

    def _grad_dict(self, flat, types):
        """{type: {parameter: value}} from the engine's ntypes x P gradient."""
        P = len(self._param_spec)
        g = np.broadcast_to(np.asarray(flat, dtype=float).reshape(-1), (P * len(types),)).reshape(len(types), P)
        return {t: {n: float(g[k, c]) for c, n in enumerate(self._param_spec)} for k, t in enumerate(types)}


class Electric(_External):
    """A uniform electric field per particle type: F_i = q_i E, U_i = -q_i E . r_i (``r_i`` wrapped
    into the box), HOOMD-blue's ``md.external.field.Electric``.

    ``E[type] = (Ex, Ey, Ez)`` (force / charge; default (0, 0, 0)). The field is differentiable:
    ``wrt=[field]`` gives ``grad(field)[type] = {'Ex': ..., 'Ey': ..., 'Ez': ...}``.
    """

    _param_spec = {"Ex": None, "Ey": None, "Ez": None}
    _core_class = "ElectricField"

    def __init__(self):
        self._simulation = None
        self.E = _Vectors("E", 1, default=(0.0, 0.0, 0.0), owner="Electric", types=self._types)

    def _plan(self, state):
        types = state.particle_types
        self.E.check_types(types)
        return [self.E[t] for t in types]

    def _push(self, plan):
        for t, E in enumerate(plan):
            self._cpp.set_field(t, list(E))

    def __repr__(self):
        return "Electric()"


def _periodic_check(what, value):
    for name in ("i", "p"):
        if float(value[name]) != int(value[name]):
            raise ValueError(f"{what}[{name!r}] must be an integer, got {value[name]}")
    if int(value["i"]) not in (0, 1, 2):
        raise ValueError(f"{what}['i'] must be 0, 1 or 2 (the reciprocal lattice vector b_i), got {int(value['i'])}")
    if int(value["p"]) == 0:
        raise ValueError(f"{what}['p'] must be a nonzero integer, got 0")
    if not value["w"] > 0:
        raise ValueError(f"{what}['w'] must be > 0, got {value['w']}")


class Periodic(_External):
    """A field periodic along one reciprocal lattice vector (``hoomd.md.external.field.Periodic``):
    U_i = A tanh[cos(p b_i . r) / (2 pi p w)], with b_i the reciprocal lattice vector of index
    ``i`` (0, 1, 2) of the box, HOOMD-blue 4.8.2's arithmetic. 3D boxes only (HOOMD-blue 4.8.2
    divides by Lx Ly Lz, which is 0 in 2D).

    ``params[type] = dict(A=..., i=..., w=..., p=...)`` (energy; integer 0-2; length > 0; nonzero
    integer). A and w are differentiable: ``wrt=[field]`` gives ``grad(field)[type] = {'A', 'w'}``.
    """

    _param_spec = {"A": None, "w": None}
    _core_class = "PeriodicField"

    def __init__(self):
        self._simulation = None
        self.params = TypeParameterDict(
            "params",
            1,
            spec=dict(
                A=TypeParameterDict.REQUIRED,
                i=TypeParameterDict.REQUIRED,
                w=TypeParameterDict.REQUIRED,
                p=TypeParameterDict.REQUIRED,
            ),
            validate=_periodic_check,
            owner="Periodic",
            types=self._types,
        )

    def _plan(self, state):
        types = state.particle_types
        self.params.check_types(types)
        plan = []
        for t in types:
            v = self.params.get((t,))
            if v is None:
                from ...errors import IncompleteSpecificationError

                raise IncompleteSpecificationError(f"Periodic.params[{t!r}] is not set; it needs A, i, w and p")
            plan.append(v)
        if state.dimensions == 2:
            raise ValueError(
                "external.field.Periodic needs a 3D box: HOOMD-blue 4.8.2 divides by the volume Lx Ly Lz, 0 in 2D"
            )
        return plan

    def _push(self, plan):
        for t, v in enumerate(plan):
            self._cpp.set_params(t, v["A"], int(v["i"]), v["w"], int(v["p"]))

    def __repr__(self):
        return "Periodic()"
