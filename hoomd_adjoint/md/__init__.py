"""Molecular dynamics: integrator, methods, pair forces, neighbour lists, constraints, computes
(hoomd.md)."""

from . import bar, compute, constrain, external, methods, nlist, pair
from .integrate import Integrator

__all__ = ["Integrator", "bar", "compute", "constrain", "external", "methods", "nlist", "pair"]
