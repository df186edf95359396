"""Periodic simulation box with HOOMD-blue's conventions (hoomd.Box)."""

import math
import numbers

import numpy as np


class Box:
    """A triclinic periodic box centred on the origin.

    Lattice vectors: ``a1 = (Lx, 0, 0)``, ``a2 = (xy Ly, Ly, 0)``, ``a3 = (xz Lz, yz Lz, Lz)``.
    The box is two-dimensional iff ``Lz == 0`` (then ``xz`` and ``yz`` must be 0).
    Lengths are in simulation length units.
    """

    # Lengths the engine can hold: its plane distances take fourth powers of the lattice vectors'
    # components, which must neither overflow nor underflow.
    MIN_LENGTH = 1e-50
    MAX_LENGTH = 1e50
    # How far a lattice vector may lean, in units of the box length it leans along
    # (|xy Ly / Lx|, |xz Lz / Lx|, |yz Lz / Ly|): beyond, fractional coordinates lose so much to
    # cancellation that a wrapped particle no longer tests as inside the box.
    MAX_SKEW = 100.0

    def __init__(self, Lx, Ly, Lz=0.0, xy=0.0, xz=0.0, yz=0.0):
        vals = []
        for name, v in zip(("Lx", "Ly", "Lz", "xy", "xz", "yz"), (Lx, Ly, Lz, xy, xz, yz)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                raise TypeError(f"box {name} must be a number, got {v!r} ({type(v).__name__})")
            v = float(v)
            if not math.isfinite(v):
                raise ValueError(f"box {name} must be finite, got {v}")
            vals.append(v)
        if vals[0] <= 0 or vals[1] <= 0:
            raise ValueError(f"box Lx and Ly must be positive, got Lx={vals[0]}, Ly={vals[1]}")
        if vals[2] < 0:
            raise ValueError(f"box Lz must be >= 0 (0 means 2D), got {vals[2]}")
        for name, v in zip(("Lx", "Ly", "Lz"), vals[:3]):
            if v != 0 and not self.MIN_LENGTH <= v <= self.MAX_LENGTH:
                raise ValueError(
                    f"box {name} = {v} is outside the supported range [{self.MIN_LENGTH:g}, "
                    f"{self.MAX_LENGTH:g}]: box lengths must be positive and small enough that "
                    "products of them stay finite and nonzero in double precision"
                )
        if vals[2] == 0 and (vals[4] != 0 or vals[5] != 0):
            raise ValueError(f"a 2D box (Lz = 0) must have xz = yz = 0, got xz={vals[4]}, yz={vals[5]}")
        Lx, Ly, Lz, xy, xz, yz = vals
        for name, t, L, vec, axis, ref in (
            ("xy", xy, Ly, "a2", "x", Lx),
            ("xz", xz, Lz, "a3", "x", Lx),
            ("yz", yz, Lz, "a3", "y", Ly),
        ):
            skew = abs(t) * (L / ref)
            if skew > self.MAX_SKEW:
                raise ValueError(
                    f"box tilt factor {name} = {t} is too large: lattice vector {vec} leans {t * L:g} "
                    f"along {axis}, {skew:g} times L{axis} (at most {self.MAX_SKEW:g} times)"
                )
        self.Lx, self.Ly, self.Lz, self.xy, self.xz, self.yz = vals

    @classmethod
    def from_box(cls, box):
        """Build from a Box, a ``[Lx, Ly, Lz, xy, xz, yz]`` sequence (2 to 6 values) or a freud box."""
        if isinstance(box, Box):
            return cls(*box.to_list())
        if hasattr(box, "Lx") and hasattr(box, "xy"):
            return cls(box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz)
        if isinstance(box, (str, bytes, dict)):
            raise TypeError(f"a box must be a Box or a sequence [Lx, Ly, Lz, xy, xz, yz], got {box!r}")
        if isinstance(box, (list, tuple)) and all(np.ndim(v) == 0 for v in box):
            # element by element: the constructor names an entry that is not a number (a bool, None)
            if not 2 <= len(box) <= 6:
                raise ValueError(f"a box needs 2 to 6 values [Lx, Ly, Lz, xy, xz, yz], got {list(box)}")
            return cls(*box)
        try:
            arr = np.asarray(box)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.ndim != 1 or arr.dtype.kind not in "iuf":
            raise TypeError(
                f"a box must be a Box or a flat sequence of 2 to 6 numbers [Lx, Ly, Lz, xy, xz, yz], got {box!r}"
            )
        if not 2 <= arr.size <= 6:
            raise ValueError(f"a box needs 2 to 6 values [Lx, Ly, Lz, xy, xz, yz], got {arr.tolist()}")
        return cls(*[float(v) for v in arr.astype(np.float64)])

    def to_list(self):
        return [self.Lx, self.Ly, self.Lz, self.xy, self.xz, self.yz]

    @property
    def is2D(self):
        return self.Lz == 0

    @property
    def dimensions(self):
        return 2 if self.is2D else 3

    @property
    def volume(self):
        """Volume (area in 2D). Setting it scales the lengths by one factor (tilts unchanged), as
        HOOMD-blue's ``Box.volume`` does."""
        return self.Lx * self.Ly * (1.0 if self.is2D else self.Lz)

    @volume.setter
    def volume(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not value > 0:
            raise ValueError(f"box volume must be a number > 0, got {value!r}")
        self.scale((float(value) / self.volume) ** (1 / self.dimensions))

    def scale(self, s):
        """Multiply the lengths by s (a number, or one per axis); returns the box."""
        f = np.broadcast_to(np.asarray(s, dtype=np.float64), (3,))
        new = Box(self.Lx * f[0], self.Ly * f[1], self.Lz * f[2], self.xy, self.xz, self.yz)
        self.Lx, self.Ly, self.Lz = new.Lx, new.Ly, new.Lz
        return self

    def to_matrix(self):
        """Columns are the lattice vectors."""
        return np.array(
            [[self.Lx, self.xy * self.Ly, self.xz * self.Lz], [0.0, self.Ly, self.yz * self.Lz], [0.0, 0.0, self.Lz]]
        )

    def __eq__(self, other):
        return isinstance(other, Box) and self.to_list() == other.to_list()

    def __repr__(self):
        return "hoomd_adjoint.Box(Lx={}, Ly={}, Lz={}, xy={}, xz={}, yz={})".format(*self.to_list())
