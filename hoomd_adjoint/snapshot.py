"""Snapshots (hoomd.Snapshot): a gsd.hoomd.Frame whose particle arrays follow N, as HOOMD-blue's
do, so that ``snap.particles.N = 4; snap.particles.position[:] = ...`` works. Every
``create_state_from_snapshot`` and ``set_snapshot`` also takes a plain gsd.hoomd.Frame."""

import gsd.hoomd
import numpy as np

__all__ = ["LocalSnapshot", "Snapshot"]

# (field, shape after N, dtype, default) as HOOMD-blue's SnapshotParticleData allocates them
_FIELDS = (
    ("position", (3,), np.float64, 0.0),
    ("orientation", (4,), np.float64, None),
    ("typeid", (), np.uint32, 0),
    ("mass", (), np.float64, 1.0),
    ("charge", (), np.float64, 0.0),
    ("diameter", (), np.float64, 1.0),
    ("body", (), np.int32, -1),
    ("moment_inertia", (3,), np.float64, 0.0),
    ("velocity", (3,), np.float64, 0.0),
    ("angmom", (4,), np.float64, 0.0),
    ("image", (3,), np.int32, 0),
)


class _Particles(gsd.hoomd.ParticleData):
    """Particle data whose arrays are (re)allocated, at their defaults, when N is set."""

    @property
    def N(self):  # noqa: N802 (HOOMD-blue's name)
        return self._N

    @N.setter
    def N(self, value):  # noqa: N802
        n = int(value)
        if n < 0:
            raise ValueError(f"Snapshot particles.N must be >= 0, got {value}")
        self._N = n
        for name, shape, dtype, default in _FIELDS:
            arr = np.zeros((n,) + shape, dtype=dtype)
            if name == "orientation":
                arr[:, 0] = 1.0
            elif default:
                arr[...] = default
            setattr(self, name, arr)
        if getattr(self, "types", None) is None:
            self.types = []


class Snapshot(gsd.hoomd.Frame):
    """HOOMD-blue's Snapshot: particle arrays sized by ``particles.N``, a box, types.

    Args:
        communicator: accepted for HOOMD-blue scripts (one rank per partition here).
    """

    def __init__(self, communicator=None):
        super().__init__()
        self.particles = _Particles()
        self.communicator = communicator

    @classmethod
    def from_gsd_frame(cls, gsd_snap, communicator=None):
        """A Snapshot holding a copy of a gsd.hoomd.Frame."""
        s = cls(communicator)
        s.configuration.box = list(gsd_snap.configuration.box)
        s.configuration.step = gsd_snap.configuration.step
        s.configuration.dimensions = gsd_snap.configuration.dimensions
        p, q = gsd_snap.particles, s.particles
        q.N = int(p.N)
        q.types = list(p.types) if p.types is not None else []
        for name, _, dtype, _ in _FIELDS:
            v = getattr(p, name)
            if v is not None:
                setattr(q, name, np.array(v, dtype=dtype))
        return s


class _LocalParticles:
    """The engine's particle arrays, writable in place, in tag order (``tag[i] = i = rtag[i]``)."""

    _ARRAYS = {
        "position": "position",
        "velocity": "velocity",
        "acceleration": "acceleration",
        "image": "image",
        "typeid": "typeid",
        "mass": "mass",
        "charge": "charge",
        "diameter": "diameter",
        "body": "body",
        "orientation": "orientation",
        "angmom": "angmom",
        "moment_inertia": "moment_inertia",
        "net_force": "net_force",
        "net_torque": "net_torque",
        "net_energy": "net_energy",
    }

    def __init__(self, cpp):
        self._cpp = cpp
        self.tag = np.arange(cpp.N, dtype=np.uint32)
        self.rtag = self.tag
        self.N = cpp.N

    def __getattr__(self, name):
        if name in _LocalParticles._ARRAYS:
            return getattr(self._cpp, _LocalParticles._ARRAYS[name])
        raise AttributeError(f"local snapshot particles have no {name!r}; they have {sorted(_LocalParticles._ARRAYS)}")


class LocalSnapshot:
    """``with state.cpu_local_snapshot as snap:`` the particle arrays in place (HOOMD-blue's local
    snapshot on one rank: every particle is local). Writing them changes the state; keep
    positions inside the box."""

    def __init__(self, state):
        self._state = state

    def __enter__(self):
        self.particles = _LocalParticles(self._state._cpp)
        self.global_box = self.local_box = self._state.box
        return self

    def __exit__(self, *exc):
        self.particles = None
        return False
