"""Shell and spider geometry: patches of neighbouring vertices meet at edge midpoints, one shared
body definition with per-vertex orientations, closed-form principal moments, and centre of mass at
the body origin."""

import numpy as np
import pytest

from hoomd_adjoint.apps.spider import icosahedron, octahedron, spider_body
from hoomd_adjoint.apps.spider.geometry import quaternion_from_matrix


@pytest.mark.parametrize("build, V, n", [(octahedron, 6, 4), (icosahedron, 12, 5)])
def test_patches_meet_at_edge_midpoints(build, V, n):
    s = build()
    assert s.vertices.shape == (V, 3) and s.patches.shape == (n, 3) and len(s.edges) == V * n // 2
    assert np.allclose(np.linalg.norm(s.orientations, axis=1), 1.0, atol=1e-14)
    mids = np.array([(s.vertices[a] + s.vertices[b]) / 2 for a, b in s.edges])
    P = s.patch_positions().reshape(-1, 3)
    # every patch sits on an edge midpoint, and every midpoint carries exactly two patches
    d = np.linalg.norm(P[:, None] - mids[None], axis=-1)
    assert d.min(axis=1).max() < 1e-12
    assert np.bincount(d.argmin(axis=1), minlength=len(mids)).tolist() == [2] * len(mids)
    # patches are 2 from their vertex centre (the vertex radius); edges are 4 long
    assert np.allclose(np.linalg.norm(s.patches, axis=1), 2.0, atol=1e-14)
    assert np.allclose([np.linalg.norm(s.vertices[a] - s.vertices[b]) for a, b in s.edges], 4.0)
    # the body frame is principal: the inertia tensor of the patches is diagonal
    m = s.patch_mass
    T = m * (np.sum(s.patches**2) * np.eye(3) - s.patches.T @ s.patches)
    assert np.allclose(T, np.diag(s.moment_inertia), atol=1e-12 * m)


def test_octahedron_moments_are_the_closed_form():
    s = octahedron(patch_mass=1.0)
    assert np.allclose(s.moment_inertia, [12.0, 12.0, 8.0])  # rho = zeta = sqrt 2: (n rho^2/2 + n zeta^2, ., n rho^2)


def test_spider_body_has_its_centre_of_mass_at_the_origin_and_closed_form_moments():
    n, R, h = 5, 1.3, 2.1
    s = spider_body(n, R, h, mass=0.7)
    assert np.allclose(s.sites.mean(axis=0), 0.0, atol=1e-15)
    X = s.sites
    T = s.mass * (np.sum(X**2) * np.eye(3) - X.T @ X)
    assert np.allclose(T, np.diag(s.moment_inertia), atol=1e-13)
    assert len(s.bars) == 2 * n and (n, 0) in s.bars and (n - 1, 0) in s.bars
    base = X[:n]
    assert np.allclose(np.linalg.norm(base[:, :2], axis=1), R) and X[n, 2] - base[0, 2] == pytest.approx(-h)
    with pytest.raises(ValueError, match="at least 3"):
        spider_body(2, 1.0, 1.0)
    with pytest.raises(ValueError, match="base_radius"):
        spider_body(4, -1.0, 1.0)


def test_quaternion_from_matrix_round_trips():
    from scipy.spatial.transform import Rotation

    from hoomd_adjoint.md.constrain import rotate

    R = Rotation.random(random_state=3).as_matrix()
    q = quaternion_from_matrix(R)
    v = np.random.default_rng(2).normal(size=3)
    assert np.allclose(rotate(q, v), R @ v, atol=1e-14)
