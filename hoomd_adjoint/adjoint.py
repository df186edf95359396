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

from . import _checks, _core
from .device import GPU
from .errors import ChaoticHorizonWarning
from .md.constrain import Rigid
from .md.methods import Brownian, ConstantVolume, Langevin
from .md.bar import Bar
from .md.pair import Pair


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
        head = (f"overflowing adjoint at step {step}, particle tags {tags}: an entry reached {big:.3g}, beyond "
                f"{ADJOINT_LIMIT:g}, where the gradient's arithmetic would overflow")
    else:
        head = f"non-finite adjoint at step {step}, particle tags {tags}"
    if norms:
        (s0, n0), (s1, n1) = norms[0], norms[-1]
        head += (f". Its norm was {n0:.3g} at step {s0} and {n1:.3g} at step {s1}" if s1 != s0 else
                 f". Its norm was {n0:.3g} at step {s0}")
    head += ("; a horizon this long may be chaotic (see truncate= and docs/adjoint.md), or particles may "
             "overlap.")
    return head + note


def _state_note(eng, states, t_first, step):
    """The engine's note (closest pair) on the stored state at ``step``, or ''."""
    try:
        i = step - t_first
        if isinstance(eng, _DeviceEngine):
            eng.load((step, states[0][i:i + 1]), forces=False)
        else:
            eng.load((step,) + tuple(x[i] for x in states), forces=False)
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
    positions: np.ndarray = None   # d loss / d initial positions (N, 3)
    velocities: np.ndarray = None  # d loss / d initial velocities (Langevin, NVE)
    orientations: np.ndarray = None  # d loss / d initial orientations (N, 4), rigid bodies' centres
    angmom: np.ndarray = None        # d loss / d initial angular momenta (N, 4) (Langevin, NVE)
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


def _state_bytes(N, kind):
    return N * 3 * 8 * (1 if kind == "bd" else 3)


def _binomial_reach(s, r):
    """beta(s, r) = C(s + r, s): steps reversible with s checkpoints and r sweeps."""
    return math.comb(s + r, s)


def _revolve_split(n, s):
    """Where to put the next checkpoint in a segment of n steps with s free checkpoints:
    the Griewank-Walther split that minimises recomputation."""
    r = 0
    while _binomial_reach(s, r) < n:
        r += 1
    return max(1, n - _binomial_reach(s - 1, r)) if s > 0 else 1


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


class _Engine:
    """Saves, restores and steps the states the adjoint needs, and runs the backward sweep over
    blocks of them. This is the seam where states recorded by another engine (a HOOMD-blue run)
    can be fed to the backward pass: any object with these methods over the same discrete map
    will do."""

    def __init__(self, sim, kind):
        self.cpp = sim.state._cpp
        self.kind = kind
        self.N = self.cpp.N

    def save(self):
        c = self.cpp
        if self.kind == "bd":
            return (c.timestep, np.array(c.position))
        return (c.timestep, np.array(c.position), np.array(c.velocity), np.array(c.acceleration))

    def load(self, state, forces):
        """Restore a saved state; ``forces``: also recompute F(r_t), which a step reads."""
        c = self.cpp
        c.timestep = state[0]
        c.set_position(state[1])
        if self.kind != "bd":
            c.velocity[...] = state[2]
            c.acceleration[...] = state[3]
        if forces:
            c.compute_net_force()

    def advance(self, n):
        """Steps without writers or progress: a replay of steps already run once."""
        self.cpp.advance(n)

    def new_states(self, n):
        """Room for n states: [positions] (Brownian) or [positions, velocities, accelerations],
        each (n, N, 3)."""
        k, m = (1 if self.kind == "bd" else 3), n * self.N * 3
        flat = _pool.take(k * m)
        return [flat[j * m:(j + 1) * m].reshape(n, self.N, 3) for j in range(k)]

    def as_states(self, state):
        """One saved state as a block of one."""
        return [x[None] for x in state[1:]]

    # the arrays a saved state is made of, as HOOMD-blue names them (local snapshots)
    def fields(self):
        return ("position",) if self.kind == "bd" else ("position", "velocity", "acceleration")

    def layout(self):
        """Where each field of a saved state lives: (field, which array, first column)."""
        return [(f, j, 0) for j, f in enumerate(self.fields())]

    def record(self, states, after=False):
        """Advance len(states) steps, writing the state before (after) each step into states."""
        _core.advance_recording(self.cpp, *states, after=after)

    def sweep(self, t_first, states, lr, lv, la, grads, request):
        """Backward through the states at t_first, t_first + 1, ... (latest first); returns the
        step and tag of a non-finite adjoint, or (-1, -1)."""
        pos, vel, acc = (states + [None, None])[:3]
        return _core.adjoint_sweep(self.cpp, t_first, pos, vel, acc, lr, lv, la, grads, **request)

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

    def start_adjoint(self, first_state, lr, la, a0_from_forces, window_starts_run):
        """Chain what prepRun computed from the first state (a0 = F(r0)/m) into the adjoint;
        returns {force index: d/dparams}."""
        if not a0_from_forces:
            return {}
        self.load(first_state, forces=False)
        w = np.ascontiguousarray(la / np.array(self.cpp.mass)[:, None])
        out, gp, _ = _core.force_jacobian(self.cpp, w)
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

    def __init__(self, sim, kind, device_memory=None):
        super().__init__(sim, kind)
        self.budget = float("inf") if device_memory is None else device_memory
        self.state_bytes = _state_bytes(self.N, kind)
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

    def save(self):
        blk = self._block(1)
        if blk.on_device:
            _core.device_save(self.cpp, blk.store, blk.k0)
        else:
            c = self.cpp
            for x, field in zip(blk.arrays, (c.position, c.velocity, c.acceleration)):
                x[0] = field
        return (self.cpp.timestep, blk)

    def load(self, state, forces):
        blk = state[1]
        if not blk.on_device:
            return super().load((state[0],) + tuple(x[0] for x in blk.arrays), forces)
        c = self.cpp
        c.timestep = state[0]
        _core.device_load(c, blk.store, blk.k0)
        if forces:
            c.compute_net_force()

    def new_states(self, n):
        return [self._block(n)]

    def as_states(self, state):
        return [state[1]]

    def give(self, states):
        blk = states[0]
        if blk.on_device:
            self.on_device_bytes -= blk.n * self.state_bytes
        else:
            self.on_host_bytes -= blk.n * self.state_bytes
            _pool.give(blk.arrays[0])

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
            _core.device_states_download(stage, 0, m, *[x[a:a + m] for x in blk.arrays])

    def sweep(self, t_first, states, lr, lv, la, grads, request):
        blk = states[0]
        if blk.on_device:
            return _core.device_adjoint_sweep(self.cpp, t_first, blk.store, blk.k0, blk.n, lr, lv, la, grads, **request)
        end = blk.n
        while end > 0:  # latest states first, a staging block at a time
            a = max(0, end - self.STAGE)
            stage = self._staging()
            _core.device_states_upload(stage, 0, end - a, *[x[a:end] for x in blk.arrays])
            res = _core.device_adjoint_sweep(self.cpp, t_first + a, stage, 0, end - a, lr, lv, la, grads, **request)
            if res[0] >= 0:
                return res
            end = a
        return (-1, -1)


class _RigidEngine(_Engine):
    """States and backward sweeps of systems with rigid bodies or rotational integration: one
    packed array per step (positions, velocities, accelerations, orientations, angular momenta
    and the torque step one reads; Brownian: positions and orientations). Besides lr, lv, la it
    keeps the adjoints of orientations, angular momenta, that torque and the bodies' geometry."""

    def __init__(self, sim, kind):
        super().__init__(sim, kind)
        c = self.cpp
        self.width = _core.rigid_state_width(c)
        N = self.N
        self.lq, self.lp, self.ltau = np.zeros((N, 4)), np.zeros((N, 4)), np.zeros((N, 3))
        rigid = sim.operations.integrator.rigid
        self.types = list(sim.state.particle_types)
        self.bodies = rigid._definitions(sim.state) if rigid is not None else [None] * len(self.types)
        self.geometry = np.zeros(sum(3 * len(d[0]) for d in self.bodies if d is not None))
        self.inertia = np.zeros((N, 3))
        self.gamma_r = np.zeros((len(self.types), 3))

    def save(self):
        return (self.cpp.timestep, _core.rigid_save(self.cpp))

    def load(self, state, forces):
        self.cpp.timestep = state[0]
        _core.rigid_load(self.cpp, state[1], forces)

    def new_states(self, n):
        return [_pool.take(n * self.N * self.width).reshape(n, self.N, self.width)]

    def fields(self):
        if self.width == 7:
            return ("position", "orientation")
        return ("position", "velocity", "acceleration", "orientation", "angmom", "net_torque")

    def layout(self):
        out, col = [], 0
        for f in self.fields():
            out.append((f, 0, col))
            col += 4 if f in ("orientation", "angmom") else 3
        return out

    def record(self, states, after=False):
        _core.rigid_advance_recording(self.cpp, states[0], after=after)

    def sweep(self, t_first, states, lr, lv, la, grads, request):
        request = {k: v for k, v in request.items() if k not in ("clip", "look_back")}
        return _core.rigid_adjoint_sweep(self.cpp, t_first, states[0], lr, lv, la, self.lq, self.lp, self.ltau,
                                         self.geometry, self.inertia, self.gamma_r, grads, **request)

    def loss_adjoint(self, dpos):
        lr, lq, geom = np.zeros((self.N, 3)), np.zeros((self.N, 4)), np.zeros_like(self.geometry)
        _core.rigid_position_pullback(self.cpp, dpos, lr, lq, geom)
        return lr, lq, geom

    def add_loss(self, term, lr):
        lr += term[0]
        self.lq += term[1]
        self.geometry += term[2]

    def start_adjoint(self, first_state, lr, la, a0_from_forces, window_starts_run):
        # prepRun computed a0 = F(x0)/m (if the acceleration was not set) and, always, the torque
        # that Langevin/NVE step one reads first
        lF = la / np.array(self.cpp.mass)[:, None] if a0_from_forces else np.zeros_like(la)
        ltau = self.ltau if (window_starts_run and self.kind != "bd") else np.zeros_like(self.ltau)
        if not (lF.any() or ltau.any()):
            return {}
        self.load(first_state, forces=False)
        grads = _core.AdjointGrads()
        _core.rigid_force_pullback(self.cpp, np.ascontiguousarray(lF), np.ascontiguousarray(ltau), lr, self.lq,
                                   self.geometry, grads)
        return dict(enumerate(grads.params))

    def geometry_dict(self):
        """{body type: (n_constituents, 3) d loss / d body-frame positions}."""
        out, k = {}, 0
        for t, d in zip(self.types, self.bodies):
            if d is not None:
                n = len(d[0])
                out[t] = self.geometry[k:k + 3 * n].reshape(n, 3).copy()
                k += 3 * n
        return out


def _frame(sim, velocities=False):
    c = sim.state._cpp
    return Frame(positions=np.array(c.position), box=sim.state.box.to_list(), typeid=np.array(c.typeid),
                 image=np.array(c.image), timestep=int(c.timestep),
                 velocities=np.array(c.velocity) if velocities else None, _sim=sim)


def _call_loss(loss, frame):
    """Evaluate a loss and check what it returns: (value, dL/dr, {force id: dL/dparams})."""
    out = loss(frame)
    if not isinstance(out, tuple) or len(out) not in (2, 3):
        got = f"an array of shape {np.shape(out)}" if isinstance(out, np.ndarray) else f"{type(out).__name__} {out!r:.80}"
        raise TypeError(f"the loss returned {got} at step {frame.timestep}; a loss must return (value, d value / d "
                        "positions) or (value, d/dpositions, {force: d/dparams})")
    try:
        value = float(out[0])
        dpos = np.asarray(out[1], dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"the loss at step {frame.timestep} must return a number and an (N, 3) array of numbers, "
                        f"got {type(out[0]).__name__} and {type(out[1]).__name__} ({e})") from None
    if dpos.shape != frame.positions.shape:
        raise ValueError(f"loss gradient has shape {dpos.shape}, expected {frame.positions.shape} "
                         f"(at step {frame.timestep})")
    if not np.isfinite(value):
        raise FloatingPointError(f"the loss is not finite at step {frame.timestep}: {value}")
    if not np.all(np.isfinite(dpos)):
        bad = np.flatnonzero(~np.isfinite(dpos).all(axis=1))
        raise FloatingPointError(f"the loss gradient is not finite at step {frame.timestep}, particle tags "
                                 f"{bad[:10].tolist()}")
    dparams = {}
    if len(out) == 3 and out[2]:
        if not isinstance(out[2], dict):
            raise TypeError(f"the loss's third element must be {{force: d value / d params}}, got {out[2]!r:.80}")
        forces = list(frame._sim.operations.integrator.forces) if frame._sim is not None else []
        for f, arr in out[2].items():
            if frame._sim is not None and all(f is not g for g in forces):
                raise ValueError(f"the loss returned parameter derivatives for {f!r}, which is not a force of this "
                                 "simulation's integrator")
            arr = np.asarray(arr, dtype=np.float64)
            if not np.all(np.isfinite(arr)):
                raise FloatingPointError(f"the loss's derivative with respect to {type(f).__name__} parameters is "
                                         f"not finite at step {frame.timestep}")
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


def gradient(sim, steps, loss, wrt, frames=None, memory=None, truncate=None, mode="reverse", clip=None,
             progress=False, device_memory=None, _driver=None, _warn_growth=True):
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
            ``"positions"``, ``"kT"`` and ``"gamma"`` of the method.
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
    _check_arguments(sim, steps, loss, frames, memory, truncate, mode, clip, device_memory)
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
            if isinstance(w, (Pair, Bar)):
                selected[id(w)] = list(w._param_spec)
            elif isinstance(w, Rigid):
                pass
            elif not isinstance(w, str):
                raise TypeError(f"wrt entry {w!r} ({type(w).__name__}) is not a pair force, (force, [names]), "
                                "'positions', 'kT' or 'gamma'")
            plain.append(w)
    integ = sim.operations.integrator
    try:
        return _gradient(sim, steps, loss, plain, selected, frames, memory, truncate, mode, clip, progress, _driver,
                         device_memory, _warn_growth)
    finally:
        for f in (integ.forces if integ is not None else ()):
            if getattr(f, "_cpp", None) is not None:
                if isinstance(f, Pair):
                    f._cpp.select_grad_params(list(range(len(f._param_spec))))


def wrt_entries(wrt):
    """``wrt`` as a list of entries: a single entry ("kT", a force, (force, names)) is a list of one."""
    if isinstance(wrt, (str, Pair, Bar, tuple, Rigid)):
        return [wrt]
    try:
        return list(wrt)
    except TypeError:
        raise TypeError(f"wrt must be a list of pair forces, (force, [names]), 'positions', 'kT' or 'gamma'; "
                        f"got {wrt!r}") from None


def _iterable(x, what):
    try:
        return list(x)
    except TypeError:
        raise TypeError(f"{what}: expected a list, got {x!r}") from None


def _check_arguments(sim, steps, loss, frames, memory, truncate, mode, clip, device_memory=None):
    """Reject bad arguments before anything runs (a rejected call leaves the simulation as it was)."""
    from .simulation import Simulation

    if not isinstance(sim, Simulation):
        raise TypeError(f"sim must be a hoomd_adjoint.Simulation, got {sim!r}")
    steps = _checks.integer("steps", steps, lo=1)
    if steps > _checks.UINT64_MAX - sim.timestep:
        raise ValueError(f"steps = {steps} from timestep {sim.timestep} would pass the largest timestep, 2^64 - 1")
    if not callable(loss):
        raise TypeError(f"loss must be callable as loss(frame) -> (value, d value / d positions), got {loss!r}")
    if frames is not None:
        for k in _iterable(frames, "frames"):
            _checks.integer("frames entry", k, lo=0, hi=steps)
    if memory is not None:
        _checks.integer("memory (bytes)", memory, lo=1)
    if truncate is not None:
        _checks.integer("truncate", truncate, lo=1, hi=steps)
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    if clip is not None:
        _checks.real("clip", clip, lo=0.0, lo_open=True)
    if device_memory is not None:
        _checks.integer("device_memory (bytes)", device_memory, lo=0)
        if not isinstance(sim.device, GPU):
            raise ValueError(f"device_memory applies to simulations on a GPU; this one runs on {sim.device!r}")


def _gradient(sim, steps, loss, wrt, selected, frames, memory, truncate, mode, clip, progress, driver=None,
              device_memory=None, warn_growth=True):
    steps = int(steps)
    integ = sim.operations.integrator
    if integ is None:
        raise RuntimeError("no integrator: set sim.operations.integrator first")
    if len(integ.methods) != 1:
        raise ValueError("gradient() needs exactly one integration method (it must integrate every particle)")
    method = integ.methods[0]
    kind = {Brownian: "bd", Langevin: "langevin", ConstantVolume: "nve"}[type(method)]
    forces = list(integ.forces)
    wrt = list(wrt)
    want_pos = "positions" in wrt
    want_kT = "kT" in wrt
    want_gamma = "gamma" in wrt
    want_geometry = [w for w in wrt if isinstance(w, Rigid)]
    wrt_forces = [w for w in wrt if not isinstance(w, (str, Rigid))]
    for w in wrt:
        if isinstance(w, str) and w not in ("positions", "kT", "gamma", "moment_inertia", "gamma_r"):
            raise ValueError(f"unknown wrt entry {w!r}: use forces, 'positions', 'kT', 'gamma', 'moment_inertia' "
                             "or 'gamma_r'")
    want_rot = [w for w in wrt if w in ("moment_inertia", "gamma_r")]
    rigid = sim.state._cpp.n_bodies > 0 or integ.rigid is not None or integ.integrate_rotational_dof
    for w in want_geometry:
        if integ.rigid is not w:
            raise ValueError(f"{w!r} is not the rigid-body constraint of this simulation's integrator")
    if want_rot and not rigid:
        raise ValueError(f"wrt {want_rot[0]!r} needs rigid bodies or integrate_rotational_dof=True")
    if rigid and (want_kT or want_gamma):
        raise ValueError("d/dkT and d/dgamma are not available with rigid bodies or rotational integration yet")
    if rigid and mode == "forward":
        raise ValueError("mode='forward' does not cover rigid bodies or rotational integration; use mode='reverse'")
    if rigid and clip is not None:
        raise ValueError("clip is not available with rigid bodies or rotational integration")
    for f in wrt_forces:
        if not isinstance(f, (Pair, Bar)) or all(f is not g for g in forces):
            raise ValueError(f"{f!r} is not a pair force of this simulation's integrator")
    if (want_kT or want_gamma) and kind == "nve":
        raise ValueError("ConstantVolume has no kT or gamma to differentiate")
    if want_kT and not hasattr(method.kT, "value"):
        raise ValueError("d/dkT needs a constant kT (a Ramp has no single kT to differentiate)")
    if mode not in ("reverse", "forward"):
        raise ValueError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    truncate = steps if truncate is None else int(truncate)
    if not 1 <= truncate <= steps:
        raise ValueError(f"truncate must be in 1..{steps}, got {truncate}")
    frames = [steps] if frames is None else sorted({int(k) for k in frames})
    if any(k < 0 or k > steps for k in frames):
        raise ValueError(f"frames must be steps after the start, in 0..{steps}; got {frames}")

    accel_from_forces = not sim.state._cpp.accel_set  # prepRun will set a0 = F(r0)/m
    sim._prepare_run()
    for f in forces:  # the adjoint's dual numbers carry only these parameters
        if isinstance(f, Pair):
            f._cpp.select_grad_params([k for k, n in enumerate(f._param_spec) if n in selected.get(id(f), ())])
    types = sim.state.particle_types
    on_device = isinstance(sim.device, GPU)
    if on_device and driver is not None:
        raise ValueError("a HOOMD-blue run's states are on the host: use a CPU device for the adjoint")
    if rigid:
        eng = _RigidEngine(sim, kind)
    else:
        eng = _DeviceEngine(sim, kind, device_memory) if on_device else _Engine(sim, kind)
    cpp = eng.cpp
    t_start = cpp.timestep
    pre = steps - truncate
    total_loss = 0.0
    loss_grads = {}  # timestep -> (dL/dr, {force id: dL/dparams})
    if driver is None:
        # steps before the differentiated window: plain dynamics (their loss terms still count)
        for k in [k for k in frames if k < pre]:
            sim._advance(k - (cpp.timestep - t_start))
            total_loss += _call_loss(loss, _frame(sim, kind != "bd"))[0]
        sim._advance(pre - (cpp.timestep - t_start))
    t0 = t_start + pre
    window_frames = [t_start + k for k in frames if k >= pre]
    a0_from_forces = accel_from_forces and pre == 0 and kind != "bd"

    if mode == "forward":
        return _forward_mode(sim, t0, truncate, loss, window_frames, total_loss, kind, forces, wrt_forces, selected,
                             want_kT, want_gamma, want_pos, types, a0_from_forces)

    # ---- forward pass: run as sim.run would, keeping checkpoints ---------------------------
    state_bytes = eng.N * eng.width * 8 if rigid else _state_bytes(eng.N, kind)
    slots = truncate if memory is None else max(1, int(memory) // state_bytes)
    full = slots >= truncate
    if full:
        checkpoints = set(range(t0, t0 + truncate))
    else:
        # the right spine of the binomial schedule, placed while running forward
        checkpoints, a, s = {t0}, t0, slots - 1
        while s > 0 and a < t0 + truncate - 1:
            a += _revolve_split(t0 + truncate - a, s)
            checkpoints.add(a)
            s -= 1
    # the backward sweep reuses the forward pass's neighbour lists while they fit the budget
    nlists = list({id(f.nlist): f.nlist._cpp for f in forces if getattr(f, 'nlist', None) is not None}.values())
    list_budget = (1 << 62) if memory is None else (max(0, int(memory) - truncate * state_bytes) if full else 0)
    for nl in nlists:
        nl.start_recording(list_budget)
    restores0 = sum(nl.num_restores for nl in nlists)
    builds0 = sum(nl.num_builds for nl in nlists)
    earlier0 = sum(nl.num_builds_from_earlier for nl in nlists)
    block = None
    try:
        stored = {}  # checkpoints: timestep -> state
        block = eng.new_states(truncate) if full else None  # full storage: every state, in order

        def record(n):  # sim._advance's stepping, keeping every state on the way
            i = cpp.timestep - t0
            eng.record([x[i:i + n] for x in block])

        if driver is None:
            bar = _progress(progress, truncate, "forward")
            for t in sorted((set() if full else checkpoints) | set(window_frames) | {t0 + truncate}):
                if t > cpp.timestep:
                    n = t - cpp.timestep
                    sim._advance(n, record=record if full else None)
                    bar.update(n)
                if t in checkpoints and not full:
                    stored[t] = eng.save()
                if t in window_frames:
                    value, dpos, dpar = _call_loss(loss, _frame(sim, kind != "bd"))
                    total_loss += value
                    loss_grads[t] = (eng.loss_adjoint(dpos), dpar)
            bar.close()
            final_state = eng.save()
            final_extra = (np.array(cpp.velocity), np.array(cpp.image))
        else:
            # another engine (HOOMD-blue) integrates the run; the adjoint reads its states
            bar = _progress(progress, steps, "forward")
            rec = driver.run(eng, steps, t0, block if full else None, set() if full else checkpoints,
                             [t_start + k for k in frames], bar)
            bar.close()
            stored.update(rec.states)
            for t in sorted(rec.frames):  # losses are functions of the recorded frames
                eng.load(rec.frames[t][0], forces=False)
                cpp.image[...] = rec.frames[t][1]
                value, dpos, dpar = _call_loss(loss, _frame(sim, kind != "bd"))
                total_loss += value
                if t >= t0:
                    loss_grads[t] = (eng.loss_adjoint(dpos), dpar)
            final_state, final_extra = rec.final
            driver.check(eng, block if full else None, final_state)
        t_end = t0 + truncate

        # ---- backward pass ---------------------------------------------------------------------
        N = eng.N
        lr, lv, la = np.zeros((N, 3)), np.zeros((N, 3)), np.zeros((N, 3))
        grads = _core.AdjointGrads()
        request = {"params": bool(wrt_forces), "kT": want_kT, "gamma": want_gamma, "clip": clip or 0.0,
                   "look_back": _LOOK_BACK}
        extra_params = {}
        norms = []
        counters = {"recomputed": 0, "peak": truncate if full else len(stored)}
        seg = max(1, truncate // 20)
        back_bar = _progress(progress, truncate, "adjoint")

        put_in = [0.0]  # the largest loss gradient added to the adjoint so far (the growth's reference)
        growth = [0.0, None, 0.0, 0.0]  # the largest norm / put_in at a look: factor, step, norm, put_in

        def add_loss_terms(t):
            if t in loss_grads:
                dpos, dpar = loss_grads[t]
                parts = dpos if isinstance(dpos, tuple) else (dpos,)  # (rigid: position, orientation, geometry parts)
                put_in[0] = max(put_in[0], _norm(*[np.asarray(x, dtype=np.float64) for x in parts]))
                eng.add_loss(dpos, lr)
                for fid, arr in dpar.items():
                    extra_params[fid] = extra_params.get(fid, 0.0) + arr

        def look_back(t):
            """Let lists the sweep from t down needs be built from stored states before t as well
            as from its own (see NeighborList.set_earlier_states); look_back(None) stops. (Not
            for the replays, which run forward: a list built from an earlier state lasts fewer
            steps there; measured.)"""
            if rigid or on_device or not _LOOK_BACK:  # (a rigid state packs positions with the rest;
                # the device builds its lists from the state in hand)
                return
            earlier = [] if t is None else [stored[u][1] for u in range(max(t0, t - 64), t) if u in stored]
            for nl in nlists:
                nl.set_earlier_states(cpp, earlier)

        def sweep(t_first, states):
            """Map the adjoint at t_first + n to the adjoint at t_first through the n states in
            ``states``, pausing where diagnostics are taken or loss terms enter."""
            look_back(t_first)
            try:
                cur = t_first + states[0].shape[0]
                stops = set(range(t_first + (-(t_first - t0)) % seg, cur, seg)) | {t for t in loss_grads if t_first <= t < cur}
                for b in sorted(stops | {t_first}, reverse=True):
                    step, _ = eng.sweep(b, [x[b - t_first:cur - t_first] for x in states], lr, lv, la, grads, request)
                    if step >= 0:
                        arrays = [lr, lv, la] + ([eng.lq, eng.lp, eng.ltau] if rigid else [])
                        raise FloatingPointError(_stop_message(step, arrays, norms,
                                                               _state_note(eng, states, t_first, step)))
                    back_bar.update(cur - b)
                    cur = b
                    if (b - t0) % seg == 0:  # (20 looks a sweep: the growth warning reads them)
                        norms.append((b, _norm(lr, lv, la)))
                        if put_in[0] > 0 and norms[-1][1] > growth[0] * put_in[0]:
                            growth[:] = [norms[-1][1] / put_in[0], b, norms[-1][1], put_in[0]]
                    add_loss_terms(b)
            finally:
                look_back(None)

        def replay(a, n):
            eng.load(stored[a], forces=True)
            eng.advance(n)
            counters["recomputed"] += n

        def revolve(a, b, s):
            """Reverse steps a..b-1; the state at a is stored; s more states may be stored."""
            n = b - a
            if n <= 0:
                return
            if n <= s + 1:  # room for the whole segment: record it, then sweep it
                if n > 1:
                    eng.load(stored[a], forces=True)
                    seg_states = eng.new_states(n - 1)
                    eng.record(seg_states, after=True)  # the states at a+1 .. b-1
                    counters["recomputed"] += n - 1
                    counters["peak"] = max(counters["peak"], len(stored) + n - 1)
                    sweep(a + 1, seg_states)
                    eng.give(seg_states)
                    del seg_states
                sweep(a, eng.as_states(stored[a]))
                return
            if s == 0:  # no room at all: recompute every state from a
                for t in range(b - 1, a - 1, -1):
                    if t > a:
                        replay(a, t - a)
                    here = eng.save() if t > a else stored[a]
                    sweep(t, eng.as_states(here))
                    if t > a:
                        eng.forget(here)
                return
            m = a + _revolve_split(n, s)
            replay(a, m - a)
            stored[m] = eng.save()
            counters["peak"] = max(counters["peak"], len(stored))
            revolve(m, b, s - 1)
            eng.forget(stored.pop(m))
            revolve(a, m, s)

        add_loss_terms(t_end)
        if full:
            sweep(t0, block)
            first_state = (t0,) + tuple(x[0] for x in block)
        else:
            first_state = stored[t0]
            cps = sorted(stored)
            bounds = cps + [t_end]
            for idx in range(len(cps) - 1, -1, -1):
                revolve(bounds[idx], bounds[idx + 1], slots - 1 - idx)
                if idx > 0:
                    eng.forget(stored.pop(bounds[idx]))

        for k, gp in eng.start_adjoint(first_state, lr, la, a0_from_forces, pre == 0).items():
            f = forces[k]
            extra_params[id(f)] = extra_params.get(id(f), 0.0) + gp
        back_bar.close()
        list_bytes = sum(nl.recorded_bytes for nl in nlists)
        list_restores = sum(nl.num_restores for nl in nlists) - restores0
        list_builds = sum(nl.num_builds for nl in nlists) - builds0
        list_builds_earlier = sum(nl.num_builds_from_earlier for nl in nlists) - earlier0
    finally:
        for nl in nlists:
            nl.stop_recording()
        if block is not None:
            eng.give(block)
    # leave the simulation as sim.run(steps) would have
    eng.load(final_state, forces=True)
    cpp.velocity[...] = final_extra[0]
    cpp.image[...] = final_extra[1]

    res = GradientResult(loss=total_loss)
    if want_pos:
        res.positions = lr.copy()
        if kind != "bd":
            res.velocities = lv.copy()
        if rigid:
            res.orientations = eng.lq.copy()
            if kind != "bd":
                res.angmom = eng.lp.copy()
    for w in want_geometry:
        res._grads[id(w)] = eng.geometry_dict()
    if "moment_inertia" in want_rot:
        res._grads["moment_inertia"] = eng.inertia.copy()
    if "gamma_r" in want_rot:
        res._grads["gamma_r"] = {t: eng.gamma_r[k].copy() for k, t in enumerate(eng.types)}
    params = grads.params
    for k, f in enumerate(forces):
        if any(f is w for w in wrt_forces):
            flat = (params[k] if k < len(params) else 0.0) + extra_params.get(id(f), 0.0)
            if isinstance(f, Bar):
                flat = np.broadcast_to(flat, (3,))
                res._grads[id(f)] = {n: float(flat[k]) for k, n in enumerate(f._param_spec)}
            else:
                res._grads[id(f)] = _pair_dict(f, flat, types, selected[id(f)])
    if want_kT:
        res._grads["kT"] = float(grads.kT)
    if want_gamma:
        res._grads["gamma"] = {t: float(g) for t, g in zip(types, grads.gamma)}
    res.diagnostics = dict(steps=truncate, checkpointing=not full, state_bytes=state_bytes,
                           stored_states_peak=counters["peak"], stored_bytes_peak=counters["peak"] * state_bytes, nlist_bytes=list_bytes,
                           nlist_restores=list_restores, nlist_builds=list_builds,
                           nlist_builds_from_earlier=list_builds_earlier,
                           recomputed_steps=counters["recomputed"], adjoint_norms=norms, clipped=clip is not None)
    factor, at, peak, ref = growth
    res.diagnostics["adjoint_growth"] = factor if at is not None else None
    if at is not None and factor > CHAOTIC_GROWTH and clip is None and warn_growth:  # (an Ensemble warns once)
        warnings.warn(
            f"the adjoint's norm grew {factor:.3g}-fold over the {truncate}-step horizon (from {ref:.3g}, the "
            f"loss gradient's, to {peak:.3g} at step {at}; warned above {CHAOTIC_GROWTH:g}): the dynamics "
            "are chaotic over this horizon, and this trajectory's exact gradient says little about nearby ones "
            "(finite differences will disagree with it). Differentiate a shorter window (truncate=), average over "
            "replicas, or see docs/adjoint.md, 'Long horizons'.", ChaoticHorizonWarning, stacklevel=3)
    if isinstance(eng, _DeviceEngine):  # where the stored states lay
        res.diagnostics.update(device_bytes_peak=eng.peak_device_bytes, host_bytes_peak=eng.peak_host_bytes)
    return res


def _forward_mode(sim, t0, steps, loss, window_frames, total_loss, kind, forces, wrt_forces, selected, want_kT, want_gamma,
                  want_pos, types, a0_from_forces):
    """Tangent-linear mode: one tangent per scalar parameter, propagated alongside the run."""
    if want_pos:
        raise ValueError("mode='forward' differentiates parameters (and kT, gamma), not positions")
    cpp = sim.state._cpp
    N = cpp.N
    nt = len(types)
    directions = []  # (label, ptan per force, dkT, dgamma)
    for f in wrt_forces:
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
    if want_kT:
        directions.append((("kT",), [np.zeros(0) for _ in forces], 1.0, None))
    if want_gamma:
        for a in range(nt):
            dg = np.zeros(nt)
            dg[a] = 1.0
            directions.append((("gamma", types[a]), [np.zeros(0) for _ in forces], 0.0, dg))
    tangents = [(np.zeros((N, 3)), np.zeros((N, 3)), np.zeros((N, 3))) for _ in directions]
    if a0_from_forces:  # a0 = F(r0)/m: its tangent is (dF/dtheta . ptan)/m
        minv = 1.0 / np.array(cpp.mass)[:, None]
        for d, (lab, pt, dk, dg) in enumerate(directions):
            out, _, _ = _core.force_jacobian(cpp, np.zeros((N, 3)), pt)
            tangents[d][2][...] = out * minv
    derivs = np.zeros(len(directions))
    # all tangents advance together: each pair is evaluated once per step for all of them
    tangent_args = [(dr, dv, da, dk, dg) for (dr, dv, da), (_, _, dk, dg) in zip(tangents, directions)]
    ptan_by_force = [[pt[fi] for (_, pt, _, _) in directions] for fi in range(len(forces))]
    for t in range(t0, t0 + steps + 1):
        if t in window_frames:
            value, dpos, dpar = _call_loss(loss, _frame(sim, kind != "bd"))
            total_loss += value
            for d, (lab, pt, dk, dg) in enumerate(directions):
                derivs[d] += float(np.sum(dpos * tangents[d][0]))
                if lab[0] in dpar:  # the loss depends on the parameters directly
                    derivs[d] += float(np.dot(dpar[lab[0]], pt[[id(g) for g in forces].index(lab[0])]))
        if t == t0 + steps:
            break
        _core.tangent_step(cpp, tangent_args, ptan_by_force)
        sim._advance(1)
    res = GradientResult(loss=total_loss)
    for d, (lab, pt, dk, dg) in enumerate(directions):
        if lab[0] == "kT":
            res._grads["kT"] = float(derivs[d])
        elif lab[0] == "gamma":
            res._grads.setdefault("gamma", {})[lab[1]] = float(derivs[d])
        else:
            res._grads.setdefault(lab[0], {}).setdefault(lab[1], {})[lab[2]] = float(derivs[d])
    res.diagnostics = dict(steps=steps, mode="forward", directions=len(directions))
    return res
