"""Integration methods (hoomd.md.methods) with HOOMD-blue v4.8.2's update equations."""

import numbers

from ... import _core
from ...filter import ParticleFilter
from ...typeparam import TypeParameterDict, as_bool, as_real, show
from ...variant import as_variant


def _positive(what, value):
    if not value > 0:
        raise ValueError(f"{what} must be > 0, got {value}")


def _gamma_r_value(what, value):
    """A 3-tuple of finite floats >= 0."""
    n = None
    if not isinstance(value, (str, bytes, dict, numbers.Number)):
        try:
            n = len(value)
        except TypeError:
            pass
    if n is None:
        raise TypeError(f"{what} must be 3 numbers (x, y, z), got {show(value)} ({type(value).__name__})")
    if n != 3:
        raise ValueError(f"{what} must be 3 numbers (x, y, z), got {n}: {show(value)}")
    return tuple(as_real(f"{what}[{k}]", v, lo=0.0) for k, v in enumerate(value))


class _GammaR(TypeParameterDict):
    """gamma_r values are 3-tuples of values >= 0."""

    def _check_value(self, key, value):
        return _gamma_r_value(f"{self._what}[{key[0]!r}]", value)


class Method:
    """Base class of integration methods."""

    _kind = None
    _simulation = None
    _momentum_conserving = False  # (degrees of freedom: md.compute.ThermodynamicQuantities)

    def __init__(self, filter):
        if self._kind is None:
            raise TypeError(f"{type(self).__name__} is a base class: use Brownian, Langevin or ConstantVolume")
        self.filter = filter

    @property
    def filter(self):
        """The particles this method integrates (a :mod:`hoomd_adjoint.filter` filter)."""
        return self._filter

    @filter.setter
    def filter(self, value):
        if not isinstance(value, ParticleFilter):
            raise TypeError(
                f"{type(self).__name__}: filter must be a hoomd_adjoint.filter filter such as "
                f"filter.All(), got {show(value)} ({type(value).__name__})"
            )
        self._filter = value

    def _attached_types(self):
        """The particle types of the simulation whose integrator holds this method, or None."""
        sim = self._simulation
        if sim is None or sim._state is None:
            return None
        integ = sim.operations.integrator
        if integ is None or all(m is not self for m in getattr(integ, "methods", ())):
            return None
        return sim.state.particle_types

    def _cpp_args(self, state):
        """(kind, member tags, kT variant arguments, gamma per type, gamma_r per type flattened),
        checked against ``state``."""
        types = state.particle_types
        kt = as_variant(self._kT, "kT")._cpp_args() if hasattr(self, "_kT") else (0, 0.0, 0.0, 0, 0)
        if hasattr(self, "gamma"):
            self.gamma.check_types(types)
            self.gamma_r.check_types(types)
            gamma = [self.gamma[t] for t in types]
            gamma_r = [g for t in types for g in self.gamma_r[t]]
        else:
            gamma = [1.0] * len(types)
            gamma_r = [1.0] * (3 * len(types))
        return self._kind, self._filter(state), kt, gamma, gamma_r

    def __repr__(self):
        return f"{type(self).__name__}(filter={self._filter!r})"


class _LangevinBase(Method):
    def __init__(self, filter, kT, default_gamma=1.0, default_gamma_r=(1.0, 1.0, 1.0)):
        super().__init__(filter)
        self.kT = kT
        cls = type(self).__name__
        default_gamma = as_real(f"{cls} default_gamma", default_gamma, lo=0.0, lo_open=True)
        default_gamma_r = _gamma_r_value(f"{cls} default_gamma_r", default_gamma_r)
        self.gamma = TypeParameterDict(
            "gamma", 1, default=default_gamma, validate=_positive, owner=cls, types=self._attached_types
        )
        self.gamma_r = _GammaR("gamma_r", 1, default=default_gamma_r, owner=cls, types=self._attached_types)

    @property
    def kT(self):
        """Temperature in energy units (a float or a Variant of the timestep): finite and >= 0."""
        return self._kT

    @kT.setter
    def kT(self, value):
        self._kT = as_variant(value, "kT")

    def __repr__(self):
        return f"{type(self).__name__}(filter={self._filter!r}, kT={self._kT!r})"


class Brownian(_LangevinBase):
    """Overdamped Langevin dynamics: r += (F + F_R) dt / gamma, with F_R uniform in
    [-1, 1] sqrt(6 gamma kT / dt) per component (HOOMD's TwoStepBD).

    Args:
        filter: particles to integrate.
        kT: temperature (energy units), finite and >= 0.
        default_gamma: drag coefficient (force x time / length) for every type, finite and > 0;
            set ``gamma['A']`` per type.
        default_gamma_r: rotational drag (3 values >= 0, body frame, torque x time) for every type;
            set ``gamma_r['A']`` per type. Rotation is integrated with Integrator(integrate_rotational_dof=True).
    """

    _kind = _core.MethodKind.Brownian


class Langevin(_LangevinBase):
    """Langevin dynamics with HOOMD's velocity-Verlet splitting; drag and uniform noise enter
    through the stored acceleration (HOOMD's TwoStepLangevin)."""

    _kind = _core.MethodKind.Langevin

    def __init__(self, filter, kT, tally_reservoir_energy=False, default_gamma=1.0, default_gamma_r=(1.0, 1.0, 1.0)):
        if as_bool("Langevin tally_reservoir_energy", tally_reservoir_energy):
            raise ValueError("Langevin: tally_reservoir_energy is not supported by the embedded engine yet")
        super().__init__(filter, kT, default_gamma, default_gamma_r)
        self.tally_reservoir_energy = False


class ConstantVolume(Method):
    """Constant-volume integration (velocity Verlet); with a thermostat
    (:mod:`~hoomd_adjoint.md.methods.thermostats` Bussi, Berendsen or MTTK) it samples at its kT,
    as HOOMD-blue 4.8.2's ConstantVolume does; with ``thermostat=None`` it is NVE."""

    _kind = _core.MethodKind.ConstantVolume
    _momentum_conserving = True

    def __init__(self, filter, thermostat=None):
        super().__init__(filter)
        self._index = None  # position in the engine's methods while attached
        self._dof = (0.0, 0.0)
        self._thermostat = None
        self.thermostat = thermostat

    @property
    def thermostat(self):
        """The thermostat (a :mod:`~hoomd_adjoint.md.methods.thermostats` object) or None (NVE)."""
        return self._thermostat

    @thermostat.setter
    def thermostat(self, value):
        if value is not None and not isinstance(value, thermostats.Thermostat):
            raise TypeError(
                f"ConstantVolume: thermostat must be a hoomd_adjoint.md.methods.thermostats Bussi, Berendsen "
                f"or MTTK, or None, got {show(value)} ({type(value).__name__})"
            )
        if value is not None and value._method not in (None, self):
            raise ValueError(
                f"ConstantVolume: this {type(value).__name__} thermostat already belongs to another "
                "ConstantVolume; create one for each method"
            )
        old = self._thermostat
        if old is not None and old is not value:
            old._vars = list(old._variables())  # keeps its state, detached
            old._method = None
        self._thermostat = value
        if value is not None:
            value._method = self

    def _changed(self):
        """A thermostat's parameter changed: the engine takes it at the next run."""

    def _cpp_args(self, state):
        kind, tags, kt, gamma, gamma_r = super()._cpp_args(state)
        if self._thermostat is not None:  # the engine's kT is the thermostat's set point
            kt = as_variant(self._thermostat._kT, f"{self._thermostat._name} kT")._cpp_args()
        return kind, tags, kt, gamma, gamma_r

    def _thermostat_args(self, state, integrator, methods):
        """(kind, tau, translational DOF, rotational DOF, MTTK variables) for the engine."""
        th = self._thermostat
        if th is None:
            return 0, 0.0, 0.0, 0.0, (0.0, 0.0, 0.0, 0.0)
        from ..compute import counted, group_dof

        self._dof = group_dof(state, integrator, counted(state, self._filter), methods)
        if th._kind in (2, 3) and integrator.integrate_rotational_dof and self._dof[1] == 0:
            raise ValueError(
                f"ConstantVolume's {th._name} thermostat with integrate_rotational_dof=True needs particles "
                "with moments of inertia > 0 among its own: it divides by their rotational degrees of freedom "
                "(0 here; HOOMD-blue 4.8.2 would set the angular momenta to NaN). Set integrate_rotational_dof=False"
            )
        return th._kind, th._tau, self._dof[0], self._dof[1], th._variables()

    def __repr__(self):
        th = "" if self._thermostat is None else f", thermostat={self._thermostat!r}"
        return f"ConstantVolume(filter={self._filter!r}{th})"


from . import thermostats  # noqa: E402  (the submodule, as hoomd.md.methods.thermostats)
