"""Integration methods: HOOMD's update equations bit for bit on one step, and their statistics
(NVE energy drift, Brownian diffusion, Langevin equipartition); thread-count independence."""

import math

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from conftest import make_frame, make_sim, random_positions

BD_ID, LANGEVIN_ID = 24, 25


def lj_system(rng, N=64, box=(7, 7, 7, 0, 0, 0), seed=3, methods=None, dt=1e-3, threads=1, mass=None):
    pos = random_positions(rng, N, list(box), min_dist=1.0)
    kw = {} if mass is None else {"mass": mass}
    frame = make_frame(pos, list(box), typeid=np.arange(N) % 2, types=("A", "B"), **kw)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5, mode="shift")
    lj.params[("A", ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    lj.params[("B", "B")] = dict(epsilon=0.8, sigma=0.95)
    sim = make_sim(frame, forces=[lj], methods=methods, dt=dt, seed=seed, threads=threads)
    return sim, lj


def wrap_ref(r, box):
    """Reference wrap for an orthorhombic box."""
    L = np.array(box[:3], dtype=float)
    r = r.copy()
    for k in range(3):
        if L[k] == 0:
            continue
        r[:, k] -= L[k] * np.floor(r[:, k] / L[k] + 0.5)
    return r


@pytest.mark.parametrize("box", [(7, 7, 7, 0, 0, 0), (11, 11, 0, 0, 0, 0)])
def test_brownian_step_matches_hoomd_equations(rng, box):
    """r1 = wrap(r0 + (F + c u) dt / gamma), u = 3 x Uniform(-1,1) from Philox(24, t, seed, tag);
    velocities Normal(sqrt(kT/m)) from the same stream; exactly, bit for bit."""
    N, kT, dt, seed = 64, 0.7, 1e-3, 4321
    gam = {"A": 1.5, "B": 0.7}
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=kT)
    bd.gamma["A"], bd.gamma["B"] = gam["A"], gam["B"]
    mass = rng.uniform(0.5, 2.0, N)
    sim, lj = lj_system(rng, N=N, box=box, seed=seed, methods=[bd], dt=dt, mass=mass)
    sim.run(0)
    t0 = sim.timestep
    r0 = sim.state.get_snapshot().particles.position
    F = lj.forces
    typeid = sim.state.get_snapshot().particles.typeid
    sim.run(1)
    snap = sim.state.get_snapshot()
    dim = 2 if box[2] == 0 else 3
    for i in range(N):
        g = _core._testing.RandomGenerator(BD_ID, t0, seed, i)
        u = np.array([g.uniform(-1.0, 1.0) for _ in range(3)])
        gamma = gam["AB"[typeid[i]]]
        c = math.sqrt(3.0 * 2.0 * gamma * kT / dt)
        Fr = u * c
        if dim == 2:
            Fr[2] = 0
        expect = np.array([r0[i, k] + (F[i, k] + Fr[k]) * dt / gamma for k in range(3)])
        expect = wrap_ref(expect[None], box)[0]
        assert np.array_equal(snap.particles.position[i], expect), i
        s = math.sqrt(kT / mass[i])
        v = [g.normal(s), g.normal(s), g.normal(s) if dim == 3 else 0.0]
        assert np.array_equal(snap.particles.velocity[i], v), i


def test_langevin_steps_match_hoomd_equations(rng):
    """Two Langevin steps against HOOMD's splitting, using the stored acceleration."""
    N, kT, dt, seed, gamma = 32, 1.1, 2e-3, 77, 0.9
    lv = ha.md.methods.Langevin(filter=ha.filter.All(), kT=kT, default_gamma=gamma)
    sim, lj = lj_system(rng, N=N, seed=seed, methods=[lv], dt=dt)
    snap = sim.state.get_snapshot()
    snap.particles.velocity = rng.normal(size=(N, 3))
    sim.state.set_snapshot(snap)
    sim.run(0)
    m = 1.0
    r = sim.state.get_snapshot().particles.position.copy()
    v = sim.state.get_snapshot().particles.velocity.copy()
    a = lj.forces * (1.0 / m)  # prepRun: a = F/m (accel not set after a snapshot)
    box = [7, 7, 7, 0, 0, 0]
    for step in range(2):
        t = sim.timestep
        r = wrap_ref(r + (v * dt + ((0.5 * a) * dt) * dt), box)
        v = v + (0.5 * a) * dt
        sim.run(1)
        F = lj.forces
        u = np.array(
            [
                [g.uniform(-1.0, 1.0) for _ in range(3)]
                for g in (_core._testing.RandomGenerator(LANGEVIN_ID, t, seed, i) for i in range(N))
            ]
        )
        c = math.sqrt(6.0 * gamma * kT / dt)
        a = (F + (u * c - gamma * v)) * (1.0 / m)
        v = v + (0.5 * a) * dt
        snap = sim.state.get_snapshot()
        np.testing.assert_array_equal(snap.particles.position, r)
        np.testing.assert_array_equal(snap.particles.velocity, v)


def test_nve_energy_drift_bounded(rng):
    """Velocity Verlet with a shifted LJ: total energy fluctuates but does not drift over 10^4 steps."""
    box = [6.0, 6.0, 6.0, 0, 0, 0]
    N = 108
    nve = ha.md.methods.ConstantVolume(filter=ha.filter.All())
    pos = random_positions(rng, N, box, min_dist=1.05)
    frame = make_frame(pos, box, velocity=rng.normal(0, 1.0, (N, 3)))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim = make_sim(frame, forces=[lj], methods=[nve], dt=2e-3)

    def total():
        v = sim.state.get_snapshot().particles.velocity
        return lj.energy + 0.5 * np.sum(v * v)

    sim.run(0)
    E0 = total()
    Es = []
    for _ in range(100):
        sim.run(100)
        Es.append(total())
    Es = np.array(Es)
    kinetic_scale = 1.5 * N  # ~ kinetic energy at T ~ 1
    assert np.max(np.abs(Es - E0)) < 1e-3 * kinetic_scale
    # no systematic drift: first and last tenth agree within the fluctuation
    assert abs(Es[-10:].mean() - Es[:10].mean()) < 5e-4 * kinetic_scale


@pytest.mark.parametrize("dim", [2, 3])
def test_free_brownian_diffusion(dim):
    """MSD = 2 d (kT/gamma) t for free particles, within statistical error."""
    N, kT, gamma, dt, steps = 4000, 0.8, 2.0, 1e-3, 500
    L = 30.0
    box = [L, L, 0 if dim == 2 else L, 0, 0, 0]
    rng = np.random.default_rng(5)
    pos = rng.uniform(-L / 2, L / 2, (N, 3))
    if dim == 2:
        pos[:, 2] = 0
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=kT, default_gamma=gamma)
    sim = make_sim(make_frame(pos, box), forces=[], methods=[bd], dt=dt, seed=11)
    sim.run(steps)
    snap = sim.state.get_snapshot()
    Lv = np.array(box[:3])
    unwrapped = snap.particles.position + snap.particles.image * Lv
    disp = unwrapped - pos
    if dim == 2:
        assert np.all(disp[:, 2] == 0)
    msd = np.mean(np.sum(disp**2, axis=1))
    expect = 2 * dim * kT / gamma * dt * steps
    # each component is a sum of uniforms: var(|dr|^2) ~ 2 d sigma^4, so the mean has relative
    # standard error sqrt(2 / (d N)); allow 5 standard errors
    assert abs(msd / expect - 1) < 5 * math.sqrt(2 / (dim * N))


def test_langevin_equipartition():
    """<m v_k^2> = kT for free particles, with unequal masses."""
    N, kT, dt = 2000, 1.5, 5e-3
    L = 30.0
    rng = np.random.default_rng(8)
    mass = np.where(np.arange(N) % 2 == 0, 1.0, 3.0)
    frame = make_frame(rng.uniform(-L / 2, L / 2, (N, 3)), [L, L, L, 0, 0, 0], mass=mass)
    lv = ha.md.methods.Langevin(filter=ha.filter.All(), kT=kT, default_gamma=1.0)
    sim = make_sim(frame, forces=[], methods=[lv], dt=dt, seed=21)
    sim.run(2000)  # equilibrate: 1/gamma = 1 time unit = 200 steps
    samples = []
    for _ in range(30):
        sim.run(100)
        v = sim.state.get_snapshot().particles.velocity
        samples.append(mass[:, None] * v * v)
    s = np.array(samples)
    for heavy in (0, 1):
        T = s[:, heavy::2].mean()
        # ~ 30 samples x 1000 particles x 3 components, weakly correlated: relative error ~ 1%
        assert abs(T / kT - 1) < 0.04, (heavy, T)


@pytest.mark.parametrize("kind", ["brownian", "langevin", "nve"])
def test_bitwise_identical_with_1_and_2_threads(kind):
    """Enough particles (>= 96) that the loops really run on two threads."""
    n = 10
    g = (np.arange(n) - n / 2) * 1.2
    rng = np.random.default_rng(2)
    pos = np.array(np.meshgrid(g, g, g, indexing="ij")).reshape(3, -1).T + rng.uniform(-0.1, 0.1, (n**3, 3))
    box = [n * 1.2, n * 1.2, n * 1.2, 0.1, 0, 0]
    vel = rng.normal(size=pos.shape)
    results = []
    for threads in (1, 2):
        methods = {
            "brownian": lambda: [ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)],
            "langevin": lambda: [ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)],
            "nve": lambda: [ha.md.methods.ConstantVolume(filter=ha.filter.All())],
        }[kind]()
        lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5, mode="shift")
        lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
        dt = 2e-4 if kind == "brownian" else 2e-3
        sim = make_sim(make_frame(pos, box, velocity=vel), forces=[lj], methods=methods, dt=dt, threads=threads)
        sim.run(60)
        s = sim.state.get_snapshot()
        results.append((s.particles.position, s.particles.velocity, s.particles.image, lj.forces, lj.energy))
    assert not np.array_equal(results[0][0], pos)
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_two_methods_split_the_particles(rng):
    """Type A is Brownian, type B is NVE; each method moves only its own particles."""
    bd = ha.md.methods.Brownian(filter=ha.filter.Type("A"), kT=1.0)
    nve = ha.md.methods.ConstantVolume(filter=ha.filter.Type(["B"]))
    sim, lj = lj_system(rng, N=40, methods=[bd, nve])
    sim.run(10)
    with pytest.raises(ValueError, match="more than one integration method"):
        sim.operations.integrator.methods.append(ha.md.methods.Brownian(filter=ha.filter.Tags([3]), kT=1.0))
        sim.run(1)


def test_kT_ramp_changes_noise(rng):
    """A kT Ramp is evaluated at each step: kT = 0 (start of ramp) gives noiseless Brownian motion."""
    N = 20
    box = [10, 10, 10, 0, 0, 0]
    pos = random_positions(rng, N, box, min_dist=1.2)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=ha.variant.Ramp(0.0, 1.0, 0, 10))
    sim = make_sim(make_frame(pos, box), forces=[], methods=[bd], dt=1e-3)
    sim.run(1)
    assert np.array_equal(sim.state.get_snapshot().particles.position, pos)  # no force, kT(0) = 0
    sim.run(1)
    assert not np.array_equal(sim.state.get_snapshot().particles.position, pos)
