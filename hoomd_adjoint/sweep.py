"""Sweeps: many independent jobs, run in slices, resumable, merged into one table.

A sweep is a fixed list of jobs (JSON-serialisable dicts of parameters) and a function that
turns one job into a dict of results. Each finished job is saved as its own file, so a run can
be split into slices (``part=(k, n)``: jobs ``i`` with ``i % n == k``) handed to MPI ranks,
batch array tasks or signac-flow operations, and an interrupted run resumes where it stopped::

    from hoomd_adjoint.sweep import Sweep

    jobs = [dict(target=t, seed=s) for t in targets for s in range(4)]
    sweep = Sweep(design, jobs, "runs/design")
    sweep.run(part="3/8")            # or comm=MPI.COMM_WORLD, or nothing: all jobs
    ...
    Sweep.open("runs/design").write_csv("design.csv")  # once every slice has finished

Layout of ``directory``::

    jobs.json              the job list, written by the first run, checked by every later one
    results/000042.json    {"job": 42, "params": {...}, "result": {...}}  (or "error": "Type: message")
"""

import csv
import json
import os
import tempfile
from collections.abc import Mapping

from ._files import honour_umask

__all__ = ["Sweep", "JobError", "parse_part"]

# Column names that merge() adds itself; jobs and results may not use them.
_RESERVED = ("job", "error")


class JobError(RuntimeError):
    """A job's function raised (``on_error="raise"``); ``index`` is the job's index, and the
    original exception is chained as ``__cause__``."""

    def __init__(self, index, message):
        super().__init__(message)
        self.index = index


def parse_part(text):
    """``"k/n"`` -> ``(k, n)``: slice ``k`` (0-based, ``0 <= k < n``) of ``n``."""
    parts = str(text).split("/")
    try:
        if len(parts) != 2:
            raise ValueError
        k, n = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"part {text!r} is not of the form 'k/n' with integers k and n") from None
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"part {text!r}: need n >= 1 and 0 <= k <= n-1 (k is 0-based)")
    return k, n


def _part_of(part, comm):
    """(k, n) from a part ("k/n" or a pair), an MPI-like communicator, or neither (all jobs)."""
    if part is not None and comm is not None:
        raise ValueError("give part or comm, not both (comm means part = (rank, size))")
    if comm is not None:
        # mpi4py communicators have both spellings; plain objects may have either.
        if hasattr(comm, "rank") and hasattr(comm, "size"):
            rank, size = comm.rank, comm.size
        else:
            rank, size = comm.Get_rank(), comm.Get_size()
        return parse_part(f"{int(rank)}/{int(size)}")
    if part is None:
        return 0, 1
    if isinstance(part, str):
        return parse_part(part)
    k, n = part
    return parse_part(f"{int(k)}/{int(n)}")


def _plain(x):
    """``x`` with numpy (or any array-like with ``.tolist()``) values made plain Python, and
    tuples made lists: what json writes, so what a later process reads back."""
    if isinstance(x, Mapping):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes)):
        return x.tolist()
    return x


def _canonical(obj):
    # Compared as text, not with ==: 1 == 1.0 == True, but they are different parameters.
    return json.dumps(obj, sort_keys=True)


def _read_resumable(path, config, resume):
    """The saved state of a resumable loop at ``path`` (None if there is none), checked against
    ``config``: an existing state needs ``resume``, and the settings it was written with must be
    ``config``'s, so a finished run is never overwritten nor continued with other settings."""
    if not os.path.exists(path):
        return None
    if not resume:
        raise FileExistsError(f"{path} exists: resume it (resume=True, --resume) or choose another output directory")
    with open(path) as f:
        state = json.load(f)
    mine = json.loads(json.dumps(config))  # as it reads back from the file
    if state["config"] != mine:
        diff = sorted(k for k in mine if state["config"].get(k) != mine[k])
        raise ValueError(
            f"{path} was written with other settings ({', '.join(diff)}); use the same settings to "
            "resume, or another output directory"
        )
    return state


def _write_json_atomic(path, obj):
    """Write ``obj`` as JSON to ``path`` so that readers see the old file or the whole new one,
    never part of one (a killed job leaves at worst a hidden temp file, which is ignored)."""
    text = json.dumps(obj, indent=1)  # fails before anything touches the disk
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        honour_umask(fd)  # mkstemp makes it 0600: results are for colleagues to read too
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    return text


def _read_json(path):
    with open(path) as f:
        return json.load(f)


class Sweep:
    """Independent jobs, run in resumable slices, with results merged into one table.

    Args:
        function: ``function(job) -> dict`` of results for one job. Values must be
            JSON-serialisable; numpy scalars and arrays are converted with ``.tolist()``.
            ``function`` receives the job as stored in ``jobs.json`` (tuples become lists),
            so a fresh and a resumed run see the same input.
        jobs (list[dict]): the parameters of each job, JSON-serialisable, keys strings. A job's
            index in this list is its identity: the list must not change between runs.
        directory (str): where ``jobs.json`` and ``results/`` live (created by :meth:`run`).

    Raises ValueError, before writing anything, if a job is not JSON-serialisable or if
    ``directory`` already holds a different job list.
    """

    def __init__(self, function, jobs, directory):
        self.function = function
        self.directory = os.fspath(directory)
        self.jobs = [self._normalise_job(i, job) for i, job in enumerate(jobs)]
        self._keys = [_canonical(job) for job in self.jobs]
        if os.path.exists(self._jobs_path):
            self._check_stored_jobs()

    @classmethod
    def open(cls, directory):
        """The sweep stored in ``directory`` (from its ``jobs.json``), without a function:
        for :meth:`status`, :meth:`merge` and :meth:`write_csv`."""
        path = os.path.join(os.fspath(directory), "jobs.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} does not exist: no sweep has run in {directory!r}")
        return cls(None, _read_json(path), directory)

    @property
    def _jobs_path(self):
        return os.path.join(self.directory, "jobs.json")

    def _result_path(self, i):
        return os.path.join(self.directory, "results", f"{i:06d}.json")

    @staticmethod
    def _normalise_job(i, job):
        if not isinstance(job, Mapping):
            raise ValueError(f"job {i} is a {type(job).__name__}, not a dict of parameters")
        for key in job:
            if not isinstance(key, str):
                raise ValueError(f"job {i}: parameter name {key!r} is not a string")
            if key in _RESERVED:
                raise ValueError(f"job {i}: parameter name {key!r} is reserved for the merged table")
        job = _plain(job)
        try:
            json.dumps(job)
        except (TypeError, ValueError) as e:
            raise ValueError(f"job {i} is not JSON-serialisable: {e}") from None
        return job

    def _check_stored_jobs(self):
        stored = _read_json(self._jobs_path)
        for i, (old, new) in enumerate(zip(stored, self._keys)):
            if _canonical(old) != new:
                raise ValueError(
                    f"{self._jobs_path}: job {i} differs from the stored job list "
                    f"(stored {old}, given {self.jobs[i]}); use a new directory"
                )
        if len(stored) != len(self.jobs):
            raise ValueError(
                f"{self._jobs_path}: job {min(len(stored), len(self.jobs))} differs: the stored "
                f"list has {len(stored)} jobs, {len(self.jobs)} given; use a new directory"
            )

    def _load(self, i):
        """Job i's saved record, or None if there is none (or it belongs to other parameters)."""
        try:
            record = _read_json(self._result_path(i))
        except (OSError, ValueError):
            return None
        if record.get("job") != i or _canonical(record.get("params")) != self._keys[i]:
            return None
        return record

    def _compute(self, i):
        """Run job i and return its record (not yet saved); exceptions propagate."""
        result = self.function(self.jobs[i])
        if not isinstance(result, Mapping):
            raise TypeError(f"the function returned a {type(result).__name__}, not a dict")
        clash = [k for k in result if k in _RESERVED or k in self.jobs[i]]
        if clash:
            # caught here, not in merge() after the whole sweep has run
            raise ValueError(f"result names {clash} clash with the job's parameters or 'job'/'error'")
        record = {"job": i, "params": self.jobs[i], "result": _plain(result)}
        try:
            json.dumps(record)
        except (TypeError, ValueError) as e:
            raise TypeError(f"the result is not JSON-serialisable: {e}") from None
        return record

    def run(self, part=None, comm=None, progress=False, on_error="raise"):
        """Run this slice's jobs that have no saved result; return the slice's results.

        Args:
            part: ``"k/n"`` or ``(k, n)``: run jobs ``i`` with ``i % n == k``. Default: all jobs.
            comm: an MPI communicator (or anything with ``rank``/``size`` or
                ``Get_rank()``/``Get_size()``): ``part = (rank, size)``. Not with ``part``.
            progress (bool): show a tqdm bar over the slice's jobs.
            on_error: ``"raise"``: a failing job stops the run with a :class:`JobError` naming
                its index (results already saved are kept). ``"record"``: save the error as
                ``"Type: message"`` and go on; a later run retries it.

        Returns:
            list: the result dicts of the slice's jobs, in job order, as read back from JSON
            (so a resumed run returns exactly what an uninterrupted one would); ``None`` for
            jobs that failed under ``on_error="record"``.
        """
        if self.function is None:
            raise ValueError("this sweep was opened without a function: it can report and merge, not run")
        if on_error not in ("raise", "record"):
            raise ValueError(f"on_error must be 'raise' or 'record', got {on_error!r}")
        k, n = _part_of(part, comm)
        os.makedirs(os.path.join(self.directory, "results"), exist_ok=True)
        if not os.path.exists(self._jobs_path):
            _write_json_atomic(self._jobs_path, self.jobs)
        # Always compare: another process may have written a different list in the meantime.
        self._check_stored_jobs()

        from tqdm.auto import tqdm

        results = []
        for i in tqdm(range(k, len(self.jobs), n), desc=f"sweep {k}/{n}", unit="job", disable=not progress):
            record = self._load(i)
            if record is None or "error" in record:  # missing or failed before: (re)compute
                try:
                    record = self._compute(i)
                except Exception as e:
                    message = f"{type(e).__name__}: {e}"
                    if on_error == "raise":
                        raise JobError(i, f"job {i} {self.jobs[i]} failed: {message}") from e
                    record = {"job": i, "params": self.jobs[i], "error": message}
                text = _write_json_atomic(self._result_path(i), record)
                record = json.loads(text)  # what a resumed run will read back
            results.append(record.get("result"))
        return results

    def status(self):
        """``{"total": jobs, "done": with results, "failed": with recorded errors,
        "missing": [indices of jobs with neither]}``."""
        done, failed, missing = 0, 0, []
        for i in range(len(self.jobs)):
            record = self._load(i)
            if record is None:
                missing.append(i)
            elif "error" in record:
                failed += 1
            else:
                done += 1
        return {"total": len(self.jobs), "done": done, "failed": failed, "missing": missing}

    def merge(self, allow_missing=False):
        """One row per saved job, in job order: ``{"job": index, **params, **result}``.

        Failed jobs (``on_error="record"``) give rows with their parameters and an ``"error"``
        message; if any job failed, every row has an ``"error"`` key (None where it succeeded).
        Jobs with no saved record raise ValueError, or with ``allow_missing=True`` are left out.
        """
        rows, missing = [], []
        for i in range(len(self.jobs)):
            record = self._load(i)
            if record is None:
                missing.append(i)
                continue
            row = {"job": i, **record["params"]}
            if "error" in record:
                row["error"] = record["error"]
            else:
                row.update(record["result"])
            rows.append(row)
        if missing and not allow_missing:
            shown = ", ".join(map(str, missing[:20])) + (", ..." if len(missing) > 20 else "")
            raise ValueError(
                f"{self.directory}: {len(missing)} of {len(self.jobs)} jobs have no result "
                f"(jobs {shown}); run them, or merge with allow_missing=True"
            )
        if any("error" in row for row in rows):
            for row in rows:
                row.setdefault("error", None)
        return rows

    def write_csv(self, path, allow_missing=False):
        """Write :meth:`merge`'s table to ``path`` (a file name or an open text file).

        Columns are the union of the rows' keys in first-seen order; list and dict values are
        written as JSON text, missing values as empty cells. Floats are written with ``repr``,
        so they read back exactly."""
        rows = self.merge(allow_missing=allow_missing)
        columns = list(dict.fromkeys(key for row in rows for key in row))

        def cell(value):
            return json.dumps(value) if isinstance(value, (list, dict)) else value

        def write(f):
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({key: cell(value) for key, value in row.items()})

        if hasattr(path, "write"):
            write(path)
        else:
            with open(path, "w", newline="") as f:
                write(f)
