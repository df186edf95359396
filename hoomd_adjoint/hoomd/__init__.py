"""Differentiate a HOOMD-blue script (docs/hoomd.md).

``gradient(sim, steps, loss, wrt)`` takes a ``hoomd.Simulation`` as the user built it, runs
``sim.run(steps)`` on HOOMD-blue itself (its writers write) while recording the states the
adjoint needs, and returns the exact gradient of that run (``wrt`` names HOOMD-blue force
objects). The backward pass runs on ``twin(sim)``, the embedded engine's simulation of the same
discrete map, read from the HOOMD-blue script; whatever it cannot reproduce is refused by name
(:class:`Unsupported`). ``hoomd.adjoint``, the C++ component (``component/``), records in place
and adds the embedded engine's pair potentials to HOOMD-blue; the bridge works without it.
Needs HOOMD-blue (not a dependency of this package).
"""
from .bridge import VERSION_CHANGES, HoomdForward, Unsupported, gradient, hoomd_version, twin

__all__ = ["VERSION_CHANGES", "HoomdForward", "Unsupported", "gradient", "hoomd_version", "twin"]
