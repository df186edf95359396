"""Wall geometries (hoomd.wall) for md.external.wall potentials."""

import math

from .typeparam import as_bool, as_real, show

__all__ = ["Cylinder", "Plane", "Sphere", "WallGeometry"]


def _vec(what, value):
    try:
        v = [as_real(f"{what}[{k}]", x) for k, x in enumerate(value)]
    except TypeError:
        raise TypeError(f"{what} must be three numbers, got {show(value)}") from None
    if len(v) != 3:
        raise ValueError(f"{what} must be three numbers, got {len(v)}")
    return tuple(v)


class WallGeometry:
    """Base class of the wall geometries."""


class Plane(WallGeometry):
    """A plane through ``origin`` with normal ``normal`` (normalised, as HOOMD-blue does); the
    active side is the one the normal points to (and the plane itself when ``open``)."""

    def __init__(self, origin, normal, open=True):
        self.origin = _vec("Plane origin", origin)
        n = _vec("Plane normal", normal)
        norm2 = n[0] * n[0] + n[1] * n[1] + n[2] * n[2]
        if not norm2 > 0:
            raise ValueError(f"Plane normal must not be zero, got {normal}")
        inv = 1.0 / math.sqrt(norm2)  # (PlaneWall's rsqrt)
        self.normal = (n[0] * inv, n[1] * inv, n[2] * inv)
        self.open = as_bool("Plane open", open)

    def _engine(self):
        return (2, self.origin, self.normal, 0.0, True, self.open)

    def __repr__(self):
        return f"Plane(origin={self.origin}, normal={self.normal}, open={self.open})"


class Sphere(WallGeometry):
    """A sphere of ``radius`` about ``origin``; particles inside (``inside=True``) or outside."""

    def __init__(self, radius, origin=(0.0, 0.0, 0.0), inside=True, open=True):
        self.radius = as_real("Sphere radius", radius, lo=0.0)
        self.origin = _vec("Sphere origin", origin)
        self.inside = as_bool("Sphere inside", inside)
        self.open = as_bool("Sphere open", open)

    def _engine(self):
        return (0, self.origin, (0.0, 0.0, 1.0), self.radius, self.inside, self.open)

    def __repr__(self):
        return f"Sphere(radius={self.radius}, origin={self.origin}, inside={self.inside}, open={self.open})"


class Cylinder(WallGeometry):
    """An infinite cylinder of ``radius`` along ``axis`` through ``origin``; particles inside
    (``inside=True``) or outside."""

    def __init__(self, radius, axis, origin=(0.0, 0.0, 0.0), inside=True, open=True):
        self.radius = as_real("Cylinder radius", radius, lo=0.0)
        self.axis = _vec("Cylinder axis", axis)
        self.origin = _vec("Cylinder origin", origin)
        self.inside = as_bool("Cylinder inside", inside)
        self.open = as_bool("Cylinder open", open)

    def _engine(self):
        if not (self.axis[0] ** 2 + self.axis[1] ** 2 + self.axis[2] ** 2) > 0:
            raise ValueError(f"Cylinder axis must not be zero, got {self.axis}")
        return (1, self.origin, self.axis, self.radius, self.inside, self.open)

    def __repr__(self):
        return f"Cylinder(radius={self.radius}, axis={self.axis}, origin={self.origin}, inside={self.inside})"
