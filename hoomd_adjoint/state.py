"""Simulation state: particle arrays in tag order, the box, and conversions to GSD frames."""
import numpy as np
import gsd.hoomd

from . import _core
from .box import Box

# snapshot field -> (C++ array, per-particle width, default value)
_FIELDS = {
    "position": ("position", 3, 0.0),
    "velocity": ("velocity", 3, 0.0),
    "image": ("image", 3, 0),
    "typeid": ("typeid", 1, 0),
    "mass": ("mass", 1, 1.0),
    "charge": ("charge", 1, 0.0),
    "diameter": ("diameter", 1, 1.0),
    "body": ("body", 1, -1),
    "orientation": ("orientation", 4, None),
    "angmom": ("angmom", 4, 0.0),
    "moment_inertia": ("moment_inertia", 3, 0.0),
}


class State:
    """The particles and box of a Simulation (hoomd.State).

    Arrays are in tag order. Read them with :meth:`get_snapshot`; write with :meth:`set_snapshot`.
    """

    def __init__(self, simulation, frame):
        self._simulation = simulation
        self._cpp = _core.System()
        self._load(frame, first=True)

    # -- snapshot I/O ------------------------------------------------------------------------
    def _load(self, frame, first):
        p, c = frame.particles, frame.configuration
        if c.box is None:
            raise ValueError("snapshot has no configuration.box")
        box = Box.from_box(c.box)
        dims = int(c.dimensions) if getattr(c, "dimensions", None) is not None else box.dimensions
        if dims == 2 and not box.is2D:
            # GSD readers force Lz = 0 for 2D frames (HOOMD's GSDReader).
            box = Box(box.Lx, box.Ly, 0.0, box.xy)
        N = int(p.N)
        types = list(p.types) if p.types is not None else ["A"]
        if len(types) == 0:
            raise ValueError("snapshot particles.types is empty")
        if len(set(types)) != len(types):
            raise ValueError(f"snapshot particles.types has duplicate names: {types}")
        if not first:
            if types != self._types:
                raise ValueError(f"set_snapshot: type names {types} differ from the state's {self._types}")
        self._types = types
        self._box = box
        self._cpp.resize(N, len(types))
        self._cpp.set_box(box.to_list())
        for name, (attr, width, _) in _FIELDS.items():
            val = getattr(p, name, None)
            if val is None:
                continue
            arr = np.asarray(val)
            want = (N, width) if width > 1 else (N,)
            if arr.shape != want:
                raise ValueError(f"snapshot particles.{name} has shape {arr.shape}, expected {want}")
            dst = getattr(self._cpp, attr)
            if name == "typeid":
                arr = arr.astype(np.int64)
                bad = np.flatnonzero((arr < 0) | (arr >= len(types)))
                if bad.size:
                    raise ValueError(f"particle tag {bad[0]} has typeid {arr[bad[0]]}, but there are only "
                                     f"{len(types)} types {types}")
            elif np.issubdtype(arr.dtype, np.floating):
                bad = np.flatnonzero(~np.isfinite(arr).reshape(N, -1).all(axis=1))
                if bad.size:
                    raise ValueError(f"particle tag {bad[0]} has non-finite {name} {arr[bad[0]].tolist()}"
                                     + (f" (and {bad.size - 1} more)" if bad.size > 1 else ""))
            dst[...] = arr
        pos = self._cpp.position
        if box.is2D and np.any(pos[:, 2] != 0):
            i = int(np.flatnonzero(pos[:, 2] != 0)[0])
            raise ValueError(f"2D box (Lz = 0) but particle tag {i} has z = {pos[i, 2]}; 2D positions need z = 0")
        self._wrap_into_box()
        self._cpp.accel_set = False  # HOOMD: touching the snapshot clears is_accel_set
        if self._simulation is not None:
            self._simulation._state_changed()

    def _wrap_into_box(self):
        """Move positions into the primary image, updating images (points far outside are allowed)."""
        pos, img = self._cpp.position, self._cpp.image
        M = self._box.to_matrix()
        if self._box.is2D:
            M = M.copy()
            M[2, 2] = 1.0
        frac = _fractions(M, pos) + 0.5
        shift = np.floor(frac).astype(np.int64)
        if self._box.is2D:
            shift[:, 2] = 0
        if np.any(shift):
            pos -= _lattice_vectors(M, shift)
            img += shift.astype(np.int32)
            # floating-point edge: a point that lands exactly on the upper face
            frac = _fractions(M, pos) + 0.5
            edge = frac >= 1.0
            if self._box.is2D:
                edge[:, 2] = False
            if np.any(edge):
                pos -= _lattice_vectors(M, edge.astype(np.int64))
                img += edge.astype(np.int32)

    def get_snapshot(self):
        """A :class:`gsd.hoomd.Frame` holding a float64 copy of the state, in tag order."""
        f = gsd.hoomd.Frame()
        f.configuration.step = self._simulation.timestep if self._simulation is not None else 0
        f.configuration.box = list(self._box.to_list())
        f.configuration.dimensions = self._box.dimensions
        p = f.particles
        p.N = self.N_particles
        p.types = list(self._types)
        for name, (attr, _, _) in _FIELDS.items():
            setattr(p, name, np.array(getattr(self._cpp, attr)))
        return f

    def set_snapshot(self, snapshot):
        """Replace the particle data; the type names must be unchanged. Forces are recomputed."""
        self._load(snapshot, first=False)

    # -- properties --------------------------------------------------------------------------
    @property
    def N_particles(self):
        return self._cpp.N

    @property
    def particle_types(self):
        return list(self._types)

    @property
    def types(self):
        return {"particle_types": self.particle_types}

    @property
    def box(self):
        return Box.from_box(self._box)

    @property
    def dimensions(self):
        return self._box.dimensions

    def _frame(self, tags=None, fields=None):
        """A float32 GSD frame of the selected tags, as HOOMD's GSD writer stores it."""
        f = gsd.hoomd.Frame()
        f.configuration.step = self._simulation.timestep
        f.configuration.box = np.array(self._box.to_list(), dtype=np.float32)
        f.configuration.dimensions = self._box.dimensions
        sel = slice(None) if tags is None else tags
        p = f.particles
        p.N = self.N_particles if tags is None else len(tags)
        p.types = list(self._types)
        for name in fields or _FIELDS:
            attr = _FIELDS[name][0]
            a = np.asarray(getattr(self._cpp, attr))[sel]
            if name == "image" and self._box.is2D:
                a = a.copy()
                a[:, 2] = 0
            if np.issubdtype(a.dtype, np.floating):
                a = a.astype(np.float32)
            elif name == "typeid":
                a = a.astype(np.uint32)
            else:
                a = a.astype(np.int32)
            setattr(p, name, a)
        return f


# The box matrix is upper triangular: back substitution and explicit sums instead of
# np.linalg.solve and matmul, which would wake OpenBLAS's threads; they spin for a while after
# each call and take cores from the replicas of an ensemble that are starting up.
def _fractions(M, pos):
    """Solve M f = r for every row r of pos (M upper triangular, columns the lattice vectors)."""
    fz = pos[:, 2] / M[2, 2]
    fy = (pos[:, 1] - M[1, 2] * fz) / M[1, 1]
    fx = (pos[:, 0] - M[0, 1] * fy - M[0, 2] * fz) / M[0, 0]
    return np.stack([fx, fy, fz], axis=1)


def _lattice_vectors(M, n):
    """Rows n_k (integers) -> sum_k n_k a_k, the lattice vectors a_k being M's columns."""
    return n[:, 0:1] * M[:, 0] + n[:, 1:2] * M[:, 1] + n[:, 2:3] * M[:, 2]

