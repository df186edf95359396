"""External potentials (hoomd.md.external)."""

from . import field

__all__ = ["field"]
