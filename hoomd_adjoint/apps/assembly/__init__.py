"""Self-assembly design workflows (the PNAS 2021 paper's first section).

- :mod:`hoomd_adjoint.apps.assembly.honeycomb`: honeycomb vs triangular assembly rates of 2D particles
  with the Rechtsman potential: replica curves of L_H and L_T, half-times and rates, and an
  RMSProp design loop (reverse, forward or truncated gradients) that saves and resumes.

- :mod:`hoomd_adjoint.apps.assembly.ratio_line`: the rate ratio k_H/k_T designed by a regression line
  search along a gradient direction (measured points pooled by a weighted fit; one scan for every target).
"""

from . import honeycomb, ratio_line

__all__ = ["honeycomb", "ratio_line"]
