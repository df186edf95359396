"""External potentials (hoomd.md.external)."""

from . import field, wall

__all__ = ["field", "wall"]
