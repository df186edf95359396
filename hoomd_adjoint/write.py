"""Writers (hoomd.write): GSD trajectories."""
import os

import gsd.hoomd

from .filter import All
from .trigger import as_trigger

# HOOMD's mode names -> gsd >= 3 mode names
_GSD_MODES = {"ab": "a", "wb": "w", "xb": "x"}

_CATEGORIES = {
    "property": ["position", "orientation"],
    "momentum": ["velocity", "angmom", "image"],
    "attribute": ["typeid", "mass", "charge", "diameter", "body", "moment_inertia"],
}


class Writer:
    trigger = None

    def _attach(self, simulation):
        self._simulation = simulation

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
        self.trigger = as_trigger(trigger)
        self.filename = os.fspath(filename)
        self.filter = filter if filter is not None else All()
        if mode not in ("ab", "wb", "xb"):
            raise ValueError(f"GSD mode must be 'ab', 'wb' or 'xb', got {mode!r}")
        self.mode = mode
        self.truncate = bool(truncate)
        dynamic = ["property"] if dynamic is None else list(dynamic)
        for d in dynamic:
            if d not in _CATEGORIES and not d.startswith("particles/"):
                raise ValueError(f"GSD dynamic: unknown category {d!r}; use {list(_CATEGORIES)} or 'particles/<field>'")
        self.dynamic = dynamic
        self._file = None
        self._nframes = 0

    def _dynamic_fields(self):
        out = set()
        for d in self.dynamic:
            out.update(_CATEGORIES.get(d, [d.split("/", 1)[-1]]))
        return out

    def _attach(self, simulation):
        super()._attach(simulation)
        if self._file is None:
            mode = self.mode
            if mode == "ab" and not os.path.exists(self.filename):
                mode = "wb"
            self._file = gsd.hoomd.open(self.filename, _GSD_MODES[mode])
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
            for name in ("velocity", "image", "typeid", "mass", "charge", "diameter", "body",
                         "moment_inertia", "angmom", "orientation", "position"):
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

    @staticmethod
    def write(state, filename, filter=None, mode="wb"):
        """Write the current state as a single frame."""
        tags = (filter or All())(state)
        frame = state._frame(None if len(tags) == state.N_particles else tags)
        with gsd.hoomd.open(os.fspath(filename), _GSD_MODES[mode]) as f:
            f.append(frame)
