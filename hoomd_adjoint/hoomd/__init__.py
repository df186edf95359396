"""Differentiate a HOOMD-blue script (issue 15, first part).

``twin(sim)`` reads a ``hoomd.Simulation`` as the user built it (state, seed, timestep, the
integrator's dt, methods and pair forces) and returns the embedded engine's simulation of the same
discrete map (trajectories agree with HOOMD-blue 4.8.2's to ~1e-15), refusing with a clear error
whatever it cannot reproduce. ``gradient(sim, steps, loss, wrt)`` differentiates the run on the
twin (``wrt`` names HOOMD-blue force objects) and then advances the HOOMD-blue simulation itself
by ``steps``, as ``sim.run(steps)`` would (its writers run), checking that both ended in the same
state. Needs HOOMD-blue (not a dependency of this package).
"""
from .bridge import Unsupported, gradient, twin

__all__ = ["Unsupported", "gradient", "twin"]
