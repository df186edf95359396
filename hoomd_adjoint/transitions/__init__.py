"""Transition states and rates between minima of a potential energy surface.

- :mod:`~hoomd_adjoint.transitions.geometry`: Kabsch alignment, rigid-body modes.
- :mod:`~hoomd_adjoint.transitions.neb`: :func:`neb`, the doubly nudged elastic band.
- :mod:`~hoomd_adjoint.transitions.kramers`: :func:`stationary` (Newton refinement of minima and
  saddles), :func:`kramers` (harmonic rates with zero modes projected out) and their exact
  gradients with respect to the potential's parameters.
"""

from . import geometry
from .geometry import align, kabsch, rmsd
from .neb import Band, neb

__all__ = ["geometry", "align", "kabsch", "rmsd", "Band", "neb"]
from .kramers import Point, Rate, kramers, point, stationary  # noqa: E402

__all__ += ["Point", "Rate", "kramers", "point", "stationary"]
