"""Self-assembly design workflows (the PNAS 2021 paper's first section).

- :mod:`hoomd_adjoint.apps.assembly.honeycomb`: honeycomb vs triangular assembly rates of 2D particles
  with the Rechtsman potential: replica curves of L_H and L_T, half-times and rates, and an
  RMSProp design loop (reverse, forward or truncated gradients) that saves and resumes.
"""

from . import honeycomb

__all__ = ["honeycomb"]
