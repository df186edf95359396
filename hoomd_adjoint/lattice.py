"""Starting configurations: lattices and random packings as GSD frames."""

import itertools
import math

import gsd.hoomd
import numpy as np

from .box import Box
from .state import UINT32_MAX, _integer, _real

# Packing fractions of equal disks (2D) and spheres (3D) beyond which random sequential addition
# cannot place another particle: its jamming limits (about 0.547 and 0.384).
_RSA_JAMMING = {2: 0.547, 3: 0.3841}


def _frame(pos, box, types=("A",), typeid=None):
    f = gsd.hoomd.Frame()
    f.configuration.box = [float(v) for v in box]
    f.particles.N = len(pos)
    f.particles.types = list(types)
    f.particles.typeid = np.zeros(len(pos), np.uint32) if typeid is None else np.asarray(typeid, np.uint32)
    f.particles.position = np.asarray(pos, dtype=np.float64)
    return f


def _side(fn, N, density, d):
    """The box side (N/density)^(1/d), checked to make a valid Box."""
    L = (N / density) ** (1.0 / d)
    try:
        Box(L, L, 0.0 if d == 2 else L)
    except ValueError as e:
        raise ValueError(
            f"{fn}: N = {N} at density {density} gives a box side {L:g}, which is not a valid box ({e})"
        ) from None
    return L


def _common(fn, N, density, dimensions):
    N = _integer(f"{fn} N", N, lo=1, hi=UINT32_MAX)
    density = _real(f"{fn} density", density, lo=0.0, lo_open=True)
    d = _integer(f"{fn} dimensions", dimensions)
    if d not in (2, 3):
        raise ValueError(f"{fn} dimensions must be 2 or 3, got {d}")
    return N, density, d


def cubic(N, density, dimensions=3, jitter=0.0, seed=0):
    """N particles on a simple cubic (square in 2D) lattice at number density ``density``.

    The box is cubic (square) with side (N/density)^(1/d); the lattice has ceil(N^(1/d)) sites
    per side and the first N sites are used. ``jitter`` adds uniform noise (length units).
    """
    N, density, d = _common("cubic", N, density, dimensions)
    jitter = _real("cubic jitter", jitter, lo=0.0)
    L = _side("cubic", N, density, d)
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


class _PlacedPoints:
    """random_packing's points by cell, so that a draw is checked against the 3^d cells around it
    rather than every point: a design run starts hundreds of replicas, and checking every point
    took each of them up to 55 ms. The distance is computed as NumPy's minimum image would
    (q - p, less L * round((q - p) / L), squares summed in order), so the points placed are
    the same."""

    def __init__(self, L, d, min_dist):
        self.L, self.md2 = L, min_dist**2
        # cells a little wider than min_dist (a rounding at a cell face cannot hide a neighbour)
        nc = int(L / (min_dist * (1 + 1e-9))) if min_dist > 0 else 1
        self.nc = nc if nc >= 3 else 1  # fewer than 3 a side: one cell holding every point
        self.offsets = list(itertools.product(range(-1, 2) if self.nc > 1 else (0,), repeat=d))
        self.points = {}  # cell id -> points in it
        self.around = {}  # cell id -> the ids of the cells around it (itself included)

    def _around(self, c):
        """The ids of the cells around cell c, itself included."""
        coords, rest = [], c
        for _ in self.offsets[0]:  # (d times)
            rest, k = divmod(rest, self.nc)
            coords.insert(0, k)
        ids = set()
        for o in self.offsets:
            cid = 0
            for k, dk in zip(coords, o):
                cid = cid * self.nc + (k + dk) % self.nc
            ids.add(cid)
        ids = self.around[c] = list(ids)
        return ids

    def place(self, p):
        """Place p unless a point lies within min_dist of it; whether it was placed."""
        L, md2, nc, points = self.L, self.md2, self.nc, self.points
        c = 0
        for x in p:
            c = c * nc + min(nc - 1, int((x + L / 2) / L * nc))
        if md2 > 0:
            for cid in self.around.get(c) or self._around(c):
                for q in points.get(cid, ()):
                    r2 = 0.0
                    for a, b in zip(q, p):
                        x = a - b
                        x -= L * round(x / L)
                        r2 += x * x
                    if r2 < md2:
                        return False
        points.setdefault(c, []).append(p)
        return True


def random_packing(N, density, dimensions=2, min_dist=0.9, seed=0, max_tries=1000000):
    """N points placed uniformly at random with all (periodic) distances >= ``min_dist``.

    Raises ValueError when the packing fraction of disks (spheres) of diameter ``min_dist`` at
    this density exceeds what random sequential addition can reach (0.547 in 2D, 0.384 in 3D),
    and RuntimeError when ``max_tries`` draws did not place every particle.
    """
    N, density, d = _common("random_packing", N, density, dimensions)
    min_dist = _real("random_packing min_dist", min_dist, lo=0.0)
    max_tries = _integer("random_packing max_tries", max_tries, lo=1)
    L = _side("random_packing", N, density, d)
    if N > 1:
        r = min_dist / 2
        phi = density * (math.pi * r * r if d == 2 else 4.0 / 3.0 * math.pi * r**3)
        if phi > _RSA_JAMMING[d]:
            raise ValueError(
                f"random_packing: density {density} with min_dist {min_dist} is a packing fraction "
                f"{phi:.4g} of {'disks' if d == 2 else 'spheres'}, beyond the {_RSA_JAMMING[d]} that "
                "random placement can reach: lower the density or min_dist"
            )
    rng = np.random.default_rng(seed)
    pos = np.zeros((N, 3))
    grid = _PlacedPoints(L, d, min_dist)
    n = tries = 0
    while tries < max_tries:
        # one draw of d numbers per try, drawn in blocks (the same stream)
        for p in rng.uniform(-L / 2, L / 2, (min(max_tries - tries, 64 + 4 * (N - n)), d)).tolist():
            tries += 1
            if not grid.place(p):
                continue
            pos[n, :d] = p
            n += 1
            if n == N:
                return _frame(pos, [L, L, 0.0 if d == 2 else L, 0, 0, 0])
    raise RuntimeError(
        f"random_packing: placed only {n} of {N} particles with min_dist {min_dist} at density "
        f"{density} in {max_tries} tries (raise max_tries, or lower the density)"
    )
