"""Particle filters (hoomd.filter): select particles by tag."""

import numbers

import numpy as np

from .typeparam import UINT32_MAX, UnknownTypeError, show


class ParticleFilter:
    def __call__(self, state):
        """Selected tags, ascending (uint32)."""
        raise NotImplementedError


class All(ParticleFilter):
    """Every particle."""

    def __call__(self, state):
        return np.arange(state.N_particles, dtype=np.uint32)

    def __repr__(self):
        return "All()"


class Type(ParticleFilter):
    """Particles whose type name is in ``types`` (a name or a list of names). A name that the state
    does not have raises :class:`~hoomd_adjoint.typeparam.UnknownTypeError` (a KeyError) when the
    filter is applied, i.e. at the first ``run()``."""

    def __init__(self, types):
        if isinstance(types, str):
            types = [types]
        elif isinstance(types, (list, tuple, set, frozenset, np.ndarray)):
            types = list(types)
        else:
            raise TypeError(
                f"filter.Type: types must be a type name or a list of them, got {show(types)} ({type(types).__name__})"
            )
        for t in types:
            if not isinstance(t, str):
                raise TypeError(f"filter.Type: type names must be strings, got {show(t)} ({type(t).__name__})")
        self.types = [str(t) for t in types]

    def __call__(self, state):
        known = state.particle_types
        for t in self.types:
            if t not in known:
                raise UnknownTypeError(f"filter.Type: unknown type {t!r}; the state's types are {known}")
        ids = [known.index(t) for t in self.types]
        return np.flatnonzero(np.isin(state._cpp.typeid, ids)).astype(np.uint32)

    def __repr__(self):
        return f"Type({self.types})"


def _tag_array(tags):
    """Tags as a sorted, duplicate-free int64 array; each an integer in 0..2^32 - 1."""
    if isinstance(tags, (str, bytes, dict)) or isinstance(tags, numbers.Number) or tags is None:
        raise TypeError(f"filter.Tags: tags must be a list of integers, got {show(tags)} ({type(tags).__name__})")
    try:
        arr = np.asarray(tags)
    except OverflowError:  # integers beyond int64: check them one by one
        arr = np.empty(len(tags), dtype=object)
        arr[:] = list(tags)
    except (TypeError, ValueError) as e:
        raise type(e)(f"filter.Tags: tags must be a flat list of integers, got {show(tags)}") from None
    if arr.ndim != 1:
        raise ValueError(f"filter.Tags: tags must be a flat list of integers, got an array of shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, np.int64)
    kind = arr.dtype.kind
    if kind == "O":
        for t in arr:
            if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Integral):
                raise TypeError(f"filter.Tags: tags must be integers, got {show(t)} ({type(t).__name__})")
        bad = [int(t) for t in arr if not 0 <= int(t) <= UINT32_MAX]
        if bad:
            raise ValueError(f"filter.Tags: tags must be in 0..2^32 - 1, got {bad[:10]}")
        return np.unique(np.array([int(t) for t in arr], dtype=np.int64))
    if kind == "f":
        frac = arr[~np.isfinite(arr) | (arr != np.floor(arr))]
        raise TypeError(f"filter.Tags: tags must be integers, got {(frac if frac.size else arr)[:10].tolist()}")
    if kind not in "iu":
        raise TypeError(f"filter.Tags: tags must be integers, got {show(tags)} (dtype {arr.dtype})")
    if kind == "u":
        bad = arr[arr > UINT32_MAX]
    else:
        bad = arr[(arr < 0) | (arr > UINT32_MAX)]
    if bad.size:
        raise ValueError(f"filter.Tags: tags must be in 0..2^32 - 1, got {bad[:10].tolist()}")
    return np.unique(arr.astype(np.int64))


class Tags(ParticleFilter):
    """Particles with the given tags (a list of integers in 0..2^32 - 1; duplicates are dropped).
    Tags beyond the state's particles raise a ValueError when the filter is applied."""

    def __init__(self, tags):
        self.tags = _tag_array(tags)

    def __call__(self, state):
        bad = self.tags[self.tags >= state.N_particles]
        if bad.size:
            raise ValueError(f"filter.Tags: tags {bad[:10].tolist()} do not exist (N = {state.N_particles})")
        return self.tags.astype(np.uint32)

    def __repr__(self):
        return f"Tags({self.tags.tolist()})"


class Rigid(ParticleFilter):
    """Particles by their rigid-body role (hoomd.filter.Rigid): ``flags`` is a subset of
    ("center", "constituent", "free"); centres have ``body == tag``, constituents another body's
    tag, free particles ``body == -1``."""

    _FLAGS = ("center", "constituent", "free")

    def __init__(self, flags=("center",)):
        flags = (flags,) if isinstance(flags, str) else tuple(flags)
        bad = [f for f in flags if f not in self._FLAGS]
        if bad or not flags:
            raise ValueError(f"filter.Rigid: flags must be a non-empty subset of {self._FLAGS}, got {flags!r}")
        self.flags = flags

    def __call__(self, state):
        body = np.asarray(state.get_snapshot().particles.body, dtype=np.int64)
        tags = np.arange(len(body))
        pick = np.zeros(len(body), dtype=bool)
        if "center" in self.flags:
            pick |= body == tags
        if "constituent" in self.flags:
            pick |= (body >= 0) & (body != tags)
        if "free" in self.flags:
            pick |= body < 0
        return np.flatnonzero(pick).astype(np.uint32)

    def __repr__(self):
        return f"Rigid({self.flags!r})"
