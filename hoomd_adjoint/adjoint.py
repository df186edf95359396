"""Exact gradients of a loss through a whole simulation: the discrete adjoint.

``gradient(sim, steps, loss, wrt)`` advances ``sim`` exactly as ``sim.run(steps)`` would and
returns d(loss)/d(parameters) and d(loss)/d(initial positions) of the discrete map that was
integrated (same seed, same floating-point steps). The backward pass regenerates every random
number from (seed, timestep, tag) and recomputes forces from stored positions, so only states are
recorded: all of them while they fit ``memory``, otherwise binomial checkpoints (Griewank-Walther
"Revolve") with the fewest recomputed steps. Recomputation is bitwise exact, so the checkpointed
gradient equals the fully stored one bit for bit. See docs/adjoint.md for the equations.
"""

import math
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _checks, _core, _revolve
from ._revolve import Revolve, split_spare as _revolve_split  # noqa: F401 (benchmarks/hoomd_recording.py)
from .device import GPU
from .errors import ChaoticHorizonWarning
from .md.constrain import Rigid
from .md.methods import Brownian, ConstantVolume, Langevin
from .md.bar import Bar
from .md.external.field import _External
from .md.pair import Pair, Table
from .variant import as_variant


# The adjoint's growth over a horizon above which gradient() warns (ChaoticHorizonWarning): the
# largest adjoint norm seen, over the largest loss gradient put in. Measured on the README's
# Morse fluid (500 particles, Brownian): 3.6 over 200 steps, where finite differences agree with
# the adjoint to 2e-9; about 500 over 1000 steps, where they disagree in sign (docs/adjoint.md).
CHAOTIC_GROWTH = 100.0
# The adjoint entries a sweep goes on with (the engine's kAdjointLimit): beyond, it stops.
ADJOINT_LIMIT = 1e150


def _norm(*arrays):
    """The 2-norm of all entries, without overflow for large ones."""
    m = max((float(np.max(np.abs(a))) if a.size else 0.0) for a in arrays)
    if not m > 0 or not math.isfinite(m):
        return m
    return m * math.sqrt(sum(float(np.sum(np.square(a / m))) for a in arrays))


def _stop_message(step, arrays, norms, note):
    """Why the backward sweep stopped at ``step``: a non-finite or overflowing adjoint entry, the
    particles, the norm on the way, and the closest pair of the state at that step."""
    bad = np.zeros(arrays[0].shape[0], dtype=bool)
    finite = True
    for a in arrays:
        a2 = a.reshape(a.shape[0], -1)
        bad |= ~(np.abs(a2) <= ADJOINT_LIMIT).all(axis=1)
        finite = finite and bool(np.isfinite(a2).all())
    tags = np.flatnonzero(bad)[:10].tolist()
    if finite:
        big = max(float(np.max(np.abs(a))) for a in arrays)
        head = (
            f"overflowing adjoint at step {step}, particle tags {tags}: an entry reached {big:.3g}, beyond "
            f"{ADJOINT_LIMIT:g}, where the gradient's arithmetic would overflow"
        )
    else:
        head = f"non-finite adjoint at step {step}, particle tags {tags}"
    if norms:
        (s0, n0), (s1, n1) = norms[0], norms[-1]
        head += (
            f". Its norm was {n0:.3g} at step {s0} and {n1:.3g} at step {s1}"
            if s1 != s0
            else f". Its norm was {n0:.3g} at step {s0}"
        )
    head += "; a horizon this long may be chaotic (see truncate= and docs/adjoint.md), or particles may overlap."
    return head + note


def _state_note(eng, states, t_first, step):
    """The engine's note (closest pair) on the stored state at ``step``, or ''."""
    try:
        eng.load(eng.state_in(states, step - t_first, step), forces=False)
        return eng.cpp.failure_note()
    except Exception:  # a note must never hide the error it explains
        return ""


@dataclass
class Frame:
    """What a loss function receives: the state after ``timestep`` (float64, tag order)."""

    positions: np.ndarray  # (N, 3), wrapped into the box
    box: list
    typeid: np.ndarray
    image: np.ndarray
    timestep: int
    velocities: np.ndarray = None
    _sim: object = field(default=None, repr=False)


@dataclass
class GradientResult:
    """d(loss)/d(...) of one gradient computation."""

    loss: float
    positions: np.ndarray = None  # d loss / d initial positions (N, 3)
    velocities: np.ndarray = None  # d loss / d initial velocities (Langevin, NVE)
    orientations: np.ndarray = None  # d loss / d initial orientations (N, 4), rigid bodies' centres
    angmom: np.ndarray = None  # d loss / d initial angular momenta (N, 4) (Langevin, NVE)
    diagnostics: dict = field(default_factory=dict)
    _grads: dict = field(default_factory=dict, repr=False)

    def grad(self, what):
        """Gradient with respect to ``what``: a pair force (``{(a, b): {param: value}}``),
        ``"kT"`` (float), ``"gamma"`` (``{type: value}``), ``"moment_inertia"`` ((N, 3), the
        centres' principal moments), ``"gamma_r"`` (``{type: (3,)}``) or a
        :class:`~hoomd_adjoint.md.constrain.Rigid` (``{body type: (n, 3)}``, d/d body-frame positions)."""
        key = what if isinstance(what, str) else id(what)
        if key not in self._grads:
            raise KeyError(f"no gradient with respect to {what!r}: pass it in wrt=[...]")
        return self._grads[key]


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


class _SharedBar:
    """Reports to a bar that outlives this run (an ensemble's); closing it is its owner's job."""

    def __init__(self, bar):
        self.update = bar.update

    def close(self):
        pass


# The backward pass builds neighbour lists from earlier stored states where it can (see
# NeighborList.set_earlier_states); off only to measure what that saves.
_LOOK_BACK = True


def _progress(enabled, total, desc):
    """A tqdm bar when asked for, the caller's bar if given one, else a stand-in."""
    if hasattr(enabled, "update"):
        return _SharedBar(enabled)
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", desc=desc)


@dataclass(frozen=True)
class _Dynamics:
    """What the adjoint needs to know of an integration method."""

    name: str
    inertial: bool  # states carry velocities and accelerations (Langevin, NVE)
    thermostat: bool  # it has a kT and a gamma to differentiate


# the one place that maps the integration methods to what the adjoint does with them
_DYNAMICS = {
    Brownian: _Dynamics("bd", False, True),
    Langevin: _Dynamics("langevin", True, True),
    ConstantVolume: _Dynamics("nve", True, False),
}


def _dynamics(kind):
    """A _Dynamics, or one named by its name (a benchmark builds an engine with "langevin")."""
    if isinstance(kind, _Dynamics):
        return kind
    for d in _DYNAMICS.values():
        if d.name == kind:
            return d
    raise ValueError(f"unknown dynamics {kind!r}: one of {[d.name for d in _DYNAMICS.values()]}")


class _StatePool:
    """Room for recorded states, kept from one gradient to the next. A design loop asks for the
    same room again and again, and first touching fresh memory (page faults, zeroing) cost a
    gradient 5-10%. Memory taken is given back at the end of the gradient that took it; what is
    kept is at most the largest room taken at once (``release_memory()`` frees it)."""

    SMALL = 1 << 20  # bytes: below this a fresh array is as cheap

    def __init__(self):
        self._free = []  # flat float64 buffers
        self._lock = threading.Lock()  # an Ensemble's replicas take and give from several threads

    def take(self, count):
        """A flat float64 array of ``count`` entries (contents undefined)."""
        if count * 8 < self.SMALL:
            return np.empty(count)
        with self._lock:
            fits = [b for b in self._free if b.size >= count]
            if fits:
                best = min(fits, key=lambda b: b.size)
                self._free = [b for b in self._free if b is not best]
                return best[:count]
            self._free.clear()  # all too small: drop them rather than keep them beside a larger one
        return np.empty(count)

    def give(self, arr):
        """Return what take() gave; the caller keeps no view of it."""
        base = arr if arr.base is None else arr.base
        with self._lock:
            if base.nbytes >= self.SMALL and all(b is not base for b in self._free):
                self._free.append(base)

    def release(self):
        with self._lock:
            self._free.clear()


_pool = _StatePool()


def release_memory():
    """Free the state storage that gradients keep for the next gradient (see _StatePool)."""
    _pool.release()


class _StateStore:
    """Saves, restores and steps the states the adjoint needs, and runs the backward sweep over
    blocks of them. This is the seam where states recorded by another engine (a HOOMD-blue run)
    can be fed to the backward pass: any object with these methods over the same discrete map
    will do. A saved state is ``(timestep, *arrays)``; a block of n states is a list of arrays
    (n, N, width), one per array of :meth:`arrays`, taken from the state pool."""

    looks_back = False  # sweeps may build neighbour lists from earlier stored states too

    def __init__(self, sim, kind):
        self.cpp = sim.state._cpp
        self.dyn = _dynamics(kind)
        self.N = self.cpp.N

    def arrays(self):
        """The arrays a saved state is made of, each a list of (field, width): the fields as
        HOOMD-blue's local snapshots name them, packed side by side."""
        raise NotImplementedError

    @property
    def state_bytes(self):
        return self.N * 8 * sum(w for a in self.arrays() for _, w in a)

    def fields(self):
        return tuple(f for a in self.arrays() for f, _ in a)

    def layout(self):
        """Where each field of a saved state lives: (field, which array, first column)."""
        out = []
        for j, a in enumerate(self.arrays()):
            col = 0
            for f, w in a:
                out.append((f, j, col))
                col += w
        return out

    def save(self):
        return (self.cpp.timestep,) + self._save()

    def load(self, state, forces):
        """Restore a saved state; ``forces``: also recompute F(r_t), which a step reads."""
        self.cpp.timestep = state[0]
        if self.cpp.keep_thermostat_log:  # MTTK's xi at that step (the state arrays do not hold it)
            self.cpp.restore_thermostats(state[0])
        self._load(state[1:], forces)

    def advance(self, n):
        """Steps without writers or progress: a replay of steps already run once."""
        self.cpp.advance(n)

    def new_states(self, n):
        """Room for n states, one (n, N, width) array per array of :meth:`arrays`."""
        widths = [sum(w for _, w in a) for a in self.arrays()]
        flat, out, at = _pool.take(n * self.N * sum(widths)), [], 0
        for w in widths:
            out.append(flat[at : at + n * self.N * w].reshape(n, self.N, w))
            at += n * self.N * w
        return out

    def as_states(self, state):
        """One saved state as a block of one."""
        return [x[None] for x in state[1:]]

    def state_in(self, states, i, step):
        """State i of a block, as a saved state at timestep ``step``."""
        return (step,) + tuple(x[i] for x in states)

    def give(self, states):
        """Storage from new_states that is no longer needed."""
        _pool.give(states[0])

    def forget(self, state):
        """A saved state (checkpoint) that is no longer needed."""

    def loss_adjoint(self, dpos):
        """A loss's d/dpositions at the current state, in the form add_loss takes."""
        return dpos

    def add_loss(self, term, lr):
        lr += term

    def adjoints(self, lr, lv, la):
        """Every adjoint array (a stopped sweep's message looks at them all)."""
        return [lr, lv, la]

    def put_adjoints(self, res, lr, lv):
        """d loss / d the window's first state, into a GradientResult."""
        res.positions = lr.copy()
        if self.dyn.inertial:
            res.velocities = lv.copy()

    def diagnostics(self):
        return {}


class _Engine(_StateStore):
    """The host's states: positions (Brownian), or positions, velocities and accelerations, each
    its own (n, N, 3) array."""

    looks_back = True

    def arrays(self):
        fields = ("position", "velocity", "acceleration") if self.dyn.inertial else ("position",)
        return [[(f, 3)] for f in fields]

    def _live(self):
        """The particle data's arrays that make a state."""
        c = self.cpp
        return (c.position, c.velocity, c.acceleration) if self.dyn.inertial else (c.position,)

    def _save(self):
        return tuple(np.array(x) for x in self._live())

    def _load(self, arrays, forces):
        c = self.cpp
        c.set_position(arrays[0])
        if self.dyn.inertial:
            c.velocity[...] = arrays[1]
            c.acceleration[...] = arrays[2]
        if forces:
            c.compute_net_force()

    def record(self, states, after=False):
        """Advance len(states) steps, writing the state before (after) each step into states."""
        _core.advance_recording(self.cpp, *states, after=after)

    def sweep(self, t_first, states, lr, lv, la, grads, request):
        """Backward through the states at t_first, t_first + 1, ... (latest first); returns the
        step and tag of a non-finite adjoint, or (-1, -1)."""
        pos, vel, acc = (states + [None, None])[:3]
        return _core.adjoint_sweep(self.cpp, t_first, pos, vel, acc, lr, lv, la, grads, **request)

    def start_adjoint(self, first_state, lr, la, a0_from_forces, window_starts_run, select):
        """Chain what prepRun computed from the first state (a0 = F(r0)/m) into the adjoint;
        returns {force index: d/dparams} (the parameters ``select`` selects)."""
        if not a0_from_forces:
            return {}
        self.load(first_state, forces=False)
        w = np.ascontiguousarray(la / np.array(self.cpp.mass)[:, None])
        out, gp, _ = _core.force_jacobian(self.cpp, w, select=select)
        lr += out
        return dict(enumerate(gp))


class _StateBlock:
    """n states of N particles, sliced like the (n, N, 3) arrays of _Engine's blocks."""

    @property
    def shape(self):
        return (self.n, self.N, 3)

    def _range(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self.n)
            if step != 1:
                raise ValueError("state blocks slice with step 1 only")
            return start, max(start, stop)
        k = int(key) + (self.n if int(key) < 0 else 0)
        if not 0 <= k < self.n:
            raise IndexError(f"state {key} of a block of {self.n}")
        return k, k + 1


class _DeviceBlock(_StateBlock):
    """States in device memory: slots k0 .. k0 + n of a DeviceStates."""

    on_device = True

    def __init__(self, store, k0, n, N):
        self.store, self.k0, self.n, self.N = store, k0, n, N

    def __getitem__(self, key):
        a, b = self._range(key)
        return _DeviceBlock(self.store, self.k0 + a, b - a, self.N)


class _HostBlock(_StateBlock):
    """n states of a device run kept in host memory (beyond the device budget): the arrays of
    _Engine's blocks, passed through a small device block to record and to sweep."""

    on_device = False

    def __init__(self, arrays):
        self.arrays = arrays  # [positions] or [positions, velocities, accelerations], (n, N, 3)

    @property
    def n(self):
        return self.arrays[0].shape[0]

    @property
    def N(self):
        return self.arrays[0].shape[1]

    def __getitem__(self, key):
        a, b = self._range(key)
        return _HostBlock([x[a:b] for x in self.arrays])


class _DeviceEngine(_Engine):
    """The adjoint on the device (device.GPU): the forward run records states into device memory
    and the backward sweep runs there. Up to ``device_memory`` bytes of states stay on the device;
    beyond that they are kept in host memory and pass through a device block of at most
    ``STAGE`` states (taken beside the budget) on their way. Saved and loaded states pass through
    the host's particle data, which the CPU parts (losses, the first state's a0 = F/m) read."""

    STAGE = 32
    looks_back = False  # the device builds its lists from the state in hand

    def __init__(self, sim, kind, device_memory=None):
        super().__init__(sim, kind)
        self.budget = float("inf") if device_memory is None else device_memory
        self.on_device_bytes = 0
        self.peak_device_bytes = self.peak_host_bytes = self.on_host_bytes = 0
        self._stage = None

    def _block(self, n):
        """Room for n states: on the device while the budget lasts, else on the host."""
        bytes_ = n * self.state_bytes
        if self.on_device_bytes + bytes_ <= self.budget:
            self.on_device_bytes += bytes_
            self.peak_device_bytes = max(self.peak_device_bytes, self.on_device_bytes)
            return _DeviceBlock(_core.DeviceStates(self.cpp, n), 0, n, self.N)
        self.on_host_bytes += bytes_
        self.peak_host_bytes = max(self.peak_host_bytes, self.on_host_bytes)
        return _HostBlock(super().new_states(n))

    def _staging(self):
        if self._stage is None:
            self._stage = _core.DeviceStates(self.cpp, self.STAGE)
        return self._stage

    def _save(self):
        blk = self._block(1)
        if blk.on_device:
            _core.device_save(self.cpp, blk.store, blk.k0)
        else:  # (through the staging block)
            _core.device_save(self.cpp, self._staging(), 0)
            _core.device_states_download(self._staging(), 0, 1, blk.arrays)
        return (blk,)

    def _load(self, arrays, forces):
        blk = arrays[0]
        if not blk.on_device:  # (through the staging block)
            _core.device_states_upload(self._staging(), 0, 1, blk.arrays)
            blk = _DeviceBlock(self._staging(), 0, 1, self.N)
        _core.device_load(self.cpp, blk.store, blk.k0, forces)

    def new_states(self, n):
        return [self._block(n)]

    def as_states(self, state):
        return [state[1]]

    def state_in(self, states, i, step):
        return (step, states[0][i : i + 1])

    def give(self, states):
        blk = states[0]
        if blk.on_device:
            self.on_device_bytes -= blk.n * self.state_bytes
        else:
            self.on_host_bytes -= blk.n * self.state_bytes
            super().give(blk.arrays)

    def forget(self, state):
        """A saved state (checkpoint) no longer needed."""
        self.give([state[1]])

    def record(self, states, after=False):
        blk = states[0]
        if blk.on_device:
            _core.device_advance_recording(self.cpp, blk.store, blk.k0, blk.n, after=after)
            return
        for a in range(0, blk.n, self.STAGE):  # through the staging block, a chunk at a time
            m = min(self.STAGE, blk.n - a)
            stage = self._staging()
            _core.device_advance_recording(self.cpp, stage, 0, m, after=after)
            _core.device_states_download(stage, 0, m, [x[a : a + m] for x in blk.arrays])

    def sweep_options(self):
        """What the device's sweep takes besides the request (the rotations' adjoints)."""
        return {}

    def sweep(self, t_first, states, lr, lv, la, grads, request):
        blk = states[0]
        more = self.sweep_options()
        if blk.on_device:
            return _core.device_adjoint_sweep(
                self.cpp, t_first, blk.store, blk.k0, blk.n, lr, lv, la, grads, **request, **more
            )
        end = blk.n
        while end > 0:  # latest states first, a staging block at a time
            a = max(0, end - self.STAGE)
            stage = self._staging()
            _core.device_states_upload(stage, 0, end - a, [x[a:end] for x in blk.arrays])
            res = _core.device_adjoint_sweep(
                self.cpp, t_first + a, stage, 0, end - a, lr, lv, la, grads, **request, **more
            )
            if res[0] >= 0:
                return res
            end = a
        return (-1, -1)

    def diagnostics(self):
        """Where the stored states lay."""
        return dict(device_bytes_peak=self.peak_device_bytes, host_bytes_peak=self.peak_host_bytes)


class _RigidAdjoints:
    """The adjoints a store of a system with rigid bodies or rotational integration keeps besides
    lr, lv, la: of orientations, angular momenta, the torque step one reads and the bodies'
    geometry, and the gradients of the moments and the rotational drags."""

    def _init_rotations(self, sim):
        N = self.N
        self.lq, self.lp, self.ltau = np.zeros((N, 4)), np.zeros((N, 4)), np.zeros((N, 3))
        rigid = sim.operations.integrator.rigid
        self.types = list(sim.state.particle_types)
        self.bodies = rigid._definitions(sim.state) if rigid is not None else [None] * len(self.types)
        self.geometry = np.zeros(sum(3 * len(d[0]) for d in self.bodies if d is not None))
        self.inertia = np.zeros((N, 3))
        self.gamma_r = np.zeros((len(self.types), 3))

    def rotation_adjoints(self):
        """(lq, lp, ltau, geometry, inertia, gamma_r), as the sweeps take them."""
        return (self.lq, self.lp, self.ltau, self.geometry, self.inertia, self.gamma_r)

    def loss_adjoint(self, dpos):
        lr, lq, geom = np.zeros((self.N, 3)), np.zeros((self.N, 4)), np.zeros_like(self.geometry)
        _core.rigid_position_pullback(self.cpp, dpos, lr, lq, geom)
        return lr, lq, geom

    def add_loss(self, term, lr):
        lr += term[0]
        self.lq += term[1]
        self.geometry += term[2]

    def adjoints(self, lr, lv, la):
        return [lr, lv, la, self.lq, self.lp, self.ltau]

    def put_adjoints(self, res, lr, lv):
        super().put_adjoints(res, lr, lv)
        res.orientations = self.lq.copy()
        if self.dyn.inertial:
            res.angmom = self.lp.copy()

    def start_adjoint(self, first_state, lr, la, a0_from_forces, window_starts_run, select):
        # prepRun computed a0 = F(x0)/m (if the acceleration was not set) and, always, the torque
        # that Langevin/NVE step one reads first
        lF = la / np.array(self.cpp.mass)[:, None] if a0_from_forces else np.zeros_like(la)
        ltau = self.ltau if (window_starts_run and self.dyn.inertial) else np.zeros_like(self.ltau)
        if not (lF.any() or ltau.any()):
            return {}
        self.load(first_state, forces=False)
        grads = _core.AdjointGrads()
        _core.rigid_force_pullback(
            self.cpp, np.ascontiguousarray(lF), np.ascontiguousarray(ltau), lr, self.lq, self.geometry, grads, select
        )
        return dict(enumerate(grads.params))

    def geometry_dict(self):
        """{body type: (n_constituents, 3) d loss / d body-frame positions}."""
        out, k = {}, 0
        for t, d in zip(self.types, self.bodies):
            if d is not None:
                n = len(d[0])
                out[t] = self.geometry[k : k + 3 * n].reshape(n, 3).copy()
                k += 3 * n
        return out


class _RigidEngine(_RigidAdjoints, _StateStore):
    """The host's states of systems with rigid bodies or rotational integration: one packed array
    per step (positions, velocities, accelerations, orientations, angular momenta and the torque
    step one reads; Brownian: positions and orientations)."""

    def __init__(self, sim, kind):
        super().__init__(sim, kind)
        self.width = _core.rigid_state_width(self.cpp)
        self._init_rotations(sim)

    def arrays(self):
        if self.width == 7:
            return [[("position", 3), ("orientation", 4)]]
        return [
            [
                ("position", 3),
                ("velocity", 3),
                ("acceleration", 3),
                ("orientation", 4),
                ("angmom", 4),
                ("net_torque", 3),
            ]
        ]

    def _save(self):
        return (_core.rigid_save(self.cpp),)

    def _load(self, arrays, forces):
        _core.rigid_load(self.cpp, arrays[0], forces)

    def record(self, states, after=False):
        _core.rigid_advance_recording(self.cpp, states[0], after=after)

    def sweep(self, t_first, states, lr, lv, la, grads, request):
        request = {k: v for k, v in request.items() if k not in ("clip", "look_back")}
        return _core.rigid_adjoint_sweep(
            self.cpp, t_first, states[0], lr, lv, la, *self.rotation_adjoints(), grads, **request
        )


class _DeviceRigidEngine(_RigidAdjoints, _DeviceEngine):
    """The device's states and sweep (as _DeviceEngine's) of systems with rigid bodies or
    rotational integration: the fields of _RigidEngine's states, each its own array."""

    def __init__(self, sim, kind, device_memory=None):
        super().__init__(sim, kind, device_memory)
        self._init_rotations(sim)

    def arrays(self):
        fields = [("position", 3), ("orientation", 4)]
        if self.dyn.inertial:
            fields = [("position", 3), ("velocity", 3), ("acceleration", 3)]
            fields += [("orientation", 4), ("angmom", 4), ("net_torque", 3)]
        return [[f] for f in fields]

    def sweep_options(self):
        return {"rigid": self.rotation_adjoints()}


def _frame(sim, velocities=False):
    c = sim.state._cpp
    return Frame(
        positions=np.array(c.position),
        box=sim.state.box.to_list(),
        typeid=np.array(c.typeid),
        image=np.array(c.image),
        timestep=int(c.timestep),
        velocities=np.array(c.velocity) if velocities else None,
        _sim=sim,
    )


def _call_loss(loss, frame):
    """Evaluate a loss and check what it returns: (value, dL/dr, {force id: dL/dparams})."""
    out = loss(frame)
    if not isinstance(out, tuple) or len(out) not in (2, 3):
        got = (
            f"an array of shape {np.shape(out)}" if isinstance(out, np.ndarray) else f"{type(out).__name__} {out!r:.80}"
        )
        raise TypeError(
            f"the loss returned {got} at step {frame.timestep}; a loss must return (value, d value / d "
            "positions) or (value, d/dpositions, {force: d/dparams})"
        )
    try:
        value = float(out[0])
        dpos = np.asarray(out[1], dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"the loss at step {frame.timestep} must return a number and an (N, 3) array of numbers, "
            f"got {type(out[0]).__name__} and {type(out[1]).__name__} ({e})"
        ) from None
    if dpos.shape != frame.positions.shape:
        raise ValueError(
            f"loss gradient has shape {dpos.shape}, expected {frame.positions.shape} (at step {frame.timestep})"
        )
    if not np.isfinite(value):
        raise FloatingPointError(f"the loss is not finite at step {frame.timestep}: {value}")
    if not np.all(np.isfinite(dpos)):
        bad = np.flatnonzero(~np.isfinite(dpos).all(axis=1))
        raise FloatingPointError(
            f"the loss gradient is not finite at step {frame.timestep}, particle tags {bad[:10].tolist()}"
        )
    dparams = {}
    if len(out) == 3 and out[2]:
        if not isinstance(out[2], dict):
            raise TypeError(f"the loss's third element must be {{force: d value / d params}}, got {out[2]!r:.80}")
        forces = list(frame._sim.operations.integrator.forces) if frame._sim is not None else []
        for f, arr in out[2].items():
            if frame._sim is not None and all(f is not g for g in forces):
                raise ValueError(
                    f"the loss returned parameter derivatives for {f!r}, which is not a force of this "
                    "simulation's integrator"
                )
            arr = np.asarray(arr, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise FloatingPointError(
                    f"the loss's derivative with respect to {type(f).__name__} parameters is "
                    f"not finite at step {frame.timestep}"
                )
            dparams[id(f)] = arr
    return value, np.ascontiguousarray(dpos), dparams


def _pair_dict(force, flat, types, wanted):
    """ntypes^2 x P array -> {(a, b): {param: value}} for the wanted parameters, with (a, b) and
    (b, a) summed."""
    names = list(force._param_spec)
    P = len(names)
    nt = len(types)
    g = np.asarray(flat).reshape(nt, nt, P)
    out = {}
    for a in range(nt):
        for b in range(a, nt):
            v = g[a, b] + (g[b, a] if a != b else 0.0)
            out[(types[a], types[b])] = {n: float(v[k]) for k, n in enumerate(names) if n in wanted}
    return out


def gradient(
    sim,
    steps,
    loss,
    wrt,
    frames=None,
    memory=None,
    truncate=None,
    mode="reverse",
    clip=None,
    progress=False,
    device_memory=None,
    _driver=None,
    _warn_growth=True,
):
    """Run ``steps`` steps and differentiate ``loss`` through them.

    Args:
        sim: a Simulation with an integrator holding exactly one method over all particles.
        steps: number of steps to run (the simulation advances exactly as ``sim.run(steps)``).
        loss: ``loss(frame) -> (value, dvalue/dpositions)``; ``frame.positions`` is (N, 3),
            wrapped, float64. It may return a third element ``{force: d value / d params}`` for
            losses that depend on parameters directly (see :mod:`hoomd_adjoint.loss`).
        wrt: what to differentiate with respect to: pair forces of the integrator (all their
            parameters, every type pair), ``(force, ["name", ...])`` for some of a force's
            parameters (every type pair; fewer parameters make the adjoint faster),
            ``"positions"``, ``"kT"`` and ``"gamma"`` of the method (ConstantVolume with a
            Bussi or Berendsen thermostat: ``"kT"`` and ``"tau"`` of the thermostat).
        frames: steps after the start (0..steps) at which the loss is evaluated; the values add.
            Default: the last step only.
        memory: byte budget for stored states (None: store every state). Beyond it, binomial
            checkpointing recomputes segments; the gradient is bitwise the same.
        truncate: differentiate only through the last ``truncate`` steps (the earlier state is
            treated as given); ``positions`` is then the gradient with respect to that state.
        mode: ``"reverse"`` (adjoint) or ``"forward"`` (tangent-linear, one pass per scalar
            parameter, memory independent of the number of steps; not for ``"positions"``).
        clip: if given, the adjoint's norm is limited to this value after every step. This
            changes the gradient (a stabiliser for long horizons, not an exact gradient).
        progress: show progress bars for the forward run and the adjoint sweep, or an object
            with ``update(steps)`` to report both to.
        device_memory: on a GPU (``device.GPU``), bytes of device memory the stored states may
            take (None: all of them, up to ``memory``); the rest are kept in host memory and
            pass through a small device block. The gradient is bitwise the same.

    Returns:
        GradientResult with ``loss``, ``grad(force | "kT" | "gamma")``, ``positions`` and
        ``diagnostics`` (stored states, recomputed steps, neighbour-list builds and restores,
        per-segment adjoint norms).
    """
    res = _drive(
        gradient_steps(
            sim, steps, loss, wrt, frames, memory, truncate, mode, clip, progress, device_memory, _driver, _warn_growth
        )
    )
    if getattr(res, "_warning", None):  # (said here: it points at the caller's line)
        warnings.warn(res._warning, ChaoticHorizonWarning, stacklevel=2)
    return res


def gradient_steps(
    sim,
    steps,
    loss,
    wrt,
    frames=None,
    memory=None,
    truncate=None,
    mode="reverse",
    clip=None,
    progress=False,
    device_memory=None,
    _driver=None,
    _warn_growth=True,
):
    """:func:`gradient` as a generator of the engine calls it makes (:class:`_Call`), which a
    driver runs: :func:`_drive` one by one; an Ensemble's batch driver those of many replicas
    together. Returns (StopIteration.value) the GradientResult."""
    steps, frames, truncate = _check_arguments(sim, steps, loss, frames, memory, truncate, mode, clip, device_memory)
    wrt = wrt_entries(wrt)
    if not wrt:
        raise ValueError("wrt is empty: name what to differentiate with respect to")
    selected = {}  # id(force) -> parameter names to differentiate
    plain = []
    for w in wrt:
        if isinstance(w, tuple):
            if len(w) != 2 or not isinstance(w[0], Pair):
                raise ValueError(f"wrt entry {w!r}: use (pair force, [parameter names])")
            if not isinstance(w[1], str) and not all(isinstance(n, str) for n in _iterable(w[1], f"wrt entry {w!r}")):
                raise TypeError(f"wrt entry {w!r}: parameter names must be strings")
            names = [w[1]] if isinstance(w[1], str) else list(w[1])
            if not names:
                raise ValueError(f"wrt entry {w!r} names no parameter")
            for n in names:
                if n not in w[0]._param_spec:
                    raise ValueError(f"{type(w[0]).__name__} has no parameter {n!r}; it has {list(w[0]._param_spec)}")
            selected[id(w[0])] = [n for n in w[0]._param_spec if n in names or n in selected.get(id(w[0]), ())]
            plain.append(w[0])
        else:
            if isinstance(w, (Pair, Bar, _External)):
                selected[id(w)] = list(w._param_spec)
            elif isinstance(w, Rigid):
                pass
            elif not isinstance(w, str):
                raise TypeError(
                    f"wrt entry {w!r} ({type(w).__name__}) is not a pair force, (force, [names]), "
                    "'positions', 'kT' or 'gamma'"
                )
            plain.append(w)
    return (
        yield from _gradient(
            sim,
            steps,
            loss,
            plain,
            selected,
            frames,
            memory,
            truncate,
            mode,
            clip,
            progress,
            _driver,
            device_memory,
            _warn_growth,
        )
    )


def _drive(steps):
    """Run a pipeline (a generator of _Call, gradient_steps) alone: each call at once. Returns
    the pipeline's value."""
    result, error = None, None
    while True:
        try:
            call = steps.throw(error) if error is not None else steps.send(result)
        except StopIteration as stop:
            return stop.value
        result, error = None, None
        try:
            result = call.run()
        except BaseException as e:  # (into the pipeline, where it is raised, as from the call)
            error = e


class _Call:
    """An engine call of a gradient's pipeline (gradient_steps yields them; a driver runs them and
    sends the result back). Calls of several replicas with the same ``key`` (None: never) may run
    as one batch, ``run_batch``: on a GPU their steps together, one kernel per op for all of them
    (cpp/device/BatchRun.h), each replica's arithmetic its own."""

    key = None

    def run(self):
        raise NotImplementedError

    @staticmethod
    def run_batch(calls):
        """[(result, None) or (None, exception)] for the calls (all of one key), in order."""
        raise NotImplementedError


def _outcomes(failed, n):
    """A batch's [(index, message)] of failed systems as run_batch's outcomes for n calls."""
    failed = dict(failed)
    return [(None, RuntimeError(failed[k]) if k in failed else None) for k in range(n)]


def _on_device(eng, states=None):
    """Whether the store keeps its states on a GPU, and (states) this block is in device memory."""
    return isinstance(eng, _DeviceEngine) and (states is None or states[0].on_device)


class _Advance(_Call):
    """n steps, nothing kept (a replay; the steps before the window)."""

    def __init__(self, eng, n):
        self.eng, self.n = eng, n
        self.key = ("advance", n) if eng.cpp.use_gpu else None

    def run(self):
        self.eng.advance(self.n)

    @staticmethod
    def run_batch(calls):
        return _outcomes(_core.batch_advance([c.eng.cpp for c in calls], calls[0].n), len(calls))


class _Record(_Call):
    """Steps keeping the state before (after) each in ``states`` (the store's block)."""

    def __init__(self, eng, states, after=False):
        self.eng, self.states, self.after = eng, states, after
        self.key = ("record", states[0].shape[0], after) if _on_device(eng, states) else None

    def run(self):
        self.eng.record(self.states, after=self.after)

    @staticmethod
    def run_batch(calls):
        blocks = [c.states[0] for c in calls]
        cpps, stores, k0 = [c.eng.cpp for c in calls], [b.store for b in blocks], [b.k0 for b in blocks]
        return _outcomes(_core.batch_advance_recording(cpps, stores, k0, blocks[0].n, after=calls[0].after), len(calls))


class _Sweep(_Call):
    """The adjoint back through ``states`` (from t_first + n to t_first); returns where it stopped."""

    def __init__(self, eng, t_first, states, lr, lv, la, grads, request):
        self.eng, self.t_first, self.states = eng, t_first, states
        self.adjoint, self.grads, self.request = (lr, lv, la), grads, request
        if _on_device(eng, states):
            r = request
            sel = tuple(tuple(x) for x in r["select"])
            self.key = ("sweep", states[0].n, r["params"], r["kT"], r["gamma"], r["clip"], r["look_back"], sel)

    def run(self):
        return self.eng.sweep(self.t_first, self.states, *self.adjoint, self.grads, self.request)

    @staticmethod
    def run_batch(calls):
        jobs = [
            (
                c.eng.cpp,
                c.t_first,
                c.states[0].store,
                c.states[0].k0,
                *c.adjoint,
                c.grads,
                *c.eng.sweep_options().values(),
            )
            for c in calls
        ]
        out = _core.batch_adjoint_sweep(jobs, calls[0].states[0].n, **calls[0].request)
        return [(tuple(r), None) for r in out]


def wrt_entries(wrt):
    """``wrt`` as a list of entries: a single entry ("kT", a force, (force, names)) is a list of one."""
    if isinstance(wrt, (str, Pair, Bar, _External, tuple, Rigid)):
        return [wrt]
    try:
        return list(wrt)
    except TypeError:
        raise TypeError(
            f"wrt must be a list of pair forces, (force, [names]), 'positions', 'kT' or 'gamma'; got {wrt!r}"
        ) from None


def _iterable(x, what):
    try:
        return list(x)
    except TypeError:
        raise TypeError(f"{what}: expected a list, got {x!r}") from None


def _check_arguments(sim, steps, loss, frames, memory, truncate, mode, clip, device_memory=None):
    """Reject bad arguments before anything runs (a rejected call leaves the simulation as it was);
    returns them resolved: (steps, frames sorted without repeats, default [steps]; truncate,
    default steps)."""
    from .simulation import Simulation

    if not isinstance(sim, Simulation):
        raise TypeError(f"sim must be a hoomd_adjoint.Simulation, got {sim!r}")
    steps = _checks.integer("steps", steps, lo=1)
    if steps > _checks.UINT64_MAX - sim.timestep:
        raise ValueError(f"steps = {steps} from timestep {sim.timestep} would pass the largest timestep, 2^64 - 1")
    if not callable(loss):
        raise TypeError(f"loss must be callable as loss(frame) -> (value, d value / d positions), got {loss!r}")
    if frames is None:
        frames = [steps]
    else:
        frames = sorted({_checks.integer("frames entry", k, lo=0, hi=steps) for k in _iterable(frames, "frames")})
    if memory is not None:
        _checks.integer("memory (bytes)", memory, lo=1)
    truncate = steps if truncate is None else _checks.integer("truncate", truncate, lo=1, hi=steps)
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    if clip is not None:
        _checks.real("clip", clip, lo=0.0, lo_open=True)
    if device_memory is not None:
        _checks.integer("device_memory (bytes)", device_memory, lo=0)
        if not isinstance(sim.device, GPU):
            raise ValueError(f"device_memory applies to simulations on a GPU; this one runs on {sim.device!r}")
    updaters = sim.operations.updaters
    if updaters:
        raise ValueError(
            f"gradient: sim.operations.updaters holds {[type(u).__name__ for u in updaters]}, which change the "
            "state between steps outside the differentiated map; remove them for the differentiated run"
        )
    integ = sim.operations.integrator
    for k, m in enumerate(getattr(integ, "methods", ())):
        th = getattr(m, "thermostat", None)
        if th is None:
            continue
        why = "mode='forward' does not differentiate MTTK (mode='reverse' does)" if th._name == "MTTK" else None
        why = why if mode == "forward" else None
        if why:
            raise ValueError(f"gradient: methods[{k}] ConstantVolume has a {th._name} thermostat: {why}")
    return steps, frames, truncate


def _has_mttk(sim):
    """Whether a method of the simulation's integrator has an MTTK thermostat."""
    methods = getattr(sim.operations.integrator, "methods", ())
    return any(getattr(getattr(m, "thermostat", None), "_name", None) == "MTTK" for m in methods)


@dataclass
class _Plan:
    """One gradient's request, resolved and checked once (the arguments by _check_arguments, the
    simulation and ``wrt`` by _plan) before anything runs."""

    steps: int
    truncate: int  # the differentiated window: the last ``truncate`` steps
    frames: list  # steps after the start at which the loss counts, sorted
    mode: str
    clip: object
    method: object
    dyn: _Dynamics
    forces: list
    wrt_forces: list
    selected: dict  # id(force) -> parameter names to differentiate
    select: list  # per force of ``forces``, the indices of those parameters: the C++ calls' ``select``
    want_pos: bool
    want_kT: bool
    want_tau: bool
    want_gamma: bool
    want_geometry: list
    want_rot: list
    rigid: bool
    on_device: bool

    @property
    def pre(self):
        """Steps before the window (plain dynamics)."""
        return self.steps - self.truncate


def _plan(sim, steps, truncate, frames, mode, clip, wrt, selected):
    """Check the simulation and ``wrt`` against each other (the arguments were checked and
    resolved by _check_arguments) and say what this gradient runs and differentiates."""
    integ = sim.operations.integrator
    if integ is None:
        raise RuntimeError("no integrator: set sim.operations.integrator first")
    if len(integ.methods) != 1:
        raise ValueError("gradient() needs exactly one integration method (it must integrate every particle)")
    method = integ.methods[0]
    dyn = _DYNAMICS[type(method)]
    forces = list(integ.forces)
    wrt = list(wrt)
    want_kT, want_gamma, want_tau = "kT" in wrt, "gamma" in wrt, "tau" in wrt
    thermostat = getattr(method, "thermostat", None)
    want_geometry = [w for w in wrt if isinstance(w, Rigid)]
    wrt_forces = [w for w in wrt if not isinstance(w, (str, Rigid))]
    for w in wrt:
        if isinstance(w, str) and w not in ("positions", "kT", "gamma", "tau", "moment_inertia", "gamma_r"):
            raise ValueError(
                f"unknown wrt entry {w!r}: use forces, 'positions', 'kT', 'gamma', 'tau', 'moment_inertia' or 'gamma_r'"
            )
    want_rot = [w for w in wrt if w in ("moment_inertia", "gamma_r")]
    rigid = sim.state._cpp.n_bodies > 0 or integ.rigid is not None or integ.integrate_rotational_dof
    for w in want_geometry:
        if integ.rigid is not w:
            raise ValueError(f"{w!r} is not the rigid-body constraint of this simulation's integrator")
    if want_rot and not rigid:
        raise ValueError(f"wrt {want_rot[0]!r} needs rigid bodies or integrate_rotational_dof=True")
    if rigid and (want_gamma or (want_kT and thermostat is None)):
        raise ValueError(
            "d/dkT and d/dgamma are not available with rigid bodies or rotational integration yet "
            "(a ConstantVolume thermostat's kT is)"
        )
    if rigid and mode == "forward":
        raise ValueError("mode='forward' does not cover rigid bodies or rotational integration; use mode='reverse'")
    if rigid and clip is not None:
        raise ValueError("clip is not available with rigid bodies or rotational integration")
    for f in wrt_forces:
        if not isinstance(f, (Pair, Bar, _External)) or all(f is not g for g in forces):
            raise ValueError(f"{f!r} is not a pair force of this simulation's integrator")
        if isinstance(f, _External) and mode == "forward":
            raise ValueError("mode='forward' does not differentiate external fields yet; use mode='reverse'")
        if isinstance(f, Table) and mode == "forward":
            raise ValueError(
                "mode='forward' does not differentiate pair.Table (one tangent per table entry); use mode='reverse'"
            )
    if want_gamma and not dyn.thermostat:
        raise ValueError("ConstantVolume has no gamma to differentiate")
    if (want_kT or want_tau) and not dyn.thermostat and thermostat is None:
        raise ValueError(
            f"ConstantVolume without a thermostat has no {'kT' if want_kT else 'tau'} to differentiate "
            "(with thermostats.Bussi or Berendsen it has kT and tau)"
        )
    if want_tau and thermostat is None:
        raise ValueError(f"wrt 'tau' is a ConstantVolume thermostat's time constant; {type(method).__name__} has none")
    kT_owner = thermostat if thermostat is not None else method
    if want_kT and not hasattr(as_variant(kT_owner.kT), "value"):
        raise ValueError("d/dkT needs a constant kT (a Ramp has no single kT to differentiate)")
    if mode == "forward" and "positions" in wrt:
        raise ValueError("mode='forward' differentiates parameters (and kT, gamma), not positions")
    return _Plan(
        steps=steps,
        truncate=truncate,
        frames=frames,
        mode=mode,
        clip=clip,
        method=method,
        dyn=dyn,
        forces=forces,
        wrt_forces=wrt_forces,
        selected=selected,
        select=_selection(forces, selected, sim.state),
        want_pos="positions" in wrt,
        want_kT=want_kT,
        want_tau=want_tau,
        want_gamma=want_gamma,
        want_geometry=want_geometry,
        want_rot=want_rot,
        rigid=rigid,
        on_device=isinstance(sim.device, GPU),
    )


def _selection(forces, selected, state):
    """The parameters each force differentiates, as the C++ calls take them (``select``): per force,
    the indices of its parameters in ``selected`` (a pair force's dual numbers carry only these);
    a bar force always all three."""
    return [
        f._selection(selected.get(id(f), ()), state)
        if isinstance(f, Pair)
        else list(range(len(getattr(f, "_param_spec", None) or ())))
        for f in forces
    ]


def _store(sim, plan, device_memory):
    """The state store for this simulation: rigid, device or host."""
    if plan.rigid:
        return _DeviceRigidEngine(sim, plan.dyn, device_memory) if plan.on_device else _RigidEngine(sim, plan.dyn)
    return _DeviceEngine(sim, plan.dyn, device_memory) if plan.on_device else _Engine(sim, plan.dyn)


def _run_up(sim, eng, plan, loss, t_start):
    """The steps before the differentiated window: plain dynamics, whose loss terms still count."""
    total, cpp = 0.0, sim.state._cpp
    for k in [k for k in plan.frames if k < plan.pre]:
        yield from _steps(sim, eng, k - (cpp.timestep - t_start))
        total += _call_loss(loss, _frame(sim, plan.dyn.inertial))[0]
    yield from _steps(sim, eng, plan.pre - (cpp.timestep - t_start))
    return total


def _steps(sim, eng, n, record=None):
    """n steps as sim._advance takes them (writers and updaters act between); without writers or
    updaters one engine call (a _Call: a batch driver may run it with other replicas')."""
    if n <= 0:
        return
    if sim.operations.writers or sim.operations.updaters:
        sim._advance(n, record=record and (lambda k: _drive(record(k))))
    elif record is not None:
        yield from record(n)
    else:
        yield _Advance(eng, n)


def _gradient(
    sim,
    steps,
    loss,
    wrt,
    selected,
    frames,
    memory,
    truncate,
    mode,
    clip,
    progress,
    driver=None,
    device_memory=None,
    warn_growth=True,
):
    """plan -> record -> schedule -> sweep -> collect; the arguments are _check_arguments' (resolved)."""
    plan = _plan(sim, steps, truncate, frames, mode, clip, wrt, selected)
    accel_from_forces = not sim.state._cpp.accel_set  # prepRun will set a0 = F(r0)/m
    sim._prepare_run()
    if plan.on_device and driver is not None:
        raise ValueError("a HOOMD-blue run's states are on the host: use a CPU device for the adjoint")
    eng = _store(sim, plan, device_memory)
    t_start = eng.cpp.timestep
    total_loss = (yield from _run_up(sim, eng, plan, loss, t_start)) if driver is None else 0.0
    t0 = t_start + plan.pre
    window_frames = [t_start + k for k in plan.frames if k >= plan.pre]
    a0_from_forces = accel_from_forces and plan.pre == 0 and plan.dyn.inertial
    if plan.mode == "forward":
        return _forward_mode(sim, t0, plan, loss, window_frames, total_loss, a0_from_forces)

    slots = plan.truncate if memory is None else max(1, int(memory) // eng.state_bytes)
    run = _Reverse(sim, plan, eng, loss, t_start, Revolve(plan.truncate, slots), progress)
    res = yield from run.run(driver, memory, window_frames, total_loss, a0_from_forces)
    factor, at, peak, ref = run.growth
    if at is not None and factor > CHAOTIC_GROWTH and plan.clip is None and warn_growth:  # (an Ensemble warns once)
        res._warning = (
            f"the adjoint's norm grew {factor:.3g}-fold over the {plan.truncate}-step horizon (from {ref:.3g}, the "
            f"loss gradient's, to {peak:.3g} at step {at}; warned above {CHAOTIC_GROWTH:g}): the dynamics "
            "are chaotic over this horizon, and this trajectory's exact gradient says little about nearby ones "
            "(finite differences will disagree with it). Differentiate a shorter window (truncate=), average over "
            "replicas, or see docs/adjoint.md, 'Long horizons'."
        )
    return res


class _Reverse:
    """One reverse-mode gradient over the window [t0, t0 + truncate): record it on the way forward
    (checkpoints or every state, and the loss terms), sweep the adjoint back on the checkpoint
    schedule, collect the result. The simulation is left as ``sim.run(steps)`` would leave it."""

    def __init__(self, sim, plan, eng, loss, t_start, schedule, progress):
        self.sim, self.plan, self.eng, self.loss, self.progress = sim, plan, eng, loss, progress
        self.cpp = eng.cpp
        self.t_start = t_start
        self.t0 = t_start + plan.pre
        self.t_end = self.t0 + plan.truncate
        self.schedule = schedule
        self.full = schedule.full
        self.checkpoints = set() if self.full else {self.t0 + k for k in schedule.checkpoints()}
        self.stored = {}  # checkpoints: timestep -> saved state
        self.block = None  # store-all: every state of the window, in order
        self.loss_grads = {}  # timestep -> (dL/dr in add_loss's form, {force id: dL/dparams})
        self.total_loss = 0.0
        self.extra_params = {}  # force id -> d/dparams from outside the sweeps
        self.norms = []  # (step, adjoint norm) every 1/20 of the window
        self.recomputed = 0
        self.peak = 0
        self.put_in = 0.0  # the largest loss gradient added so far (the growth's reference)
        self.growth = (0.0, None, 0.0, 0.0)  # the largest norm / put_in seen: factor, step, norm, put_in
        self.seg = max(1, plan.truncate // 20)
        N = eng.N
        self.lr, self.lv, self.la = np.zeros((N, 3)), np.zeros((N, 3)), np.zeros((N, 3))  # the adjoint
        self.grads = _core.AdjointGrads()
        self.request = {
            "params": bool(plan.wrt_forces),
            "kT": plan.want_kT,
            "gamma": plan.want_gamma,
            "clip": plan.clip or 0.0,
            "look_back": _LOOK_BACK,
            "select": plan.select,
        }
        self.nlists = list(
            {id(f.nlist): f.nlist._cpp for f in plan.forces if getattr(f, "nlist", None) is not None}.values()
        )

    def run(self, driver, memory, window_frames, total_loss, a0_from_forces):
        """Record (``driver``: another engine's run, else our own), sweep, collect."""
        eng, plan, nlists = self.eng, self.plan, self.nlists
        self.total_loss = total_loss
        # the backward sweep reuses the forward pass's neighbour lists while they fit the budget
        list_budget = (
            (1 << 62) if memory is None else (max(0, int(memory) - plan.truncate * eng.state_bytes) if self.full else 0)
        )
        for nl in nlists:
            nl.start_recording(list_budget)
        counts0 = self._list_counts()
        # MTTK's xi moves with the particles, but the stores keep particle arrays: the engine keeps
        # xi per step for the replays and the sweep (System::thermostatLog) while this runs
        self.cpp.keep_thermostat_log = _has_mttk(self.sim)
        try:
            return (yield from self._run(driver, window_frames, a0_from_forces, nlists, counts0))
        finally:
            self.cpp.keep_thermostat_log = False

    def _run(self, driver, window_frames, a0_from_forces, nlists, counts0):
        eng, plan = self.eng, self.plan
        try:
            self.block = eng.new_states(plan.truncate) if self.full else None
            if driver is None:
                yield from self._record(window_frames)
            else:
                self._record_with(driver)
            first_state = yield from self._sweep_back()
            starts = eng.start_adjoint(first_state, self.lr, self.la, a0_from_forces, plan.pre == 0, plan.select)
            for k, gp in starts.items():
                f = plan.forces[k]
                self.extra_params[id(f)] = self.extra_params.get(id(f), 0.0) + gp
            self.back_bar.close()
            counts = self._list_counts()
            lists = dict(
                nlist_bytes=sum(nl.recorded_bytes for nl in nlists),
                **{key: counts[key] - counts0[key] for key in counts},
            )
        finally:
            for nl in nlists:
                nl.stop_recording()
            if self.block is not None:
                eng.give(self.block)
        # leave the simulation as sim.run(steps) would have
        eng.load(self.final_state, forces=True)
        self.cpp.velocity[...] = self.final_extra[0]
        self.cpp.image[...] = self.final_extra[1]
        if len(self.final_extra) > 2:  # (Brownian's angular momenta: drawn, not in its states)
            self.cpp.angmom[...] = self.final_extra[2]
        return self._collect(lists)

    def _list_counts(self):
        nls = self.nlists
        return dict(
            nlist_restores=sum(nl.num_restores for nl in nls),
            nlist_builds=sum(nl.num_builds for nl in nls),
            nlist_builds_from_earlier=sum(nl.num_builds_from_earlier for nl in nls),
        )

    def _loss_at(self, t):
        """The loss at the state in hand (timestep t): its value counts, its gradient enters at t."""
        value, dpos, dpar = _call_loss(self.loss, _frame(self.sim, self.plan.dyn.inertial))
        self.total_loss += value
        if t >= self.t0:
            self.loss_grads[t] = (self.eng.loss_adjoint(dpos), dpar)

    def _record(self, window_frames):
        """Run the window as sim.run would, keeping the checkpoints (or every state)."""
        sim, eng, cpp, block, t0 = self.sim, self.eng, self.cpp, self.block, self.t0

        def record(n):  # sim._advance's stepping, keeping every state on the way
            i = cpp.timestep - t0
            yield _Record(eng, [x[i : i + n] for x in block])

        bar = _progress(self.progress, self.plan.truncate, "forward")
        for t in sorted(self.checkpoints | set(window_frames) | {self.t_end}):
            if t > cpp.timestep:
                n = t - cpp.timestep
                yield from _steps(sim, eng, n, record if self.full else None)
                bar.update(n)
            if t in self.checkpoints:
                self.stored[t] = eng.save()
            if t in window_frames:
                self._loss_at(t)
        bar.close()
        self.final_state = eng.save()
        self.final_extra = (np.array(cpp.velocity), np.array(cpp.image), np.array(cpp.angmom))

    def _record_with(self, driver):
        """Another engine (HOOMD-blue) integrates the run; the adjoint reads its states."""
        plan, eng, block = self.plan, self.eng, self.block
        bar = _progress(self.progress, plan.steps, "forward")
        rec = driver.run(
            eng, plan.steps, self.t0, block, self.checkpoints, [self.t_start + k for k in plan.frames], bar
        )
        bar.close()
        self.stored.update(rec.states)
        for t in sorted(rec.frames):  # losses are functions of the recorded frames
            eng.load(rec.frames[t][0], forces=False)
            self.cpp.image[...] = rec.frames[t][1]
            self._loss_at(t)
        self.final_state, self.final_extra = rec.final
        driver.check(eng, block, self.final_state)

    def _sweep_back(self):
        """The adjoint from the window's end back to its start, on the schedule; returns the
        window's first state."""
        eng, stored, t0, n = self.eng, self.stored, self.t0, self.plan.truncate
        self.peak = n if self.full else len(stored)
        self.back_bar = _progress(self.progress, n, "adjoint")
        self._add_loss_terms(self.t_end)
        segment = None
        for act, k, count in self.schedule.backward():
            t = t0 + k
            if act == _revolve.SWEEP_FORWARD:
                yield from self._sweep(t, self.block)
            elif act == _revolve.ADVANCE:  # a replay: nothing kept
                eng.load(stored[t], forces=True)
                yield _Advance(eng, count)
                self.recomputed += count
            elif act == _revolve.STORE:
                stored[t] = eng.save()
                self.peak = max(self.peak, len(stored))
            elif act == _revolve.DROP:
                eng.forget(stored.pop(t))
            elif act == _revolve.RECORD:
                eng.load(stored[t], forces=True)
                segment = eng.new_states(count)
                yield _Record(eng, segment, after=True)  # the states at t+1 .. t+count
                self.recomputed += count
                self.peak = max(self.peak, len(stored) + count)
            elif act == _revolve.SWEEP_BLOCK:
                yield from self._sweep(t, segment)
                eng.give(segment)
                segment = None
            elif act == _revolve.SWEEP_CHECKPOINT:
                yield from self._sweep(t, eng.as_states(stored[t]))
            elif act == _revolve.SWEEP_CURRENT:
                here = eng.save()
                yield from self._sweep(t, eng.as_states(here))
                eng.forget(here)
            else:
                raise AssertionError(f"unknown schedule action {act!r}")
        return (t0,) + tuple(x[0] for x in self.block) if self.full else stored[t0]

    def _add_loss_terms(self, t):
        if t in self.loss_grads:
            dpos, dpar = self.loss_grads[t]
            parts = dpos if isinstance(dpos, tuple) else (dpos,)  # (rigid: position, orientation, geometry parts)
            self.put_in = max(self.put_in, _norm(*[np.asarray(x, dtype=np.float64) for x in parts]))
            self.eng.add_loss(dpos, self.lr)
            for fid, arr in dpar.items():
                self.extra_params[fid] = self.extra_params.get(fid, 0.0) + arr

    def _look_back(self, t):
        """Let lists the sweep from t down needs be built from stored states before t as well as
        from its own (see NeighborList.set_earlier_states); look_back(None) stops. (Not for the
        replays, which run forward: a list built from an earlier state lasts fewer steps there;
        measured.) Only the host's states: a rigid state packs positions with the rest, and the
        device builds its lists from the state in hand."""
        if not self.eng.looks_back or not _LOOK_BACK:
            return
        stored = self.stored
        earlier = [] if t is None else [stored[u][1] for u in range(max(self.t0, t - 64), t) if u in stored]
        for nl in self.nlists:
            nl.set_earlier_states(self.cpp, earlier)

    def _sweep(self, t_first, states):
        """Map the adjoint at t_first + n to the adjoint at t_first through the n states in
        ``states``, pausing where diagnostics are taken or loss terms enter."""
        eng, t0, seg, lr, lv, la = self.eng, self.t0, self.seg, self.lr, self.lv, self.la
        self._look_back(t_first)
        try:
            cur = t_first + states[0].shape[0]
            stops = set(range(t_first + (-(t_first - t0)) % seg, cur, seg)) | {
                t for t in self.loss_grads if t_first <= t < cur
            }
            for b in sorted(stops | {t_first}, reverse=True):
                step, _ = yield _Sweep(
                    eng, b, [x[b - t_first : cur - t_first] for x in states], lr, lv, la, self.grads, self.request
                )
                if step >= 0:
                    raise FloatingPointError(
                        _stop_message(
                            step, eng.adjoints(lr, lv, la), self.norms, _state_note(eng, states, t_first, step)
                        )
                    )
                self.back_bar.update(cur - b)
                cur = b
                if (b - t0) % seg == 0:  # (20 looks a sweep: the growth warning reads them)
                    self.norms.append((b, _norm(lr, lv, la)))
                    if self.put_in > 0 and self.norms[-1][1] > self.growth[0] * self.put_in:
                        self.growth = (self.norms[-1][1] / self.put_in, b, self.norms[-1][1], self.put_in)
                self._add_loss_terms(b)
        finally:
            self._look_back(None)

    def _collect(self, lists):
        plan, eng = self.plan, self.eng
        types = self.sim.state.particle_types
        res = GradientResult(loss=self.total_loss)
        if plan.want_pos:
            eng.put_adjoints(res, self.lr, self.lv)
        for w in plan.want_geometry:
            res._grads[id(w)] = eng.geometry_dict()
        if "moment_inertia" in plan.want_rot:
            res._grads["moment_inertia"] = eng.inertia.copy()
        if "gamma_r" in plan.want_rot:
            res._grads["gamma_r"] = {t: eng.gamma_r[k].copy() for k, t in enumerate(eng.types)}
        params = self.grads.params
        for k, f in enumerate(plan.forces):
            if any(f is w for w in plan.wrt_forces):
                flat = (params[k] if k < len(params) else 0.0) + self.extra_params.get(id(f), 0.0)
                if isinstance(f, _External):
                    res._grads[id(f)] = f._grad_dict(flat, types)
                elif isinstance(f, Table):
                    res._grads[id(f)] = f._grad_dict(flat, self.sim.state, plan.selected[id(f)])
                elif isinstance(f, Bar):
                    flat = np.broadcast_to(flat, (3,))
                    res._grads[id(f)] = {n: float(flat[k]) for k, n in enumerate(f._param_spec)}
                else:
                    res._grads[id(f)] = _pair_dict(f, flat, types, plan.selected[id(f)])
        if plan.want_kT:
            res._grads["kT"] = float(self.grads.kT)
        if plan.want_tau:
            res._grads["tau"] = float(self.grads.tau)
        if plan.want_gamma:
            res._grads["gamma"] = {t: float(g) for t, g in zip(types, self.grads.gamma)}
        peak, state_bytes = self.peak, eng.state_bytes
        res.diagnostics = dict(
            steps=plan.truncate,
            checkpointing=not self.full,
            state_bytes=state_bytes,
            stored_states_peak=peak,
            stored_bytes_peak=peak * state_bytes,
            **lists,
            recomputed_steps=self.recomputed,
            adjoint_norms=self.norms,
            clipped=plan.clip is not None,
        )
        factor, at = self.growth[:2]
        res.diagnostics["adjoint_growth"] = factor if at is not None else None
        res.diagnostics.update(eng.diagnostics())
        return res


def _forward_mode(sim, t0, plan, loss, window_frames, total_loss, a0_from_forces):
    """Tangent-linear mode: one tangent per scalar parameter, propagated alongside the run. The
    steps between frames are one C++ call (_core.tangent_advance, in chunks: Ctrl-C honoured),
    stopping only where the loss is evaluated or writers write."""
    steps, forces, selected, types = plan.truncate, plan.forces, plan.selected, sim.state.particle_types
    cpp = sim.state._cpp
    N = cpp.N
    nt = len(types)
    directions = []  # (label, ptan per force, dkT, dgamma)
    for f in plan.wrt_forces:
        P = len(f._param_spec)
        fi = [i for i, g in enumerate(forces) if g is f][0]
        for a in range(nt):
            for b in range(a, nt):
                for q in range(P):
                    if list(f._param_spec)[q] not in selected[id(f)]:
                        continue
                    pt = [np.zeros(0) for _ in forces]
                    arr = np.zeros((nt, nt, P))
                    arr[a, b, q] = arr[b, a, q] = 1.0
                    pt[fi] = arr.ravel()
                    directions.append(((id(f), (types[a], types[b]), list(f._param_spec)[q]), pt, 0.0, None))
    if plan.want_kT:
        directions.append((("kT",), [np.zeros(0) for _ in forces], 1.0, None))
    if plan.want_tau:
        directions.append((("tau",), [np.zeros(0) for _ in forces], 0.0, None))
    if plan.want_gamma:
        for a in range(nt):
            dg = np.zeros(nt)
            dg[a] = 1.0
            directions.append((("gamma", types[a]), [np.zeros(0) for _ in forces], 0.0, dg))
    tangents = [(np.zeros((N, 3)), np.zeros((N, 3)), np.zeros((N, 3))) for _ in directions]
    if a0_from_forces:  # a0 = F(r0)/m: its tangent is (dF/dtheta . ptan)/m
        minv = 1.0 / np.array(cpp.mass)[:, None]
        for d, (lab, pt, dk, dg) in enumerate(directions):
            out, _, _ = _core.force_jacobian(cpp, np.zeros((N, 3)), pt, select=plan.select)
            tangents[d][2][...] = out * minv
    derivs = np.zeros(len(directions))
    # all tangents advance together: each pair is evaluated once per step for all of them
    tangent_args = [
        (dr, dv, da, dk, dg, float(lab[0] == "tau")) for (dr, dv, da), (lab, _, dk, dg) in zip(tangents, directions)
    ]
    ptan_by_force = [[pt[fi] for (_, pt, _, _) in directions] for fi in range(len(forces))]

    def advance(n):  # in place of sim._advance's steps: the tangents go along
        _core.tangent_advance(cpp, n, tangent_args, ptan_by_force, select=plan.select)

    for t in sorted(set(window_frames) | {t0 + steps}):
        if t > cpp.timestep:
            sim._advance(t - cpp.timestep, record=advance)
        if t in window_frames:
            value, dpos, dpar = _call_loss(loss, _frame(sim, plan.dyn.inertial))
            total_loss += value
            for d, (lab, pt, dk, dg) in enumerate(directions):
                derivs[d] += float(np.sum(dpos * tangents[d][0]))
                if lab[0] in dpar:  # the loss depends on the parameters directly
                    derivs[d] += float(np.dot(dpar[lab[0]], pt[[id(g) for g in forces].index(lab[0])]))
    res = GradientResult(loss=total_loss)
    for d, (lab, pt, dk, dg) in enumerate(directions):
        if lab[0] in ("kT", "tau"):
            res._grads[lab[0]] = float(derivs[d])
        elif lab[0] == "gamma":
            res._grads.setdefault("gamma", {})[lab[1]] = float(derivs[d])
        else:
            res._grads.setdefault(lab[0], {}).setdefault(lab[1], {})[lab[2]] = float(derivs[d])
    res.diagnostics = dict(steps=steps, mode="forward", directions=len(directions))
    return res
