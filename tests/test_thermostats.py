"""ConstantVolume with thermostats (Bussi, Berendsen, MTTK): HOOMD-blue 4.8.2's trajectories
(where HOOMD-blue is importable), runs that continue bit for bit, and the refusals."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import sim_from_frame, two_type_gas

THERMOSTATS = {
    "Bussi": lambda th: th.Bussi(kT=1.3, tau=0.05),
    "Bussi tau 0": lambda th: th.Bussi(kT=0.9),
    "Berendsen": lambda th: th.Berendsen(kT=1.3, tau=0.1),
    "MTTK": lambda th: th.MTTK(kT=1.3, tau=0.1),
}


def frame_for(dim, aniso, seed=4, N=80):
    rng = np.random.default_rng(seed)
    frame = two_type_gas(rng, N, [14, 14, 0, 0.1, 0, 0] if dim == 2 else [8, 8.5, 9, 0.1, 0.05, -0.1])
    frame.particles.mass = rng.uniform(0.5, 2, N)
    if aniso:
        inertia = rng.uniform(0.2, 1.5, (N, 3))
        inertia[::4] = 0
        if dim == 2:
            inertia[:, :2] = 0
        frame.particles.moment_inertia = inertia
        frame.particles.angmom = rng.normal(size=(N, 4)) * (inertia.any(axis=1)[:, None])
        if dim == 2:
            frame.particles.angmom[:, 1:3] = 0
    return frame


def build(lib, frame, name, aniso, filt=None):
    sim = sim_from_frame(lib, frame, 21)
    lj = lib.md.pair.LJ(nlist=lib.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=1.0, sigma=1.0)
    th = THERMOSTATS[name](lib.md.methods.thermostats)
    method = lib.md.methods.ConstantVolume(filter=filt or lib.filter.All(), thermostat=th)
    sim.operations.integrator = lib.md.Integrator(
        dt=0.004, methods=[method], forces=[lj], integrate_rotational_dof=aniso
    )
    return sim, th


def snapshot(sim):
    p = sim.state.get_snapshot().particles
    return np.concatenate([p.position.ravel(), p.velocity.ravel(), p.orientation.ravel(), p.angmom.ravel()])


@pytest.mark.parametrize("aniso", [False, True])
@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("name", list(THERMOSTATS))
def test_same_trajectory_as_hoomd(name, dim, aniso):
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_for(dim, aniso)
    out = {}
    for lib in (ha, hoomd):
        sim, th = build(lib, frame, name, aniso)
        sim.run(200)
        out[lib.__name__] = (snapshot(sim), th.translational_dof if name == "MTTK" else None)
    a, b = out["hoomd_adjoint"], out["hoomd"]
    assert np.abs(a[0] - b[0]).max() <= 1e-12, np.abs(a[0] - b[0]).max()
    if name == "MTTK":
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-14)
        assert a[1][0] != 0


def test_thermostats_change_the_kinetic_energy_as_they_should():
    """Berendsen takes kT to the set point; Bussi from a cold start heats to it; MTTK keeps K + U +
    its own energy (the extended Hamiltonian) constant to the integrator's error."""
    frame = frame_for(3, False)
    frame.particles.velocity[:] *= 0.3
    for name in ("Berendsen", "Bussi"):
        sim, th = build(ha, frame, name, False)
        thermo = ha.md.compute.ThermodynamicQuantities(filter=ha.filter.All())
        sim.operations.computes.append(thermo)
        sim.run(1500)
        assert abs(thermo.kinetic_temperature - 1.3) < 0.25, (name, thermo.kinetic_temperature)
    # MTTK: with a smooth potential (xplor), K + U + the thermostat's energy drifts only by the
    # integrator's O(dt^2) error: a quarter at half the step
    drift = []
    for dt in (0.004, 0.002):
        sim, th = build(ha, frame_for(3, False), "MTTK", False)
        lj = sim.operations.integrator.forces[0]
        lj.mode = "xplor"
        lj.r_on[(("A", "B"), ("A", "B"))] = 2.0
        sim.operations.integrator.dt = dt
        thermo = ha.md.compute.ThermodynamicQuantities(filter=ha.filter.All())
        sim.operations.computes.append(thermo)
        sim.run(0)
        h0 = thermo.kinetic_energy + thermo.potential_energy + th.energy
        dev = []
        for _ in range(8):
            sim.run(round(0.25 / dt))
            dev.append(abs(thermo.kinetic_energy + thermo.potential_energy + th.energy - h0))
        assert th.translational_dof[0] != 0
        drift.append(max(dev))
    assert 3.0 < drift[0] / drift[1] < 5.0, drift


@pytest.mark.parametrize("name", ["Bussi", "MTTK"])
def test_runs_continue_bit_for_bit(name):
    frame = frame_for(3, True)
    one, th1 = build(ha, frame, name, True)
    one.run(120)
    two, th2 = build(ha, frame, name, True)
    two.run(50)
    two.run(70)
    np.testing.assert_array_equal(snapshot(one), snapshot(two))
    if name == "MTTK":
        assert th1.translational_dof == th2.translational_dof and th1.rotational_dof == th2.rotational_dof
        th2.translational_dof = (0.0, 0.0)  # set between runs, as in HOOMD-blue
        assert th2.translational_dof == (0.0, 0.0)


def test_refusals():
    frame = frame_for(3, False)
    th = ha.md.methods.thermostats
    with pytest.raises(TypeError, match="thermostat must be a hoomd_adjoint.md.methods.thermostats"):
        ha.md.methods.ConstantVolume(filter=ha.filter.All(), thermostat="bussi")
    with pytest.raises(ValueError, match="Berendsen tau must be > 0, got 0.0"):
        th.Berendsen(kT=1.0, tau=0.0)
    with pytest.raises(ValueError, match="kT must be finite and >= 0"):
        th.Bussi(kT=-1.0)
    shared = th.Bussi(kT=1.0)
    ha.md.methods.ConstantVolume(filter=ha.filter.All(), thermostat=shared)
    with pytest.raises(ValueError, match="already belongs to another ConstantVolume"):
        ha.md.methods.ConstantVolume(filter=ha.filter.All(), thermostat=shared)
    # no kinetic energy: nothing to rescale (HOOMD-blue: "requires non-zero initial momenta")
    cold = frame_for(3, False)
    cold.particles.velocity[:] = 0
    sim, _ = build(ha, cold, "Bussi", False)
    with pytest.raises(RuntimeError, match="Bussi thermostat at step 0: the kinetic energy of its particles is 0"):
        sim.run(1)
    # MTTK and Berendsen with rotations but no moments of inertia divide by zero in HOOMD-blue
    sim, _ = build(ha, frame, "MTTK", True)
    with pytest.raises(ValueError, match="needs particles with moments of inertia > 0"):
        sim.run(1)
    # the adjoint refuses, before anything runs
    zero = lambda f: (0.0, np.zeros_like(f.positions))  # noqa: E731
    sim, _ = build(ha, frame, "MTTK", False)
    with pytest.raises(ValueError, match=r"methods\[0\] ConstantVolume has a MTTK thermostat: mode='forward' does not"):
        ha.adjoint.gradient(sim, 5, zero, ["kT"], mode="forward")
    sim, _ = build(ha, frame, "Bussi", True)
    with pytest.raises(ValueError, match=r"mode='forward' does not cover rigid bodies or rotational integration"):
        ha.adjoint.gradient(sim, 5, zero, ["kT"], mode="forward")
    sim, _ = build(ha, frame, "Bussi", False)
    assert sim.timestep == 0
    nve = ha.md.methods.ConstantVolume(filter=ha.filter.All())
    sim.operations.integrator.methods = [nve]
    with pytest.raises(ValueError, match="ConstantVolume without a thermostat has no tau to differentiate"):
        ha.adjoint.gradient(sim, 5, zero, ["tau"])
    # the GPU path has none yet
    sim = ha.Simulation(device=ha.device._HostBackendGPU(), seed=1)
    sim.create_state_from_snapshot(frame)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=1.0, sigma=1.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.004, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All(), thermostat=th.Bussi(1.0))], forces=[lj]
    )
    with pytest.raises(ValueError, match="Bussi thermostat runs on the CPU only"):
        sim.run(1)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("name", ["Bussi", "Berendsen", "MTTK"])
def test_gradient_matches_finite_differences(name, dim):
    """Through the thermostat's factor s(K, kT, tau) (MTTK: the factors exp(-xi dt/2) and xi's own
    step): positions, pair parameters, kT and tau, against central differences of the same runs
    (same seed: Bussi's draws are the same) at two step sizes."""
    frame = frame_for(dim, False, N=30)
    W = np.random.default_rng(7).normal(size=(30, 3))
    if dim == 2:
        W[:, 2] = 0

    def loss(f):
        return float(np.sum(W * f.positions)), W

    def make(kT=1.3, tau=0.05, eps=1.0, pos=None):
        fr = frame_for(dim, False, N=30)
        if pos is not None:
            fr.particles.position = pos
        sim, th = build(ha, fr, name, False)
        th.kT, th.tau = kT, tau
        sim.operations.integrator.forces[0].params[(("A", "B"), ("A", "B"))] = dict(epsilon=eps, sigma=1.0)
        return sim, th

    def value(**kw):
        sim, _ = make(**kw)
        sim.run(40)
        return loss(ha.adjoint._frame(sim))[0]

    sim, th = make()
    lj = sim.operations.integrator.forces[0]
    res = ha.adjoint.gradient(sim, 40, loss, [lj, "positions", "kT", "tau"])
    g_eps = sum(v["epsilon"] for v in res.grad(lj).values())
    checks = {"kT": (res.grad("kT"), 1.3), "tau": (res.grad("tau"), 0.05), "eps": (g_eps, 1.0)}
    assert all(g != 0 for g, _ in checks.values())
    for key, (g, x) in checks.items():
        for h in (1e-5, 2e-6):
            kw = {key: x + h}
            fd = (value(**kw) - value(**{key: x - h})) / (2 * h)
            assert abs(fd - g) < 1e-6 * abs(g) + 1e-13 / h, (key, h, fd, g)
    v = np.random.default_rng(3).normal(size=(30, 3))
    if dim == 2:
        v[:, 2] = 0
    p0 = frame.particles.position.astype(float)
    ad = float(np.sum(res.positions * v))
    for h in (1e-6, 2e-7):
        fd = (value(pos=p0 + h * v) - value(pos=p0 - h * v)) / (2 * h)
        assert abs(fd - ad) < 1e-6 * abs(ad) + 1e-13 / h, ("positions", h, fd, ad)


@pytest.mark.parametrize("name", ["Bussi", "Berendsen"])
def test_forward_mode_equals_reverse_mode(name):
    """The tangents through s(K, kT, tau) agree with the adjoint (a dot-product test per parameter)."""
    W = np.random.default_rng(8).normal(size=(30, 3))

    def loss(f):
        return float(np.sum(W * f.positions)), W

    out = []
    for mode in ("reverse", "forward"):
        sim, th = build(ha, frame_for(3, False, N=30), name, False)
        lj = sim.operations.integrator.forces[0]
        res = ha.adjoint.gradient(sim, 30, loss, [lj, "kT", "tau"], mode=mode)
        g = res.grad(lj)
        out.append([res.grad("kT"), res.grad("tau")] + [v for k in sorted(g) for v in g[k].values()])
    np.testing.assert_allclose(out[1], out[0], rtol=1e-9, atol=1e-12)


def test_mttk_gradient_under_a_memory_budget_is_the_same():
    """MTTK's xi is kept per step (System::thermostatLog) for the replays from checkpoints: a
    budget of a few states gives the stored run's gradient bit for bit, and leaves the simulation
    (xi included) as sim.run leaves it."""
    W = np.random.default_rng(9).normal(size=(30, 3))

    def loss(f):
        return float(np.sum(W * f.positions)), W

    out = []
    for memory in (None, 4 * 30 * 72):
        sim, th = build(ha, frame_for(3, False, N=30), "MTTK", False)
        lj = sim.operations.integrator.forces[0]
        res = ha.adjoint.gradient(sim, 40, loss, [lj, "positions", "kT", "tau"], memory=memory)
        assert res.diagnostics["checkpointing"] == (memory is not None)
        g = res.grad(lj)
        out.append(([res.grad("kT"), res.grad("tau")] + [v for k in sorted(g) for v in g[k].values()], res.positions))
        sim.run(0)
        after = (snapshot(sim), th.translational_dof)
        plain, th2 = build(ha, frame_for(3, False, N=30), "MTTK", False)
        plain.run(40)
        plain.run(0)
        assert after[1] == th2.translational_dof
        np.testing.assert_array_equal(after[0], snapshot(plain))
    assert out[0][0] == out[1][0]
    np.testing.assert_array_equal(out[0][1], out[1][1])
