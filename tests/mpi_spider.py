"""Run by test_spider_optimize under mpirun: a small spider optimisation across the ranks."""

import sys

from hoomd_adjoint.apps.spider import Optimization

Optimization(sys.argv[1], shell="octahedron", start="strong", replicas=3, steps=30).run(2, progress=False)
