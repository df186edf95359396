"""The papers' workflows, built on the library (imported only when used):

- :mod:`hoomd_adjoint.apps.assembly`: honeycomb vs triangular assembly rates of 2D particles
  (PNAS 2021, Figs. 1 and 2);
- :mod:`hoomd_adjoint.apps.clusters`: colloidal clusters of 7 Morse spheres: states, transition
  paths, Kramers rates, barrier and rate design, designability (PNAS 2021, Figs. 3 to 5);
- :mod:`hoomd_adjoint.apps.spider`: patchy rigid shells and a rigid "spider" that extracts one
  vertex and releases a cargo (the colloidal-reactions paper).

Until release 0.2 they also import under their old names (``hoomd_adjoint.assembly``, ...), with
a DeprecationWarning.
"""
