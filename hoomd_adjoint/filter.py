"""Particle filters (hoomd.filter): select particles by tag."""
import numpy as np


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
    """Particles whose type name is in ``types``."""

    def __init__(self, types):
        self.types = [types] if isinstance(types, str) else list(types)

    def __call__(self, state):
        known = state.particle_types
        for t in self.types:
            if t not in known:
                raise ValueError(f"filter.Type: unknown type {t!r}; the state's types are {known}")
        ids = [known.index(t) for t in self.types]
        return np.flatnonzero(np.isin(state._cpp.typeid, ids)).astype(np.uint32)

    def __repr__(self):
        return f"Type({self.types})"


class Tags(ParticleFilter):
    """Particles with the given tags."""

    def __init__(self, tags):
        self.tags = np.unique(np.asarray(tags, dtype=np.int64))

    def __call__(self, state):
        bad = self.tags[(self.tags < 0) | (self.tags >= state.N_particles)]
        if bad.size:
            raise ValueError(f"filter.Tags: tags {bad[:10].tolist()} do not exist (N = {state.N_particles})")
        return self.tags.astype(np.uint32)

    def __repr__(self):
        return f"Tags({self.tags.tolist()})"
