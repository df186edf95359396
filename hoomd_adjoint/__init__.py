"""hoomd-adjoint: differentiable Brownian/Langevin molecular dynamics with HOOMD-blue semantics.

The embedded engine reproduces HOOMD-blue v4.8.2's discrete dynamics (update equations, random
number keying, box conventions, GSD frames) and its Python API::

    import hoomd_adjoint as ha
    sim = ha.Simulation(device=ha.device.CPU(), seed=7)
    sim.create_state_from_gsd("init.gsd")
    ...
"""
from . import _core, device, filter, trigger, variant, md, write, adjoint, loss
from .box import Box
from .simulation import Simulation
from .errors import DataAccessError, IncompleteSpecificationError

__version__ = "0.1.0"

__all__ = [
    "Box", "Simulation", "device", "filter", "trigger", "variant", "md", "write", "adjoint", "loss",
    "DataAccessError", "IncompleteSpecificationError",
]
