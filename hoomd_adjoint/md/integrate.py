"""The integrator (hoomd.md.Integrator)."""
import math

import numpy as np


class Integrator:
    """Two-step integrator: every step runs each method's first half (list order), computes the
    forces at the new positions, then each method's second half (reverse order).

    Args:
        dt: time step (time units), > 0.
        methods: integration methods; each particle may belong to at most one.
        forces: forces, summed in list order.
        integrate_rotational_dof: rotational integration (not supported yet; must be False).
    """

    def __init__(self, dt, methods=(), forces=(), integrate_rotational_dof=False):
        self.dt = dt
        self.methods = list(methods)
        self.forces = list(forces)
        if integrate_rotational_dof:
            raise ValueError("integrate_rotational_dof=True is not supported by the embedded engine yet")
        self.integrate_rotational_dof = False
        self._simulation = None
        self._dirty = True

    @property
    def dt(self):
        return self._dt

    @dt.setter
    def dt(self, value):
        value = float(value)
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"dt must be positive and finite, got {value}")
        self._dt = value

    def _attach(self, simulation):
        self._simulation = simulation

    def _sync(self, simulation):
        """Push forces and methods to the engine, validating them against the state."""
        self._simulation = simulation
        state = simulation.state
        cpp = state._cpp
        cpp.dt = self._dt
        for f in self.forces:
            f._attach(simulation)
            f._sync()
        cpp.set_forces([f._cpp for f in self.forces])
        cpp.clear_methods()
        owner = np.full(state.N_particles, -1)
        for k, m in enumerate(self.methods):
            kind, tags, kt, gamma = m._cpp_args(state)
            clash = tags[owner[tags] >= 0]
            if clash.size:
                raise ValueError(f"particle tag {clash[0]} is in more than one integration method")
            owner[tags] = k
            cpp.add_method(kind, tags.tolist(), *kt, gamma)
        self._dirty = False
