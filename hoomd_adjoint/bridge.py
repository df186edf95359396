"""Differentiate a HOOMD-blue script (docs/hoomd.md).

``gradient(sim, steps, loss, wrt)`` takes a ``hoomd.Simulation`` as the user built it, runs
``sim.run(steps)`` on HOOMD-blue itself (its writers write) while recording the states the
adjoint needs, and returns the exact gradient of that run (``wrt`` names HOOMD-blue force
objects). The backward pass runs on ``twin(sim)``, the embedded engine's simulation of the same
discrete map, read from the HOOMD-blue script; whatever it cannot reproduce is refused by name
(:class:`Unsupported`). ``hoomd.adjoint``, the C++ component (``component/``), records in place
and adds the embedded engine's pair potentials to HOOMD-blue; the bridge works without it.
Needs HOOMD-blue (not a dependency of this package). Formerly ``hoomd_adjoint.hoomd`` (that name
still works, with a DeprecationWarning).
"""

import numpy as np

from . import _core

__all__ = ["VERSION_CHANGES", "HoomdForward", "Unsupported", "gradient", "hoomd_version", "twin"]

# HOOMD-blue pair potentials the engine evaluates with the same equations (HOOMD-blue class: the
# engine's evaluator, which names the parameters as HOOMD-blue does), and their parameters' names,
# in order, as the evaluators declare them (tests/test_pair.py checks them against HOOMD-blue's)
_EVALUATORS = {
    "LJ": "LJ",
    "Morse": "Morse",
    "Yukawa": "Yukawa",
    "Gaussian": "Gaussian",
    "DPDConservative": "DPDConservative",
    "ExpandedLJ": "ExpandedLJ",
    "ForceShiftedLJ": "ForceShiftedLJ",
    "Buckingham": "Buckingham",
    "Mie": "Mie",
    # the component's (hoomd.adjoint.pair): the embedded engine's evaluators in HOOMD-blue
    "Rechtsman": "Rechtsman",
    "SoftSphere": "SoftSphere",
}
PAIRS = {hoomd_name: (name, list(_core.pair_parameters()[name])) for hoomd_name, name in _EVALUATORS.items()}
METHODS = ("Brownian", "Langevin", "ConstantVolume")
# operations that neither move particles nor change the box
HARMLESS_TUNERS = ("ParticleSorter",)


# Releases after 4.8.2 whose changes touch the discrete map (docs/hoomd.md), and how the bridge
# handles each: all of them concern 2D systems that are not flat.
VERSION_CHANGES = (
    (
        (5, 0),
        "hoomd-blue#2021",
        "2D: every MD integrator zeroes the z component of the net force",
        "2D states must be flat (z = 0, v_z = 0, bodies in the plane), where it changes nothing",
    ),
    (
        (5, 0),
        "hoomd-blue#2071",
        "2D: image.z is no longer incremented on a wrap",
        "images are recorded from HOOMD-blue itself, so frames carry the running version's",
    ),
    (
        (7, 1),
        "hoomd-blue#2303",
        "2D: rigid bodies no longer rotate out of the plane; particles no longer move in z on a run's first step",
        "bodies must be flat in 2D: their torque has no x, y part in any version",
    ),
)


def hoomd_version(hoomd=None):
    """The running HOOMD-blue's (major, minor, patch)."""
    v = (hoomd or _hoomd()).version.version
    return tuple(int("".join(c for c in x if c.isdigit()) or 0) for x in v.split(".")[:3])


def _check_flat(snap, rigid, version):
    """In 2D, HOOMD-blue releases integrate what is out of the plane differently (VERSION_CHANGES):
    refuse it rather than follow one release's rule for another's run."""
    p = snap.particles
    where = f"HOOMD-blue {'.'.join(map(str, version))}, 2D box"
    for name in ("position", "velocity"):
        z = np.abs(np.asarray(getattr(p, name))[:, 2])
        if z.size and z.max() > 0:
            tag = int(np.argmax(z))
            raise Unsupported(
                f"{where}: particle tag {tag} has {name} z = {np.asarray(getattr(p, name))[tag, 2]!r}; "
                "out-of-plane motion in 2D differs between HOOMD-blue releases (hoomd-blue#2021, "
                "#2303): make the state flat"
            )
    if rigid is None:
        return
    q = np.asarray(p.orientation)
    bodies = np.asarray(p.body)
    centres = np.flatnonzero(bodies == np.arange(len(bodies)))
    if centres.size and np.abs(q[centres][:, 1:3]).max() > 0:
        raise Unsupported(
            f"{where}: body tag {int(centres[np.abs(q[centres][:, 1:3]).max(axis=1).argmax()])} is "
            "tilted out of the plane (orientation with x, y parts): releases before 7.1 let such "
            "bodies rotate out of the plane (hoomd-blue#2303)"
        )
    for t, d in rigid.body.items():
        if d is not None and np.abs(np.asarray(d["positions"], dtype=float)[:, 2]).max() > 0:
            raise Unsupported(
                f"{where}: rigid body type {t!r} has constituents off the plane (z != 0): their forces "
                "tilt the body in releases before 7.1 and are handled differently since "
                "(hoomd-blue#2021, #2303); use a flat body in 2D"
            )


class Unsupported(ValueError):
    """Something in the HOOMD-blue script that the adjoint does not cover (named in the message)."""


def _hoomd():
    try:
        import hoomd
    except ImportError:
        raise ImportError("hoomd_adjoint.bridge needs HOOMD-blue (import hoomd failed)") from None
    return hoomd


def _check(sim):
    hoomd = _hoomd()
    if not isinstance(sim, hoomd.Simulation):
        raise TypeError(f"expected a hoomd.Simulation, got {type(sim).__name__}")
    if sim.device.communicator.num_ranks > 1:
        raise Unsupported(
            f"MPI domain decomposition ({sim.device.communicator.num_ranks} ranks in the "
            "simulation's communicator) is not supported: run one partition per rank"
        )
    ops = sim.operations
    for u in ops.updaters:
        raise Unsupported(
            f"updater {type(u).__name__}: updaters may move particles or change the box, which the "
            "adjoint does not cover; remove it for the differentiated run"
        )
    for t in ops.tuners:
        if type(t).__name__ not in HARMLESS_TUNERS:
            raise Unsupported(
                f"tuner {type(t).__name__}: it may change the simulation during the run; remove it "
                "for the differentiated run"
            )
    integ = ops.integrator
    if integ is None:
        raise Unsupported("the simulation has no integrator")
    if not isinstance(integ, hoomd.md.Integrator):
        raise Unsupported(f"integrator {type(integ).__name__} is not hoomd.md.Integrator")
    if len(integ.constraints):
        raise Unsupported(f"constraint {type(integ.constraints[0]).__name__} is not supported")
    hook = getattr(integ, "half_step_hook", None)
    if hook is not None:
        raise Unsupported(
            f"Integrator.half_step_hook {type(hook).__name__}: it runs inside every step, between the "
            "force evaluation and the second half step, and may change the state there, which the "
            "adjoint does not cover; remove it for the differentiated run"
        )
    return integ


# groups of the state's topology that each nlist exclusion reads (HOOMD-blue's NeighborList)
EXCLUSION_GROUPS = {
    "bond": "bonds",
    "1-3": "bonds",
    "1-4": "bonds",
    "angle": "angles",
    "dihedral": "dihedrals",
    "constraint": "constraints",
    "special_pair": "pairs",
}


def _check_exclusions(name, nl, snap):
    """HOOMD-blue leaves out of the pair sum the pairs that a listed exclusion names in the state's
    topology (bonds, angles...) even when no bond force acts; the embedded engine has no topology."""
    for e in nl.exclusions:
        group = EXCLUSION_GROUPS.get(e)
        n = int(getattr(getattr(snap, group), "N", 0)) if group is not None else 0
        if n:
            raise Unsupported(
                f"{name}'s nlist has exclusions containing {e!r} and the state has {n} {group}: "
                f"HOOMD-blue leaves those pairs out of the pair forces, which the embedded engine "
                f"(no topology) does not; remove {e!r} from nlist.exclusions or the {group} from the "
                "state"
            )
    if getattr(nl, "mesh", None) is not None:
        raise Unsupported(f"{name}'s nlist has a mesh (its 'meshbond' exclusions), which the adjoint does not cover")


def _integrated(body):
    """Mask of the particles a method integrates, from the body array in tag order: free ones
    (NO_BODY, 0xffffffff, which reads -1 as int32), floppy ones (>= 0x80000000) and centres."""
    b = np.asarray(body).astype(np.int64) & 0xFFFFFFFF
    return (b >= 0x80000000) | (b == np.arange(b.size))


def _check_method(integ, snap, sim):
    """The adjoint differentiates one method that integrates every particle (every central and
    free particle with rigid bodies), as the embedded engine's adjoint needs."""
    methods = list(integ.methods)
    if len(methods) != 1:
        raise Unsupported(
            f"the integrator has {len(methods)} methods "
            f"({', '.join(type(m).__name__ for m in methods) or 'none'}): the adjoint needs exactly one "
            "that integrates every particle"
        )
    m = methods[0]
    tags = np.unique(np.asarray(m.filter(sim.state), dtype=np.int64))
    every = np.arange(snap.particles.N)
    rigid = integ.rigid is not None
    wanted = every[_integrated(snap.particles.body)] if rigid else every
    if not np.array_equal(tags, wanted):
        missing = np.setdiff1d(wanted, tags)
        extra = np.setdiff1d(tags, wanted)
        which = (
            f"leaves out particle tags {missing[:5].tolist()}{' ...' if missing.size > 5 else ''} "
            f"({missing.size} of {wanted.size})"
            if missing.size
            else f"also selects rigid-body constituents {extra[:5].tolist()}{' ...' if extra.size > 5 else ''}"
        )
        raise Unsupported(
            f"{type(m).__name__}'s filter {type(m.filter).__name__} {which}: the adjoint needs one "
            "method over "
            + (
                "every central and free particle (filter.Rigid(('center', 'free')))"
                if rigid
                else "every particle (filter.All())"
            )
        )


def _variant(v):
    from . import variant as hv

    hoomd = _hoomd()
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, hoomd.variant.Constant):
        return hv.Constant(v.value)
    if isinstance(v, hoomd.variant.Ramp):
        return hv.Ramp(v.A, v.B, v.t_start, v.t_ramp)
    raise Unsupported(f"kT variant {type(v).__name__}: only Constant and Ramp are supported")


def _twin_wall(hoomd, force, types):
    """The twin's copy of a HOOMD-blue wall potential on planes and spheres, or None."""
    walls_mod = getattr(getattr(hoomd.md, "external", None), "wall", None)
    if walls_mod is None or not isinstance(force, walls_mod.WallPotential):
        return None
    from . import wall as hwall
    from .md.external import wall as hwalls

    name = type(force).__name__
    if not hasattr(hwalls, name):
        raise Unsupported(
            f"wall potential {name}: only {sorted(n for n in hwalls.__all__ if n != 'WallPotential')} are supported"
        )
    geometry = []
    for w in force.walls:
        kind = type(w).__name__
        if kind == "Plane":
            geometry.append(hwall.Plane(origin=tuple(w.origin), normal=tuple(w.normal), open=w.open))
        elif kind == "Sphere":
            geometry.append(hwall.Sphere(radius=w.radius, origin=tuple(w.origin), inside=w.inside, open=w.open))
        elif kind == "Cylinder":
            geometry.append(
                hwall.Cylinder(
                    radius=w.radius, axis=tuple(w.axis), origin=tuple(w.origin), inside=w.inside, open=w.open
                )
            )
        else:
            raise Unsupported(f"{name}: wall geometry {kind} is not supported")
    mine = getattr(hwalls, name)(walls=geometry)
    for t in types:
        p = force.params[t]
        mine.params[t] = {k: float(p[k]) for k in list(mine._param_spec) + ["r_cut", "r_extrap"]}
    return mine


def _twin_field(hoomd, force, types):
    """The twin's copy of a HOOMD-blue external field (Electric, Periodic) or wall potential, or
    None for other forces."""
    wall = _twin_wall(hoomd, force, types)
    if wall is not None:
        return wall
    external = getattr(getattr(hoomd.md, "external", None), "field", None)
    if external is None or not isinstance(force, (external.Electric, external.Periodic)):
        return None
    from .md.external import field as hfield

    if isinstance(force, external.Electric):
        mine = hfield.Electric()
        for t in types:
            mine.E[t] = tuple(float(x) for x in force.E[t])
        return mine
    mine = hfield.Periodic()
    for t in types:
        p = force.params[t]
        mine.params[t] = dict(A=float(p["A"]), i=int(p["i"]), w=float(p["w"]), p=int(p["p"]))
    return mine


def _twin_forces(hoomd, integ, snap, types):
    """The twin's pair forces (sharing lists as HOOMD-blue's do) and {id(HOOMD-blue force): twin's}."""
    from .md import nlist as hnlist, pair as hpair

    lists, forces, mapping = {}, [], {}
    for force in integ.forces:
        name = type(force).__name__
        field = _twin_field(hoomd, force, types)
        if field is not None:
            forces.append(field)
            mapping[id(force)] = field
            continue
        if (name not in PAIRS and name != "Table") or not isinstance(force, hoomd.md.pair.Pair):
            raise Unsupported(
                f"force {name}: only the pair potentials {sorted([*PAIRS, 'Table'])}, the external fields Electric and "
                "Periodic and wall potentials are supported"
            )
        nl = force.nlist
        if not isinstance(nl, (hoomd.md.nlist.Cell, hoomd.md.nlist.Tree)):
            raise Unsupported(f"{name}'s neighbour list {type(nl).__name__}: only nlist.Cell and Tree are supported")
        if nl.rebuild_check_delay > 1:
            raise Unsupported(
                f"{name}'s nlist has rebuild_check_delay = {nl.rebuild_check_delay}: a list that can "
                "be stale changes the forces between checks; use rebuild_check_delay=1"
            )
        accepted = getattr(hpair, PAIRS[name][0] if name in PAIRS else name)._accepted_modes
        if force.mode not in accepted:
            raise Unsupported(f"{name}: mode {force.mode!r} is not supported {accepted}")
        _check_exclusions(name, nl, snap)
        if id(nl) not in lists:
            lists[id(nl)] = hnlist.Cell(
                buffer=nl.buffer,
                exclusions=list(nl.exclusions),
                rebuild_check_delay=nl.rebuild_check_delay,
                check_dist=nl.check_dist,
            )
        if name == "Table":  # (its parameters are arrays)
            mine = hpair.Table(nlist=lists[id(nl)])
            for i, a in enumerate(types):
                for b in types[i:]:
                    prm = force.params[(a, b)]
                    mine.params[(a, b)] = dict(r_min=float(prm["r_min"]), U=np.array(prm["U"]), F=np.array(prm["F"]))
                    mine.r_cut[(a, b)] = float(force.r_cut[(a, b)])
            forces.append(mine)
            mapping[id(force)] = mine
            continue
        cls, names = PAIRS[name]
        mine = getattr(hpair, cls)(nlist=lists[id(nl)], mode=force.mode)
        for i, a in enumerate(types):
            for b in types[i:]:
                prm = force.params[(a, b)]
                mine.params[(a, b)] = {k: float(prm[k]) for k in names}
                mine.r_cut[(a, b)] = float(force.r_cut[(a, b)])
                if "r_on" in force._typeparam_dict:  # DPDConservative has none
                    mine.r_on[(a, b)] = float(force.r_on[(a, b)])
        forces.append(mine)
        mapping[id(force)] = mine
    return forces, mapping


def _twin_thermostat(th):
    """The twin's copy of a ConstantVolume thermostat (Bussi, Berendsen, MTTK with its variables)."""
    if th is None:
        return None
    from .md.methods import thermostats

    name = type(th).__name__
    if name not in ("Bussi", "Berendsen", "MTTK"):
        raise Unsupported(f"ConstantVolume thermostat {name} is not supported (Bussi, Berendsen and MTTK are)")
    mine = getattr(thermostats, name)(kT=_variant(th.kT), tau=float(th.tau))
    if name == "MTTK":
        mine.translational_dof = tuple(float(x) for x in th.translational_dof)
        mine.rotational_dof = tuple(float(x) for x in th.rotational_dof)
    return mine


def _mttk_variables(sim):
    """[(method index, HOOMD-blue's MTTK thermostat)] of the script's methods."""
    out = []
    for k, m in enumerate(sim.operations.integrator.methods):
        th = getattr(m, "thermostat", None)
        if th is not None and type(th).__name__ == "MTTK":
            out.append((k, th))
    return out


def _twin_methods(integ, sim, types, N):
    """The twin's integration methods, over the same particles as HOOMD-blue's."""
    from . import filter as hfilter
    from .md import methods as hmethods

    methods = []
    for m in integ.methods:
        name = type(m).__name__
        if name not in METHODS:
            raise Unsupported(f"integration method {name}: only {METHODS} are supported")
        tags = np.asarray(m.filter(sim.state), dtype=np.int64)
        flt = hfilter.All() if tags.size == N else hfilter.Tags(tags)
        if name == "ConstantVolume":
            methods.append(hmethods.ConstantVolume(filter=flt, thermostat=_twin_thermostat(m.thermostat)))
            continue
        if name == "Langevin" and getattr(m, "tally_reservoir_energy", False):
            raise Unsupported("Langevin tally_reservoir_energy is not supported")
        mine = getattr(hmethods, name)(filter=flt, kT=_variant(m.kT))
        for t in types:
            mine.gamma[t] = float(m.gamma[t])
            mine.gamma_r[t] = tuple(float(x) for x in m.gamma_r[t])
        methods.append(mine)
    return methods


def twin(sim, threads=1):
    """The embedded engine's simulation of ``sim`` at its current state (see the package)."""
    import gsd.hoomd

    from . import Simulation, device
    from .md import Integrator

    hoomd = _hoomd()
    integ = _check(sim)
    snap = sim.state.get_snapshot()
    p = snap.particles
    f = gsd.hoomd.Frame()
    f.configuration.box = list(snap.configuration.box)
    f.configuration.dimensions = int(snap.configuration.dimensions)
    f.configuration.step = int(sim.timestep)
    f.particles.N = p.N
    f.particles.types = list(p.types)
    for name in (
        "typeid",
        "position",
        "velocity",
        "image",
        "mass",
        "charge",
        "diameter",
        "orientation",
        "angmom",
        "moment_inertia",
        "body",
    ):
        setattr(f.particles, name, np.array(getattr(p, name)))
    if f.configuration.dimensions == 2:
        _check_flat(snap, integ.rigid, hoomd_version(hoomd))
    _check_method(integ, snap, sim)
    out = Simulation(device=device.CPU(num_cpu_threads=threads), seed=int(sim.seed))
    out.create_state_from_snapshot(f)
    if getattr(getattr(snap, "_cpp_obj", None), "particles", None) is None:
        raise Unsupported(
            "this HOOMD-blue's snapshot does not say whether accelerations are set (is_accel_set), "
            "which decides the first half step"
        )
    if snap._cpp_obj.particles.is_accel_set:
        # HOOMD-blue keeps the accelerations of its last step (Langevin's include the drag and
        # noise) and uses them in the next run's first half step: carry them over
        with sim.state.cpu_local_snapshot as local:
            order = np.argsort(np.asarray(local.particles.tag))
            accel = np.array(local.particles.acceleration)[order]
        out.state._cpp.acceleration[...] = accel
        out.state._cpp.accel_set = True
    types = list(p.types)
    forces, mapping = _twin_forces(hoomd, integ, snap, types)
    methods = _twin_methods(integ, sim, types, p.N)
    rigid = None
    if integ.rigid is not None:
        from .md.constrain import Rigid

        rigid = Rigid()
        for t in types:
            d = integ.rigid.body[t]
            if d is not None:
                rigid.body[t] = dict(
                    constituent_types=list(d["constituent_types"]),
                    positions=d["positions"],
                    orientations=d["orientations"],
                )
        mapping[id(integ.rigid)] = rigid
    out.operations.integrator = Integrator(
        dt=float(integ.dt),
        methods=methods,
        forces=forces,
        rigid=rigid,
        integrate_rotational_dof=bool(integ.integrate_rotational_dof),
    )
    out._hoomd_forces = mapping  # hoomd force (and rigid) id -> twin's
    return out


# C++ writers of HOOMD-blue that only read the state
READ_ONLY_WRITERS = ("GSD", "Burst", "Table", "DCD", "HDF5Log")
# what a state-changing operation could touch: the per-particle arrays every step reads
_FIELDS = (
    "position",
    "velocity",
    "acceleration",
    "image",
    "orientation",
    "angmom",
    "moment_inertia",
    "typeid",
    "mass",
    "charge",
    "diameter",
    "body",
    "net_force",
    "net_torque",
)


def _kT_key(v):
    for names in (("value",), ("A", "B", "t_start", "t_ramp")):
        if all(hasattr(v, n) for n in names):
            return (type(v).__name__,) + tuple(float(getattr(v, n)) for n in names)
    return (type(v).__name__, id(v))


def _fingerprint(sim):
    """{what: digest} of everything the twin read that an operation could change between steps:
    the particle arrays (hashed in memory order: nothing reorders them between two writers), the
    box, dt, the methods' kT and gamma and the pair forces' parameters."""
    import hashlib

    out = {}
    with sim.state.cpu_local_snapshot as snap:
        p = snap.particles
        for name in _FIELDS:
            a = getattr(p, name, None)
            if a is not None:
                out[name] = hashlib.blake2b(np.ascontiguousarray(np.asarray(a)).tobytes(), digest_size=16).digest()
    b = sim.state.box
    out["box"] = (b.Lx, b.Ly, b.Lz, b.xy, b.xz, b.yz)
    integ = sim.operations.integrator
    types = list(sim.state.particle_types)
    pairs = [(a, b) for i, a in enumerate(types) for b in types[i:]]
    out["dt"] = float(integ.dt)
    for k, m in enumerate(integ.methods):
        if hasattr(m, "kT"):
            out[f"{type(m).__name__}.kT"] = _kT_key(m.kT)
        if hasattr(m, "gamma"):
            out[f"{type(m).__name__}.gamma"] = tuple(float(m.gamma[t]) for t in types)
    for k, f in enumerate(integ.forces):
        if isinstance(f, _hoomd().md.pair.Pair):
            names = PAIRS.get(type(f).__name__, (None, ()))[1]
            out[f"{type(f).__name__}.params"] = tuple(
                (tuple(float(f.params[ab][n]) for n in names), float(f.r_cut[ab])) for ab in pairs
            )
    return out


def _changed(before, after):
    return [k for k in before if before[k] != after.get(k)] + [k for k in after if k not in before]


class _WriterGuard:
    """Around every call of a writer that may change the state (``CustomWriter`` and any writer
    not known to only read), a ``CustomWriter`` with the same trigger takes a fingerprint before
    and compares after: a change stops the run with :class:`Unsupported` naming the writer and the
    step (the adjoint would otherwise differentiate a map the run did not follow)."""

    def __init__(self, sim):
        self.sim = sim
        self.added = []
        self.error = None

    def __enter__(self):
        hoomd = _hoomd()
        writers = self.sim.operations.writers
        guard = self
        for w in [
            w
            for w in writers
            if not (type(w).__name__ in READ_ONLY_WRITERS and type(w).__module__.startswith("hoomd.write"))
        ]:
            name = type(getattr(w, "_action", w)).__name__
            label = f"writer {type(w).__name__}" + (f" (action {name})" if name != type(w).__name__ else "")
            state = {}

            class Before(hoomd.custom.Action):
                def act(self, timestep):
                    state["print"] = _fingerprint(guard.sim)

            class After(hoomd.custom.Action):
                def act(self, timestep, label=label):
                    what = _changed(state.pop("print"), _fingerprint(guard.sim))
                    if what:
                        guard.error = Unsupported(
                            f"{label} changed the state at step {timestep} ({', '.join(what)}): an operation that "
                            "changes the state between steps makes the run another map than the one the adjoint "
                            "differentiates; remove it (or make it only read) for the differentiated run"
                        )
                        raise guard.error

            i = list(writers).index(w)
            before = hoomd.write.CustomWriter(trigger=w.trigger, action=Before())
            after = hoomd.write.CustomWriter(trigger=w.trigger, action=After())
            writers.insert(i, before)
            writers.insert(i + 2, after)
            self.added += [before, after]
        return self

    def __exit__(self, kind, value, tb):
        for op in self.added:
            self.sim.operations.writers.remove(op)
        if self.error is not None and kind is not None and value is not self.error:
            raise self.error from None  # (HOOMD-blue may re-wrap an exception raised in an action)
        return False


def _cached_forces(sim):
    """Refuse a run whose first step would use forces HOOMD-blue computed before the script
    changed (docs/hoomd.md, "Forces at the start of a run").

    HOOMD-blue computes a force again only on a new timestep (or after a sort, which
    ``set_snapshot`` triggers): a run that starts at the step where the last one ended reuses the
    forces computed there, with the parameters of that time. The embedded engine (and so the
    twin and the adjoint) evaluates them with the current parameters. Brownian's first step reads
    the net force, as do the accelerations when they are not set, and rotation reads the torque.
    ``sim.run(0)`` (no step, no writer) does HOOMD-blue's own start of a run, whose forces are
    then compared with the twin's."""
    hoomd = _hoomd()
    integ = sim.operations.integrator
    if not integ._attached:
        return  # never run: HOOMD-blue computes every force afresh
    methods = [type(m).__name__ for m in integ.methods]
    accel_set = bool(sim.state.get_snapshot()._cpp_obj.particles.is_accel_set)
    uses_force = "Brownian" in methods or not accel_set
    uses_torque = integ.rigid is not None or bool(integ.integrate_rotational_dof)
    if not (uses_force or uses_torque):
        return
    sim.run(0)
    with sim.state.cpu_local_snapshot as snap:
        p = snap.particles
        rtag = np.asarray(p.rtag)
        ours = {"net force": np.array(p.net_force)[rtag], "net torque": np.array(p.net_torque)[rtag]}
        body = np.asarray(p.body)[rtag]
    # the integrated particles (centres and free ones): the engines keep constituents' sums differently
    moved = np.flatnonzero(_integrated(body))
    probe = twin(sim)
    probe._prepare_run()
    theirs = {"net force": np.array(probe.state._cpp.net_force), "net torque": np.array(probe.state._cpp.net_torque)}
    for what, used in (("net force", uses_force), ("net torque", uses_torque)):
        h, t = ours[what][moved], theirs[what][moved]
        if not used or not h.size:
            continue
        d = np.abs(h - t).max(axis=1)
        scale = float(np.abs(t).max())
        if d.max() > 1e-9 * scale + 1e-12:
            k = int(d.argmax())
            raise Unsupported(
                f"HOOMD-blue would start this run at step {sim.timestep} from forces it computed at that step with "
                f"earlier settings: {what} of particle tag {int(moved[k])} is {h[k].tolist()} where the current "
                f"parameters give {t[k].tolist()} (HOOMD-blue {hoomd.version.version} does not compute forces again at the "
                "start of a run when it computed them at that timestep, e.g. after a pair parameter changed; the "
                "embedded engine and the adjoint always use the current parameters). Make HOOMD-blue compute them "
                "afresh first: sim.state.set_snapshot(sim.state.get_snapshot())"
            )


class Recording:
    """What one HOOMD-blue run left for the adjoint: checkpoint states {timestep: state}, loss
    frames {timestep: (state, image)} and the final (state, (velocities, images))."""

    def __init__(self):
        self.states, self.frames, self.final = {}, {}, None


class HoomdForward:
    """The forward pass of the adjoint run by HOOMD-blue itself: one ``sim.run(steps)`` (the
    user's writers run as usual) with a recorder that copies the states the adjoint needs out of
    HOOMD-blue's local snapshots, in tag order, at the steps it needs them. The backward pass and
    any recomputation between checkpoints run on the embedded twin (see :func:`gradient`)."""

    def __init__(self, sim, check_steps=2, atol=1e-8, recorder="auto"):
        if recorder not in ("auto", "component", "python"):
            raise ValueError(f"recorder must be 'auto', 'component' or 'python', got {recorder!r}")
        self.recorder = recorder
        self.used = None
        self.sim = sim
        self.check_steps = int(check_steps)
        self.atol = float(atol)
        self.gap = None
        self.recorded_steps = 0

    def run(self, eng, steps, t0, block, checkpoints, frames, bar=None):
        n = block[0].shape[0] if block is not None else 0
        end = self.end = self.sim.timestep + steps
        self.t0, self.k = t0, None
        self.extra = {}
        extra = set()
        if block is None and self.check_steps > 0:
            self.k = t0 + self.check_steps
            extra.add(self.k)
        wanted = set(range(t0, t0 + n)) | set(checkpoints) | set(frames) | extra
        # where each recorded step goes: the adjoint's own storage (the block) or fresh arrays
        slots = {}
        for t in sorted(wanted | {end}):
            arrays = [x[t - t0] for x in block] if t0 <= t < t0 + n else [x[0] for x in eng.new_states(1)]
            image = np.empty((eng.N, 3)) if t in frames or t == end else None
            vel = np.empty((eng.N, 3)) if t == end else None
            slots[t] = (arrays, image, vel)
        layout = eng.layout()
        recorder = self._recorder(wanted, slots, layout, bar)
        ops = [getattr(recorder, "operation", recorder)]
        # MTTK's xi at every step, into the twin's log (the adjoint reads it; the states hold particles)
        mttk = _mttk_variables(self.sim)
        keep_xi = None
        if mttk:
            hoomd = _hoomd()

            def keep_xi(timestep):
                eng.cpp.log_thermostats(timestep, {k: (*th.translational_dof, *th.rotational_dof) for k, th in mttk})

            class KeepXi(hoomd.custom.Action):
                def act(self, timestep):
                    keep_xi(timestep)

            ops.append(hoomd.update.CustomUpdater(trigger=hoomd.trigger.Periodic(1), action=KeepXi()))
        for op in ops:
            self.sim.operations.updaters.append(op)
        try:
            _run(self.sim, steps)
            recorder.record_now(end)  # the final state: no step of this run starts from it
            if keep_xi is not None:
                keep_xi(end)
            self.recorded_steps = recorder.num_recorded
        finally:
            for op in ops:
                self.sim.operations.updaters.remove(op)
        rec = Recording()
        for t, (arrays, image, vel) in slots.items():
            st = (t,) + tuple(arrays)
            if t in checkpoints:
                rec.states[t] = st
            if t in extra:
                self.extra[t] = st
            if t in frames:
                rec.frames[t] = (st, image.astype(np.int32))
            if t == end:
                rec.final = (st, (vel, image.astype(np.int32)))
        rec.states.pop(end, None)
        self.rec = rec
        return rec

    def _recorder(self, wanted, slots, layout, bar=None):
        """The component's C++ recorder if ``hoomd.adjoint`` is installed, else a Python action
        reading local snapshots; both write the same arrays."""
        hoomd = _hoomd()
        trigger = _trigger_on(wanted, bar, self.end)
        if self.recorder in ("auto", "component"):
            try:
                from hoomd.adjoint import Recorder
            except ImportError:
                if self.recorder == "component":
                    raise ImportError(
                        "recorder='component' needs hoomd.adjoint, the C++ component: build it "
                        "from hoomd-adjoint's component/ directory (docs/hoomd.md)"
                    ) from None
            else:
                rec = Recorder(trigger=trigger)
                for t, (arrays, image, vel) in slots.items():
                    for f, j, col in layout:
                        rec.add(t, f, arrays[j], col)
                    if image is not None:
                        rec.add(t, "image", image)
                    if vel is not None:
                        rec.add(t, "velocity", vel)
                self.used = "component"
                return rec
        self.used = "python"
        widths = {f: (4 if f in ("orientation", "angmom") else 3) for f, _, _ in layout}

        def take(state, t):
            if t not in slots:
                return
            arrays, image, vel = slots[t]
            with state.cpu_local_snapshot as snap:
                p = snap.particles
                rtag = np.asarray(p.rtag)
                for f, j, col in layout:
                    arrays[j][:, col : col + widths[f]] = np.asarray(getattr(p, f))[rtag]
                if image is not None:
                    image[...] = np.asarray(p.image)[rtag]
                if vel is not None:
                    vel[...] = np.asarray(p.velocity)[rtag]

        return _PythonRecorder(hoomd, trigger, take)

    def check(self, eng, block, final_state):
        """Replay the first steps on the twin from HOOMD-blue's first state and compare every
        recorded field (positions, and velocities and accelerations, which show a wrong force at
        once): a safeguard against a script that the twin does not reproduce (the twin replays
        between checkpoints and evaluates every force Jacobian, so it must integrate the same map)."""
        if self.check_steps <= 0:
            return
        t0 = self.t0
        if block is not None:
            n = block[0].shape[0]
            k = min(self.check_steps, n)
            first = (t0,) + tuple(x[0] for x in block)
            target = tuple(x[k] for x in block) if k < n else final_state[1:]
        else:
            if self.k not in self.extra or t0 not in self.rec.states:
                return
            k, first, target = self.check_steps, self.rec.states[t0], self.extra[self.k][1:]
        eng.load(first, forces=True)
        eng.advance(k)
        ours = eng.save()[1:]
        gap = max((float(np.abs(a - b).max()) for a, b in zip(ours, target) if a.size), default=0.0)
        self.gap = gap
        if not gap <= self.atol:
            raise RuntimeError(
                f"from HOOMD-blue's state at step {t0}, the embedded twin is {gap:.3g} away from "
                f"HOOMD-blue after {k} steps (> atol = {self.atol}): the script does something the "
                "twin does not reproduce, so the gradient would not be HOOMD-blue's"
            )


class _PythonRecorder:
    """A ``hoomd.update.CustomUpdater`` calling ``take``, with the C++ recorder's interface."""

    def __init__(self, hoomd, trigger, take):
        recorder = self

        class Record(hoomd.custom.Action):
            def act(self, timestep):
                take(self._state, timestep)
                recorder.num_recorded += 1

        self.num_recorded = 0
        self.take = take
        self.operation = hoomd.update.CustomUpdater(trigger=trigger, action=Record())

    def record_now(self, timestep):
        self.take(self.operation._simulation.state, timestep)
        self.num_recorded += 1


def _script_key(sim):
    return {k: v for k, v in _fingerprint(sim).items() if k not in _FIELDS}


def _run(sim, steps):
    """``sim.run(steps)`` with the writers that may change the state guarded, and the script's
    settings (dt, kT, gamma, parameters) the same at the end as at the start."""
    start = _script_key(sim)
    t0 = sim.timestep
    with _WriterGuard(sim):
        sim.run(steps)
    what = _changed(start, _script_key(sim))
    if what:
        raise Unsupported(
            f"{', '.join(what)} changed during the run from step {t0} to {sim.timestep} (an operation or "
            "a trigger changed the script): the adjoint differentiates the script as it was at the "
            "start; change it between differentiated runs only"
        )


def _check_kT(sim, steps, wrt):
    """d/dkT and d/dgamma differentiate the noise amplitude sqrt(kT), which needs kT > 0 at every
    step (kT is linear between a Ramp's ends, so its ends in the run decide)."""
    names = [w for w in wrt if isinstance(w, str) and w in ("kT", "gamma")]
    if not names:
        return
    for m in sim.operations.integrator.methods:
        if hasattr(m, "kT"):
            for t in (sim.timestep, sim.timestep + steps - 1):
                if not m.kT(t) > 0:
                    raise Unsupported(
                        f"wrt {names[0]!r}: {type(m).__name__} has kT({t}) = {m.kT(t)!r}; d/dkT and "
                        "d/dgamma need kT > 0 at every step of the run"
                    )


def _trigger_on(steps, bar=None, end=None):
    """A HOOMD-blue trigger that fires at the given timesteps (and moves a progress bar: HOOMD-blue
    asks it once per step)."""
    hoomd = _hoomd()

    class On(hoomd.trigger.Trigger):
        def __init__(self):
            hoomd.trigger.Trigger.__init__(self)
            self.steps = frozenset(steps)
            self.last = None

        def compute(self, timestep):
            # one tick per step of this run, however often asked (HOOMD-blue also looks one step ahead)
            if bar is not None and timestep != self.last and timestep < end:
                self.last = timestep
                bar.update(1)
            return timestep in self.steps

    return On()


def gradient(sim, steps, loss, wrt, atol=1e-8, check_steps=2, recorder="auto", **kwargs):
    """Differentiate ``steps`` steps of the HOOMD-blue simulation ``sim``, advancing it by them.

    HOOMD-blue integrates: ``sim.run(steps)`` runs once, writers included, while a recorder
    (a ``hoomd.update.CustomUpdater``) copies the states the adjoint needs out of HOOMD-blue's
    local snapshots: every state while they fit ``memory`` (then the adjoint is evaluated exactly
    along HOOMD-blue's trajectory), otherwise the binomial checkpoints. The backward pass, and
    the recomputation of the states between checkpoints, run on the embedded twin from
    HOOMD-blue's checkpoints: HOOMD-blue cannot be rewound (its timestep, which seeds the noise,
    only moves forward, and a replay would run the writers again), and the twin integrates the
    same discrete map, to rounding (force sums in a different order: ~1e-14 over short runs).
    As a safeguard the twin replays the first ``check_steps`` steps from HOOMD-blue's first
    state and must land within ``atol`` of HOOMD-blue (``diagnostics["hoomd_gap"]``).

    ``recorder``: ``"component"`` (the C++ ``hoomd.adjoint.Recorder``: reads HOOMD-blue's
    particle data in place), ``"python"`` (a ``hoomd.custom.Action`` reading local snapshots; no
    compilation) or ``"auto"`` (the component where it is installed). Both record the same numbers.

    ``wrt`` names HOOMD-blue pair forces (their gradient is keyed by the HOOMD-blue object) or the
    integrator's ``rigid``, ``"positions"``, ``"kT"``, ``"gamma"``...; the other arguments are
    those of :func:`hoomd_adjoint.adjoint.gradient`. ``mode="forward"`` (tangent-linear) runs on the
    twin, after which HOOMD-blue runs the same steps and must end within ``atol`` of it.
    """
    from . import adjoint

    tw = twin(sim)
    entries = []
    for w in adjoint.wrt_entries(wrt):
        target = w[0] if isinstance(w, tuple) else w
        if isinstance(target, str):
            entries.append(w)
            continue
        if id(target) not in tw._hoomd_forces:
            raise ValueError(
                f"wrt entry {target!r} is not a force (or the rigid constraint) of this HOOMD-blue "
                "simulation's integrator"
            )
        mine = tw._hoomd_forces[id(target)]
        entries.append((mine, w[1]) if isinstance(w, tuple) else mine)
    steps_ = steps if isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) else None
    if steps_ is not None and steps_ >= 1:
        _check_kT(sim, int(steps_), entries)
    _cached_forces(sim)  # (sim.run(0): no step, no writer)
    if kwargs.get("mode", "reverse") == "forward":
        res = adjoint.gradient(tw, steps, loss, entries, **kwargs)
        _run(sim, steps)
        ours = np.array(tw.state._cpp.position)
        theirs = np.asarray(sim.state.get_snapshot().particles.position)
        gap = float(np.abs(ours - theirs).max()) if ours.size else 0.0
        if not gap <= atol:
            raise RuntimeError(
                f"HOOMD-blue and the embedded twin ended {gap:.3g} apart (> atol = {atol}): the "
                "script does something the twin does not reproduce, so the gradient would not be "
                "HOOMD-blue's"
            )
    else:
        drv = HoomdForward(sim, check_steps, atol, recorder)
        res = adjoint.gradient(tw, steps, loss, entries, _driver=drv, **kwargs)
        gap = drv.gap
        res.diagnostics["recorder"] = drv.used
        res.diagnostics["recorded_steps"] = drv.recorded_steps
    res.diagnostics["hoomd_gap"] = gap
    res.diagnostics["forward_engine"] = "hoomd" if kwargs.get("mode", "reverse") != "forward" else "twin"
    for hid, mine in tw._hoomd_forces.items():
        if id(mine) in res._grads:
            res._grads[hid] = res._grads[id(mine)]
    return res
