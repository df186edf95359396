"""Shell disassembly by a designed rigid "spider" (the second seed; issue 12, in progress).

- :mod:`~hoomd_adjoint.spider.geometry`: octahedral and icosahedral shells of patchy rigid
  vertices, and the spider's body frame, in HOOMD's rigid-body convention.
"""
from . import geometry
from .geometry import Shell, SpiderBody, icosahedron, octahedron, spider_body

__all__ = ["geometry", "Shell", "SpiderBody", "octahedron", "icosahedron", "spider_body"]
