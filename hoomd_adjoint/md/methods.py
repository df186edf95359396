"""Integration methods (hoomd.md.methods) with HOOMD-blue v4.8.2's update equations."""

from .. import _core
from ..typeparam import TypeParameterDict
from ..variant import as_variant


def _positive(name):
    def check(key, value):
        if not value > 0:
            raise ValueError(f"{name}[{key!r}] must be > 0, got {value}")
    return check


def _gamma_r_check(key, value):
    vals = [float(v) for v in value]
    if len(vals) != 3 or any(v < 0 for v in vals):
        raise ValueError(f"gamma_r[{key!r}] must be 3 values >= 0, got {value}")


class _GammaR(TypeParameterDict):
    """gamma_r values are 3-tuples."""

    def _check_value(self, key, value):
        _gamma_r_check(key[0], value)
        return tuple(float(v) for v in value)


class Method:
    _kind = None

    def __init__(self, filter):
        self.filter = filter

    def _cpp_args(self, state):
        types = state.particle_types
        kt = self.kT._cpp_args() if hasattr(self, "kT") else (0, 0.0, 0.0, 0, 0)
        if hasattr(self, "gamma"):
            self.gamma.check_types(types)
            gamma = [self.gamma[t] for t in types]
        else:
            gamma = [1.0] * len(types)
        return self._kind, self.filter(state), kt, gamma


class _LangevinBase(Method):
    def __init__(self, filter, kT, default_gamma=1.0, default_gamma_r=(1.0, 1.0, 1.0)):
        super().__init__(filter)
        self.kT = kT
        _positive("default_gamma")("default", float(default_gamma))
        self.gamma = TypeParameterDict("gamma", 1, default=float(default_gamma), validate=_positive("gamma"))
        _gamma_r_check("default", default_gamma_r)
        self.gamma_r = _GammaR("gamma_r", 1, default=tuple(float(v) for v in default_gamma_r))

    @property
    def kT(self):
        """Temperature in energy units (a float or a Variant of the timestep)."""
        return self._kT

    @kT.setter
    def kT(self, value):
        self._kT = as_variant(value, "kT")


class Brownian(_LangevinBase):
    """Overdamped Langevin dynamics: r += (F + F_R) dt / gamma, with F_R uniform in
    [-1, 1] sqrt(6 gamma kT / dt) per component (HOOMD's TwoStepBD).

    Args:
        filter: particles to integrate.
        kT: temperature (energy units).
        default_gamma: drag coefficient (force x time / length) for every type; set
            ``gamma['A']`` per type.
        default_gamma_r: rotational drag (not used until rotational integration lands).
    """

    _kind = _core.MethodKind.Brownian


class Langevin(_LangevinBase):
    """Langevin dynamics with HOOMD's velocity-Verlet splitting; drag and uniform noise enter
    through the stored acceleration (HOOMD's TwoStepLangevin)."""

    _kind = _core.MethodKind.Langevin

    def __init__(self, filter, kT, tally_reservoir_energy=False, default_gamma=1.0,
                 default_gamma_r=(1.0, 1.0, 1.0)):
        super().__init__(filter, kT, default_gamma, default_gamma_r)
        if tally_reservoir_energy:
            raise ValueError("Langevin: tally_reservoir_energy is not supported by the embedded engine yet")
        self.tally_reservoir_energy = False


class ConstantVolume(Method):
    """Constant-volume integration; with ``thermostat=None`` it is NVE velocity Verlet."""

    _kind = _core.MethodKind.ConstantVolume

    def __init__(self, filter, thermostat=None):
        super().__init__(filter)
        if thermostat is not None:
            raise ValueError("ConstantVolume: thermostats are not supported by the embedded engine yet; "
                             "use thermostat=None (NVE) or Langevin")
        self.thermostat = None
