"""Kramers rates and their exact parameter gradients on a 7-sphere cluster: the rate against
Eq. 4 written out with frequencies, the rigid-body zero modes removed by projection, and the
gradients of the barrier and of log k against central differences in which every point
re-minimises the end state and re-refines the transition state (two step sizes)."""

import numpy as np
import pytest

from hoomd_adjoint.apps.clusters import Cluster, packings
from hoomd_adjoint.transitions import geometry, kramers, neb, stationary


@pytest.fixture(scope="module")
def path():
    rng = np.random.default_rng(0)
    c = Cluster(np.full(21, 5.0))
    states = packings.find_states(c, 40, rng, contacts=15, radius=None)  # the wide starts this pair was chosen from
    i, j = next(
        (i, j)
        for i in range(len(states))
        for j in range(i + 1, len(states))
        if len(set(states[i].graph) & set(states[j].graph)) == 14
    )
    band = neb(
        None,
        states[i].x,
        states[j].x,
        images=30,
        ftol=1e-2,
        dt=1e-3,
        dt_max=4e-3,
        max_step=0.01,
        batch=c.batch,
        rigid=True,
        climb=False,
    )
    c.set_B(np.random.default_rng(1).uniform(4, 6, 21))
    xa = stationary(c, states[i].x, index=0)
    xs = stationary(c, band.transition_state.reshape(7, 3), index=1)
    return c, xa, xs


def test_the_transition_state_has_one_negative_mode_after_the_rigid_modes_are_projected_out(path):
    c, xa, xs = path
    H = c.hessian(xs)
    U = geometry.internal_basis(xs)
    lam = np.linalg.eigvalsh(U.T @ H @ U)
    assert lam.shape == (15,) and lam[0] < 0 and lam[1] > 0
    # the six projected modes are zero modes of H (to rounding) at a stationary point
    Q = geometry.rigid_modes(xs)
    assert Q.shape == (6, 21) and np.abs(H @ Q.T).max() < 1e-8 * np.abs(H).max()
    full = np.linalg.eigvalsh(H)
    assert np.sum(full < -1e-6 * full[-1]) == 1


def test_rate_is_equation_4_with_frequencies(path):
    c, xa, xs = path
    r = kramers(c, xa, xs, kT=1.0, gamma=2.0, gradient=False)
    w = []
    for x in (xa, xs):
        U = geometry.internal_basis(x)
        w.append(np.linalg.eigvalsh(U.T @ c.hessian(x) @ U))
    omega_A, omega_S = np.sqrt(w[0]), np.sqrt(np.abs(w[1]))
    nu = omega_S[0] / (2 * np.pi * 2.0) * np.prod(omega_A) / np.prod(omega_S[1:])
    dE = c.energy(xs) - c.energy(xa)
    assert r.barrier == pytest.approx(dE, rel=1e-13)
    assert r.prefactor == pytest.approx(nu, rel=1e-11)
    assert r.k == pytest.approx(nu * np.exp(-dE), rel=1e-11)
    hot = kramers(c, xa, xs, kT=2.0, gamma=2.0, gradient=False)
    assert hot.k == pytest.approx(nu * np.exp(-dE / 2.0), rel=1e-11)


def test_gradients_match_differences_with_reminimised_points(path):
    c, xa, xs = path
    B = c.B.copy()
    r = kramers(c, xa, xs)
    paper = kramers(c, xa, xs, implicit=False)
    try:
        for h in (1e-4, 2e-5):
            fd = np.zeros((2, 21))
            for k in range(21):
                vals = []
                for s in (1, -1):
                    Bp = B.copy()
                    Bp[k] += s * h
                    c.set_B(Bp)
                    q = kramers(c, stationary(c, xa, index=0), stationary(c, xs, index=1), gradient=False)
                    vals.append((q.barrier, q.log_k))
                c.set_B(B)
                fd[:, k] = (np.array(vals[0]) - np.array(vals[1])) / (2 * h)
            assert np.abs(fd[0] - r.d_barrier).max() < 1e-7 * np.abs(fd[0]).max()
            assert np.abs(fd[1] - r.d_log_k).max() < 1e-7 * np.abs(fd[1]).max()
            np.testing.assert_allclose(r.d_k, r.k * fd[1], rtol=0, atol=1e-7 * r.k * np.abs(fd[1]).max())
            # the paper's gradient at fixed positions: exact for the barrier, not for log k
            assert np.abs(fd[0] - paper.d_barrier).max() < 1e-7 * np.abs(fd[0]).max()
            assert np.abs(fd[1] - paper.d_log_k).max() > 1e-3 * np.abs(fd[1]).max()
    finally:
        c.set_B(B)


def test_bad_points_are_refused(path):
    c, xa, xs = path
    with pytest.raises(ValueError, match="saddle is not stationary"):
        kramers(c, xa, xs + 0.01 * np.random.default_rng(2).normal(size=xs.shape))
    with pytest.raises(ValueError, match="saddle has 0 negative"):
        kramers(c, xa, xa)
    with pytest.raises(ValueError, match="1 negative Hessian eigenvalue"):
        stationary(c, xs, index=0)


@pytest.mark.parametrize("kw, msg", [(dict(kT=0), "kT must be > 0, got 0.0"), (dict(gamma=-1), "gamma must be > 0")])
def test_rate_refuses_a_non_positive_temperature_or_drag(kw, msg):
    """kT = 0 was a ZeroDivisionError deep in the rate; now a named refusal before any work."""
    with pytest.raises(ValueError, match=msg):
        kramers(None, None, None, **kw)
