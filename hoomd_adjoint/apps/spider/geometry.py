"""Geometry of the colloidal-reactions systems in HOOMD's rigid-body convention (body frame with the
centre of mass at the origin and a diagonal inertia tensor; orientations rotate it into the box).

Shells (the authors' code, ``shell_getter.py``): vertex spheres of radius 2 on a regular
octahedron (|v| = 2 sqrt 2) or icosahedron (v = 2 (0, +-1, +-phi) and cyclic), edge length 4, with
one patch per neighbour at distance 2 from the vertex centre towards that neighbour, so that the
patches of neighbouring vertices meet at the edge midpoint. Every vertex shares one body
definition: the body z axis points to the shell centre and the patches sit on a cone around it,
d_k = (rho cos 2 pi k/n, rho sin 2 pi k/n, zeta); vertex i differs only by its orientation q_i.

Spider (``spider_getter.py``): n base sites on a ring of radius R and a head at height h below
its plane, equal masses, written with the centre of mass at the origin so that the principal
moments are closed forms in R and h (differentiable, no eigen-solver):
base_i = (R cos 2 pi i/n, R sin 2 pi i/n, h/(n+1)), head = (0, 0, -h n/(n+1)),
I_z = n m R^2, I_x = I_y = n m R^2 / 2 + m h^2 n/(n+1).
"""

import dataclasses
import itertools

import numpy as np

from ...md.constrain import rotate

__all__ = ["Shell", "SpiderBody", "octahedron", "icosahedron", "spider_body", "quaternion_from_matrix"]

VERTEX_RADIUS = 2.0


def quaternion_from_matrix(R):
    """The unit quaternion (scalar first, s >= 0) of a proper rotation matrix."""
    R = np.asarray(R, dtype=np.float64)
    K = (
        np.array(
            [
                [R[0, 0] + R[1, 1] + R[2, 2], R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]],
                [R[2, 1] - R[1, 2], R[0, 0] - R[1, 1] - R[2, 2], R[0, 1] + R[1, 0], R[0, 2] + R[2, 0]],
                [R[0, 2] - R[2, 0], R[0, 1] + R[1, 0], R[1, 1] - R[0, 0] - R[2, 2], R[1, 2] + R[2, 1]],
                [R[1, 0] - R[0, 1], R[0, 2] + R[2, 0], R[1, 2] + R[2, 1], R[2, 2] - R[0, 0] - R[1, 1]],
            ]
        )
        / 3.0
    )
    w, V = np.linalg.eigh(K)  # Bar-Itzhack: the eigenvector of the largest eigenvalue
    q = V[:, -1]
    return q if q[0] >= 0 else -q


@dataclasses.dataclass
class Shell:
    """A shell of rigid patchy vertices: centres (V, 3) around the origin, orientations (V, 4),
    the shared body-frame patch positions (n, 3), the edges (pairs of vertex indices), and the
    principal moments of one vertex for a patch mass ``patch_mass`` (the centre adds none)."""

    vertices: np.ndarray
    orientations: np.ndarray
    patches: np.ndarray
    edges: list
    patch_mass: float

    @property
    def moment_inertia(self):
        d = self.patches
        m = self.patch_mass
        return np.array(
            [
                m * np.sum(d[:, 1] ** 2 + d[:, 2] ** 2),
                m * np.sum(d[:, 0] ** 2 + d[:, 2] ** 2),
                m * np.sum(d[:, 0] ** 2 + d[:, 1] ** 2),
            ]
        )

    def patch_positions(self):
        """Patch positions in the box frame, (V, n, 3)."""
        V, n = len(self.vertices), len(self.patches)
        q = np.repeat(self.orientations[:, None], n, axis=1)
        return self.vertices[:, None] + rotate(q, np.broadcast_to(self.patches, (V, n, 3)))


def _shell(vertices, patch_mass):
    vertices = np.asarray(vertices, dtype=np.float64)
    d = np.linalg.norm(vertices[:, None] - vertices[None], axis=-1)
    edge = d[d > 1e-9].min()
    edges = [(i, j) for i, j in itertools.combinations(range(len(vertices)), 2) if abs(d[i, j] - edge) < 1e-9]
    n = sum(1 for e in edges if 0 in e)
    # the cone of patches, from vertex 0 and one of its neighbours
    v0 = vertices[0]
    j = next(b if a == 0 else a for a, b in edges if 0 in (a, b))
    inward = -v0 / np.linalg.norm(v0)
    off = VERTEX_RADIUS * (vertices[j] - v0) / np.linalg.norm(vertices[j] - v0)
    zeta = off @ inward
    rho = np.linalg.norm(off - zeta * inward)
    phi = 2 * np.pi * np.arange(n) / n
    patches = np.stack([rho * np.cos(phi), rho * np.sin(phi), np.full(n, zeta)], axis=1)
    orientations = []
    for i, v in enumerate(vertices):
        ez = -v / np.linalg.norm(v)
        k = next(b if a == i else a for a, b in edges if i in (a, b))
        t = vertices[k] - v
        ex = t - (t @ ez) * ez
        ex /= np.linalg.norm(ex)
        R = np.stack([ex, np.cross(ez, ex), ez], axis=1)  # body axes as columns
        orientations.append(quaternion_from_matrix(R))
    return Shell(vertices, np.array(orientations), patches, edges, float(patch_mass))


def octahedron(patch_mass=1e-8):
    """The octahedral shell: 6 vertices at 2 sqrt 2 (+-e_x, +-e_y, +-e_z), 4 patches each."""
    e = np.eye(3)
    return _shell(2 * np.sqrt(2) * np.concatenate([e, -e]), patch_mass)


def icosahedron(patch_mass=1e-8):
    """The icosahedral shell: 12 vertices at 2 (0, +-1, +-phi) and cyclic, 5 patches each."""
    g = (1 + np.sqrt(5)) / 2
    base = [(0, s1, s2 * g) for s1 in (1, -1) for s2 in (1, -1)]
    v = [np.roll(b, r) for r in range(3) for b in base]
    return _shell(2 * np.array(v, dtype=np.float64), patch_mass)


@dataclasses.dataclass
class SpiderBody:
    """The spider in its body frame: ``sites`` (n + 1, 3): the n base sites then the head;
    ``bars`` (2n pairs of site indices: head-base_i, then base_i-base_i+1); equal site mass
    ``mass``; principal moments ``moment_inertia``."""

    sites: np.ndarray
    bars: list
    mass: float
    moment_inertia: np.ndarray


def spider_body(n, base_radius, head_height, mass=1.0):
    """The spider with ``n`` legs, ring radius R = ``base_radius`` and head height h."""
    n = int(n)
    if n < 3:
        raise ValueError(f"spider_body: n = {n}: needs at least 3 legs (a ring)")
    R, h = float(base_radius), float(head_height)
    if not (R > 0 and np.isfinite(R) and np.isfinite(h)):
        raise ValueError(f"spider_body: base_radius must be positive and finite, head_height finite; got {R}, {h}")
    phi = 2 * np.pi * np.arange(n) / n
    base = np.stack([R * np.cos(phi), R * np.sin(phi), np.full(n, h / (n + 1))], axis=1)
    head = np.array([[0.0, 0.0, -h * n / (n + 1)]])
    bars = [(n, i) for i in range(n)] + [(i, (i + 1) % n) for i in range(n)]
    I = np.array([n * mass * R**2 / 2 + mass * h**2 * n / (n + 1)] * 2 + [n * mass * R**2])
    return SpiderBody(np.concatenate([base, head]), bars, float(mass), I)
