"""Order parameters: values against freud (float32 inside: ~1e-6) with the same neighbours, and
exact gradients against central differences of the same float64 functions."""

import numpy as np
import pytest

import hoomd_adjoint as ha

freud = pytest.importorskip("freud")


def points_2d(rng, N, box):
    fb = freud.box.Box.from_box(box, dimensions=2)
    p = np.zeros((N, 3))
    p[:, :2] = rng.uniform(-0.5, 0.5, (N, 2)) * [box[0], box[1]]
    return fb, fb.wrap(p).astype(np.float32).astype(np.float64)  # freud's float32 inputs, exactly


def points_3d(rng, N, box):
    fb = freud.box.Box.from_box(box)
    f = rng.uniform(0, 1, (N, 3))
    return fb, fb.make_absolute(f).astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("k", [3, 4, 6])
@pytest.mark.parametrize("box", [[10, 10, 0, 0, 0, 0], [10, 9, 0, 0.3, 0, 0]])
def test_hexatic_equals_freud(rng, k, box):
    fb, p = points_2d(rng, 90, box)
    ours = ha.order.Hexatic(k, r_max=1.6).compute((box, p)).particle_order
    ref = freud.order.Hexatic(k)
    ref.compute((fb, p), neighbors={"r_max": 1.6, "exclude_ii": True})
    has = np.isfinite(ref.particle_order)
    assert has.sum() > 80
    np.testing.assert_allclose(ours[has], ref.particle_order[has], rtol=0, atol=2e-5)
    assert np.all(ours[~has] == 0)  # freud: nan without neighbours; here 0 (no order)


@pytest.mark.parametrize("l", [4, 6])
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("box", [[8, 8, 8, 0, 0, 0], [8, 7.5, 8.5, 0.1, 0.2, -0.1]])
def test_steinhardt_equals_freud(rng, l, average, box):
    fb, p = points_3d(rng, 180, box)
    ours = ha.order.Steinhardt(l, r_max=1.5, average=average).compute((box, p)).particle_order
    ref = freud.order.Steinhardt(l, average=average)
    ref.compute((fb, p), neighbors={"r_max": 1.5, "exclude_ii": True})
    has = np.isfinite(ref.particle_order)
    # freud's float32 arithmetic: angles of short bonds carry ~1e-6 errors (seen: up to 3e-6)
    np.testing.assert_allclose(ours[has], ref.particle_order[has], rtol=0, atol=5e-6)


def lattice_2d(a1, a2, basis, n):
    """n x n cells of a 2D Bravais lattice with a basis, in the matching triclinic box."""
    a1, a2 = np.asarray(a1, float), np.asarray(a2, float)
    pts = np.array([b + i * a1 + j * a2 for i in range(n) for j in range(n) for b in np.asarray(basis, float)])
    box = [n * a1[0], n * a2[1], 0, a2[0] / a2[1], 0, 0]
    fy = pts[:, 1] / box[1] - 0.5 + 0.001  # wrapped in float64 (freud's wrap rounds to float32)
    fx = (pts[:, 0] - box[3] * pts[:, 1]) / box[0] - 0.5 + 0.001
    fx, fy = fx - np.round(fx), fy - np.round(fy)
    pts3 = np.zeros((len(pts), 3))
    pts3[:, 0] = fx * box[0] + box[3] * fy * box[1]
    pts3[:, 1] = fy * box[1]
    return box, pts3


def test_crystals_have_their_order():
    """Perfect lattices (nearest-neighbour distance 1): |psi_6| = 1 on the triangular lattice,
    |psi_3| = 1 on the honeycomb, and psi_3 = 0 on the triangular lattice."""
    box, tri = lattice_2d([1, 0], [0.5, np.sqrt(3) / 2], [[0, 0]], 8)
    np.testing.assert_allclose(
        np.abs(ha.order.Hexatic(6, r_max=1.2).compute((box, tri)).particle_order), 1.0, atol=1e-10
    )
    np.testing.assert_allclose(
        np.abs(ha.order.Hexatic(3, r_max=1.2).compute((box, tri)).particle_order), 0.0, atol=1e-10
    )
    s3 = np.sqrt(3)
    box, hon = lattice_2d([s3, 0], [s3 / 2, 1.5], [[0, 0], [0, 1]], 5)
    np.testing.assert_allclose(
        np.abs(ha.order.Hexatic(3, r_max=1.2).compute((box, hon)).particle_order), 1.0, atol=1e-10
    )


def fd_gradient(f, p, h, dims):
    g = np.zeros_like(p)
    for a in range(len(p)):
        for c in range(dims):
            q = p.copy()
            q[a, c] += h
            fp = f(q)
            q[a, c] -= 2 * h
            g[a, c] = (fp - f(q)) / (2 * h)
    return g


@pytest.mark.parametrize("k", [3, 6])
@pytest.mark.parametrize("r_on", [1.0, None])
def test_hexatic_gradient_matches_central_differences(rng, k, r_on):
    box = [6, 6, 0, 0.2, 0, 0]
    fb, p = points_2d(rng, 25, box)
    comp = ha.order.Hexatic(k, r_max=1.8, r_on=r_on)
    g = rng.normal(size=25) + 1j * rng.normal(size=25)

    def L(q):
        return float(np.sum((np.conj(g) * comp.compute((box, q)).particle_order).real))

    comp.compute((box, p))
    exact = comp.gradient(g)
    assert np.all(exact[:, 2] == 0)
    for h in (1e-5, 1e-6):
        fd = fd_gradient(L, p, h, 2)
        np.testing.assert_allclose(exact, fd, rtol=0, atol=2e-7 * max(1.0, np.abs(exact).max()))


@pytest.mark.parametrize("l, average", [(4, False), (6, False), (4, True), (6, True)])
@pytest.mark.parametrize("r_on", [1.1, None])
def test_steinhardt_gradient_matches_central_differences(rng, l, average, r_on):
    box = [4.2, 4.2, 4.2, 0.1, 0, 0]
    fb, p = points_3d(rng, 22, box)
    comp = ha.order.Steinhardt(l, r_max=1.7, r_on=r_on, average=average)
    g = rng.normal(size=22)

    def L(q):
        return float(np.dot(g, comp.compute((box, q)).particle_order))

    comp.compute((box, p))
    exact = comp.gradient(g)
    for h in (1e-5, 1e-6):
        fd = fd_gradient(L, p, h, 3)
        np.testing.assert_allclose(exact, fd, rtol=0, atol=2e-7 * max(1.0, np.abs(exact).max()))


def test_weight_is_smooth_and_hard_limit():
    comp = ha.order.Hexatic(6, r_max=1.5, r_on=1.0)
    r = np.array([0.5, 1.0, 1.25, 1.5, 2.0])
    w, dw = comp.weight(r)
    np.testing.assert_allclose(w, [1, 1, 0.5, 0, 0], atol=1e-15)
    assert dw[0] == dw[1] == dw[3] == dw[4] == 0 and dw[2] < 0
    w, dw = ha.order.Hexatic(6, r_max=1.5).weight(r)
    assert w.tolist() == [1, 1, 1, 0, 0] and not dw.any()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: ha.order.Hexatic(0), ValueError, "k must be a positive integer, got 0"),
        (lambda: ha.order.Hexatic(2.5), ValueError, "k must be a positive integer, got 2.5"),
        (lambda: ha.order.Hexatic(6, r_max=-1), ValueError, "r_max must be positive and finite, got -1.0"),
        (lambda: ha.order.Hexatic(6, r_max=1.0, r_on=2.0), ValueError, "r_on must be in [0, r_max = 1.0], got 2.0"),
        (lambda: ha.order.Steinhardt(-1), ValueError, "l must be a non-negative integer, got -1"),
        (lambda: ha.order.Steinhardt(6, r_max=float("nan")), ValueError, "r_max must be positive and finite"),
        (lambda: ha.order.Hexatic(6).compute("frame"), TypeError, "system must be a GSD frame"),
        (
            lambda: ha.order.Hexatic(6).compute(([5, 5, 0, 0, 0, 0], np.zeros((4, 2)))),
            ValueError,
            "points must be an (N, 3) array, got shape (4, 2)",
        ),
        (
            lambda: ha.order.Hexatic(6).compute(([5, 5, 0, 0, 0, 0], np.full((4, 3), np.nan))),
            ValueError,
            "points must be finite",
        ),
        (
            lambda: ha.order.Hexatic(6, r_max=3.0).compute(([5, 5, 0, 0, 0, 0], np.zeros((4, 3)))),
            ValueError,
            "too large for the box",
        ),
    ],
)
def test_bad_settings_and_inputs(make, error, message):
    import re

    with pytest.raises(error, match=re.escape(message)):
        make()


def test_accepts_gsd_frames_and_loss_frames(rng):
    box = [10, 10, 0, 0, 0, 0]
    fb, p = points_2d(rng, 50, box)
    from hoomd_adjoint.lattice import _frame

    frame = _frame(p, box)
    a = ha.order.Hexatic(6, r_max=1.6).compute(frame).particle_order
    b = ha.order.Hexatic(6, r_max=1.6).compute((box, p)).particle_order
    assert np.array_equal(a, b)
