"""Writers (hoomd.write): GSD trajectories (with logged quantities) and text tables.

One writer per file: a GSD writer holds an exclusive lock (``flock``) on its file from opening
to closing, so a second writer (another MPI rank running the same script, another process,
another writer in this one) stops with an error before touching the file instead of
interleaving frames into it. New files get the mode ``open()`` gives (0666 less the umask), not
the GSD library's 0640.
"""

import gc
import math
import numbers
import os
import sys

try:
    import fcntl
except ImportError:  # no flock (Windows): one writer per file is then the script's care
    fcntl = None

import gsd.hoomd
import numpy as np

from .custom import _CustomOperation
from .filter import All
from .logging import Logger, LoggerCategories, flatten
from ._checks import name_list
from .state import _FIELDS, _boolean, _describe, _integer
from .trigger import Periodic, Trigger

# HOOMD's mode names -> gsd >= 3 mode names
_GSD_MODES = {"ab": "a", "wb": "w", "xb": "x"}

_CATEGORIES = {
    "property": ["position", "orientation"],
    "momentum": ["velocity", "angmom", "image"],
    "attribute": ["typeid", "mass", "charge", "diameter", "body", "moment_inertia"],
}
# HOOMD's other names: always written here (box, N) or nothing to write (no bonds)
_ALWAYS = ("configuration/box", "particles/N", "topology")


def _trigger(name, t):
    """A Trigger, or a period (an integer >= 1)."""
    if isinstance(t, Trigger):
        return t
    return Periodic(_integer(f"{name} (a Trigger or an integer period)", t, lo=1))


def _path(name, filename):
    try:
        path = os.fsdecode(os.fspath(filename))
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {_describe(filename)}") from None
    if path == "":
        raise ValueError(f"{name} is empty")
    return path


def _check_output(path, mode):
    """Raise now, naming the file, what opening ``path`` in ``mode`` would raise later."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"GSD filename {path!r} is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"GSD filename {path!r}: the directory {parent!r} does not exist")
    if mode == "xb" and os.path.exists(path):
        raise FileExistsError(f"GSD file {path!r} exists and mode is 'xb' (use 'wb' to overwrite, 'ab' to append)")
    _check_free(path)
    if mode == "ab" and os.path.isfile(path) and os.path.getsize(path) > 0:
        try:
            with gsd.hoomd.open(path, "r"):
                pass
        except Exception as e:
            raise ValueError(
                f"GSD file {path!r} exists but cannot be appended to: {e} (use mode 'wb' to overwrite it)"
            ) from None


def _in_use(path):
    return OSError(
        f"GSD file {path!r} is open for writing by another writer (another MPI rank, process or "
        "GSD writer); two writers would corrupt it. Under mpirun write from one rank, or give each "
        "rank its own file (e.g. with the rank in the name)"
    )


def _flock(f, path):
    """Take ``f``'s exclusive lock, or raise naming ``path``. A writer of a simulation that is no
    longer referenced may still hold it (simulations and their writers refer to each other, so
    only the cycle collector frees them): collect once before giving up."""
    for attempt in range(2):
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if attempt == 0:
                gc.collect()
        except OSError:  # a file system without locks (some network mounts): write unguarded
            return False
    raise _in_use(path)


def _check_free(path):
    """Raise now if another writer holds ``path``'s lock."""
    if fcntl is None or not os.path.isfile(path):
        return
    try:
        f = open(path, "rb")
    except OSError:
        return  # opening it to write will say why
    with f:
        if _flock(f, path):
            fcntl.flock(f, fcntl.LOCK_UN)


def _open(path, mode):
    """Lock ``path`` for this writer, then open it with gsd in HOOMD's ``mode``: returns
    (lock file, gsd file). The lock is taken before gsd truncates anything; a file created here
    gets 0666 less the umask, and gsd keeps that mode when it opens the file."""
    if mode == "ab" and not (os.path.isfile(path) and os.path.getsize(path) > 0):
        mode = "wb"  # nothing to append to
    created = not os.path.exists(path)
    try:
        lock = open(path, "xb" if mode == "xb" else "ab")  # creates the file as open() does
    except FileExistsError:
        raise FileExistsError(
            f"GSD file {path!r} exists and mode is 'xb' (use 'wb' to overwrite, 'ab' to append)"
        ) from None
    try:
        if fcntl is not None:
            _flock(lock, path)
        # 'x' is done: the lock file made it, exclusively
        return lock, gsd.hoomd.open(path, "a" if mode == "ab" else "w"), mode
    except BaseException:
        lock.close()
        if created:  # leave no empty file behind
            os.remove(path)
        raise


def _mode(name, mode):
    if not isinstance(mode, str):
        raise TypeError(f"{name} must be 'ab', 'wb' or 'xb', got {_describe(mode)}")
    if mode not in _GSD_MODES:
        raise ValueError(f"{name} must be 'ab', 'wb' or 'xb', got {mode!r}")
    return mode


class Writer:
    trigger = None

    def _attach(self, simulation):
        self._simulation = simulation

    def _check(self):
        """Validate before a run, before any writer opens its file."""

    def _write(self):
        raise NotImplementedError

    def _flush(self):
        pass


class GSD(Writer):
    """Write GSD frames on a trigger, as ``hoomd.write.GSD`` does.

    Frame 0 holds every field that is not at its default; later frames hold the fields of the
    ``dynamic`` categories (default ``['property']``: box, N, position, orientation). Use
    ``dynamic=['property', 'momentum']`` to store images and velocities in every frame. Each
    frame is flushed as soon as it is written, so an interrupted run leaves every complete frame
    readable. Positions are stored wrapped, as float32.

    Args:
        trigger: when to write (a Trigger or a period).
        filename: output path.
        filter: particles to write (ascending tags).
        mode: ``'ab'`` (append), ``'wb'`` (overwrite) or ``'xb'`` (fail if the file exists).
        truncate: keep only the newest frame.
        dynamic: categories written in every frame.
        logger: a :class:`hoomd_adjoint.logging.Logger` whose quantities are stored in every
            frame under ``log/`` (per-particle ones under ``log/particles/``), as HOOMD-blue
            stores them; ``object`` quantities are skipped.
    """

    def __init__(self, trigger, filename, filter=None, mode="ab", truncate=False, dynamic=None, logger=None):
        self.trigger = trigger
        self.filename = _path("GSD filename", filename)
        if filter is not None and not callable(filter):
            raise TypeError(f"GSD filter must be a particle filter (hoomd_adjoint.filter), got {_describe(filter)}")
        self.filter = filter if filter is not None else All()
        self.mode = _mode("GSD mode", mode)
        self.truncate = _boolean("GSD truncate", truncate)
        self.dynamic = self._parse_dynamic(dynamic)
        self.logger = logger
        _check_output(self.filename, self.mode)
        self._file = None
        self._lock = None
        self._nframes = 0

    @property
    def trigger(self):
        return self._trigger

    @trigger.setter
    def trigger(self, value):
        self._trigger = _trigger("GSD trigger", value)

    @property
    def logger(self):
        return self._logger

    @logger.setter
    def logger(self, value):
        if value is not None and not isinstance(value, Logger):
            raise TypeError(f"GSD logger must be a hoomd_adjoint.logging.Logger or None, got {_describe(value)}")
        self._logger = value

    @staticmethod
    def _parse_dynamic(dynamic):
        if dynamic is None:
            return ["property"]
        dynamic = name_list("GSD dynamic", dynamic, "categories")
        known = list(_CATEGORIES) + [f"particles/{f}" for f in _FIELDS] + list(_ALWAYS)
        for d in dynamic:
            if not isinstance(d, str):
                raise TypeError(f"GSD dynamic entries must be str, got {_describe(d)}")
            if d not in known:
                raise ValueError(
                    f"GSD dynamic: unknown category {d!r}; use {list(_CATEGORIES)} or "
                    f"'particles/<field>' with a field of {list(_FIELDS)}"
                )
        return dynamic

    def _dynamic_fields(self):
        out = set()
        for d in self.dynamic:
            if d in _ALWAYS:
                continue
            out.update(_CATEGORIES.get(d, [d.split("/", 1)[-1]]))
        return out

    def _check(self):
        if self._file is None:
            _check_output(self.filename, self.mode)

    def _attach(self, simulation):
        super()._attach(simulation)
        if self._file is None:
            self._lock, self._file, mode = _open(self.filename, self.mode)
            self._nframes = len(self._file) if mode == "ab" else 0
            if self.mode == "wb":
                self.mode = "ab"  # a second run appends rather than overwriting

    def _write(self):
        state = self._simulation.state
        tags = self.filter(state)
        sel = None if len(tags) == state.N_particles else tags
        frame = state._frame(sel)
        if self.truncate:
            self._file.close()
            self._file = gsd.hoomd.open(self.filename, "w")
            self._nframes = 0
        if self._nframes > 0:
            keep = self._dynamic_fields()
            for name in (
                "velocity",
                "image",
                "typeid",
                "mass",
                "charge",
                "diameter",
                "body",
                "moment_inertia",
                "angmom",
                "orientation",
                "position",
            ):
                if name not in keep:
                    setattr(frame.particles, name, None)
        if self._logger is not None:
            frame.log = _gsd_log(self._logger)
        self._file.append(frame)
        self._file.flush()
        self._nframes += 1

    def _flush(self):
        if self._file is not None:
            self._file.flush()

    def flush(self):
        """Write buffered frames to the file now (each frame is flushed when written anyway)."""
        self._flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    @staticmethod
    def write(state, filename, filter=None, mode="wb"):
        """Write the current state as a single frame."""
        from .state import State

        if not isinstance(state, State):
            raise TypeError(f"GSD.write state must be a hoomd_adjoint State (sim.state), got {_describe(state)}")
        path = _path("GSD.write filename", filename)
        mode = _mode("GSD.write mode", mode)
        if filter is not None and not callable(filter):
            raise TypeError(f"GSD.write filter must be a particle filter, got {_describe(filter)}")
        _check_output(path, mode)
        tags = (filter or All())(state)
        frame = state._frame(None if len(tags) == state.N_particles else tags)
        lock, f, _ = _open(path, mode)
        with lock, f:
            f.append(frame)


_PER = LoggerCategories.any(["angle", "bond", "constraint", "dihedral", "improper", "pair", "particle"])


def _gsd_log(logger):
    """A Logger's values as GSD log chunks (names without the ``log/`` gsd adds), as HOOMD-blue's
    GSD writer lays them out."""
    out = {}
    for key, (value, category) in flatten(logger.log()).items():
        cat = LoggerCategories[category]
        if cat == LoggerCategories.object or value is None:
            continue
        if cat in _PER:
            out["/".join((cat.name + "s",) + key)] = np.asarray(value)
        elif cat == LoggerCategories.string:
            out["/".join(key)] = np.frombuffer(value.encode() + b"\0", dtype=np.int8)
        elif cat == LoggerCategories.strings:
            enc = [v.encode() + b"\0" for v in value]
            width = max(len(e) for e in enc)
            out["/".join(key)] = np.array([list(e.ljust(width, b"\0")) for e in enc], dtype=np.int8)
        else:
            out["/".join(key)] = np.atleast_1d(np.asarray(value))
    return out


class Table(Writer):
    """Print logged scalars and strings as a table, one row per trigger (``hoomd.write.Table``).

    Args:
        trigger: when to write a row (a Trigger or a period).
        logger: a :class:`hoomd_adjoint.logging.Logger` with only the ``scalar`` and ``string``
            categories.
        output: a writable text stream (default: ``sys.stdout``).
        header_sep: between the levels of a column's name (default ``'.'``).
        delimiter: between columns (default ``' '``).
        pretty: fit numbers to the columns (default True); else full precision.
        max_precision: digits of a number (default 10); columns are at least
            ``max(10, max_precision + 6)`` wide.
        max_header_len: shorten column names to their last levels within this many characters
            (default None: whole names).

    The header is printed with the first row and again whenever the logged quantities change,
    and the output is flushed after each row. The layout is HOOMD-blue's.
    """

    def __init__(
        self,
        trigger,
        logger,
        output=None,
        header_sep=".",
        delimiter=" ",
        pretty=True,
        max_precision=10,
        max_header_len=None,
    ):
        self.trigger = trigger
        if not isinstance(logger, Logger):
            raise TypeError(f"Table logger must be a hoomd_adjoint.logging.Logger, got {_describe(logger)}")
        allowed = LoggerCategories.scalar | LoggerCategories.string
        if logger.categories & ~allowed != LoggerCategories.NONE and logger.categories != LoggerCategories.ALL:
            extra = [n for n in logger.string_categories if n not in ("scalar", "string")]
            raise ValueError(
                f"Table logger may only have the scalar and string categories, it has {extra}: "
                "use Logger(categories=['scalar', 'string']) (write.GSD stores the others)"
            )
        self.logger = logger
        self.output = sys.stdout if output is None else output
        if not hasattr(self.output, "write"):
            raise TypeError(f"Table output must be a writable text stream, got {_describe(self.output)}")
        for name, v in (("header_sep", header_sep), ("delimiter", delimiter)):
            if not isinstance(v, str):
                raise TypeError(f"Table {name} must be a str, got {_describe(v)}")
        self.header_sep, self.delimiter = header_sep, delimiter
        self.pretty = _boolean("Table pretty", pretty)
        self.max_precision = _integer("Table max_precision", max_precision, lo=1)
        self.max_header_len = None if max_header_len is None else _integer("Table max_header_len", max_header_len, lo=1)
        self.min_column_width = max(10, self.max_precision + 6)
        self._widths = {}

    @property
    def trigger(self):
        return self._trigger

    @trigger.setter
    def trigger(self, value):
        self._trigger = _trigger("Table trigger", value)

    def _write(self):
        row = {k: v for k, (v, cat) in flatten(self.logger.log()).items() if cat in ("scalar", "string")}
        if row.keys() != self._widths.keys():
            heads = {k: self._header(k) for k in row}
            self._widths = {k: max(len(h), self.min_column_width) for k, h in heads.items()}
            self.output.write(self.delimiter.join(_centred(heads[k], w) for k, w in self._widths.items()) + "\n")
        cells = (self._cell(row[k], w) for k, w in self._widths.items())
        self.output.write(self.delimiter.join(cells) + "\n")
        self.output.flush()

    def _header(self, key):
        if self.max_header_len is None:
            return self.header_sep.join(key)
        n, count = 1, len(key[-1])
        for part in reversed(key[:-1]):
            count += len(part)
            if count > self.max_header_len:
                break
            n += 1
        return self.header_sep.join(key[-n:])

    def _cell(self, value, width):
        if isinstance(value, str):
            if self.pretty and len(value) > width:
                value = value[-max(1, width - 2) :]
            return _centred(value, width)
        if isinstance(value, numbers.Integral):
            return f"{int(value):^{width}d}"
        value = float(value)
        digits = _digits_before_point(value) + 1  # the shortest fixed-point form, point included
        if not digits < 6 or digits > width:
            decimals = min(max(width - 6, 1), 5) if self.pretty else self.max_precision - 1
            return f"{value:^{width}.{decimals}e}"
        decimals = min(max(width - digits - 2, 1), 5) if self.pretty else max(self.max_precision - digits, 0)
        return f"{value:^{width}.{decimals}f}"


def _centred(text, width):
    return f"{text:^{width}}"


def _digits_before_point(x):
    """Characters up to the first significant digit, sign and point included (HOOMD-blue's count)."""
    if x == 0.0:
        return 1
    d = int(math.log10(abs(x)))
    d = 1 + d if d >= 0 else -d
    return d + (x < 0) + 1


class CustomWriter(_CustomOperation, Writer):
    """Run a :class:`hoomd_adjoint.custom.Action` at the steps ``trigger`` fires, after the step
    (``hoomd.write.CustomWriter``); the action should only read the state. Attributes not found
    here are the action's (``writer.my_loggable``)."""

    def __init__(self, trigger, action):
        self._check_action(action)
        self.trigger = trigger

    @property
    def trigger(self):
        return self._trigger

    @trigger.setter
    def trigger(self, value):
        self._trigger = _trigger("CustomWriter trigger", value)

    def _attach(self, simulation):
        first = getattr(self, "_simulation", None) is not simulation
        super()._attach(simulation)
        if first:
            self._action.attach(simulation)

    def _write(self):
        self._action.act(self._simulation.timestep)
