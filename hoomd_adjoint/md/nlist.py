"""Neighbour lists (hoomd.md.nlist)."""
from .. import _core

_EXCLUSIONS = {"bond", "angle", "dihedral", "constraint", "special_pair", "body", "1-3", "1-4", "meshbond"}


class Cell:
    """Cell-list neighbour list with a skin (``buffer``, length units).

    Pairs within ``r_cut + buffer`` are listed; the list is rebuilt when any particle has moved
    ``buffer / 2`` since the last build (checked every ``rebuild_check_delay`` steps), so pair
    forces never depend on the buffer. Exclusions name topology that the engine does not have
    yet (no bonds or bodies), so they change nothing for now.
    """

    def __init__(self, buffer, exclusions=("bond",), rebuild_check_delay=1, check_dist=True):
        buffer = float(buffer)
        if not buffer >= 0:
            raise ValueError(f"nlist buffer must be >= 0, got {buffer}")
        for e in exclusions:
            if e not in _EXCLUSIONS:
                raise ValueError(f"unknown nlist exclusion {e!r}; choose from {sorted(_EXCLUSIONS)}")
        self.exclusions = tuple(exclusions)
        self._cpp = _core.NeighborList(buffer)
        self.rebuild_check_delay = rebuild_check_delay
        self.check_dist = check_dist

    @property
    def buffer(self):
        return self._cpp.buffer

    @buffer.setter
    def buffer(self, value):
        value = float(value)
        if not value >= 0:
            raise ValueError(f"nlist buffer must be >= 0, got {value}")
        self._cpp.buffer = value

    @property
    def rebuild_check_delay(self):
        return self._cpp.rebuild_check_delay

    @rebuild_check_delay.setter
    def rebuild_check_delay(self, value):
        if int(value) < 0:
            raise ValueError(f"rebuild_check_delay must be >= 0, got {value}")
        self._cpp.rebuild_check_delay = int(value)

    @property
    def check_dist(self):
        return self._cpp.check_dist

    @check_dist.setter
    def check_dist(self, value):
        self._cpp.check_dist = bool(value)

    @property
    def num_builds(self):
        """How many times the list has been built."""
        return self._cpp.num_builds
