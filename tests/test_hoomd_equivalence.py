"""Same seed, same trajectory as HOOMD-blue itself (runs only where `hoomd` is importable).

The embedded engine claims HOOMD-blue v4.8.2's discrete map: identical random numbers, update
equations and wrapping, so trajectories agree up to floating-point summation order (HOOMD sums
forces over a half neighbour list in memory order; we use a full list in tag order).
"""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import two_type_gas

hoomd = pytest.importorskip("hoomd")
import hoomd.md  # noqa: E402,F811  (the md submodule, after the skip check)


def build(lib, frame, method, pair, params, rcut, dt, seed, mode):
    sim = lib.Simulation(device=lib.device.CPU(), seed=seed)
    if lib is hoomd:
        sim.create_state_from_snapshot(hoomd.Snapshot.from_gsd_frame(frame, sim.device.communicator))
    else:
        sim.create_state_from_snapshot(frame)
    nl = lib.md.nlist.Cell(buffer=0.4)
    shifting = {} if mode is None else dict(mode=mode)  # (HOOMD-blue's ForceShiftedLJ takes no mode)
    pot = getattr(lib.md.pair, pair)(nlist=nl, default_r_cut=rcut, **shifting)
    for key, p in params.items():
        pot.params[key] = p
    kind, kw = method
    m = getattr(lib.md.methods, kind)(filter=lib.filter.All(), **kw)
    sim.operations.integrator = lib.md.Integrator(dt=dt, methods=[m], forces=[pot])
    return sim, pot


def positions(lib, sim):
    if lib is hoomd:
        s = sim.state.get_snapshot()
        return s.particles.position, s.particles.velocity, s.particles.image
    s = sim.state.get_snapshot()
    return s.particles.position, s.particles.velocity, s.particles.image


CASES = [
    (
        "Brownian",
        dict(kT=0.8),
        "LJ",
        {
            ("A", "A"): dict(epsilon=1.0, sigma=1.0),
            ("A", "B"): dict(epsilon=0.7, sigma=0.9),
            ("B", "B"): dict(epsilon=1.2, sigma=1.05),
        },
        2.5,
        2e-4,
        "shift",
    ),
    (
        "Langevin",
        dict(kT=1.1, default_gamma=0.7),
        "Morse",
        {
            ("A", "A"): dict(D0=1.0, alpha=3.0, r0=1.1),
            ("A", "B"): dict(D0=0.6, alpha=2.5, r0=1.0),
            ("B", "B"): dict(D0=1.4, alpha=3.5, r0=1.05),
        },
        2.5,
        1e-3,
        "shift",
    ),
    (
        "ConstantVolume",
        dict(),
        "Yukawa",
        {
            ("A", "A"): dict(epsilon=1.0, kappa=1.0),
            ("A", "B"): dict(epsilon=1.5, kappa=1.2),
            ("B", "B"): dict(epsilon=0.8, kappa=0.9),
        },
        2.5,
        2e-3,
        "none",
    ),
    (
        "Brownian",
        dict(kT=0.5),
        "Gaussian",
        {
            ("A", "A"): dict(epsilon=2.0, sigma=0.8),
            ("A", "B"): dict(epsilon=1.0, sigma=1.0),
            ("B", "B"): dict(epsilon=1.5, sigma=0.9),
        },
        2.5,
        1e-3,
        "none",
    ),
    (
        "Langevin",
        dict(kT=0.9, default_gamma=1.0),
        "ExpandedLJ",
        {
            ("A", "A"): dict(epsilon=1.0, sigma=0.9, delta=0.1),
            ("A", "B"): dict(epsilon=0.8, sigma=0.85, delta=0.15),
            ("B", "B"): dict(epsilon=1.1, sigma=0.95, delta=0.05),
        },
        2.5,
        1e-3,
        "shift",
    ),
    (
        "Brownian",
        dict(kT=0.7),
        "ForceShiftedLJ",
        {
            ("A", "A"): dict(epsilon=1.0, sigma=1.0),
            ("A", "B"): dict(epsilon=0.7, sigma=0.9),
            ("B", "B"): dict(epsilon=1.2, sigma=1.05),
        },
        2.5,
        2e-4,
        None,
    ),
    (
        "ConstantVolume",
        dict(),
        "Buckingham",
        {
            ("A", "A"): dict(A=300.0, rho=0.25, C=0.5),
            ("A", "B"): dict(A=250.0, rho=0.27, C=0.6),
            ("B", "B"): dict(A=350.0, rho=0.24, C=0.4),
        },
        2.5,
        1e-3,
        "shift",
    ),
    (
        "Langevin",
        dict(kT=1.0, default_gamma=0.5),
        "Mie",
        {
            ("A", "A"): dict(epsilon=1.0, sigma=1.0, n=12.0, m=6.0),
            ("A", "B"): dict(epsilon=0.8, sigma=0.95, n=11.0, m=5.5),
            ("B", "B"): dict(epsilon=1.2, sigma=1.05, n=14.0, m=7.0),
        },
        2.5,
        1e-3,
        "shift",
    ),
]


def random_frame(dim, rng, N=150):
    return two_type_gas(rng, N, [16, 16, 0, 0.1, 0, 0] if dim == 2 else [8, 8.5, 9, 0.1, 0.05, -0.1])


def run_both(frame, case, seed, mode, r_on=None, steps=200):
    """The same run on both libraries: {library name: (positions, velocities, images, forces, energy)}."""
    kind, kw, pair, params, rcut, dt = case[:6]
    out = {}
    for lib in (ha, hoomd):
        sim, pot = build(lib, frame, (kind, kw), pair, params, rcut, dt, seed=seed, mode=mode)
        for key, value in (r_on or {}).items():
            pot.r_on[key] = value
        sim.run(steps)
        out[lib.__name__] = positions(lib, sim) + (np.asarray(pot.forces), float(pot.energy))
    return out["hoomd_adjoint"], out["hoomd"]


def assert_same_run(a, b, dim):
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-12)  # positions (seen: <= 2e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-12)  # velocities
    np.testing.assert_array_equal(a[2][:, :dim], b[2][:, :dim])  # images (z ignored in 2D, §7)
    np.testing.assert_allclose(a[3], b[3], rtol=1e-8, atol=1e-8)  # forces
    np.testing.assert_allclose(a[4], b[4], rtol=1e-10)  # energy


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_same_trajectory_as_hoomd(case, dim, rng):
    frame = random_frame(dim, rng)
    a, b = run_both(frame, CASES[case], 1234, CASES[case][6])
    assert not np.array_equal(a[0], frame.particles.position)
    assert_same_run(a, b, dim)


# mode="xplor" for every potential whose HOOMD-blue class accepts it: A-A smoothed from r_on = 2,
# A-B with r_on > r_cut (HOOMD-blue then shifts instead), B-B from r_on = 1.2.
XPLOR_CASES = [c for c in CASES if c[2] != "ForceShiftedLJ"]


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("case", range(len(XPLOR_CASES)))
def test_xplor_same_trajectory_as_hoomd(case, dim, rng):
    r_on = {("A", "A"): 2.0, ("A", "B"): 3.0, ("B", "B"): 1.2}
    a, b = run_both(random_frame(dim, rng), XPLOR_CASES[case], 77, "xplor", r_on)
    assert_same_run(a, b, dim)


@pytest.mark.parametrize("dim", [2, 3])
def test_tree_list_same_trajectory_as_hoomd(dim, rng):
    """nlist.Tree: HOOMD-blue's BVH list and the engine's (the cell list's pairs) give the same run."""
    frame = random_frame(dim, rng)
    out = {}
    for lib in (ha, hoomd):
        sim = lib.Simulation(device=lib.device.CPU(), seed=5)
        if lib is hoomd:
            sim.create_state_from_snapshot(hoomd.Snapshot.from_gsd_frame(frame, sim.device.communicator))
        else:
            sim.create_state_from_snapshot(frame)
        lj = lib.md.pair.LJ(nlist=lib.md.nlist.Tree(buffer=0.3), default_r_cut=2.5)
        lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=1.0, sigma=1.0)
        lj.r_cut[("B", "B")] = 1.5  # cut-offs that differ, Tree's use
        m = lib.md.methods.Langevin(filter=lib.filter.All(), kT=1.0)
        sim.operations.integrator = lib.md.Integrator(dt=0.002, methods=[m], forces=[lj])
        sim.run(200)
        out[lib.__name__] = positions(lib, sim)
    np.testing.assert_allclose(out["hoomd_adjoint"][0], out["hoomd"][0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["hoomd_adjoint"][1], out["hoomd"][1], rtol=0, atol=1e-12)
