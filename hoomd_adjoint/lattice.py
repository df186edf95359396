"""Starting configurations: lattices and random packings as GSD frames."""
import math

import gsd.hoomd
import numpy as np


def _frame(pos, box, types=("A",), typeid=None):
    f = gsd.hoomd.Frame()
    f.configuration.box = [float(v) for v in box]
    f.particles.N = len(pos)
    f.particles.types = list(types)
    f.particles.typeid = np.zeros(len(pos), np.uint32) if typeid is None else np.asarray(typeid, np.uint32)
    f.particles.position = np.asarray(pos, dtype=np.float64)
    return f


def cubic(N, density, dimensions=3, jitter=0.0, seed=0):
    """N particles on a simple cubic (square in 2D) lattice at number density ``density``.

    The box is cubic (square) with side (N/density)^(1/d); the lattice has ceil(N^(1/d)) sites
    per side and the first N sites are used. ``jitter`` adds uniform noise (length units).
    """
    d = int(dimensions)
    L = (N / density) ** (1.0 / d)
    n = math.ceil(N ** (1.0 / d) - 1e-9)
    a = L / n
    g = (np.arange(n) + 0.5) * a - L / 2
    grids = np.meshgrid(*([g] * d), indexing="ij")
    pos = np.zeros((n**d, 3))
    for k in range(d):
        pos[:, k] = grids[k].ravel()
    pos = pos[:N]
    if jitter:
        rng = np.random.default_rng(seed)
        pos[:, :d] += rng.uniform(-jitter, jitter, (N, d))
        pos[:, :d] = (pos[:, :d] + L / 2) % L - L / 2
    box = [L, L, 0.0 if d == 2 else L, 0, 0, 0]
    return _frame(pos, box)


def random_packing(N, density, dimensions=2, min_dist=0.9, seed=0, max_tries=1000000):
    """N points placed uniformly at random with all (periodic) distances >= ``min_dist``."""
    d = int(dimensions)
    L = (N / density) ** (1.0 / d)
    rng = np.random.default_rng(seed)
    pos = np.zeros((N, 3))
    n = 0
    for _ in range(max_tries):
        p = rng.uniform(-L / 2, L / 2, d)
        if n:
            dx = pos[:n, :d] - p
            dx -= L * np.round(dx / L)
            if np.min(np.einsum("ij,ij->i", dx, dx)) < min_dist**2:
                continue
        pos[n, :d] = p
        n += 1
        if n == N:
            return _frame(pos, [L, L, 0.0 if d == 2 else L, 0, 0, 0])
    raise RuntimeError(f"could not place {N} particles with min_dist {min_dist} at density {density}")
