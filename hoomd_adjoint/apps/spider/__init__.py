"""Shell disassembly by a designed rigid "spider" (the colloidal-reactions paper, Krueger et al.).

- :mod:`~hoomd_adjoint.apps.spider.geometry`: octahedral and icosahedral shells of patchy rigid
  vertices, and the spider's body frame, in HOOMD's rigid-body convention.
- :mod:`~hoomd_adjoint.apps.spider.model`: the complex (shell + spider + cargo) as a simulation, and the
  eight design parameters.
- :mod:`~hoomd_adjoint.apps.spider.design`: L_extract + L_remain and their exact gradient.
- :mod:`~hoomd_adjoint.apps.spider.optimize`: Adam over replica batches, resumable.
- :mod:`~hoomd_adjoint.apps.spider.validate`: long runs under the strict test (extracted, intact,
  detached, cargo released).
- :mod:`~hoomd_adjoint.apps.spider.search`: a forward random search scored by that test.
- :mod:`~hoomd_adjoint.apps.spider.cli`: ``hoomd-adjoint spider ...``.
"""

from . import design, geometry, model, optimize
from .geometry import Shell, SpiderBody, icosahedron, octahedron, spider_body
from .model import Complex, Params
from .optimize import Optimization

__all__ = [
    "design",
    "geometry",
    "model",
    "optimize",
    "Complex",
    "Optimization",
    "Params",
    "Shell",
    "SpiderBody",
    "octahedron",
    "icosahedron",
    "spider_body",
]
