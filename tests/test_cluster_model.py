"""The colloidal-cluster model: energies, forces, Hessians, third derivatives and B-derivatives
from the engine's Morse evaluator on Taylor jets, checked against the engine's own forces and
force Jacobian, central differences and the Morse formula."""

import numpy as np
import pytest

from hoomd_adjoint.apps.clusters import Cluster, pairs, random_start


@pytest.fixture(scope="module")
def minimum():
    rng = np.random.default_rng(3)
    B = 4.0 + rng.uniform(0, 2, 21)
    c = Cluster(B)
    return c, c.minimize(random_start(7, rng))


def morse_energy(x, B, alpha=5.0):
    E = 0.0
    for k, (a, b) in enumerate(pairs(7)):
        r = np.linalg.norm(x[a] - x[b])
        e = np.exp(-alpha * (r - 1))
        E += B[k] * (e * e - 2 * e)
    return E


def test_energy_is_the_morse_sum_and_the_minimum_is_stationary(minimum):
    c, x = minimum
    assert c.energy(x) == pytest.approx(morse_energy(x, c.B), rel=1e-13)
    assert np.abs(c.forces(x)).max() < 1e-10
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)[np.triu_indices(7, 1)]
    assert d.min() > 0.9  # no particles in each other's core


def test_hessian_against_differences_of_forces_and_its_zero_modes(minimum):
    c, x = minimum
    H = c.hessian(x)
    assert np.array_equal(H, H.T)
    h = 1e-6
    for k in (0, 7, 20):
        xp, xm = x.copy().ravel(), x.copy().ravel()
        xp[k] += h
        xm[k] -= h
        fd = (c.energy_and_gradient(xp)[1] - c.energy_and_gradient(xm)[1]) / (2 * h)
        np.testing.assert_allclose(H[:, k], fd, atol=1e-6 * np.abs(H).max())
    ev = np.linalg.eigvalsh(H)
    # three translations and three rotations: zero; a rigid minimum has the other 15 positive
    assert np.abs(ev[:6]).max() < 1e-6 * ev[-1]
    assert ev[6] > 1e-3


def test_jets_agree_with_the_engine_forces_and_force_jacobian(minimum):
    from hoomd_adjoint import _core

    c, x = minimum
    x = x + 0.03 * np.random.default_rng(5).normal(size=x.shape)  # off the minimum: forces are not zero
    sim = c.simulation(x)
    sim.run(0)
    cpp = sim.state._cpp
    F = np.array(sim.operations.integrator.forces[0]._cpp.forces)
    np.testing.assert_allclose(F, c.forces(x), rtol=0, atol=1e-12 * np.abs(F).max())
    assert sim.operations.integrator.forces[0]._cpp.energy == pytest.approx(c.energy(x), rel=1e-13)
    H = c.hessian(x)
    rng = np.random.default_rng(1)
    for _ in range(3):
        w = rng.normal(size=(7, 3))
        Jw, _, _ = _core.force_jacobian(cpp, w)  # J = dF/dx = -H
        np.testing.assert_allclose(-Jw.ravel(), H @ w.ravel(), rtol=0, atol=1e-11 * np.abs(H).max())


def test_third_derivatives_and_dH_dB_against_differences(minimum):
    c, x = minimum
    x = x + 0.03 * np.random.default_rng(6).normal(size=x.shape)
    d = c.derivatives(x, order=3, wrt_B=True)
    T, dH = d["third"], d["dH"]
    assert np.abs(T - T.transpose(1, 0, 2)).max() < 1e-12 * np.abs(T).max()
    assert np.abs(T - T.transpose(2, 1, 0)).max() < 1e-12 * np.abs(T).max()
    for h in (1e-5, 2e-5):  # two step sizes: the O(h^2) error must scale
        for k in (0, 10, 20):
            e = np.zeros(21)
            e[k] = h
            fd = (c.hessian(x.ravel() + e) - c.hessian(x.ravel() - e)) / (2 * h)
            np.testing.assert_allclose(T[:, :, k], fd, rtol=0, atol=2e-8 * np.abs(T).max() * (h / 1e-5) ** 2 + 1e-9)
    # the Hessian is linear in B
    np.testing.assert_allclose(np.einsum("k,kij->ij", c.B, dH), d["hessian"], rtol=0, atol=1e-12 * np.abs(dH).max())
    B0 = c.B.copy()
    try:
        B = B0.copy()
        B[3] += 0.01
        c.set_B(B)
        Hp = c.hessian(x)
        B[3] -= 0.02
        c.set_B(B)
        Hm = c.hessian(x)
    finally:
        c.set_B(B0)
    np.testing.assert_allclose(dH[3], (Hp - Hm) / 0.02, rtol=0, atol=1e-9 * np.abs(dH[3]).max())


def test_B_derivatives_against_differences(minimum):
    c, x = minimum
    B0 = c.B.copy()
    dE, M = c.energy_gradient_B(x), c.mixed(x)
    h = 1e-2  # U and its gradient are linear in B: central differences are exact up to rounding
    try:
        for k in (0, 9, 20):
            vals = []
            for s in (1, -1):
                B = B0.copy()
                B[k] += s * h
                c.set_B(B)
                vals.append(c.energy_and_gradient(x))
            assert dE[k] == pytest.approx((vals[0][0] - vals[1][0]) / (2 * h), rel=1e-10, abs=1e-12)
            np.testing.assert_allclose(M[:, k], (vals[0][1] - vals[1][1]) / (2 * h), rtol=1e-9, atol=1e-11)
    finally:
        c.set_B(B0)
    # U is linear in B: dU/dB_k is the pair's Morse shape phi(r)
    a, b = pairs(7)[4]
    e = np.exp(-5 * (np.linalg.norm(x[a] - x[b]) - 1))
    assert dE[4] == pytest.approx(e * e - 2 * e, rel=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="21 entries"):
        Cluster(np.ones(20))
    with pytest.raises(ValueError, match=r"B\[3\] \(pair \(0, 4\)\)"):
        Cluster(np.r_[np.ones(3), -1.0, np.ones(17)])
    c = Cluster(np.ones(21))
    with pytest.raises(ValueError, match="21 entries"):
        c.set_B(np.ones(5))
    assert np.array_equal(c.B, np.ones(21))
    with pytest.raises(ValueError, match="not finite"):
        c.energy(np.full((7, 3), np.nan))


def muller_brown(x):
    """The Mueller-Brown surface and its gradient."""
    A, a, b, c = (-200, -100, -170, 15), (-1, -1, -6.5, 0.7), (0, 0, 11, 0.6), (-10, -10, -6.5, 0.7)
    x0, y0 = (1, 0, -0.5, -1), (0, 0.5, 1.5, 1)
    E, g = 0.0, np.zeros(2)
    for k in range(4):
        dx, dy = x[0] - x0[k], x[1] - y0[k]
        e = A[k] * np.exp(a[k] * dx * dx + b[k] * dx * dy + c[k] * dy * dy)
        E += e
        g += e * np.array([2 * a[k] * dx + b[k] * dy, b[k] * dx + 2 * c[k] * dy])
    return E, g


def test_fire_finds_the_muller_brown_minima():
    from hoomd_adjoint.optim import fire

    known = {(-0.558224, 1.441726): -146.69951, (0.623499, 0.028038): -108.16672, (-0.050011, 0.466694): -80.76782}
    for (mx, my), mE in known.items():
        x, E, steps = fire(muller_brown, [mx + 0.05, my - 0.05], ftol=1e-8, dt=1e-4, dt_max=2e-3, max_step=0.01)
        assert np.allclose(x, [mx, my], atol=2e-6) and E == pytest.approx(mE, abs=1e-4), (x, E)
    with pytest.raises(RuntimeError, match="did not converge"):
        fire(muller_brown, [0.0, 0.0], max_iter=3)


def test_quenches_from_random_starts_reach_rigid_15_contact_packings():
    rng = np.random.default_rng(11)
    c = Cluster(np.full(21, 5.0))
    for _ in range(10):
        x = c.minimize(random_start(7, rng))
        d = np.linalg.norm(x[:, None] - x[None], axis=-1)[np.triu_indices(7, 1)]
        assert np.sum(d < 1.02) == 15  # Arkus, Manoharan & Brenner: every rigid packing of 7 has 15 contacts
        ev = np.linalg.eigvalsh(c.hessian(x))
        assert np.abs(ev[:6]).max() < 1e-5 * ev[-1] and ev[6] > 1e-2  # 6 rigid-body zero modes, then stiff


def test_the_tutorials_smooth_cutoff():
    """r_on= multiplies Morse by the XPLOR switch (JAX MD's multiplicative_isotropic_cutoff, the
    authors' tutorial: r_on 2, r_cut 2.5): the energy is that formula, the forces and force
    Jacobian are the engine's MorseSwitched, the Hessian is the difference of gradients."""
    from hoomd_adjoint import _core

    rng = np.random.default_rng(4)
    B = 4.0 + rng.uniform(0, 2, 21)
    c = Cluster(B, r_on=2.0, r_cut=2.5)
    x = c.minimize(random_start(7, rng))
    x = x * 1.25  # spread out so that some pairs sit in the switching region 2 < r < 2.5
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)[np.triu_indices(7, 1)]
    assert ((d > 2.0) & (d < 2.5)).sum() >= 2
    S = np.where(d < 2.0, 1.0, np.where(d < 2.5, (6.25 - d**2) ** 2 * (6.25 + 2 * d**2 - 12) / 2.25**3, 0.0))
    e = np.exp(-5.0 * (d - 1))
    assert c.energy(x) == pytest.approx(np.sum(B * (e * e - 2 * e) * S), rel=1e-13)
    sim = c.simulation(x)
    sim.run(0)
    F = np.array(sim.operations.integrator.forces[0]._cpp.forces)
    np.testing.assert_allclose(F, c.forces(x), rtol=0, atol=1e-12 * np.abs(F).max())
    H = c.hessian(x)
    w = rng.normal(size=(7, 3))
    Jw, _, _ = _core.force_jacobian(sim.state._cpp, w)
    np.testing.assert_allclose(-Jw.ravel(), H @ w.ravel(), rtol=0, atol=1e-11 * np.abs(H).max())
    for h in (1e-5, 2e-6):  # two step sizes; no pair crosses r_on or r_cut
        k = 4
        xp, xm = x.copy().ravel(), x.copy().ravel()
        xp[k] += h
        xm[k] -= h
        fd = (c.energy_and_gradient(xp)[1] - c.energy_and_gradient(xm)[1]) / (2 * h)
        np.testing.assert_allclose(H[:, k], fd, atol=1e-6 * np.abs(H).max())
    dE = c.energy_gradient_B(x)
    np.testing.assert_allclose(dE, (e * e - 2 * e) * S, rtol=1e-13, atol=1e-15)
    with pytest.raises(ValueError, match="r_on must be below r_cut = 2.5, got 2.5"):
        Cluster(B, r_on=2.5, r_cut=2.5)
