"""Molecular dynamics: integrator, methods, pair forces, neighbour lists (hoomd.md)."""
from . import methods, nlist, pair
from .integrate import Integrator

__all__ = ["Integrator", "methods", "nlist", "pair"]
