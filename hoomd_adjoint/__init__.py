"""hoomd-adjoint: differentiable Brownian/Langevin molecular dynamics with HOOMD-blue semantics.

The embedded engine reproduces HOOMD-blue v4.8.2's discrete dynamics (update equations, random
number keying, box conventions, GSD frames) and its Python API::

    import hoomd_adjoint as ha
    sim = ha.Simulation(device=ha.device.CPU(), seed=7)
    sim.create_state_from_gsd("init.gsd")
    ...
"""

import os as _os

# OpenMP threads that wait at a barrier spin for a short while, then sleep (libgomp reads this
# once, when it loads). The default spin is long: while other processes keep the cores busy, a
# spinning thread burns the time slice its partner needs, and a step can take many times longer.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ.setdefault("GOMP_SPINCOUNT", "10000")

from . import _core  # noqa: E402,F401  (the engine, loaded before the modules that use it)
from . import (
    device,
    filter,
    trigger,
    variant,
    logging,
    custom,
    md,
    update,
    wall,
    write,
    adjoint,
    loss,
    communicator,
    sweep,
    order,
    optim,
)  # noqa: E402
from . import transitions  # noqa: E402
from . import _moved  # noqa: E402
from .transitions import neb, kramers  # noqa: E402
from .box import Box
from .simulation import Simulation
from .snapshot import Snapshot
from .ensemble import Ensemble, EnsembleGradient, Failure, ReplicaError, ReplicaWarning
from .errors import ChaoticHorizonWarning, DataAccessError, IncompleteSpecificationError

__version__ = "0.1.0"

__all__ = [
    "Box",
    "Simulation",
    "Snapshot",
    "Ensemble",
    "EnsembleGradient",
    "Failure",
    "ReplicaError",
    "ReplicaWarning",
    "device",
    "filter",
    "trigger",
    "variant",
    "logging",
    "custom",
    "update",
    "wall",
    "md",
    "write",
    "adjoint",
    "loss",
    "communicator",
    "sweep",
    "order",
    "optim",
    "transitions",
    "neb",
    "kramers",
    "DataAccessError",
    "IncompleteSpecificationError",
    "ChaoticHorizonWarning",
]

# The paper applications (hoomd_adjoint.apps) and the HOOMD-blue bridge load when first used;
# their old names (hoomd_adjoint.assembly, .clusters, .spider, .hoomd) still import, with a warning.
_moved.install()
_LAZY = ("apps", "bridge")


def __getattr__(name):
    import importlib

    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    new = _moved.new_name(f"{__name__}.{name}")
    if new is not None:
        _moved.warn(f"{__name__}.{name}", new)
        return importlib.import_module(new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
