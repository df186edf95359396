"""Computes (hoomd.md.compute): thermodynamic quantities of a subset of the particles.

HOOMD-blue 4.8.2's ``ComputeThermo``: sums over the filter's free particles and rigid-body
centres (constituents are left out), degrees of freedom as ``IntegratorTwoStep`` counts them.
Values are computed from the current state when read (forward only: they are not loss terms).
"""

import numpy as np

from ..logging import Loggables
from ..errors import DataAccessError
from ..filter import ParticleFilter
from ..typeparam import show


class ThermodynamicQuantities:
    """Thermodynamic properties of the particles a filter selects (``hoomd.md.compute``).

    Args:
        filter: the particles (free particles and rigid-body centres count; constituents do not).

    Add it to ``sim.operations.computes``; its values can be read (and logged) once the
    simulation has run (``sim.run(0)`` suffices). Units: energies in energy units, pressure in
    energy / length^D, volume in length^D (area in 2D).
    """

    loggables = Loggables()  # {quantity: category} (hoomd.logging)
    _loggables = dict(
        kinetic_temperature="scalar",
        pressure="scalar",
        pressure_tensor="sequence",
        kinetic_energy="scalar",
        translational_kinetic_energy="scalar",
        rotational_kinetic_energy="scalar",
        potential_energy="scalar",
        degrees_of_freedom="scalar",
        translational_degrees_of_freedom="scalar",
        rotational_degrees_of_freedom="scalar",
        num_particles="scalar",
        volume="scalar",
    )

    def __init__(self, filter):
        if not isinstance(filter, ParticleFilter):
            raise TypeError(
                f"ThermodynamicQuantities filter must be a hoomd_adjoint.filter, got {show(filter)} "
                f"({type(filter).__name__})"
            )
        self._filter = filter
        self._simulation = None

    @property
    def filter(self):
        return self._filter

    def _attach(self, simulation):
        self._simulation = simulation

    def _detach(self):
        self._simulation = None

    # -- what the sums run over ------------------------------------------------------------------
    def _ready(self):
        sim = self._simulation
        if sim is None or sim._state is None or getattr(sim.operations.integrator, "_synced", None) is None:
            raise DataAccessError(
                "ThermodynamicQuantities: values are available once it is in sim.operations.computes "
                "and sim.run() has been called (run(0) suffices)"
            )
        return sim

    def _members(self, sim):
        return counted(sim.state, self._filter)

    # -- quantities ------------------------------------------------------------------------------
    @property
    def num_particles(self):
        """Number of particles the filter selects (constituents included, as HOOMD-blue counts)."""
        sim = self._ready()
        return int(len(self._filter(sim.state)))

    @property
    def volume(self):
        """Box volume (area in 2D)."""
        sim = self._ready()
        L = sim.state.box
        return float(L.Lx * L.Ly) if sim.state.dimensions == 2 else float(L.Lx * L.Ly * L.Lz)

    @property
    def translational_kinetic_energy(self):
        """K_t = 1/2 sum m v^2."""
        sim = self._ready()
        m = self._members(sim)
        cpp = sim.state._cpp
        v = np.asarray(cpp.velocity)[m]
        return float(0.5 * np.sum(np.asarray(cpp.mass)[m] * np.sum(v * v, axis=1)))

    @property
    def rotational_kinetic_energy(self):
        """K_r = 1/2 sum_d L_d^2 / I_d over principal axes with I_d > 0 (0 unless the integrator
        integrates rotational degrees of freedom)."""
        sim = self._ready()
        if not sim.operations.integrator.integrate_rotational_dof:
            return 0.0
        m = self._members(sim)
        cpp = sim.state._cpp
        q = np.asarray(cpp.orientation)[m]
        p = np.asarray(cpp.angmom)[m]
        inertia = np.asarray(cpp.moment_inertia)[m]
        s = 0.5 * _conj_q_times_p(q, p)  # the body-frame angular momentum
        on = inertia > 0
        return float(0.5 * np.sum(np.where(on, s * s / np.where(on, inertia, 1.0), 0.0)))

    @property
    def kinetic_energy(self):
        """K = K_t + K_r."""
        return self.translational_kinetic_energy + self.rotational_kinetic_energy

    @property
    def potential_energy(self):
        """Sum of the net per-particle energies of the selected particles."""
        sim = self._ready()
        return float(np.sum(np.asarray(sim.state._cpp.net_energy)[self._members(sim)]))

    @property
    def translational_degrees_of_freedom(self):
        """D N minus D N / N_total when one momentum-conserving method (ConstantVolume)
        integrates every particle (N: the filter's free particles and centres)."""
        sim = self._ready()
        return group_dof(sim.state, sim.operations.integrator, self._members(sim))[0]

    @property
    def rotational_degrees_of_freedom(self):
        """Principal axes with I > 0 (in 2D: z only) of the selected particles each method
        integrates; 0 unless the integrator integrates rotational degrees of freedom."""
        sim = self._ready()
        return group_dof(sim.state, sim.operations.integrator, self._members(sim))[1]

    @property
    def degrees_of_freedom(self):
        return self.translational_degrees_of_freedom + self.rotational_degrees_of_freedom

    @property
    def kinetic_temperature(self):
        """kT = 2 K / N_dof (0 without degrees of freedom)."""
        ndof = self.degrees_of_freedom
        return 2.0 * self.kinetic_energy / ndof if ndof > 0 else 0.0

    def _virial(self, sim):
        """The selected particles' summed net virial (xx, xy, xz, yy, yz, zz)."""
        if sim.state._cpp.n_bodies:
            raise DataAccessError(
                "ThermodynamicQuantities: pressure with rigid bodies needs the constraint virial, "
                "which the embedded engine does not compute yet"
            )
        m = self._members(sim)
        w = np.zeros(6)
        for f in sim.operations.integrator.forces:
            w += np.asarray(f.virials)[m].sum(axis=0)
        return w

    @property
    def pressure(self):
        """P = (2 K_t / D + W) / V, W = (W_xx + W_yy + W_zz) / D."""
        sim = self._ready()
        dim = sim.state.dimensions
        w = self._virial(sim)
        W = (w[0] + w[3] + w[5]) / dim
        return float((2.0 * self.translational_kinetic_energy / dim + W) / self.volume)

    @property
    def pressure_tensor(self):
        """(P_xx, P_xy, P_xz, P_yy, P_yz, P_zz) = (sum m v_k v_l + W_kl) / V."""
        sim = self._ready()
        m = self._members(sim)
        cpp = sim.state._cpp
        v = np.asarray(cpp.velocity)[m]
        mass = np.asarray(cpp.mass)[m]
        kin = [np.sum(mass * v[:, a] * v[:, b]) for a, b in ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))]
        return (np.asarray(kin) + self._virial(sim)) / self.volume


def _conj_q_times_p(q, p):
    """The vector part of conj(q) p for quaternions as rows (s, x, y, z)."""
    qs, qv = q[:, :1], -q[:, 1:]
    ps, pv = p[:, :1], p[:, 1:]
    return qs * pv + ps * qv + np.cross(qv, pv)


def counted(state, filter):
    """The tags of ``filter`` that thermodynamic sums count: free particles and rigid-body centres."""
    tags = np.asarray(filter(state), dtype=np.int64)
    body = np.asarray(state._cpp.body)[tags]
    return tags[(body < 0) | (body == tags)]


def group_dof(state, integrator, tags, methods=None):
    """(translational, rotational) degrees of freedom of the particles ``tags`` (free particles and
    centres), as HOOMD-blue 4.8.2's IntegratorTwoStep counts them: D per particle each method
    integrates, less D N / N_total when one momentum-conserving method integrates every particle;
    with ``integrate_rotational_dof``, one per principal axis with I > 0 (2D: z only)."""
    methods = integrator.methods if methods is None else methods
    dim = state.dimensions
    body = np.asarray(state._cpp.body)
    n_all = int(np.sum((body < 0) | (body == np.arange(body.size))))
    inertia = np.asarray(state._cpp.moment_inertia)
    axes = slice(2, 3) if dim == 2 else slice(0, 3)
    trans, rot = 0.0, 0
    for method in methods:
        both = np.intersect1d(tags, np.asarray(method.filter(state), dtype=np.int64))
        trans += dim * both.size
        if integrator.integrate_rotational_dof:
            rot += int(np.sum(inertia[both, axes] > 0))
    if len(methods) == 1 and methods[0]._momentum_conserving and len(methods[0].filter(state)) == n_all:
        trans -= dim * (len(tags) / n_all)
    return float(trans), float(rot)
