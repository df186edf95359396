"""Ensembles: many replicas of one set-up, run and differentiated together.

A 100-particle simulation cannot keep many cores busy; a batch of replicas can. An
:class:`Ensemble` builds R replicas with a user function (differing by seed, initial frame and/or
state point), runs them concurrently on a pool of threads (one replica per thread, the GIL
released inside the engine) and, with MPI, splits them over the partitions of a
:class:`~hoomd_adjoint.communicator.Communicator`. Replicas on a GPU (without writers, updaters
or computes) run as one device batch instead: every step's launches of all of them as one kernel
per op (docs/gpu.md, "Replica batches"). Each replica is bitwise identical to running it
alone, and means are reduced over replicas in ascending index order after every replica's result
has been gathered, so they are bitwise identical for any number of threads and ranks.

Example::

    def build(i):                      # replica i: its own seed and starting frame
        sim = ha.Simulation(device=ha.device.CPU(), seed=1000 + i)
        sim.create_state_from_snapshot(random_packing(100, 0.6, dimensions=2, seed=i))
        pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
        ...
        return sim

    ens = ha.Ensemble(build, replicas=64)
    res = ens.gradient(3300, loss=lambda sim: ha.loss.PotentialEnergy(sim.operations.integrator.forces[0]),
                       wrt=lambda sim: [(sim.operations.integrator.forces[0], ["a0", "a1", "a2", "a3"])])
    res.loss, res.grad(0)[("A", "A")]["a0"]       # means over the replicas
    res.losses, res.replica(3), res.failures       # per replica
    print(res.describe())                          # "64 of 64 replicas used" or which failed

A replica that fails (a particle leaves the box, a non-finite force or adjoint) stops the call
with :class:`ReplicaError`, or, with ``on_failure="drop"``, is left out of every mean, listed in
``failures`` (index, step and cause) and reported by a :class:`ReplicaWarning`; ``max_failed``
turns a drop into an error when too many replicas failed.
"""

import collections.abc
import contextlib
import math
import sys
import threading
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _checks, _core
from .adjoint import _Advance, _check_arguments, _drive, gradient_steps, wrt_entries
from .communicator import Communicator


class Failure(str):
    """Why a replica failed: the message ``"stopped at timestep S (n steps into the call): Error:
    ..."`` (a ``str``, so it prints and serialises as one), with ``step``, the replica's timestep
    when it failed (the last step it completed), ``start``, its timestep when the failing call
    began, and ``cause``, the error's own message (which names the step, the particles and the
    closest pair)."""

    def __new__(cls, step, cause, start=None):
        into = "" if start is None else f" ({int(step) - int(start)} steps into the call)"
        self = super().__new__(cls, f"stopped at timestep {step}{into}: {cause}")
        self.step, self.cause, self.start = int(step), str(cause), None if start is None else int(start)
        return self

    def __reduce__(self):  # pickled (mpi4py gathers) as itself, not as a plain str
        return (Failure, (self.step, self.cause, self.start))


class ReplicaError(RuntimeError):
    """Replicas failed (a non-finite force or adjoint, a particle leaving the box, ...), or more
    of them than ``max_failed`` allows.

    ``failures``: {replica index: :class:`Failure` or message}; the message names the step and the tags."""

    def __init__(self, failures, total=None, limit=None):
        self.failures = dict(failures)
        lines = [f"replica {i}: {msg}" for i, msg in sorted(self.failures.items())]
        head = f"{len(self.failures)} replica(s) failed"
        if total is not None:
            head = f"{len(self.failures)} of {total} replicas failed"
        if limit is not None:
            head += (
                f", more than max_failed = {limit:g} allows ({math.floor(limit * total + 1e-9)}); "
                f"a larger max_failed keeps going without them"
            )
        super().__init__(head + ":\n  " + "\n  ".join(lines))


class ReplicaWarning(UserWarning):
    """Replicas failed and were left out of the means (``on_failure="drop"``)."""


def describe(total, failures, limit=3, by="failed"):
    """One line: how many of ``total`` replicas a result used, and which failed (key, timestep
    and cause of the first ``limit``), e.g. ``"61 of 64 replicas used; failed: 10 (stopped at timestep 1105 ...)"``;
    ``by`` names the keys (``"failed seeds"`` when they are seeds)."""
    shown = [f"{i} ({msg})" for i, msg in sorted(failures.items())[:limit]]
    more = f", and {len(failures) - limit} more" if len(failures) > limit else ""
    return f"{total - len(failures)} of {total} replicas used" + (f"; {by}: {'; '.join(shown)}{more}" if shown else "")


def _mean(values):
    """Mean of numbers, arrays or nested dicts of them, summed in the given (replica) order."""
    first = values[0]
    if isinstance(first, dict):
        return {k: _mean([v[k] for v in values]) for k in first}
    if isinstance(first, np.ndarray):
        total = np.zeros_like(first)
        for v in values:
            total = total + v
        return total / len(values)
    total = 0.0
    for v in values:
        total += v
    return total / len(values)


class EnsembleGradient:
    """Per-replica gradients and their means over the replicas that did not fail.

    Attributes:
        losses: (R,) loss of each replica (nan where it failed).
        loss: their mean.
        failures: {replica index: :class:`Failure`} (step and cause).
        num_used: how many replicas the means are over.
    """

    def __init__(self, results, failures):
        self._results = results  # [GradientResult or None], in replica order
        self.failures = dict(failures)
        self.losses = np.array([np.nan if r is None else r.loss for r in results])
        self._ok = [r for r in results if r is not None]
        self._wrt_len = len(self._ok[0]._by_index) if self._ok else 0
        self.loss = _mean([r.loss for r in self._ok]) if self._ok else math.nan

    @property
    def num_replicas(self):
        return len(self._results)

    @property
    def num_used(self):
        return len(self._ok)

    def describe(self):
        """How many replicas the means are over and which failed, in one line."""
        return describe(self.num_replicas, {i: m for i, m in self.failures.items() if i < self.num_replicas})

    def __repr__(self):
        return f"<EnsembleGradient: loss {self.loss:.6g}, {self.describe()}>"

    def replica(self, i):
        """The :class:`~hoomd_adjoint.adjoint.GradientResult` of replica ``i`` (None if it failed)."""
        return self._results[i]

    def grads(self, what):
        """Per replica (None where failed): the gradient with respect to ``what``, which is an
        index into the ``wrt`` list or ``"kT"``, ``"gamma"``, ``"positions"``."""
        return [None if r is None else self._one(r, what) for r in self._results]

    def grad(self, what):
        """Mean over the replicas that did not fail of :meth:`grads` (same shapes as one replica's)."""
        if not self._ok:
            raise RuntimeError("every replica failed: there is no mean gradient")
        return _mean([self._one(r, what) for r in self._ok])

    def _one(self, r, what):
        if what == "positions":
            return r.positions
        if isinstance(what, str):
            return r.grad(what)
        if not 0 <= int(what) < self._wrt_len:
            raise IndexError(f"wrt index {what} out of range: wrt had {self._wrt_len} entries")
        return r._by_index[int(what)]


class Ensemble:
    """R replicas of one set-up, run together.

    Args:
        build: ``build(i) -> Simulation`` for replica ``i`` = 0..R-1, with its state and integrator
            set (and, usually, its own seed or starting frame). Called once per replica, only on
            the rank that owns it.
        replicas: R, the number of replicas.
        threads: replicas run at once on this rank (default: the CPU cores, divided among the
            ranks on this machine). When a rank owns
            fewer replicas than threads, each replica gets the spare threads for its own steps.
        communicator: a :class:`~hoomd_adjoint.communicator.Communicator` (default: one built
            from ``MPI.COMM_WORLD`` when mpi4py is importable). Replica ``i`` belongs to partition
            ``i % num_partitions``.
        on_failure: ``"raise"`` (default): a failed replica stops the call with
            :class:`ReplicaError` (after the others have finished); ``"drop"``: go on without it
            (it is left out of later runs and of every mean, listed in ``failures`` with its step
            and cause, and reported by a :class:`ReplicaWarning`).
        max_failed: with ``"drop"``, the largest share of the R replicas that may fail (0.05: up
            to 5%); beyond it the call raises :class:`ReplicaError`, naming them. Default: no limit.
    """

    def __init__(self, build, replicas, threads=None, communicator=None, on_failure="raise", max_failed=None):
        if not callable(build):
            raise TypeError(f"build must be a function build(i) -> Simulation, got {build!r}")
        if isinstance(replicas, bool) or not isinstance(replicas, (int, np.integer)) or replicas < 1:
            raise ValueError(f"replicas must be a positive integer, got {replicas!r}")
        self.communicator = communicator if communicator is not None else Communicator()
        if threads is None:  # the cores of this machine, shared with the other ranks on it
            threads = max(1, _core.max_threads() // self.communicator.ranks_on_node)
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise ValueError(f"threads must be a positive integer, got {threads!r}")
        self._check_on_failure(on_failure)
        if max_failed is not None:
            max_failed = _checks.real("max_failed", max_failed, lo=0.0, hi=1.0)
        self.max_failed = max_failed
        self.num_replicas = int(replicas)
        self.threads = int(threads)
        self.on_failure = on_failure
        P, p = self.communicator.num_partitions, self.communicator.partition
        self.local = [i for i in range(self.num_replicas) if i % P == p]  # replicas on this rank
        self.failures = {}
        self._sims = {}
        per_replica = max(1, self.threads // max(1, len(self.local)))
        for i in self.local:
            sim = build(i)
            if not hasattr(sim, "operations") or not hasattr(sim, "state"):
                raise TypeError(f"build({i}) returned {sim!r}, not a Simulation")
            if sim.state._cpp.nthreads > per_replica:  # threads come from the pool, not the replica
                sim.state._cpp.nthreads = per_replica
            self._sims[i] = sim

    @staticmethod
    def _check_on_failure(on_failure):
        if on_failure not in ("raise", "drop"):
            raise ValueError(f"on_failure must be 'raise' or 'drop', got {on_failure!r}")

    def simulation(self, i):
        """The Simulation of replica ``i`` (on the rank that owns it)."""
        if i not in self._sims:
            raise KeyError(
                f"replica {i} is not on this rank (partition {self.communicator.partition} owns {self.local})"
            )
        return self._sims[i]

    @property
    def alive(self):
        """Indices of this rank's replicas that have not failed."""
        return [i for i in self.local if i not in self.failures]

    # -- running ---------------------------------------------------------------------------------
    def _map(self, work, progress_total, progress, desc, on_failure):
        """work(i, bar) for every live local replica on the pool; returns {i: result} of every
        replica on every rank, and records failures."""
        self._check_on_failure(on_failure)
        bar = _Bar(progress, progress_total, progress if isinstance(progress, str) else desc)
        results, failed = {}, {}

        def one(i):
            start = self._sims[i].timestep
            try:
                results[i] = work(i, bar)
            except (RuntimeError, ArithmeticError) as e:  # the run failed (not a bad argument: that raises)
                failed[i] = Failure(self._sims[i].timestep, f"{type(e).__name__}: {e}", start)

        todo = self.alive
        try:
            with self._rank_work():
                if self.threads == 1 or len(todo) <= 1:
                    for i in todo:
                        one(i)
                else:
                    with ThreadPoolExecutor(max_workers=min(self.threads, len(todo))) as pool:
                        list(pool.map(one, todo))
        finally:
            bar.close()
        return self._gather(results, failed, desc, on_failure)

    @contextlib.contextmanager
    def _rank_work(self):
        """Around this rank's share of a call: an error (not Ctrl-C, which mpirun sends to every
        rank, so each stops by itself) aborts every rank, which would otherwise wait for this one
        forever."""
        try:
            yield
        except KeyboardInterrupt:
            raise
        except BaseException:
            if self.communicator.num_ranks > 1:
                traceback.print_exc()
                sys.stderr.flush()
                self.communicator.mpi_comm.Abort(1)
            raise

    def _gather(self, results, failed, desc, on_failure):
        """Every rank's results and failures to every rank; records the failures, raises or warns
        as ``on_failure`` says; returns {i: result} of every replica."""
        # every rank learns every replica's result and failure, then reduces in replica order
        gathered = self.communicator.allgather((results, failed))
        all_results, all_failed = {}, {}
        for res, fail in gathered:
            all_results.update(res)
            all_failed.update(fail)
        self.failures.update(all_failed)
        if all_failed and on_failure == "raise":
            raise ReplicaError(all_failed)
        if all_failed:
            limit = self.max_failed
            if limit is not None and len(self.failures) > limit * self.num_replicas + 1e-9:
                raise ReplicaError(self.failures, self.num_replicas, limit)
            if self.communicator.partition == 0:  # every rank knows; one says
                warnings.warn(
                    f"{desc}: {len(all_failed)} replica(s) failed and are left out: "
                    + describe(self.num_replicas, self.failures, limit=len(self.failures)),
                    ReplicaWarning,
                    stacklevel=3,
                )
        return all_results

    def _batch(self, pipeline, progress_total, progress, desc, on_failure):
        """_map for replicas on the device: every live replica's ``pipeline(i, bar)`` (a generator
        of engine calls, adjoint._Call) advanced together, each round running the calls of the
        same kind of all replicas as one batch (on the device, one kernel per op for all of them).
        Each replica computes what it computes alone; returns {i: result} as _map does."""
        self._check_on_failure(on_failure)
        bar = _Bar(progress, progress_total, progress if isinstance(progress, str) else desc)
        results, failed, pending = {}, {}, {}
        todo = self.alive
        start = {i: self._sims[i].timestep for i in todo}
        steps = {i: pipeline(i, bar) for i in todo}

        def advance(i, value=None, error=None):  # replica i to its next call
            try:
                pending[i] = steps[i].throw(error) if error is not None else steps[i].send(value)
            except StopIteration as stop:
                results[i] = stop.value
            except (RuntimeError, ArithmeticError) as e:  # the run failed (not a bad argument: that raises)
                failed[i] = Failure(self._sims[i].timestep, f"{type(e).__name__}: {e}", start[i])

        try:
            with self._rank_work():
                self._drive_all(todo, advance, pending)
        finally:
            for g in steps.values():
                g.close()
            bar.close()
        return self._gather(results, failed, desc, on_failure)

    @staticmethod
    def _drive_all(todo, advance, pending):
        """Every pipeline to its end: each round runs the pending calls of one kind as one batch."""
        for i in todo:
            advance(i)
        while pending:
            groups = {}
            for i, call in pending.items():
                groups.setdefault(call.key if call.key is not None else ("alone", i), []).append(i)
            for members in groups.values():
                calls = [pending.pop(i) for i in members]
                outcomes = type(calls[0]).run_batch(calls) if len(calls) > 1 else None
                if outcomes is None:
                    try:
                        outcomes = [(calls[0].run(), None)]
                    except (RuntimeError, ArithmeticError) as e:
                        outcomes = [(None, e)]
                for i, (value, error) in zip(members, outcomes):
                    advance(i, value, error)

    def run(self, steps, progress=False, on_failure=None):
        """Advance every replica ``steps`` steps (as ``sim.run(steps)`` would, writers included).
        ``progress``: a progress bar over the batch's steps (a string labels it; so for
        :meth:`observe` and :meth:`gradient`).

        Returns the indices of the replicas that failed (with ``on_failure="drop"``)."""
        steps = _checks.integer("steps", steps, lo=0)
        before = set(self.failures)
        if self._batchable():

            def pipeline(i, bar):  # sim.run's steps as one engine call, which a device batch shares
                sim = self._sims[i]
                sim._prepare_run()
                sim._initial_timestep, sim._final_timestep = sim.timestep, sim.timestep + steps
                yield _Advance(_Runner(sim), steps)
                bar.update(steps)

            self._batch(pipeline, steps * len(self.alive), progress, "ensemble run", on_failure or self.on_failure)
        else:
            self._map(
                lambda i, bar: self._sims[i].run(steps, progress=bar),
                steps * len(self.alive),
                progress,
                "ensemble run",
                on_failure or self.on_failure,
            )
        return sorted(set(self.failures) - before)

    def _batchable(self):
        """Whether this rank's live replicas run as one device batch: all on the device (one
        backend), with an integrator and nothing else that acts between steps (writers,
        updaters, computes run per replica, step by step)."""
        sims = [self._sims[i] for i in self.alive]
        if not sims or not all(s.state._cpp.use_gpu for s in sims):
            return False
        if len({s.state._cpp.gpu_host_backend for s in sims}) != 1:
            return False
        ops = [s.operations for s in sims]
        return all(o.integrator is not None and not (o.writers or o.updaters or o.computes) for o in ops)

    def describe(self):
        """How many replicas are alive and which failed (index, step, cause), in one line."""
        return describe(self.num_replicas, self.failures)

    def observe(self, steps, every, observable, progress=False, on_failure=None):
        """Advance every replica ``steps`` steps, evaluating ``observable(frame) -> float`` at
        steps 0, every, 2 every, ... (and at ``steps``) after the current one.

        ``frame`` is what a loss receives (:class:`hoomd_adjoint.adjoint.Frame`); a loss, which
        returns (value, gradient), is accepted too and its value used (through its ``value``
        method where it has one, which skips the gradient). Returns ``(offsets, values)``: the
        step offsets (T,) and an (R, T) array, NaN rows for failed replicas.
        """
        from .adjoint import _frame

        steps = _checks.integer("steps", steps, lo=0)
        every = _checks.integer("every", every, lo=1)
        if not callable(observable):
            raise TypeError(f"observable must be a function of a frame, got {observable!r}")
        offsets = np.unique(np.append(np.arange(0, steps + 1, every), steps))
        if callable(getattr(observable, "value", None)):
            observable = observable.value

        def value(sim):
            v = observable(_frame(sim))
            return float(v[0] if isinstance(v, tuple) else v)

        def one(i, bar):
            sim = self._sims[i]
            out = [value(sim)]
            for a, b in zip(offsets[:-1], offsets[1:]):
                sim.run(int(b - a), progress=bar)
                out.append(value(sim))
            return out

        def pipeline(i, bar):  # one's steps as engine calls, which a device batch runs together
            sim = self._sims[i]
            sim._prepare_run()
            out = [value(sim)]
            for a, b in zip(offsets[:-1], offsets[1:]):
                yield _Advance(_Runner(sim), int(b - a))
                bar.update(int(b - a))
                out.append(value(sim))
            return out

        total, on_failure = steps * len(self.alive), on_failure or self.on_failure
        if self._batchable():
            results = self._batch(pipeline, total, progress, "ensemble observe", on_failure)
        else:
            results = self._map(one, total, progress, "ensemble observe", on_failure)
        values = np.full((self.num_replicas, len(offsets)), np.nan)
        for i, row in results.items():
            values[i] = row
        return offsets, values

    def gradient(self, steps, loss, wrt, progress=False, on_failure=None, **options):
        """:func:`hoomd_adjoint.adjoint.gradient` for every replica, with the means.

        Args:
            steps: steps to run and differentiate through.
            loss: ``loss(sim) -> loss function`` of replica ``sim`` (a loss may refer to the
                replica's own forces), or one loss ``loss(frame) -> (value, dL/dr)`` for every
                replica, as :func:`~hoomd_adjoint.adjoint.gradient` takes it (told apart by
                calling it once with replica 0's Simulation before anything runs). Replicas
                run on several threads at once, so a loss shared between them must keep no state
                between calls (the built-in losses keep none; a freud-style compute object that
                stores its last result is not safe to share: build one per replica).
            wrt: ``wrt(sim) -> list`` as in :func:`~hoomd_adjoint.adjoint.gradient`; the mean
                gradient of entry k is ``result.grad(k)``.
            options: ``frames``, ``memory``, ``truncate``, ``mode``, ``clip`` of ``gradient``.

        Returns:
            :class:`EnsembleGradient`.
        """
        if not callable(loss) or not callable(wrt):
            raise TypeError(
                "loss and wrt must be functions of the replica's Simulation: loss(sim) -> loss, "
                "wrt(sim) -> [forces, 'positions', 'kT', 'gamma', ...]"
            )
        if self.alive:
            loss = _per_replica(loss, self._sims[self.alive[0]])
        unknown = set(options) - {"frames", "memory", "truncate", "mode", "clip", "device_memory"}
        if unknown:
            raise TypeError(
                f"unknown gradient option(s) {sorted(unknown)}: use frames, memory, truncate, mode, clip, device_memory"
            )
        if isinstance(options.get("frames"), collections.abc.Iterator):
            # read once: every replica (and the check below) needs the same frames
            options = dict(options, frames=list(options["frames"]))
        if self.alive:  # the same checks gradient() makes, before any replica runs
            _check_arguments(
                self._sims[self.alive[0]],
                steps,
                lambda frame: None,
                options.get("frames"),
                options.get("memory"),
                options.get("truncate"),
                options.get("mode", "reverse"),
                options.get("clip"),
                options.get("device_memory"),
            )
        truncate = options.get("truncate") or steps
        per_step = 2 if options.get("mode", "reverse") == "reverse" else 1

        def pipeline(i, bar):  # replica i's gradient, as the engine calls it makes (gradient_steps)
            sim = self._sims[i]
            w = wrt_entries(wrt(sim))
            res = yield from gradient_steps(sim, steps, loss(sim), w, progress=bar, _warn_growth=False, **options)
            if per_step == 1:
                bar.update(truncate)
            # per-index access for the mean: entry k of wrt (forces by position, names by name)
            res._by_index = [self._lookup(res, e) for e in w]
            return res

        total = per_step * int(truncate) * len(self.alive)
        on_failure = on_failure or self.on_failure
        if self._batchable():
            results = self._batch(pipeline, total, progress, "ensemble gradient", on_failure)
        else:
            results = self._map(
                lambda i, bar: _drive(pipeline(i, bar)), total, progress, "ensemble gradient", on_failure
            )
        out = EnsembleGradient([results.get(i) for i in range(self.num_replicas)], self.failures)
        self._warn_growth(out, options.get("clip"))
        return out

    def _warn_growth(self, res, clip):
        """One ChaoticHorizonWarning for the batch (adjoint.gradient warns per call)."""
        from .adjoint import CHAOTIC_GROWTH
        from .errors import ChaoticHorizonWarning

        growth = {i: r.diagnostics.get("adjoint_growth") for i, r in enumerate(res._results) if r is not None}
        grew = sorted(i for i, g in growth.items() if g is not None and g > CHAOTIC_GROWTH)
        if grew and clip is None and self.communicator.partition == 0:
            factors = [growth[i] for i in grew]
            warnings.warn(
                f"the adjoint's norm grew more than {CHAOTIC_GROWTH:g}-fold in {len(grew)} of {res.num_used} replicas "
                f"(median {np.median(factors):.3g}-fold, largest {max(factors):.3g} in replica {grew[int(np.argmax(factors))]}): "
                "the dynamics are chaotic over this horizon and single replicas' exact gradients scatter widely; "
                "differentiate a shorter window (truncate=), average more replicas, or see docs/adjoint.md, "
                "'Long horizons'. Each replica's factor: result.replica(i).diagnostics['adjoint_growth'].",
                ChaoticHorizonWarning,
                stacklevel=3,
            )

    @staticmethod
    def _lookup(res, entry):
        if isinstance(entry, tuple):
            entry = entry[0]
        if entry == "positions":
            return res.positions
        return res.grad(entry)


class _Runner:
    """A simulation as adjoint._Advance takes it (a store's cpp and advance): its steps alone."""

    def __init__(self, sim):
        self.cpp = sim.state._cpp

    def advance(self, n):
        self.cpp.advance(n)


def _per_replica(loss, sim):
    """``loss`` as ``loss(sim) -> loss``: it is that already, or one ``loss(frame) -> (value,
    dL/dr)`` (a built-in loss object, or a function that does not return a loss given a Simulation)."""
    from .adjoint import _frame

    if type(loss).__module__.startswith("hoomd_adjoint."):  # a built-in loss object: a loss of a frame
        return lambda sim: loss
    try:
        made = loss(sim)
        if callable(made):
            return loss
        given_sim = f"returned {type(made).__name__}"
    except Exception as e:  # noqa: BLE001  (a loss of a frame has no use for a Simulation)
        given_sim = f"raised {type(e).__name__}: {str(e)[:80]}"
    try:
        out = loss(_frame(sim))
        if isinstance(out, tuple) and len(out) in (2, 3):
            return lambda sim: loss
        given_frame = f"returned {type(out).__name__}"
    except Exception as e:  # noqa: BLE001
        given_frame = f"raised {type(e).__name__}: {str(e)[:80]}"
    raise TypeError(
        f"loss must be loss(sim) -> a loss, or one loss(frame) -> (value, dL/dr) for every replica; "
        f"{getattr(loss, '__name__', type(loss).__name__)} is neither: given replica 0's Simulation it "
        f"{given_sim}, given its frame it {given_frame}"
    )


class _Bar:
    """One progress bar for the batch, updated from every replica's thread."""

    def __init__(self, enabled, total, desc):
        self._lock = threading.Lock()
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, unit="step", desc=desc)

    def update(self, n):
        if self._bar is not None:
            with self._lock:
                self._bar.update(n)

    def close(self):
        if self._bar is not None:
            self._bar.close()
