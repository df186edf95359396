"""hoomd-adjoint's HOOMD-blue component (``hoomd.adjoint``).

- :class:`Recorder`: copies the states the adjoint needs out of HOOMD-blue's particle data, in
  tag order, into arrays it is given, at the timesteps it is given. ``hoomd_adjoint.bridge.gradient``
  uses it when it is installed (otherwise a ``hoomd.custom.Action`` reading local snapshots).
- :mod:`.pair`: the embedded engine's pair potentials that HOOMD-blue lacks (``Rechtsman``, the
  honeycomb designer's potential, and ``SoftSphere``), evaluated by the same header code.

Build and install it against your HOOMD-blue with the ``component/`` CMake project of
hoomd-adjoint (docs/hoomd.md).
"""

from hoomd.adjoint import pair
from hoomd.adjoint.record import Recorder

__all__ = ["Recorder", "pair"]
