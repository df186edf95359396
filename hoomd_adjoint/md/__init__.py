"""Molecular dynamics: integrator, methods, pair forces, neighbour lists, constraints (hoomd.md)."""
from . import constrain, methods, nlist, pair
from .integrate import Integrator

__all__ = ["Integrator", "constrain", "methods", "nlist", "pair"]
