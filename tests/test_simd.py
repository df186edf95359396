"""The vectorised host pair loop (Lanes, four pairs at a time, picked per instruction set at load
time) against its scalar reference: the same bits, forward and through the adjoint, for any
thread count. CI also runs the physics tests with HA_SIMD=0 (the scalar path)."""

import math

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from hoomd_adjoint.lattice import random_packing


@pytest.fixture
def scalar_and_back():
    was, above, spatial = _core.simd_enabled(), _core.full_list_above(), _core.spatial_above()
    yield
    _core.set_simd(was)
    _core.set_full_list_above(above)
    _core.set_spatial_above(spatial)


def _system(pair, threads, box3d=True, N=600, seed=3):
    # random placement: tags are scattered in space (the spatial order differs from the tags')
    frame = random_packing(N, 0.5 if box3d else 0.6, dimensions=3 if box3d else 2, min_dist=0.85, seed=seed)
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=threads), seed=seed)
    sim.create_state_from_snapshot(frame)
    nl = ha.md.nlist.Cell(buffer=0.4)
    if pair == "LJ":
        pot = ha.md.pair.LJ(nlist=nl, default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    elif pair == "Rechtsman":  # exp in Lanes (core/Exp.h)
        pot = ha.md.pair.Rechtsman(nlist=nl, default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)
    elif pair == "Morse":
        pot = ha.md.pair.Morse(nlist=nl, default_r_cut=2.0, mode="shift")
        pot.params[("A", "A")] = dict(D0=1.0, alpha=3.0, r0=1.0)
    elif pair == "Gauss":
        pot = ha.md.pair.Gaussian(nlist=nl, default_r_cut=2.0, mode="shift")
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=0.5)
    elif pair == "ExpandedLJ":
        pot = ha.md.pair.ExpandedLJ(nlist=nl, default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=0.8, delta=0.1)
    elif pair == "ForceShiftedLJ":
        pot = ha.md.pair.ForceShiftedLJ(nlist=nl, default_r_cut=2.5)
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    elif pair == "Buckingham":  # exp in Lanes
        pot = ha.md.pair.Buckingham(nlist=nl, default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(A=300.0, rho=0.25, C=0.5)
    elif pair == "Yukawa":
        pot = ha.md.pair.Yukawa(nlist=nl, default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(epsilon=1.0, kappa=1.5)
    else:
        pot = ha.md.pair.DPDConservative(nlist=nl, default_r_cut=1.5)
        pot.params[("A", "A")] = dict(A=20.0)
    m = ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=0.002, methods=[m], forces=[pot])
    return sim, pot


@pytest.mark.parametrize(
    "pair",
    ["LJ", "DPDConservative", "Morse", "Rechtsman", "Gauss", "Yukawa", "ExpandedLJ", "ForceShiftedLJ", "Buckingham"],
)
@pytest.mark.parametrize("box3d", [True, False])
def test_lanes_give_the_scalar_bits(scalar_and_back, pair, box3d):
    out = {}
    for simd, threads, above in (
        (False, 1, 0),
        (True, 1, 10**9),
        (True, 2, 10**9),
        (True, 1, 0),
        (True, 2, 0),
        (True, 1, -1),
        (True, 2, -1),
    ):
        _core.set_simd(simd)
        # 10^9: the pair buffer; 0: the full-list force pass; -1: that pass in spatial order
        _core.set_full_list_above(max(above, 0))
        _core.set_spatial_above(0 if above < 0 else 10**9)
        sim, pot = _system(pair, threads, box3d)
        loss = lambda f: (  # noqa: E731
            float(np.sum(f.positions[:, 0] ** 2)),
            np.stack([2 * f.positions[:, 0], 0 * f.positions[:, 0], 0 * f.positions[:, 0]], axis=1),
        )
        # two threads: under a checkpoint budget too (replays restore recorded lists)
        res = ha.adjoint.gradient(sim, 60, loss, wrt=[pot, "positions"], memory=None if threads == 1 else 8 * 600 * 72)
        sim.run(1)  # forces and energies of the final state, from the force pass alone
        out[(simd, threads, above)] = (
            np.array(sim.state._cpp.position),
            np.array(pot._cpp.forces),
            res.positions,
            res.grad(pot),
            np.array(pot.energies),
            pot.energy,
        )
    ref = out[(False, 1, 0)]
    for key, got in out.items():
        assert np.array_equal(got[0], ref[0]), key
        assert np.array_equal(got[1], ref[1]), key
        assert np.array_equal(got[2], ref[2]), key
        assert got[3] == ref[3], key
        assert np.array_equal(got[4], ref[4]) and got[5] == ref[5], key


def test_the_switch_is_reported():
    was = _core.simd_enabled()
    try:
        _core.set_simd(False)
        assert _core.simd_enabled() is False
        _core.set_simd(True)
        assert _core.simd_enabled() is True
    finally:
        _core.set_simd(was)


def test_tangent_linear_mode_gives_the_scalar_bits(scalar_and_back):
    """mode='forward' carries parameter tangents through the Jacobian pass (ptan): the same bits."""
    out = []
    for simd in (False, True):
        _core.set_simd(simd)
        sim, pot = _system("LJ", 1)
        loss = lambda f: (  # noqa: E731
            float(np.sum(f.positions[:, 1])),
            np.stack([0 * f.positions[:, 0], np.ones(len(f.positions)), 0 * f.positions[:, 0]], axis=1),
        )
        out.append(ha.adjoint.gradient(sim, 40, loss, wrt=[pot], mode="forward").grad(pot))
    assert out[0] == out[1]


def test_exp_has_the_same_bits_in_lanes_and_is_glibcs_to_an_ulp():
    """The evaluators' exp (core/Exp.h): four at a time gives the one-at-a-time bits, for every
    argument, special ones included; and it is the C library's exp (glibc) to one ulp (numpy's own
    vectorised exp rounds differently)."""
    rng = np.random.default_rng(5)
    x = np.concatenate(
        [
            rng.uniform(-30, 30, 200000),
            rng.uniform(-745, 710, 50000),
            [
                0.0,
                -0.0,
                1e-300,
                -1e-20,
                511.999,
                -511.999,
                512.0,
                -512.0,
                600.0,
                -740.0,
                -746.0,
                709.7,
                710.0,
                1e308,
                -1e308,
                np.inf,
                -np.inf,
                np.nan,
                5e-324,
                -5e-324,
            ],
        ]
    )
    one, four = _core._testing.exp(x, lanes=False), _core._testing.exp(x, lanes=True)
    assert np.array_equal(one.view(np.uint64), four.view(np.uint64))
    ref = np.array([math.inf if v >= 709.8 else math.exp(v) for v in x])  # the C library's exp
    finite = np.isfinite(ref) & (ref > 0)
    ulps = np.abs(one[finite].view(np.int64) - ref[finite].view(np.int64))
    assert ulps.max() <= 1
    assert np.mean(ulps == 0) > 0.99
    assert np.array_equal(np.isnan(one), np.isnan(ref)) and np.array_equal(
        one[~finite & ~np.isnan(ref)], ref[~finite & ~np.isnan(ref)]
    )
