"""Thermostats for ConstantVolume (hoomd.md.methods.thermostats): HOOMD-blue 4.8.2's velocity
rescaling (engine/Thermostat.h). Each step the method's velocities (and, with
``integrate_rotational_dof``, angular momenta) are multiplied by a factor after the first half
kick and before the second. The forward run only: ``adjoint.gradient`` refuses them by name.
"""

from ...logging import Loggables
from ...typeparam import as_real, show
from ...variant import as_variant

__all__ = ["Berendsen", "Bussi", "MTTK", "Thermostat"]


class Thermostat:
    """Base class: the set point ``kT`` (a number or a :mod:`hoomd_adjoint.variant`)."""

    _kind = 0
    _name = None
    loggables = Loggables()  # {quantity: category} (hoomd.logging)
    _loggables = {}

    def __init__(self, kT):
        if self._name is None:
            raise TypeError("Thermostat is a base class: use Bussi, Berendsen or MTTK")
        self.kT = kT
        self._method = None  # the ConstantVolume that holds it

    @property
    def kT(self):
        """Set point (energy): a number or a variant of the timestep."""
        return self._kT

    @kT.setter
    def kT(self, value):
        as_variant(value, f"{type(self).__name__} kT")
        self._kT = value
        self._changed()

    @property
    def tau(self):
        """Time constant (time units)."""
        return self._tau

    @tau.setter
    def tau(self, value):
        self._tau = self._check_tau(as_real(f"{type(self).__name__} tau", value))
        self._changed()

    def _check_tau(self, tau):
        if not tau > 0:
            raise ValueError(f"{type(self).__name__} tau must be > 0, got {tau}")
        return tau

    def _changed(self):
        m = getattr(self, "_method", None)
        if m is not None:
            m._changed()

    def _variables(self):
        return (0.0, 0.0, 0.0, 0.0)

    def __repr__(self):
        return f"{type(self).__name__}(kT={self._kT!r}, tau={self._tau!r})"


class Bussi(Thermostat):
    """Bussi, Donadio and Parrinello's stochastic velocity rescaling (canonical sampling).

    Args:
        kT: set point (energy).
        tau: time constant (time); 0 (default) draws the kinetic energy afresh each step.

    The random factor of step t comes from HOOMD-blue's stream (seed, t, the first particle's
    tag): the same trajectory as HOOMD-blue's. The method's particles need kinetic energy > 0.
    """

    _kind = 1
    _name = "Bussi"

    def __init__(self, kT, tau=0.0):
        self._tau = 0.0
        super().__init__(kT)
        self.tau = tau

    def _check_tau(self, tau):
        if not tau >= 0:
            raise ValueError(f"Bussi tau must be >= 0, got {tau}")
        return tau


class Berendsen(Thermostat):
    """Berendsen's weak coupling: factor sqrt(1 + dt / tau (kT / kT_current - 1)) (not canonical).

    Args:
        kT: set point (energy).
        tau: time constant (time, > 0).
    """

    _kind = 2
    _name = "Berendsen"

    def __init__(self, kT, tau):
        self._tau = 1.0
        super().__init__(kT)
        self.tau = tau


class MTTK(Thermostat):
    """Nosé-Hoover (Martyna-Tobias-Klein) thermostat, with its variables (xi, eta).

    Args:
        kT: set point (energy).
        tau: time constant (time, > 0).

    ``translational_dof`` and ``rotational_dof`` are the thermostat's (xi, eta) pairs, carried
    from run to run (settable, as in HOOMD-blue); ``energy`` is its contribution to the conserved
    Hamiltonian.
    """

    _kind = 3
    _name = "MTTK"
    _loggables = dict(energy="scalar")

    def __init__(self, kT, tau):
        self._tau = 1.0
        self._vars = [0.0, 0.0, 0.0, 0.0]
        super().__init__(kT)
        self.tau = tau

    def _live(self):
        """The engine's (xi, eta, xi_rot, eta_rot) while attached, else the stored ones."""
        m = self._method
        if m is not None and m._index is not None:
            self._vars = list(m._simulation.state._cpp.thermostat_variables(m._index))
        return self._vars

    @property
    def translational_dof(self):
        """(xi, eta) of the translational thermostat."""
        v = self._live()
        return (v[0], v[1])

    @translational_dof.setter
    def translational_dof(self, value):
        self._set_pair(0, "translational_dof", value)

    @property
    def rotational_dof(self):
        """(xi, eta) of the rotational thermostat."""
        v = self._live()
        return (v[2], v[3])

    @rotational_dof.setter
    def rotational_dof(self, value):
        self._set_pair(2, "rotational_dof", value)

    def _set_pair(self, at, name, value):
        try:
            pair = [as_real(f"MTTK {name}[{k}]", x) for k, x in enumerate(value)]
        except TypeError:
            raise TypeError(f"MTTK {name} must be two numbers (xi, eta), got {show(value)}") from None
        if len(pair) != 2:
            raise ValueError(f"MTTK {name} must be two numbers (xi, eta), got {len(pair)}")
        v = self._live()
        v[at : at + 2] = pair
        self._vars = v
        m = self._method
        if m is not None and m._index is not None:  # the engine holds the live values
            m._simulation.state._cpp.set_thermostat(m._index, self._kind, self._tau, *m._dof, v)

    def _variables(self):
        return tuple(self._live())

    @property
    def energy(self):
        """The thermostat's energy: N_t kT (xi^2 tau^2 / 2 + eta) + N_r kT (eta_r + tau^2 xi_r^2 / 2)."""
        m = self._method
        if m is None or m._index is None:
            from ...errors import DataAccessError

            raise DataAccessError("MTTK.energy: available once the simulation has run")
        xi, eta, xi_r, eta_r = self._live()
        sim = m._simulation
        kT = as_variant(self._kT, "kT")(sim.timestep)
        n_t, n_r = m._dof
        tau = self._tau
        e = n_t * kT * ((xi * xi * tau * tau / 2.0) + eta)
        return e + n_r * kT * (eta_r + (tau * tau * xi_r * xi_r / 2.0))
