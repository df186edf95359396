"""Wall potentials (hoomd.md.external.wall): a pair potential between each particle and the
walls' nearest points, with HOOMD-blue 4.8.2's arithmetic (engine/WallForce.h), shifted by V(r_cut).
Planes, spheres and cylinders; with ``r_extrap`` > 0, HOOMD-blue's extrapolated mode: within
r_extrap of a wall, and past it, the potential continues linearly from its value at r_extrap (a
particle that crossed a wall is pushed back instead of ignored)."""

from ... import _core
from ...typeparam import TypeParameterDict
from ...wall import WallGeometry
from .field import _External

__all__ = ["ForceShiftedLJ", "Gaussian", "LJ", "Mie", "Morse", "WallPotential", "Yukawa"]


class WallPotential(_External):
    """Base class: ``walls`` (a list of :mod:`hoomd_adjoint.wall` geometries) and
    ``params[type] = dict(<the pair potential's parameters>, r_cut=..., r_extrap=0)`` (lengths >= 0;
    r_extrap > 0: linear extrapolation within r_extrap of a wall and past it). The pair parameters
    are differentiable (r_cut and r_extrap are not): ``wrt=[wall]`` gives
    ``grad(wall)[type] = {parameter: ...}``."""

    _name = None  # the pair evaluator

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._name is not None:
            cls._param_spec = {n: None for n in _core.pair_parameters()[cls._name]}

    def __init__(self, walls):
        self._simulation = None
        self.walls = list(walls)
        spec = {n: TypeParameterDict.REQUIRED for n in self._param_spec}
        spec.update(r_cut=TypeParameterDict.REQUIRED, r_extrap=0.0)
        self.params = TypeParameterDict(
            "params", 1, spec=spec, validate=self._check, owner=type(self).__name__, types=self._types
        )

    @staticmethod
    def _check(what, value):
        if value["r_extrap"] < 0:
            raise ValueError(f"{what}['r_extrap'] must be >= 0, got {value['r_extrap']}")
        if value["r_cut"] < 0:
            raise ValueError(f"{what}['r_cut'] must be >= 0, got {value['r_cut']}")

    @property
    def walls(self):
        return self._walls

    @walls.setter
    def walls(self, value):
        for w in value:
            if not isinstance(w, WallGeometry):
                raise TypeError(f"{type(self).__name__} walls must be hoomd_adjoint.wall geometries, got {w!r}")
        self._walls = list(value)

    def _core_object(self):
        return _core.make_wall_force(self._name)

    def _plan(self, state):
        types = state.particle_types
        self.params.check_types(types)
        walls = [w._engine() for w in self._walls]
        plan = []
        for t in types:
            v = self.params.get((t,))
            if v is None:
                from ...errors import IncompleteSpecificationError

                raise IncompleteSpecificationError(f"{type(self).__name__}.params[{t!r}] is not set")
            plan.append(([v[n] for n in self._param_spec], v["r_cut"], v["r_extrap"]))
        return walls, plan

    def _push(self, plan):
        walls, params = plan
        self._cpp.set_walls(walls)
        for t, (values, rc, rx) in enumerate(params):
            self._cpp.set_params(t, values, rc, rx)

    def __repr__(self):
        return f"{type(self).__name__}(walls={self._walls!r})"


class LJ(WallPotential):
    _name = "LJ"


class Gaussian(WallPotential):
    _name = "Gaussian"


class Yukawa(WallPotential):
    _name = "Yukawa"


class Morse(WallPotential):
    _name = "Morse"


class ForceShiftedLJ(WallPotential):
    _name = "ForceShiftedLJ"


class Mie(WallPotential):
    _name = "Mie"
