"""Writers (hoomd.write): GSD trajectories.

One writer per file: a GSD writer holds an exclusive lock (``flock``) on its file from opening
to closing, so a second writer (another MPI rank running the same script, another process,
another writer in this one) stops with an error before touching the file instead of
interleaving frames into it. New files get the mode ``open()`` gives (0666 less the umask), not
the GSD library's 0640.
"""

import gc
import os

try:
    import fcntl
except ImportError:  # no flock (Windows): one writer per file is then the script's care
    fcntl = None

import gsd.hoomd

from .filter import All
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
    """

    def __init__(self, trigger, filename, filter=None, mode="ab", truncate=False, dynamic=None):
        self.trigger = trigger
        self.filename = _path("GSD filename", filename)
        if filter is not None and not callable(filter):
            raise TypeError(f"GSD filter must be a particle filter (hoomd_adjoint.filter), got {_describe(filter)}")
        self.filter = filter if filter is not None else All()
        self.mode = _mode("GSD mode", mode)
        self.truncate = _boolean("GSD truncate", truncate)
        self.dynamic = self._parse_dynamic(dynamic)
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
        self._file.append(frame)
        self._file.flush()
        self._nframes += 1

    def _flush(self):
        if self._file is not None:
            self._file.flush()

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
