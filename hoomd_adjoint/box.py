"""Periodic simulation box with HOOMD-blue's conventions (hoomd.Box)."""
import math

import numpy as np


class Box:
    """A triclinic periodic box centred on the origin.

    Lattice vectors: ``a1 = (Lx, 0, 0)``, ``a2 = (xy Ly, Ly, 0)``, ``a3 = (xz Lz, yz Lz, Lz)``.
    The box is two-dimensional iff ``Lz == 0`` (then ``xz`` and ``yz`` must be 0).
    Lengths are in simulation length units.
    """

    def __init__(self, Lx, Ly, Lz=0.0, xy=0.0, xz=0.0, yz=0.0):
        vals = [float(v) for v in (Lx, Ly, Lz, xy, xz, yz)]
        for name, v in zip(("Lx", "Ly", "Lz", "xy", "xz", "yz"), vals):
            if not math.isfinite(v):
                raise ValueError(f"box {name} must be finite, got {v}")
        if vals[0] <= 0 or vals[1] <= 0:
            raise ValueError(f"box Lx and Ly must be positive, got Lx={vals[0]}, Ly={vals[1]}")
        if vals[2] < 0:
            raise ValueError(f"box Lz must be >= 0 (0 means 2D), got {vals[2]}")
        if vals[2] == 0 and (vals[4] != 0 or vals[5] != 0):
            raise ValueError(f"a 2D box (Lz = 0) must have xz = yz = 0, got xz={vals[4]}, yz={vals[5]}")
        self.Lx, self.Ly, self.Lz, self.xy, self.xz, self.yz = vals

    @classmethod
    def from_box(cls, box):
        """Build from a Box, a ``[Lx, Ly, Lz, xy, xz, yz]`` sequence (2 to 6 values) or a freud box."""
        if isinstance(box, Box):
            return cls(*box.to_list())
        if hasattr(box, "Lx") and hasattr(box, "xy"):
            return cls(box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz)
        vals = [float(v) for v in np.asarray(box, dtype=np.float64).ravel()]
        if not 2 <= len(vals) <= 6:
            raise ValueError(f"a box needs 2 to 6 values [Lx, Ly, Lz, xy, xz, yz], got {vals}")
        return cls(*vals)

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
        """Volume (area in 2D)."""
        return self.Lx * self.Ly * (1.0 if self.is2D else self.Lz)

    def to_matrix(self):
        """Columns are the lattice vectors."""
        return np.array([[self.Lx, self.xy * self.Ly, self.xz * self.Lz],
                         [0.0, self.Ly, self.yz * self.Lz],
                         [0.0, 0.0, self.Lz]])

    def __eq__(self, other):
        return isinstance(other, Box) and self.to_list() == other.to_list()

    def __repr__(self):
        return "hoomd_adjoint.Box(Lx={}, Ly={}, Lz={}, xy={}, xz={}, yz={})".format(*self.to_list())
