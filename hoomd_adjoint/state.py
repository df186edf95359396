"""Simulation state: particle arrays in tag order, the box, and conversions to GSD frames.

A snapshot is validated completely (and converted to the engine's dtypes) before anything is
written to the engine: a rejected snapshot leaves the state exactly as it was.
"""

import numbers

import numpy as np
import gsd.hoomd

from . import _core
from .box import Box

from ._checks import INT32_MAX, INT32_MIN, UINT32_MAX, UINT64_MAX  # noqa: F401
from ._checks import boolean as _boolean, describe as _describe, integer as _integer, real as _real  # noqa: F401
from ._checks import name_list

# snapshot field -> (C++ array, per-particle width, default value, the engine's dtype)
_FIELDS = {
    "position": ("position", 3, 0.0, np.float64),
    "velocity": ("velocity", 3, 0.0, np.float64),
    "image": ("image", 3, 0, np.int32),
    "typeid": ("typeid", 1, 0, np.uint32),
    "mass": ("mass", 1, 1.0, np.float64),
    "charge": ("charge", 1, 0.0, np.float64),
    "diameter": ("diameter", 1, 1.0, np.float64),
    "body": ("body", 1, -1, np.int32),
    "orientation": ("orientation", 4, None, np.float64),
    "angmom": ("angmom", 4, 0.0, np.float64),
    "moment_inertia": ("moment_inertia", 3, 0.0, np.float64),
}


# -- snapshot validation -----------------------------------------------------------------------
class _Parsed:
    """A fully validated snapshot in the engine's dtypes (nothing here touches a State)."""

    __slots__ = ("N", "types", "box", "arrays", "step")


def _parse_types(where, types):
    if types is None:
        return ["A"]
    types = name_list(f"{where} particles.types", types, "type names")
    if len(types) == 0:
        raise ValueError(f"{where} particles.types is empty: a state needs at least one type name")
    for i, t in enumerate(types):
        if isinstance(t, bytes):
            try:
                t = types[i] = t.decode()
            except UnicodeDecodeError:
                raise ValueError(f"{where} particles.types[{i}] = {t!r} is not UTF-8 text") from None
        if not isinstance(t, str):
            raise TypeError(f"{where} particles.types[{i}] must be a str, got {_describe(t)}")
        types[i] = str(t)
        if types[i] == "":
            raise ValueError(f"{where} particles.types[{i}] is an empty type name: names must be non-empty")
    if len(set(types)) != len(types):
        dup = sorted({t for t in types if types.count(t) > 1})
        raise ValueError(f"{where} particles.types has duplicate names {dup}: {types}")
    return types


def _parse_box(where, conf):
    raw = getattr(conf, "box", None)
    if raw is None:
        raise ValueError(f"{where} has no configuration.box")
    try:
        box = Box.from_box(raw)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where} configuration.box: {e}") from None
    dims = getattr(conf, "dimensions", None)
    if dims is not None:
        dims = _integer(f"{where} configuration.dimensions", dims)
        if dims not in (2, 3):
            raise ValueError(f"{where} configuration.dimensions must be 2 or 3, got {dims}")
        if dims == 2 and not box.is2D:
            # GSD readers force Lz = 0 for 2D frames (HOOMD's GSDReader).
            box = Box(box.Lx, box.Ly, 0.0, box.xy)
    return box


def _int_rows_out_of(arr, lo, hi):
    """Indices of the rows of integer-valued ``arr`` holding a value outside [lo, hi]."""
    bad = (arr < lo) | (arr > hi)
    return np.flatnonzero(bad if bad.ndim == 1 else bad.any(axis=1))


def _parse_field(where, name, val, N, ntypes, types):
    _, width, _, dtype = _FIELDS[name]
    field = f"{where} particles.{name}"
    try:
        arr = np.asarray(val)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{field} is not a rectangular numeric array: {e}") from None
    if (
        arr.dtype.kind == "O"
        and arr.size
        and all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in arr.flat)
    ):
        arr = arr.astype(np.float64)  # e.g. Python ints beyond int64: range checks below name them
    if arr.dtype.kind == "b":
        raise TypeError(f"{field} has dtype bool; it needs numbers")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{field} has dtype {arr.dtype}; it needs real numbers")
    want = (N, width) if width > 1 else (N,)
    if N == 0 and arr.size == 0:
        arr = arr.reshape(want)  # an empty list is as good as an empty (0, 3) array
    if arr.shape != want:
        raise ValueError(f"{field} has shape {arr.shape}, expected {want} (particles.N = {N})")
    rows = arr.reshape(N, width)
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{field}: particle tag {i} has non-finite {name} {arr[i].tolist()}"
                + (f" (and {bad.size - 1} more)" if bad.size > 1 else "")
            )
    if dtype is np.float64:
        out = arr.astype(np.float64)
        if name == "mass":
            bad = np.flatnonzero(out < 0)
            if bad.size:
                i = int(bad[0])
                raise ValueError(f"{field}: particle tag {i} has mass {out[i]}; masses must be >= 0")
        if name == "moment_inertia":
            # a negative moment makes the rotational energy unbounded below (HOOMD-blue takes it)
            bad = np.flatnonzero((out < 0).any(axis=1))
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"{field}: particle tag {i} has moment_inertia {out[i].tolist()}; principal moments "
                    "must be >= 0 (0 freezes the rotation about that axis, as in HOOMD)"
                    + (f" (and {bad.size - 1} more particles)" if bad.size > 1 else "")
                )
        return out
    # integer fields
    if arr.dtype.kind == "f":
        bad = np.flatnonzero((rows != np.floor(rows)).any(axis=1))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{field}: particle tag {i} has non-integer {name} {arr[i].tolist()}")
    if name == "typeid":
        bad = _int_rows_out_of(arr, 0, ntypes - 1)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{field}: particle tag {i} has typeid {_num(arr[i])}, but there are only {ntypes} types {types}"
            )
    else:
        bad = _int_rows_out_of(arr, INT32_MIN, INT32_MAX)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{field}: particle tag {i} has {name} {_num(arr[i])}, outside the int32 range "
                f"[{INT32_MIN}, {INT32_MAX}]"
            )
    return arr.astype(dtype)


def _num(a):
    """A value or row for a message: ints as ints."""
    a = np.asarray(a)
    if a.dtype.kind == "f" and np.all(a == np.floor(a)) and np.all(np.abs(a) < 2**63):
        a = a.astype(np.int64)
    return a.tolist()


def _parse_snapshot(snapshot, where="snapshot"):
    """Validate every field of ``snapshot`` (a gsd.hoomd.Frame or anything shaped like a HOOMD
    Snapshot) and return it in the engine's dtypes, positions wrapped into the box."""
    p = getattr(snapshot, "particles", None)
    c = getattr(snapshot, "configuration", None)
    if p is None or c is None:
        raise TypeError(
            f"{where} must be a gsd.hoomd.Frame (or a HOOMD Snapshot) with .particles and "
            f".configuration, got {type(snapshot).__name__}"
        )
    out = _Parsed()
    out.box = _parse_box(where, c)
    out.types = types = _parse_types(where, getattr(p, "types", None))
    n = getattr(p, "N", None)
    out.N = N = 0 if n is None else _integer(f"{where} particles.N", n, 0, UINT32_MAX)
    out.arrays = {}
    for name in _FIELDS:
        val = getattr(p, name, None)
        if val is None:
            continue
        out.arrays[name] = _parse_field(where, name, val, N, len(types), types)
    if N > 1 and "position" not in out.arrays:
        # (a lone particle without a position is at the origin: gsd stores no all-zero chunk)
        raise ValueError(
            f"{where} has no particles.position for its N = {N} particles: all of them would sit "
            "on top of each other at the origin"
        )
    pos = out.arrays.get("position")
    if pos is not None and out.box.is2D:
        nz = np.flatnonzero(pos[:, 2] != 0)
        if nz.size:
            i = int(nz[0])
            raise ValueError(
                f"{where} particles.position: 2D box (Lz = 0) but particle tag {i} has z = {pos[i, 2]}; "
                "2D positions need z = 0"
            )
    if pos is not None and N > 0:
        img = out.arrays.get("image")
        img = np.zeros((N, 3), np.int32) if img is None else img
        out.arrays["position"], out.arrays["image"] = _wrapped(where, out.box, pos, img)
    out.step = None
    step = getattr(c, "step", None)
    if step is not None:
        out.step = _integer(f"{where} configuration.step", step, 0, UINT64_MAX)
    return out


def _wrapped(where, box, pos, img):
    """Positions moved into the primary image and the images that keep ``pos + img . a`` (the
    unwrapped positions) unchanged; points far outside are allowed while the image counters fit
    in int32 (beyond, the unwrapped position could not be kept: a ValueError names the particle)."""
    pos = pos.copy()
    img = img.astype(np.int64)
    M = box.to_matrix()
    if box.is2D:
        M = M.copy()
        M[2, 2] = 1.0
    frac = _fractions(M, pos) + 0.5
    shift = np.floor(frac)
    if box.is2D:
        shift[:, 2] = 0
    total = img + shift  # float64: exact where it matters, and never wraps around
    bad = np.flatnonzero(((total < INT32_MIN) | (total > INT32_MAX)).any(axis=1))
    if bad.size:
        i = int(bad[0])
        k = int(np.flatnonzero((total[i] < INT32_MIN) | (total[i] > INT32_MAX))[0])
        raise ValueError(
            f"{where} particles.position: particle tag {i} at position {pos[i].tolist()} lies {shift[i, k]:.6g} "
            f"box lengths outside the box along lattice vector a{k + 1}: its image counter would be "
            f"{total[i, k]:.6g}, beyond the int32 range [{INT32_MIN}, {INT32_MAX}]"
            + (f" (and {bad.size - 1} more particles)" if bad.size > 1 else "")
        )
    if np.any(shift):
        n = shift.astype(np.int64)
        pos -= _lattice_vectors(M, n)
        img += n
    # floating-point edges: a point that lands exactly on the upper face (or, after a large shift,
    # a rounding error outside a face) moves one more image; a few passes settle every point
    for _ in range(4):
        frac = _fractions(M, pos) + 0.5
        edge = np.floor(frac)
        if box.is2D:
            edge[:, 2] = 0
        if not np.any(edge):
            break
        n = edge.astype(np.int64)
        pos -= _lattice_vectors(M, n)
        img += n
    bad = np.flatnonzero(((img < INT32_MIN) | (img > INT32_MAX)).any(axis=1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{where} particles.image: particle tag {i}: its image counter {img[i].tolist()} is "
            f"beyond the int32 range [{INT32_MIN}, {INT32_MAX}]"
        )
    return pos, img.astype(np.int32)


class State:
    """The particles and box of a Simulation (hoomd.State).

    Arrays are in tag order. Read them with :meth:`get_snapshot`; write with :meth:`set_snapshot`.
    """

    def __init__(self, simulation, frame, where="snapshot"):
        parsed = frame if isinstance(frame, _Parsed) else _parse_snapshot(frame, where)
        self._simulation = simulation
        self._cpp = _core.System()
        self._types = list(parsed.types)
        self._apply(parsed)

    # -- snapshot I/O ------------------------------------------------------------------------
    def _apply(self, parsed):
        """Write a validated snapshot into the engine (nothing here can fail on the data)."""
        self._cpp.resize(parsed.N, len(parsed.types))
        self._cpp.set_box(parsed.box.to_list())
        for name, arr in parsed.arrays.items():
            getattr(self._cpp, _FIELDS[name][0])[...] = arr
        self._types = list(parsed.types)
        self._box = parsed.box
        self._cpp.accel_set = False  # HOOMD: touching the snapshot clears is_accel_set
        if self._simulation is not None:
            self._simulation._state_changed()

    def get_snapshot(self):
        """A :class:`gsd.hoomd.Frame` holding a float64 copy of the state, in tag order."""
        from .snapshot import Snapshot

        sim = self._simulation
        f = Snapshot(sim.device.communicator if sim is not None else None)
        f.particles = gsd.hoomd.ParticleData()  # (filled below; N does not reallocate them)
        f.configuration.step = sim.timestep if sim is not None else 0
        f.configuration.box = list(self._box.to_list())
        f.configuration.dimensions = self._box.dimensions
        p = f.particles
        p.N = self.N_particles
        p.types = list(self._types)
        for name, (attr, _, _, _) in _FIELDS.items():
            setattr(p, name, np.array(getattr(self._cpp, attr)))
        return f

    def set_snapshot(self, snapshot):
        """Replace the particle data and the box; the type names must be unchanged (the timestep
        is not: ``configuration.step`` is ignored). Forces are recomputed.

        All or nothing: the snapshot is validated in full first, and a rejected one (ValueError,
        TypeError) leaves the state exactly as it was.
        """
        parsed = _parse_snapshot(snapshot, "set_snapshot: snapshot")
        if parsed.types != self._types:
            raise ValueError(f"set_snapshot: type names {parsed.types} differ from the state's {self._types}")
        self._apply(parsed)

    @property
    def domain_decomposition(self):
        """(1, 1, 1): the embedded engine does not decompose the box (one rank per partition)."""
        return (1, 1, 1)

    @property
    def domain_decomposition_split_fractions(self):
        return ([], [], [])

    @property
    def cpu_local_snapshot(self):
        """The particle arrays in place, as a context manager (HOOMD-blue's local snapshot; one
        rank holds every particle, in tag order)."""
        from .snapshot import LocalSnapshot

        return LocalSnapshot(self)

    def thermalize_particle_momenta(self, filter, kT):
        """Velocities (and angular momenta) drawn from the Maxwell-Boltzmann distribution at kT
        (energy), as HOOMD-blue 4.8.2's ``State.thermalize_particle_momenta`` (to 1e-15): each
        selected particle's draws are keyed by the simulation's seed and timestep and counted by
        its tag; z is 0 in 2D; rigid bodies' constituents get zero velocity; each axis with a
        nonzero moment of inertia gets an angular momentum; then the selection's centre-of-mass
        momentum is removed (from free particles and body centres).
        """
        from .filter import ParticleFilter

        if not isinstance(filter, ParticleFilter):
            raise TypeError(
                f"thermalize_particle_momenta: filter must be a hoomd_adjoint.filter (e.g. filter.All()), "
                f"got {_describe(filter)}"
            )
        kT = _real("thermalize_particle_momenta: kT", kT, lo=0.0)
        tags = np.asarray(filter(self), dtype=np.uint32)
        mass = np.asarray(self._cpp.mass)[tags]
        if np.any(~(mass > 0)):
            bad = tags[~(mass > 0)]
            raise ValueError(
                f"thermalize_particle_momenta: particles need mass > 0; tag(s) {bad[:5].tolist()} have "
                f"{mass[~(mass > 0)][:5].tolist()}"
            )
        self._cpp.thermalize_momenta(tags.tolist(), kT)
        if self._simulation is not None:
            self._simulation._state_changed()

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
