"""Colloidal clusters (the PNAS 2021 paper's second and third sections): N = 7 distinguishable
Morse spheres whose 21 pair binding energies are the design parameters.

- :mod:`~hoomd_adjoint.apps.clusters.model`: :class:`Cluster`: energies and exact derivatives to
  third order from the engine's Morse evaluator; minimisation; engine MD runs.
- :mod:`~hoomd_adjoint.apps.clusters.packings`: rigid states by quenches, contact graphs, label-free
  packing keys and handedness.
- :mod:`~hoomd_adjoint.apps.clusters.paths`: bands, saddles and adjacency between states.
- :mod:`~hoomd_adjoint.apps.clusters.design`: barrier and Kramers-rate design (Eqs. 5-6).
- :mod:`~hoomd_adjoint.apps.clusters.kinetics`: rates measured by Brownian MD.
- :mod:`~hoomd_adjoint.apps.clusters.designability`: which transitions can be controlled together.
- :mod:`~hoomd_adjoint.apps.clusters.reproduce`: the paper's Figs. 3-5 as resumable sweeps.

The generic tools (DNEB, stationary points, Kramers rates) are in :mod:`hoomd_adjoint.transitions`.
"""

from . import designability, kinetics, packings, paths
from .model import Cluster, pairs, random_start

__all__ = ["Cluster", "pairs", "random_start", "packings", "paths", "kinetics", "designability"]
