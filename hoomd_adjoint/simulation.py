"""Simulation: the state, the operations, and the run loop (hoomd.Simulation)."""
import time
import warnings

import gsd.hoomd

from .device import CPU, GPU
from .state import State
from .write import Writer


class Operations:
    """The operations of a simulation: ``integrator`` and ``writers``."""

    def __init__(self, simulation):
        self._simulation = simulation
        self._integrator = None
        self.writers = []

    @property
    def integrator(self):
        return self._integrator

    @integrator.setter
    def integrator(self, integrator):
        self._integrator = integrator
        if integrator is not None:
            integrator._attach(self._simulation)


class Simulation:
    """A simulation on the embedded engine.

    Args:
        device: :class:`hoomd_adjoint.device.CPU` (default: all cores) or
            :class:`hoomd_adjoint.device.GPU`.
        seed: 16-bit random seed that keys every random stream together with the timestep and
            particle tag (HOOMD-blue's convention). Larger values are masked with a warning.
    """

    def __init__(self, device=None, seed=None):
        self.device = device if device is not None else CPU()
        if seed is None:
            warnings.warn("Simulation seed not set: using 0", stacklevel=2)
            seed = 0
        seed = int(seed)
        if seed < 0 or seed > 0xFFFF:
            warnings.warn(f"Simulation seed {seed} is masked to 16 bits: {seed & 0xFFFF}", stacklevel=2)
        self._seed = seed & 0xFFFF
        self._state = None
        self.operations = Operations(self)
        self._tps = 0.0
        self._walltime = 0.0
        self._initial_timestep = None

    # -- state creation ------------------------------------------------------------------------
    def create_state_from_snapshot(self, snapshot):
        """Create the state from a :class:`gsd.hoomd.Frame` (timestep = its ``configuration.step``)."""
        if self._state is not None:
            raise RuntimeError("the simulation already has a state")
        self._state = State(None, snapshot)
        self._state._simulation = self
        cpp = self._state._cpp
        cpp.seed = self._seed
        cpp.nthreads = self.device.num_cpu_threads
        cpp.adaptive_threads = getattr(self.device, "adaptive_threads", True)
        cpp.use_gpu = isinstance(self.device, GPU)
        step = getattr(snapshot.configuration, "step", None)
        cpp.timestep = int(step) if step is not None else 0
        self._initial_timestep = cpp.timestep

    def create_state_from_gsd(self, filename, frame=-1):
        """Create the state from frame ``frame`` of a GSD file (data there are float32)."""
        try:
            with gsd.hoomd.open(str(filename), "r") as traj:
                n = len(traj)
                if n == 0:
                    raise ValueError(f"GSD file {filename!r} holds no frames")
                if not -n <= frame < n:
                    raise IndexError(f"GSD file {filename!r} has {n} frames; frame {frame} does not exist")
                snap = traj[frame]
        except (ValueError, IndexError):
            raise
        except FileNotFoundError:
            raise
        except Exception as e:  # gsd raises RuntimeError/OSError on corrupt or truncated files
            raise ValueError(f"cannot read GSD file {filename!r}: {e} (malformed or truncated?)") from e
        self.create_state_from_snapshot(snap)

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
        if integ is None:
            raise RuntimeError("no integrator: set sim.operations.integrator first")
        integ._sync(self)
        for w in self.operations.writers:
            if not isinstance(w, Writer):
                raise TypeError(f"sim.operations.writers holds {w!r}, which is not a writer")
            w._attach(self)
        self.state._cpp.prep_run()

    def run(self, steps, write_at_start=False, progress=False):
        """Advance ``steps`` timesteps, running writers whose triggers fire.

        Args:
            steps: number of steps.
            write_at_start: also run the writers at the starting step (HOOMD's flag).
            progress: show a progress bar (tqdm), or an object with ``update(steps)`` to report to.
        """
        steps = int(steps)
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        self._prepare_run()
        if write_at_start:
            for w in self.operations.writers:
                w._write()
        self._advance(steps, progress=progress)

    def _advance(self, steps, progress=False, record=None):
        """The run loop without preparation: advance, stopping where writers must write.
        ``record(n)``, if given, takes the place of the engine's ``advance(n)`` (the adjoint
        keeps the states on the way)."""
        cpp = self.state._cpp
        writers = list(self.operations.writers)
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
                nxt = end
                for w in writers:
                    n = w.trigger.next_after(t)
                    nxt = min(nxt, t + 1 if n is None else n)
                (record or cpp.advance)(int(nxt - t))
                if bar is not None:
                    bar.update(int(nxt - t))
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
