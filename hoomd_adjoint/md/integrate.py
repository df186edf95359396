"""The integrator (hoomd.md.Integrator)."""

import numpy as np

from ..logging import Loggables
from ..typeparam import as_bool, as_real, show
from .methods import Method
from .nlist import Cell
from .pair import Force


def _describe(obj):
    """What ``obj`` is, for messages about misplaced objects."""
    if isinstance(obj, Cell):
        return "a neighbour list (nlist.Cell): pass it to a pair potential as nlist="
    if isinstance(obj, Method):
        return f"an integration method ({type(obj).__name__}): put it in methods="
    if isinstance(obj, Force):
        return f"a force ({type(obj).__name__}): put it in forces="
    if isinstance(obj, type):
        return f"the class {obj.__name__}, not an instance of it"
    return f"{show(obj)} ({type(obj).__name__})"


def _checked_list(name, items, cls, noun, article="a"):
    """``items`` (None or an iterable of ``cls`` instances, each at most once) as a list."""
    if items is None:
        return []
    if isinstance(items, (str, bytes, dict, Cell, Method, Force, type)):
        raise TypeError(f"Integrator {name} must be a list of {noun}s, got {_describe(items)}")
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"Integrator {name} must be a list of {noun}s, got {_describe(items)}") from None
    for k, x in enumerate(items):
        if not isinstance(x, cls):
            raise TypeError(f"Integrator {name}[{k}] is not {article} {noun}: it is {_describe(x)}")
        for j in range(k):
            if items[j] is x:
                raise ValueError(
                    f"Integrator {name}[{k}] is the same {type(x).__name__} object as {name}[{j}]; "
                    f"each {noun} may appear once"
                )
    return items


# The contact distance of a type pair, which a failed step's message measures the closest pair
# against (the closest pair nearer than 0.8 of it is named): the potential's own length where it has one
# (LJ's sigma, Morse's r0); r_cut / 2.5 (LJ's usual cutoff, in sigma) for potentials that diverge
# as r -> 0 without one; none for bounded ones (Gaussian, DPDConservative), whose overlaps are
# harmless. Several forces on a pair: the largest.
_CONTACT = {
    "LJ": "sigma",
    "ExpandedLJ": "sigma",  # (its contact is sigma + delta: the test is looser, never wrong)
    "ForceShiftedLJ": "sigma",
    "Buckingham": None,
    "Mie": "sigma",
    "SoftSphere": "sigma",
    "Morse": "r0",
    "MorseSwitched": "r0",
    "Yukawa": None,
    "Rechtsman": None,
}


def _contacts(forces, plans, types):
    """(distances, labels), each ntypes x ntypes flattened, for System.set_contacts."""
    nt = len(types)
    dist, label = [0.0] * (nt * nt), [""] * (nt * nt)
    for f, plan in zip(forces, plans):
        name = getattr(f, "_name", None)
        if not isinstance(f, Force) or name not in _CONTACT or not isinstance(plan, list):
            continue
        param = _CONTACT[name]
        for a, b, values, rc in plan:
            if values is None or not rc > 0:
                continue
            d = float(values[list(f._param_spec).index(param)]) if param else rc / 2.5
            what = f"{type(f).__name__} {param}" if param else f"{type(f).__name__} r_cut / 2.5"
            if d > dist[a * nt + b]:
                for k in (a * nt + b, b * nt + a):
                    dist[k], label[k] = d, f"{what} for ({types[a]}, {types[b]})"
    return dist, label


class Integrator:
    """Two-step integrator: every step runs each method's first half (list order), computes the
    forces at the new positions, then each method's second half (reverse order).

    Args:
        dt: time step (time units), finite and > 0.
        methods: integration methods; each particle may belong to at most one.
        forces: forces, summed in list order. A force (and its neighbour list) belongs to one
            simulation at a time.
        integrate_rotational_dof: integrate orientations and angular momenta of particles with
            nonzero principal moments (rigid bodies' central particles), as HOOMD does.
        rigid: a :class:`~hoomd_adjoint.md.constrain.Rigid` holding the body definitions (needed
            when the state has rigid bodies; integrate the centres with
            ``filter.Rigid(("center", "free"))`` and set ``integrate_rotational_dof=True``).

    ``methods`` and ``forces`` are lists that may be changed in place; their contents are checked
    again at every ``run()``, before anything reaches the engine, so a rejected run changes nothing.
    """

    loggables = Loggables()  # {quantity: category} (hoomd.logging)
    _loggables = dict(linear_momentum="sequence")

    def __init__(self, dt, methods=(), forces=(), integrate_rotational_dof=False, rigid=None):
        self.dt = dt
        self.methods = methods
        self.forces = forces
        self.integrate_rotational_dof = integrate_rotational_dof
        self.rigid = rigid
        self._simulation = None
        self._dirty = True

    @property
    def dt(self):
        return self._dt

    @dt.setter
    def dt(self, value):
        try:
            v = as_real("dt", value)
        except ValueError:
            raise ValueError(f"dt must be positive and finite, got {show(value)}") from None
        if not v > 0:
            raise ValueError(f"dt must be positive and finite, got {v}")
        self._dt = v

    @property
    def integrate_rotational_dof(self):
        """Whether orientations and angular momenta are integrated (bool)."""
        return self._aniso

    @integrate_rotational_dof.setter
    def integrate_rotational_dof(self, value):
        self._aniso = as_bool("integrate_rotational_dof", value)

    @property
    def rigid(self):
        """The rigid-body constraint (:class:`~hoomd_adjoint.md.constrain.Rigid`) or None."""
        return self._rigid

    @rigid.setter
    def rigid(self, value):
        from .constrain import Rigid

        if value is not None and not isinstance(value, Rigid):
            raise TypeError(
                f"Integrator rigid must be a hoomd_adjoint.md.constrain.Rigid or None, got {_describe(value)}"
            )
        self._rigid = value

    @property
    def linear_momentum(self):
        """Total momentum sum m v of the free particles and rigid-body centres (3 numbers)."""
        sim = self._simulation
        if sim is None or sim._state is None:
            from ..errors import DataAccessError

            raise DataAccessError("Integrator.linear_momentum: the integrator is not part of a simulation yet")
        cpp = sim.state._cpp
        body = np.asarray(cpp.body)
        own = (body < 0) | (body == np.arange(body.size))
        return (np.asarray(cpp.mass)[own, None] * np.asarray(cpp.velocity)[own]).sum(axis=0)

    @property
    def methods(self):
        """The integration methods (a list)."""
        return self._methods

    @methods.setter
    def methods(self, value):
        self._methods = _checked_list("methods", value, Method, "integration method", "an")

    @property
    def forces(self):
        """The forces (a list)."""
        return self._forces

    @forces.setter
    def forces(self, value):
        self._forces = _checked_list("forces", value, Force, "force")

    def _check_owner(self, simulation):
        other = self._simulation
        if other is not None and other is not simulation and other.operations.integrator is self:
            raise ValueError(
                "this Integrator is already the integrator of another Simulation; set that "
                "simulation's operations.integrator = None first, or create a new Integrator"
            )

    def _attach(self, simulation):
        self._check_owner(simulation)
        self._simulation = simulation

    def _sync(self, simulation):
        """Push forces and methods to the engine, validating them against the state first: a
        rejected configuration leaves the engine as it was."""
        self._check_owner(simulation)
        methods = _checked_list("methods", self._methods, Method, "integration method", "an")
        forces = _checked_list("forces", self._forces, Force, "force")
        state = simulation.state
        for f in forces:
            f._check_attachable(simulation)
        plans = [f._plan(state) for f in forces]
        bodies = self._rigid._definitions(state) if self._rigid is not None else None
        body = np.asarray(state._cpp.body)
        constituent = (body >= 0) & (body != np.arange(body.size))
        if bodies is None and constituent.any():
            raise ValueError(
                f"the state holds {int(constituent.sum())} rigid-body constituent particle(s) (body >= 0), "
                "but the Integrator has no rigid: set Integrator(rigid=rigid) with their body definitions"
            )
        owner = np.full(state.N_particles, -1)
        method_args = []
        for k, m in enumerate(methods):
            kind, tags, kt, gamma, gamma_r = m._cpp_args(state)
            if constituent[tags].any():
                t = int(tags[constituent[tags]][0])
                raise ValueError(
                    f"methods[{k}] {m!r} integrates particle tag {t}, a rigid-body constituent: "
                    "integration methods may not be applied to constituents; use "
                    "filter.Rigid(('center', 'free'))"
                )
            clash = tags[owner[tags] >= 0]
            if clash.size:
                t = int(clash[0])
                j = int(owner[t])
                raise ValueError(
                    f"particle tag {t} is in more than one integration method: methods[{j}] "
                    f"{methods[j]!r} and methods[{k}] {m!r} ({clash.size} shared particle(s))"
                )
            owner[tags] = k
            thermo = m._thermostat_args(state, self, methods) if hasattr(m, "_thermostat_args") else None
            if thermo is not None and thermo[0] and simulation.state._cpp.use_gpu:
                raise ValueError(
                    f"methods[{k}] ConstantVolume's {m.thermostat._name} thermostat runs on the CPU only "
                    "(device.CPU()); the GPU path has no thermostats yet"
                )
            method_args.append((kind, tags.tolist(), kt, gamma, gamma_r, thermo))

        cpp = state._cpp
        if bodies is not None:
            cpp.set_bodies(bodies)  # validates the molecules; raises before anything else changes
        elif cpp.n_bodies:
            cpp.set_bodies([None] * len(state.particle_types))
        if cpp.n_bodies:
            for f in forces:
                nl = getattr(f, "nlist", None)
                if nl is not None and "body" not in nl.exclusions:
                    import warnings

                    warnings.warn(
                        "Disabling the body exclusion will cause rigid bodies to behave erratically "
                        f"({type(f).__name__}'s neighbour list lacks exclusions=['body'])",
                        stacklevel=3,
                    )
        self._simulation = simulation
        cpp.aniso = self._aniso
        cpp.dt = self._dt
        for f, plan in zip(forces, plans):
            f._attach(simulation)
            f._push(plan)
        cpp.set_forces([f._cpp for f in forces])
        cpp.set_contacts(*_contacts(forces, plans, state.particle_types))
        for m in getattr(self, "_synced", ()):  # thermostat variables that the last run moved
            th = getattr(m, "_thermostat", None)
            if th is not None and m._index is not None and m._simulation is simulation:
                th._vars = list(cpp.thermostat_variables(m._index))
            if hasattr(m, "_index"):
                m._index = None
        cpp.clear_methods()
        for m in methods:
            m._simulation = simulation
        for k, (kind, tags, kt, gamma, gamma_r, thermo) in enumerate(method_args):
            cpp.add_method(kind, tags, *kt, gamma, gamma_r)
            if thermo is not None:
                cpp.set_thermostat(k, *thermo[:4], list(thermo[4]))
                methods[k]._index = k
        self._synced = list(methods)
        self._dirty = False
