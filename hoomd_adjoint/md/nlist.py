"""Neighbour lists (hoomd.md.nlist)."""

from ..logging import Loggables
from .. import _core
from .._checks import name_list
from ..typeparam import INT32_MAX, as_bool, as_int, as_real, show

_EXCLUSIONS = {"bond", "angle", "dihedral", "constraint", "special_pair", "body", "1-3", "1-4", "meshbond"}


def _check_delay(value):
    return as_int("nlist rebuild_check_delay", value, lo=0, hi=INT32_MAX, hi_text="2^31 - 1")


class Cell:
    """Cell-list neighbour list with a skin (``buffer``, length units).

    Pairs within ``r_cut + buffer`` are listed; the list is rebuilt when any particle has moved
    ``buffer / 2`` since the last build (checked every ``rebuild_check_delay`` steps), so pair
    forces never depend on the buffer. Of the exclusions only ``'body'`` has an effect (the engine
    has no bonds): pairs within one rigid body are not listed; rigid bodies need it.
    """

    def __init__(self, buffer, exclusions=("bond",), rebuild_check_delay=1, check_dist=True):
        buffer = as_real("nlist buffer", buffer, lo=0.0)
        rebuild_check_delay = _check_delay(rebuild_check_delay)
        check_dist = as_bool("nlist check_dist", check_dist)
        self._simulation = None  # the simulation whose forces use this list (set on attach)
        self._cpp = _core.NeighborList(buffer)
        self.exclusions = exclusions
        self.rebuild_check_delay = rebuild_check_delay
        self.check_dist = check_dist

    @property
    def exclusions(self):
        """Excluded pair kinds (a tuple of names); ``'body'`` excludes pairs within a rigid body."""
        return self._exclusions

    @exclusions.setter
    def exclusions(self, value):
        value = tuple(name_list("nlist exclusions", value, "names such as ['bond']"))
        for e in value:
            if not isinstance(e, str):
                raise TypeError(f"nlist exclusions must be strings, got {show(e)} ({type(e).__name__})")
            if e not in _EXCLUSIONS:
                raise ValueError(f"unknown nlist exclusion {e!r}; choose from {sorted(_EXCLUSIONS)}")
        self._exclusions = value
        self._cpp.filter_body = "body" in value

    @property
    def buffer(self):
        """Skin width (length units): finite and >= 0."""
        return self._cpp.buffer

    @buffer.setter
    def buffer(self, value):
        self._cpp.buffer = as_real("nlist buffer", value, lo=0.0)

    @property
    def rebuild_check_delay(self):
        """Steps between checks for a rebuild: an integer in 0..2^31 - 1."""
        return self._cpp.rebuild_check_delay

    @rebuild_check_delay.setter
    def rebuild_check_delay(self, value):
        self._cpp.rebuild_check_delay = _check_delay(value)

    @property
    def check_dist(self):
        return self._cpp.check_dist

    @check_dist.setter
    def check_dist(self, value):
        self._cpp.check_dist = as_bool("nlist check_dist", value)

    loggables = Loggables()  # {quantity: category} (hoomd.logging)
    _loggables = dict(num_builds="scalar")
    _loggables_not_default = ("num_builds",)  # (HOOMD-blue's: a Logger(only_default=False) adds it)

    @property
    def num_builds(self):
        """How many times the list has been built."""
        return self._cpp.num_builds

    def __repr__(self):
        return (
            f"hoomd_adjoint.md.nlist.Cell(buffer={self.buffer}, exclusions={list(self.exclusions)}, "
            f"rebuild_check_delay={self.rebuild_check_delay}, check_dist={self.check_dist})"
        )


class Tree(Cell):
    """HOOMD-blue's bounding-volume-hierarchy list (``hoomd.md.nlist.Tree``), for systems whose
    cut-offs differ widely. It lists the same pairs as :class:`Cell`, and the engine sums every
    particle's pairs in tag order whatever built the list, so here it is the cell list under
    HOOMD-blue's name: the same arguments, the same forces (HOOMD-blue's Tree and Cell differ only
    in the order of their sums, ~1e-15)."""

    def __repr__(self):
        return super().__repr__().replace("nlist.Cell(", "nlist.Tree(", 1)
