"""Molecular dynamics: integrator, methods, pair forces, neighbour lists, constraints (hoomd.md)."""

from . import bar, constrain, methods, nlist, pair
from .integrate import Integrator

__all__ = ["Integrator", "bar", "constrain", "methods", "nlist", "pair"]
