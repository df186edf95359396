"""The doubly nudged elastic band on the Mueller-Brown surface: the climbing image ends on the
known saddles, the band's energies rise from the start to the saddle, and bad input is refused."""

import numpy as np
import pytest

from hoomd_adjoint.transitions import neb

from test_cluster_model import muller_brown

A, B, C = (-0.558224, 1.441726), (-0.050011, 0.466694), (0.623499, 0.028038)
FIRE = dict(dt=1e-4, dt_max=1e-3, max_step=0.01)


@pytest.mark.parametrize(
    "start, end, saddle, energy",
    [
        (A, B, (-0.822002, 0.624313), -40.66484),
        (B, C, (0.212487, 0.292988), -72.24894),
    ],
)
def test_climbing_image_finds_the_muller_brown_saddles(start, end, saddle, energy):
    band = neb(muller_brown, start, end, images=20, k=100.0, ftol=1e-4, **FIRE)
    assert np.allclose(band.transition_state, saddle, atol=2e-6)
    assert band.energies[band.ts] == pytest.approx(energy, abs=1e-4)
    assert np.abs(muller_brown(band.transition_state)[1]).max() < 1e-4
    assert band.barrier == pytest.approx(energy - muller_brown(start)[0], abs=1e-4)
    s = band.s
    assert s[0] == 0 and np.all(np.diff(s) > 0) and len(s) == 22
    # the images are spread along the path: no two closer than a fifth of the mean spacing
    assert np.diff(s).min() > 0.2 * s[-1] / 21


def test_bad_input():
    with pytest.raises(ValueError, match="differ in shape"):
        neb(muller_brown, A, (0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="images"):
        neb(muller_brown, A, B, images=0)


def test_kabsch_recovers_proper_rotations_and_never_reflects():
    from scipy.spatial.transform import Rotation

    from hoomd_adjoint.transitions import geometry

    rng = np.random.default_rng(4)
    x = rng.normal(size=(7, 3))
    R = Rotation.random(random_state=5).as_matrix()
    y = x @ R.T + [1.0, -2.0, 0.5]
    R2, t = geometry.kabsch(x, y)
    assert np.allclose(R2, R, atol=1e-12) and np.allclose(x @ R2.T + t, y, atol=1e-12)
    assert geometry.rmsd(x, y) < 1e-12
    mirror = x * [1, 1, -1]  # a chiral mirror image cannot be rotated onto x
    R3, _ = geometry.kabsch(mirror, x)
    assert np.linalg.det(R3) == pytest.approx(1.0) and geometry.rmsd(mirror, x) > 0.1
    # stacks work too
    assert np.allclose(geometry.align(np.stack([x, x]), np.stack([y, y])), y, atol=1e-12)
    Q = geometry.rigid_modes(x)
    assert np.allclose(Q @ Q.T, np.eye(6), atol=1e-12)
    U = geometry.internal_basis(x)
    assert U.shape == (21, 15) and np.abs(Q @ U).max() < 1e-12


def test_batched_bands_equal_single_bands_and_lbfgs_finds_the_saddle():
    ends = [(A, B), (B, C)]
    single = [neb(muller_brown, s, e, images=12, k=100.0, ftol=1e-3, climb=False, **FIRE) for s, e in ends]
    both = neb(muller_brown, [A, B], [B, C], images=12, k=100.0, ftol=1e-3, climb=False, **FIRE)
    for one, b in zip(single, both):
        assert np.array_equal(one.images, b.images) and np.array_equal(one.energies, b.energies)
    band = neb(muller_brown, A, B, images=20, k=100.0, ftol=1e-4, optimizer="lbfgs", **FIRE)
    assert np.allclose(band.transition_state, (-0.822002, 0.624313), atol=2e-6)
    with pytest.raises(ValueError, match="optimizer"):
        neb(muller_brown, A, B, optimizer="bfgs")


def test_cluster_band_rises_once_and_its_top_refines_to_an_index_one_saddle():
    from hoomd_adjoint.apps.clusters import Cluster, paths, reproduce
    from hoomd_adjoint.transitions import geometry

    c = Cluster(np.full(21, 5.0))
    a, b = reproduce.reference_pair(c)  # R1 and R2, one contact swap apart
    b = geometry.align(b, a) @ np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0].T  # any rotation
    p = paths.connect(c, a, b, images=30)
    assert p is not None
    band = p.band
    assert band.images.shape == (32, 21) and band.max_force < 1e-2
    assert band.maxima(prominence=1e-3 * band.barrier) == [band.ts]
    # the end point was aligned (proper rotation) onto the start: no rigid rotation left in the band
    assert geometry.rmsd(band.images[-1].reshape(7, 3), b) < 1e-12
    assert np.abs(band.images[-1].reshape(7, 3) - geometry.align(b, a)).max() < 1e-12
    xs = p.ts
    assert np.abs(c.energy_and_gradient(xs)[1]).max() < 1e-10
    U = geometry.internal_basis(xs)
    lam = np.linalg.eigvalsh(U.T @ c.hessian(xs) @ U)
    assert np.sum(lam < 0) == 1 and lam[1] > 1e-3
    assert c.energy(xs) >= band.energies[band.ts] - 1e-3  # the band's top sits just below the saddle
    # quenches from both sides of the saddle end in R1 and R2
    ends = paths.descend(c, xs)
    assert sorted(round(min(geometry.rmsd(e, x) for x in (a, b)), 6) for e in ends) == [0.0, 0.0]
