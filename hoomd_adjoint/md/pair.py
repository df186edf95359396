"""Pair potentials (hoomd.md.pair). Classes only declare parameters; the physics is in the
C++ evaluators (cpp/engine/evaluators/), one header per potential."""

import numpy as np

from ..logging import Loggables
from .. import _core
from ..errors import DataAccessError, IncompleteSpecificationError
from ..typeparam import TypeParameterDict, as_real, show
from .nlist import Cell

REQUIRED = TypeParameterDict.REQUIRED


class Force:
    """A force; after a run its per-particle arrays hold the values at the current step."""

    _cpp = None
    _simulation = None
    loggables = Loggables()  # {quantity: category} (hoomd.logging)
    _loggables = dict(
        energy="scalar",
        energies="particle",
        additional_energy="scalar",
        forces="particle",
        torques="particle",
        virials="particle",
        additional_virial="sequence",
    )

    @property
    def additional_energy(self):
        """Energy not attributed to particles (0: pair forces attribute all of theirs)."""
        self._require()
        return 0.0

    @property
    def additional_virial(self):
        """Virial not attributed to particles (zeros: pair forces attribute all of theirs)."""
        self._require()
        return [0.0] * 6

    def _require(self):
        if self._cpp is None or self._simulation is None:
            raise DataAccessError(
                f"{type(self).__name__}: quantities are available once the force is part of "
                "a simulation's integrator and sim.run() has been called"
            )

    @property
    def energy(self):
        """Total potential energy (energy units)."""
        self._require()
        return self._cpp.energy

    @property
    def energies(self):
        """Per-particle energies (N,): half of each pair energy goes to each particle."""
        self._require()
        return self._cpp.energies

    @property
    def forces(self):
        """Per-particle forces (N, 3)."""
        self._require()
        return self._cpp.forces

    @property
    def virials(self):
        """Per-particle virials (N, 6): xx, xy, xz, yy, yz, zz (computed on request)."""
        self._require()
        return self._cpp.compute_virials(self._simulation.state._cpp)

    @property
    def torques(self):
        self._require()
        return np.zeros((self._simulation.state.N_particles, 3))


class Pair(Force):
    """Base class of pair potentials.

    Args:
        nlist: a :class:`hoomd_adjoint.md.nlist.Cell`.
        default_r_cut: r_cut of type pairs not set explicitly (None: every pair must be set);
            finite and >= 0 (0 switches a pair off).
        default_r_on: r_on of type pairs not set explicitly (finite, >= 0); used by
            ``mode='xplor'`` only.
        mode: ``'none'``, ``'shift'`` (subtract V(r_cut) so the energy is continuous) or
            ``'xplor'`` (HOOMD-blue's XPLOR smoothing: for r_on <= r < r_cut the potential is
            multiplied by S(r) = (r_cut^2 - r^2)^2 (r_cut^2 + 2 r^2 - 3 r_on^2) / (r_cut^2 -
            r_on^2)^3, which takes V and F smoothly to 0 at r_cut; a type pair with r_on > r_cut
            is shifted instead, as in ``'shift'``). In ``'xplor'``, ``r_on`` is a differentiable
            parameter like those in ``params``: ``gradient()`` reports it as ``'r_on'``.

    A rejected assignment (a TypeError, ValueError or KeyError that names the argument and the
    value) changes nothing.
    """

    _name = None  # C++ evaluator name
    _defaults = {}  # parameters that have a default (the others are required)
    _param_spec = None  # {parameter: default or REQUIRED}, in the evaluator's order: made from the
    # names the evaluator declares (_core.pair_parameters), never written here
    _accepted_modes = ("none", "shift", "xplor")
    _cpp_ntypes = None
    _cpp_name = None
    _cpp_nlist = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls._name is None or "_param_spec" in cls.__dict__:  # (Table declares its own: arrays)
            return
        names = _core.pair_parameters().get(cls._name)
        if names is None:
            raise TypeError(f"{cls.__name__}: the engine has no pair evaluator {cls._name!r}")
        unknown = set(cls._defaults) - set(names)
        if unknown:
            raise TypeError(
                f"{cls.__name__}: defaults for {sorted(unknown)}, which the evaluator {cls._name!r} "
                f"does not have (its parameters: {names})"
            )
        cls._param_spec = {n: cls._defaults.get(n, REQUIRED) for n in names}
        if "xplor" in cls._accepted_modes and f"{cls._name}/xplor" not in _core.pair_parameters():
            raise TypeError(f"{cls.__name__}: accepts mode 'xplor' but the engine has no {cls._name}/xplor")

    def __init__(self, nlist, default_r_cut=None, default_r_on=0.0, mode="none"):
        cls = type(self).__name__
        if self._param_spec is None:
            raise TypeError(f"{cls} is a base class: use a potential such as hoomd_adjoint.md.pair.LJ")
        self._simulation = None
        self.nlist = nlist
        self.mode = mode
        if default_r_cut is not None:
            default_r_cut = as_real(f"{cls} default_r_cut", default_r_cut, lo=0.0)
        default_r_on = as_real(f"{cls} default_r_on", default_r_on, lo=0.0)
        self.params = TypeParameterDict(
            "params",
            2,
            spec=dict(type(self)._param_spec),
            validate=self._validate_params,
            owner=cls,
            types=self._attached_types,
        )
        self.r_cut = TypeParameterDict(
            "r_cut", 2, default=default_r_cut, validate=_non_negative, owner=cls, types=self._attached_types
        )
        self.r_on = TypeParameterDict(
            "r_on", 2, default=default_r_on, validate=_non_negative, owner=cls, types=self._attached_types
        )

    @property
    def nlist(self):
        """The neighbour list (a :class:`hoomd_adjoint.md.nlist.Cell`)."""
        return self._nlist

    @nlist.setter
    def nlist(self, value):
        if not isinstance(value, Cell):
            hint = " (a neighbour list is required)" if value is None else ""
            raise TypeError(
                f"{type(self).__name__}: nlist must be a hoomd_adjoint.md.nlist.Cell, got "
                f"{show(value)} ({type(value).__name__}){hint}"
            )
        self._nlist = value

    @property
    def mode(self):
        """Energy shifting mode: one of the potential's accepted modes."""
        return self._mode

    @mode.setter
    def mode(self, value):
        cls = type(self).__name__
        if not isinstance(value, str):
            raise TypeError(
                f"{cls}: mode must be a string, one of {self._accepted_modes}, got {show(value)} "
                f"({type(value).__name__})"
            )
        if value not in self._accepted_modes:
            raise ValueError(f"{cls}: mode must be one of {self._accepted_modes}, got {value!r}")
        self._mode = value
        # the engine's parameters: in xplor, r_on (from self.r_on) comes last, and gradient()
        # reports it with the others
        if value == "xplor":
            self._param_spec = {**type(self)._param_spec, "r_on": None}
        else:
            self.__dict__.pop("_param_spec", None)

    def _engine_name(self):
        return f"{self._name}/xplor" if self._mode == "xplor" else self._name

    def _validate_params(self, what, value):
        pass

    def _attached_types(self):
        """The particle types of the simulation whose integrator holds this force, or None."""
        sim = self._simulation
        if sim is None or sim._state is None:
            return None
        integ = sim.operations.integrator
        if integ is None or all(f is not self for f in getattr(integ, "forces", ())):
            return None
        return sim.state.particle_types

    def _check_attachable(self, simulation):
        """Raise if this force or its neighbour list is in use by another simulation."""
        cls = type(self).__name__
        if _used_elsewhere(self._simulation, simulation, lambda f: f is self):
            raise ValueError(
                f"this {cls} is already a force of another Simulation's integrator: a force belongs "
                f"to one simulation (sharing one would mix their neighbour lists); create a new {cls}, "
                "or set the other simulation's operations.integrator = None first"
            )
        nl = self._nlist
        if _used_elsewhere(nl._simulation, simulation, lambda f: getattr(f, "nlist", None) is nl):
            raise ValueError(
                f"{cls}.nlist is already used by a force of another Simulation's integrator: a "
                "neighbour list belongs to one simulation; give each simulation its own nlist.Cell"
            )

    def _attach(self, simulation):
        self._check_attachable(simulation)
        self._simulation = simulation
        if self._nlist._simulation is not simulation:
            # a list built for another simulation's particles must not be reused (same N and
            # timestep would pass its rebuild check): setting the buffer forces a rebuild
            self._nlist._cpp.buffer = self._nlist._cpp.buffer
        self._nlist._simulation = simulation
        ntypes = len(simulation.state.particle_types)
        name = self._engine_name()
        if (
            self._cpp is None
            or self._cpp_ntypes != ntypes
            or self._cpp_nlist is not self._nlist._cpp
            or self._cpp_name != name
        ):
            self._cpp = self._make_cpp(ntypes)
            self._cpp_ntypes = ntypes
            self._cpp_nlist = self._nlist._cpp
            self._cpp_name = name

    def _make_cpp(self, ntypes):
        return _core.make_pair_force(self._engine_name(), self._nlist._cpp, ntypes)

    def _selection(self, names, state):
        """The engine's indices of the named parameters (what a gradient's ``select`` holds)."""
        return [k for k, n in enumerate(self._param_spec) if n in names]

    def _plan(self, state):
        """Check the parameters against ``state`` (raise naming any unknown type, or any type pair in
        use that lacks parameters) and return what to push: [(a, b, values or None, r_cut)]."""
        types = state.particle_types
        self.params.check_types(types)
        self.r_cut.check_types(types)
        self.r_on.check_types(types)
        present = set(np.unique(state._cpp.typeid).tolist())
        names = list(type(self)._param_spec)
        xplor = self._mode == "xplor"
        plan = []
        for a in range(len(types)):
            for b in range(a, len(types)):
                key = (types[a], types[b])
                in_use = a in present and b in present
                rc = self.r_cut.get(key)
                p = self.params.get(key)
                if in_use and rc is None:
                    raise IncompleteSpecificationError(
                        f"{type(self).__name__}.r_cut[{key!r}] is not set and there is no default_r_cut"
                    )
                if in_use and p is None and (rc or 0) > 0:
                    raise IncompleteSpecificationError(
                        f"{type(self).__name__}.params[{key!r}] is not set; it needs {names}"
                    )
                if p is None or rc is None:
                    plan.append((a, b, None, 0.0))
                else:
                    plan.append((a, b, [p[n] for n in names] + ([self.r_on.get(key)] if xplor else []), rc))
        return plan

    def _push(self, plan):
        for a, b, values, rc in plan:
            if values is not None:
                self._cpp.set_params(a, b, values)
            self._cpp.set_rcut(a, b, rc)
        self._cpp.shift = self._mode == "shift"

    def _sync(self):
        """Push parameters to C++; raise naming any type pair in use that lacks parameters."""
        self._push(self._plan(self._simulation.state))


def _non_negative(what, value):
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")


def _used_elsewhere(owner, simulation, uses):
    """Whether ``owner`` (a Simulation or None), other than ``simulation``, has an integrator with a
    force for which ``uses(force)`` holds."""
    if owner is None or owner is simulation:
        return False
    integ = owner.operations.integrator
    return integ is not None and any(uses(f) for f in getattr(integ, "forces", ()))


def _positive_param(*names):
    def check(self, what, value):
        for n in names:
            if not value[n] > 0:
                raise ValueError(f"{what}[{n!r}] must be > 0, got {value[n]}")

    return check


class LJ(Pair):
    """Lennard-Jones: V(r) = 4 epsilon [(sigma/r)^12 - (sigma/r)^6].

    ``params[(a, b)] = dict(epsilon=..., sigma=...)`` (energy, length; sigma > 0, or sigma >= 0
    with epsilon = 0: a pair switched off, as rigid bodies' centres often are).
    """

    _name = "LJ"

    def _validate_params(self, what, value):
        if value["epsilon"] == 0 and value["sigma"] >= 0:
            return
        _positive_param("sigma")(self, what, value)


class Morse(Pair):
    """Morse: V(r) = D0 [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))].

    ``params[(a, b)] = dict(D0=..., alpha=..., r0=...)`` (energy, 1/length > 0, length >= 0).
    """

    _name = "Morse"

    def _validate_params(self, what, value):
        _positive_param("alpha")(self, what, value)
        if value["r0"] < 0:
            raise ValueError(f"{what}['r0'] must be >= 0, got {value['r0']}")


class Yukawa(Pair):
    """Yukawa: V(r) = epsilon exp(-kappa r) / r.

    ``params[(a, b)] = dict(epsilon=..., kappa=...)`` (energy x length, 1/length >= 0).
    """

    _name = "Yukawa"

    def _validate_params(self, what, value):
        if value["kappa"] < 0:
            raise ValueError(f"{what}['kappa'] must be >= 0 (0 is Coulomb), got {value['kappa']}")


class Gaussian(Pair):
    """Gaussian: V(r) = epsilon exp(-r^2 / (2 sigma^2)).

    ``params[(a, b)] = dict(epsilon=..., sigma=...)`` (energy, length; sigma > 0).
    """

    _name = "Gaussian"
    _validate_params = _positive_param("sigma")


class DPDConservative(Pair):
    """Soft-sphere repulsion (HOOMD's DPDConservative): V(r) = A (r_cut - r)^2 / (2 r_cut) for r < r_cut.

    A harmonic soft sphere with spring constant A / r_cut and contact distance r_cut.
    ``params[(a, b)] = dict(A=...)`` (energy / length). Only ``mode='none'`` (V(r_cut) = 0 already).
    """

    _name = "DPDConservative"
    _accepted_modes = ("none",)


class Rechtsman(Pair):
    """Honeycomb-forming isotropic potential (PNAS 2021 kinetics-design paper, Eq. 1):

    V(r) = b0/r^12 - a0/r^10 + a1 exp(-a2 r) - b1 exp(-b2 (r - a3)^2)

    ``params[(a, b)] = dict(a0=..., a1=..., a2=..., a3=..., b0=5.0, b1=0.4, b2=40.0)``; the paper
    fixes b0, b1 and b2 to these defaults and designs a0..a3.
    """

    _name = "Rechtsman"
    _accepted_modes = ("none", "shift")  # (not a HOOMD-blue potential: no xplor form)
    _defaults = {"b0": 5.0, "b1": 0.4, "b2": 40.0}


class ExpandedLJ(Pair):
    """Lennard-Jones shifted outward by delta: V(r) = 4 epsilon [(sigma/(r - delta))^12 - (sigma/(r - delta))^6].

    ``params[(a, b)] = dict(epsilon=..., sigma=..., delta=...)`` (energy, length > 0, length): as
    HOOMD-blue's ``md.pair.ExpandedLJ``, e.g. for particles of different diameters.
    """

    _name = "ExpandedLJ"
    _validate_params = _positive_param("sigma")


class ForceShiftedLJ(Pair):
    """Force-shifted Lennard-Jones: V(r) = V_LJ(r) + Δ V(r), with Δ V(r) = -(r - r_cut) dV_LJ/dr at
    r_cut, so that the force goes to zero at r_cut (the energy keeps V_LJ(r_cut) there, as in
    HOOMD-blue).

    ``params[(a, b)] = dict(epsilon=..., sigma=...)`` (energy, length > 0). As HOOMD-blue's
    ``md.pair.ForceShiftedLJ``: ``mode`` can only be ``'none'`` (the shift is built in) and there
    is no ``default_r_on``.
    """

    _name = "ForceShiftedLJ"
    _accepted_modes = ("none",)
    _validate_params = _positive_param("sigma")

    def __init__(self, nlist, default_r_cut=None, mode="none"):
        super().__init__(nlist, default_r_cut=default_r_cut, mode=mode)


class Buckingham(Pair):
    """Buckingham: V(r) = A exp(-r / rho) - C / r^6.

    ``params[(a, b)] = dict(A=..., rho=..., C=...)`` (energy, length > 0, energy x length^6). To
    switch a pair off, set A = C = 0 or r_cut = 0 (HOOMD-blue also skips pairs with rho <= 0; here
    such a value is refused, as it is more often a typo).
    """

    _name = "Buckingham"
    _validate_params = _positive_param("rho")


class Mie(Pair):
    """Mie: V(r) = (n / (n - m)) (n / m)^(m / (n - m)) epsilon [(sigma/r)^n - (sigma/r)^m].

    ``params[(a, b)] = dict(epsilon=..., sigma=..., n=..., m=...)`` (energy, length > 0, and the
    exponents, n > m > 0; all four differentiable). As HOOMD-blue's ``md.pair.Mie``; n = 12, m = 6
    is LJ.
    """

    _name = "Mie"

    def _validate_params(self, what, value):
        _positive_param("sigma", "m")(self, what, value)
        if not value["n"] > value["m"]:
            raise ValueError(f"{what}['n'] must be > m = {value['m']}, got {value['n']}")


class _RangeFromParams(Pair):
    """A potential whose range is one of its (differentiable) parameters: r_cut follows it. Any
    positive ``r_cut`` (the default) means "on"; ``r_cut[(a, b)] = 0`` switches a pair off."""

    _range_param = None
    _accepted_modes = ("none",)

    def __init__(self, nlist, default_r_cut=1.0, default_r_on=0.0, mode="none"):
        super().__init__(nlist, default_r_cut=default_r_cut, default_r_on=default_r_on, mode=mode)

    def _plan(self, state):
        k = list(self._param_spec).index(self._range_param)
        return [(a, b, v, v[k] if v is not None and rc > 0 else 0.0) for a, b, v, rc in super()._plan(state)]


class SoftSphere(_RangeFromParams):
    """Soft sphere (JAX MD's ``soft_sphere``): V(r) = (epsilon / alpha) (1 - r / sigma)^alpha for
    r < sigma, 0 beyond.

    ``params[(a, b)] = dict(epsilon=..., sigma=..., alpha=2.0)`` (energy, length > 0, > 0). The
    range is sigma (differentiable); ``r_cut[(a, b)] = 0`` switches a pair off. Not in HOOMD-blue; with alpha = 2
    it equals ``DPDConservative(A = epsilon / sigma)`` with r_cut = sigma.
    """

    _name = "SoftSphere"
    _defaults = {"alpha": 2.0}
    _range_param = "sigma"
    _validate_params = _positive_param("sigma", "alpha")


class MorseSwitched(_RangeFromParams):
    """Morse times the XPLOR switch S(r) (JAX MD's ``multiplicative_isotropic_cutoff``; HOOMD's
    ``mode='xplor'`` has the same S): V(r) = D0 [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))] S(r),
    S = 1 below r_on, (r_off^2 - r^2)^2 (r_off^2 + 2 r^2 - 3 r_on^2) / (r_off^2 - r_on^2)^3 up to r_off.

    ``params[(a, b)] = dict(D0=..., alpha=..., r0=..., r_on=..., r_off=...)`` (energy, 1/length > 0,
    length >= 0, 0 <= r_on < r_off). All five are differentiable; the range is r_off
    (``r_cut[(a, b)] = 0`` switches a pair off).
    """

    _name = "MorseSwitched"
    _range_param = "r_off"

    def _validate_params(self, what, value):
        _positive_param("alpha", "r_off")(self, what, value)
        if value["r0"] < 0:
            raise ValueError(f"{what}['r0'] must be >= 0, got {value['r0']}")
        if not 0 <= value["r_on"] < value["r_off"]:
            raise ValueError(f"{what}: need 0 <= r_on < r_off, got r_on = {value['r_on']}, r_off = {value['r_off']}")


class _TableParams(TypeParameterDict):
    """``params[(a, b)] = dict(r_min=..., U=..., F=...)``: a length and two arrays of one length."""

    def _check_value(self, key, value):
        what = f"{self._what}[{self._label(key)!r}]"
        if not isinstance(value, dict):
            raise TypeError(f"{what} must be a dict with keys ['r_min', 'U', 'F'], got {show(value)}")
        unknown = [p for p in value if p not in ("r_min", "U", "F")]
        if unknown:
            raise ValueError(f"{what}: unknown parameter(s) {sorted(map(str, unknown))}; expected ['r_min', 'U', 'F']")
        old = self._data.get(key, {})
        merged = {}
        for p in ("r_min", "U", "F"):
            v = value.get(p, old.get(p))
            if v is None:
                raise ValueError(f"{what}: missing parameter {p!r} (required: ['r_min', 'U', 'F'])")
            if p == "r_min":
                merged[p] = as_real(f"{what}['r_min']", v, lo=0.0)
                continue
            try:
                arr = np.array(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"{what}[{p!r}] must be a 1-D array of numbers, got {show(v)}") from None
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"{what}[{p!r}] must be a non-empty 1-D array, got shape {arr.shape}")
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise ValueError(f"{what}[{p!r}][{int(bad[0])}] must be finite, got {arr[bad[0]]}")
            arr.flags.writeable = False
            merged[p] = arr
        if merged["U"].size != merged["F"].size:
            raise ValueError(
                f"{what}: U and F must have the same length, got {merged['U'].size} and {merged['F'].size}"
            )
        return merged


class Table(Pair):
    """Tabulated pair force (HOOMD-blue's ``md.pair.Table``, the same arithmetic): per type pair,
    the energy ``U`` and the force ``F`` (= -dU/dr) given at ``len(U)`` points
    ``numpy.linspace(r_min, r_cut, len(U), endpoint=False)`` and interpolated linearly (from the
    last point to zero at r_cut); no force or energy below r_min or from r_cut on.

    ``params[(a, b)] = dict(r_min=..., U=..., F=...)`` (length >= 0; energies and forces, two 1-D
    arrays of one length; pairs may have different lengths). Only ``mode='none'``. Everything in
    ``params`` is differentiable: ``wrt=[table]`` gives ``grad(table)[(a, b)] = {'r_min': float,
    'U': array, 'F': array}`` (the arrays as long as the pair's table); ``wrt=[(table, ['F'])]``
    only some of them. Reverse mode only; runs on the CPU.
    """

    _name = "Table"
    _param_spec = {"r_min": REQUIRED, "U": REQUIRED, "F": REQUIRED}
    _accepted_modes = ("none",)

    def __init__(self, nlist, default_r_cut=None):
        super().__init__(nlist, default_r_cut=default_r_cut, mode="none")
        self.params = _TableParams("params", 2, spec=dict(self._param_spec), owner="Table", types=self._attached_types)

    def _make_cpp(self, ntypes):
        return _core.TableForce(self._nlist._cpp, ntypes)

    def _push(self, plan):
        for a, b, values, rc in plan:
            if values is not None:
                self._cpp.set_table(a, b, values[0], values[1], values[2])
            self._cpp.set_rcut(a, b, rc)

    def _width(self, state):
        """The longest table pushed for ``state`` (the engine's TableForce.width)."""
        return max([1] + [v[1].size for _, _, v, _ in self._plan(state) if v is not None])

    def _selection(self, names, state):
        W = self._width(state)
        spans = {"r_min": [0], "U": list(range(1, 1 + W)), "F": list(range(1 + W, 1 + 2 * W))}
        return [k for n in self._param_spec if n in names for k in spans[n]]

    def _grad_dict(self, flat, state, wanted=None):
        """{(a, b): {'r_min', 'U', 'F'}} from the engine's ntypes^2 x (1 + 2 W) gradient, (a, b)
        and (b, a) summed; each array as long as the pair's table."""
        types = state.particle_types
        W, nt = self._width(state), len(types)
        g = np.broadcast_to(np.asarray(flat, dtype=float).reshape(-1), (nt * nt * (1 + 2 * W),))
        g = g.reshape(nt, nt, 1 + 2 * W)
        out = {}
        for a in range(nt):
            for b in range(a, nt):
                v = g[a, b] + (g[b, a] if a != b else 0.0)
                p = self.params.get((types[a], types[b]))
                w = p["U"].size if p is not None else 0
                full = {"r_min": float(v[0]), "U": v[1 : 1 + w].copy(), "F": v[1 + W : 1 + W + w].copy()}
                out[(types[a], types[b])] = {n: x for n, x in full.items() if wanted is None or n in wanted}
        return out

    def __repr__(self):
        return "Table()"
