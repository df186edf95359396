"""Colloidal clusters (the PNAS 2021 seed's second and third sections): N = 7 distinguishable
Morse spheres whose 21 pair binding energies are the design parameters.

- :mod:`~hoomd_adjoint.clusters.model`: :class:`Cluster`, energies, forces, Hessians and
  parameter derivatives from the engine's Morse evaluator; local minimisation.
- :mod:`~hoomd_adjoint.clusters.packings`: rigid states by quenches from random starts, their
  contact graphs, label-free packing keys and handedness.

Paths between states: :func:`hoomd_adjoint.neb.neb`. Still to come (issue 11): adjacent states,
Kramers rates with exact gradients, the barrier/rate design and designability.
"""
from . import packings, paths
from .model import Cluster, pairs, random_start

__all__ = ["Cluster", "pairs", "random_start", "packings", "paths"]
