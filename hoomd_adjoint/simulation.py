"""Simulation: the state, the operations, and the run loop (hoomd.Simulation)."""

import math
import os
import time
import warnings

import gsd.hoomd
import numpy as np

from .device import CPU, GPU, Device
from .logging import Loggables
from .state import State, UINT64_MAX, _boolean, _integer, _parse_snapshot
from .trigger import Trigger
from .update import Updater
from .write import Writer


def _gsd_has_positions(traj, idx, N):
    """Whether frame ``idx`` stores positions, itself or through frame 0 (same N), as gsd reads them."""
    f = traj.file
    if f.chunk_exists(frame=idx, name="particles/position"):
        return True
    if idx == 0 or not f.chunk_exists(frame=0, name="particles/position"):
        return False
    n0 = f.read_chunk(frame=0, name="particles/N") if f.chunk_exists(frame=0, name="particles/N") else [0]
    return int(n0[0]) == N


class _Computes(list):
    """sim.operations.computes: a compute added to a simulation that has a state is attached at
    once, so its values can be read without another run (as in HOOMD-blue)."""

    def __init__(self, simulation):
        super().__init__()
        self._simulation = simulation

    def _attached(self, op):
        if self._simulation._state is not None and hasattr(op, "_attach"):
            op._attach(self._simulation)
        return op

    def append(self, op):
        super().append(self._attached(op))

    def extend(self, ops):
        super().extend(self._attached(op) for op in ops)

    def insert(self, index, op):
        super().insert(index, self._attached(op))


class Operations:
    """The operations of a simulation: ``integrator``, ``updaters``, ``writers`` and ``computes``
    (lists that may be changed in place; ``operations += op`` adds an operation where it belongs)."""

    def __init__(self, simulation):
        self._simulation = simulation
        self._integrator = None
        self.writers = []
        self.computes = _Computes(simulation)
        self.updaters = []

    def __iadd__(self, operation):
        from .md.integrate import Integrator

        if isinstance(operation, Integrator):
            self.integrator = operation
        elif isinstance(operation, Writer):
            self.writers.append(operation)
        elif isinstance(operation, Updater):
            self.updaters.append(operation)
        elif hasattr(operation, "_attach") and hasattr(operation, "_detach"):  # a compute
            self.computes.append(operation)
        else:
            raise TypeError(
                f"operations += {operation!r}: not an integrator, writer or compute ({type(operation).__name__})"
            )
        return self

    def __isub__(self, operation):
        """Remove an operation (the integrator, a writer, updater or compute)."""
        if operation is self._integrator:
            self.integrator = None
            return self
        for ops in (self.writers, self.updaters, self.computes):
            for k, op in enumerate(ops):
                if op is operation:
                    del ops[k]
                    return self
        raise ValueError(f"operations -= {operation!r}: not an operation of this simulation")

    @property
    def integrator(self):
        return self._integrator

    @integrator.setter
    def integrator(self, integrator):
        if integrator is not None:  # attach first: a refused integrator is not kept
            integrator._attach(self._simulation)
        self._integrator = integrator


class Simulation:
    """A simulation on the embedded engine.

    Args:
        device: :class:`hoomd_adjoint.device.CPU` (default: all cores) or
            :class:`hoomd_adjoint.device.GPU`.
        seed: 16-bit random seed that keys every random stream together with the timestep and
            particle tag (HOOMD-blue's convention). Larger values are masked with a warning.
    """

    # quantities a hoomd_adjoint.logging.Logger can log (HOOMD-blue's)
    loggables = Loggables()  # {quantity: category} (hoomd.logging)
    _loggables = dict(
        timestep="scalar",
        seed="scalar",
        tps="scalar",
        walltime="scalar",
        final_timestep="scalar",
        initial_timestep="scalar",
    )

    def __init__(self, device=None, seed=None):
        if device is None:
            device = CPU()
        elif not isinstance(device, Device):
            raise TypeError(
                f"Simulation device must be a hoomd_adjoint.device.CPU or GPU, got {device!r} ({type(device).__name__})"
            )
        self.device = device
        if seed is None:
            warnings.warn("Simulation seed not set: using 0", stacklevel=2)
            seed = 0
        seed = _integer("Simulation seed", seed)
        if seed < 0 or seed > 0xFFFF:
            warnings.warn(f"Simulation seed {seed} is masked to 16 bits: {seed & 0xFFFF}", stacklevel=2)
        self._seed = seed & 0xFFFF
        self._state = None
        self.operations = Operations(self)
        self._tps = 0.0
        self._walltime = 0.0
        self._initial_timestep = None
        self._final_timestep = None

    # -- state creation ------------------------------------------------------------------------
    def create_state_from_snapshot(self, snapshot):
        """Create the state from a :class:`gsd.hoomd.Frame` (timestep = its ``configuration.step``).

        The snapshot is validated in full first: a rejected one leaves the simulation without a
        state (call again with a corrected snapshot).
        """
        self._create_state(snapshot, "snapshot")

    def _create_state(self, snapshot, where):
        if self._state is not None:
            raise RuntimeError("the simulation already has a state")
        parsed = _parse_snapshot(snapshot, where)
        state = State(None, parsed)
        state._simulation = self
        cpp = state._cpp
        cpp.seed = self._seed
        cpp.nthreads = self.device.num_cpu_threads
        cpp.adaptive_threads = getattr(self.device, "adaptive_threads", True)
        cpp.use_gpu = isinstance(self.device, GPU)
        cpp.gpu_host_backend = getattr(self.device, "_host_backend", False)
        cpp.timestep = parsed.step if parsed.step is not None else 0
        self._state = state
        self._initial_timestep = self._final_timestep = cpp.timestep

    def create_state_from_gsd(self, filename, frame=-1):
        """Create the state from frame ``frame`` of a GSD file (data there are float32).

        Raises FileNotFoundError (no such file), IsADirectoryError, TypeError (``frame`` not an
        integer), IndexError (no such frame) and ValueError (not a readable HOOMD GSD file, or a
        frame that is not a valid state, such as one without positions).
        """
        if self._state is not None:
            raise RuntimeError("the simulation already has a state")
        try:
            path = os.fsdecode(os.fspath(filename))
        except TypeError:
            raise TypeError(
                f"create_state_from_gsd filename must be a str or os.PathLike, got {filename!r} "
                f"({type(filename).__name__})"
            ) from None
        frame = _integer("create_state_from_gsd frame", frame)
        if path == "":
            raise FileNotFoundError("create_state_from_gsd: the filename is empty")
        if os.path.isdir(path):
            raise IsADirectoryError(f"GSD file {path!r} is a directory, not a GSD file")
        if not os.path.exists(path):
            raise FileNotFoundError(f"GSD file {path!r} does not exist")
        try:
            traj = gsd.hoomd.open(path, "r")
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except Exception as e:  # gsd raises RuntimeError on files that are not GSD, corrupt or truncated
            raise ValueError(
                f"cannot read GSD file {path!r}: {e} (not a HOOMD GSD file, or malformed or truncated?)"
            ) from e
        with traj:
            n = len(traj)
            if n == 0:
                raise IndexError(f"GSD file {path!r} holds no frames; frame {frame} does not exist")
            if not -n <= frame < n:
                raise IndexError(f"GSD file {path!r} has {n} frames; frame {frame} does not exist")
            idx = frame % n
            where = f"GSD file {path!r} frame {idx}"
            try:
                snap = traj[idx]
                N = int(snap.particles.N)
                has_positions = N <= 1 or _gsd_has_positions(traj, idx, N)
            except Exception as e:
                raise ValueError(f"cannot read {where}: {e} (malformed or truncated?)") from e
            if not has_positions:
                # gsd stores no chunk that holds only default values (a lone particle at the origin)
                raise ValueError(
                    f"{where} has no particles/position chunk (neither there nor in frame 0) for "
                    f"its N = {N} particles: all of them would sit on top of each other at the origin"
                )
        self._create_state(snap, where)

    @property
    def state(self):
        if self._state is None:
            raise RuntimeError("the simulation has no state: call create_state_from_snapshot or create_state_from_gsd")
        return self._state

    def _state_changed(self):
        integ = self.operations.integrator
        if integ is not None:
            integ._dirty = True

    # -- properties -----------------------------------------------------------------------------
    @property
    def timestep(self):
        return self.state._cpp.timestep

    @property
    def seed(self):
        return self._seed

    @property
    def always_compute_pressure(self):
        """Accepted for HOOMD-blue scripts: the embedded engine computes virials whenever a
        pressure is read, so this changes nothing (HOOMD-blue needs it, or a logger, for pressure
        values outside a logger)."""
        return getattr(self, "_always_compute_pressure", False)

    @always_compute_pressure.setter
    def always_compute_pressure(self, value):
        self._always_compute_pressure = _boolean("Simulation always_compute_pressure", value)

    @property
    def initial_timestep(self):
        """The timestep at which the last (or current) run started."""
        return self._initial_timestep

    @property
    def final_timestep(self):
        """The timestep at which the last (or current) run ends."""
        return self._final_timestep

    @property
    def tps(self):
        """Timesteps per second of the last run."""
        return self._tps

    @property
    def walltime(self):
        """Seconds spent in run() so far."""
        return self._walltime

    # -- running ---------------------------------------------------------------------------------
    def _prepare_run(self):
        integ = self.operations.integrator
        writers = self.operations.writers
        for w in writers:
            if not isinstance(w, Writer):
                raise TypeError(f"sim.operations.writers holds {w!r}, which is not a writer")
            if not isinstance(w.trigger, Trigger):
                raise TypeError(f"writer {w!r} has trigger {w.trigger!r}, which is not a hoomd_adjoint.trigger.Trigger")
        for w in writers:  # every writer's file checked before any is opened (and truncated)
            w._check()
        from .md.compute import ThermodynamicQuantities

        for c in self.operations.computes:
            if not isinstance(c, ThermodynamicQuantities):
                raise TypeError(f"sim.operations.computes holds {c!r}, which is not a compute")
        for u in self.operations.updaters:
            if not isinstance(u, Updater):
                raise TypeError(f"sim.operations.updaters holds {u!r}, which is not an updater")
            u._check(self.state)
        if integ is not None:  # (without one, runs only advance the timestep and run the operations)
            integ._sync(self)
        for c in self.operations.computes:
            c._attach(self)
        for u in self.operations.updaters:
            u._attach(self)
        for w in writers:
            w._attach(self)
        if integ is not None:
            self.state._cpp.prep_run()

    def run(self, steps, write_at_start=False, progress=False):
        """Advance ``steps`` timesteps, running writers whose triggers fire.

        Args:
            steps: number of steps: an integer >= 0, or a whole float such as 1e6 (HOOMD
                scripts write ``sim.run(1e6)``); 2.5, NaN, bools and strings are refused, never
                truncated. The timestep must stay <= 2^64 - 1.
            write_at_start: also run the writers at the starting step (HOOMD's flag).
            progress: show a progress bar (tqdm), or an object with ``update(steps)`` to report to.
        """
        if isinstance(steps, (float, np.floating)) and math.isfinite(steps) and float(steps).is_integer():
            steps = int(steps)
        steps = _integer("run steps", steps, lo=0)
        write_at_start = _boolean("run write_at_start", write_at_start)
        t0 = self.state._cpp.timestep
        if t0 + steps > UINT64_MAX:
            raise ValueError(
                f"run(steps={steps}): timestep {t0} + steps {steps} = {t0 + steps} would pass the "
                f"largest timestep 2^64 - 1 = {UINT64_MAX}"
            )
        self._prepare_run()
        self._initial_timestep, self._final_timestep = t0, t0 + steps
        if write_at_start:
            for w in self.operations.writers:
                w._write()
        self._advance(steps, progress=progress)

    def _idle(self, k):
        """k steps without an integrator: nothing moves (HOOMD-blue runs its other operations)."""
        self.state._cpp.timestep = self.state._cpp.timestep + k

    def _advance(self, steps, progress=False, record=None):
        """The run loop without preparation: advance, stopping where writers must write.
        ``record(n)``, if given, takes the place of the engine's ``advance(n)`` (the adjoint
        keeps the states on the way)."""
        cpp = self.state._cpp
        writers = list(self.operations.writers)
        updaters = list(self.operations.updaters)
        t0 = cpp.timestep
        end = t0 + steps
        start = time.perf_counter()
        bar = None
        if hasattr(progress, "update"):  # a bar shared with other runs (an ensemble's)
            bar = progress
        elif progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=steps, unit="step")
        try:
            while cpp.timestep < end:
                t = cpp.timestep
                for u in updaters:  # before the step they fire at, as HOOMD-blue runs them
                    if u.trigger(t):
                        u._act(t)
                nxt = end
                for w in writers + updaters:
                    n = w.trigger.next_after(t)
                    # None (not known) or a step that is not ahead (a faulty custom trigger): one step
                    nxt = min(nxt, t + 1 if n is None or not n > t else n)
                k = max(1, math.floor(nxt - t))
                (record or (cpp.advance if self.operations.integrator is not None else self._idle))(k)
                if bar is not None:
                    bar.update(k)
                for w in writers:
                    if w.trigger(cpp.timestep):
                        w._write()
        finally:
            for w in writers:
                w._flush()
            if bar is not None and bar is not progress:
                bar.close()
            elapsed = time.perf_counter() - start
            self._walltime += elapsed
            done = cpp.timestep - t0
            self._tps = done / elapsed if elapsed > 0 else 0.0
