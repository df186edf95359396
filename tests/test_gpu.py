"""GPU path: the same trajectories as the CPU path.

Every test runs on two backends of the device code (cpp/device/GPU.h): CUDA, where a GPU is present,
and the host backend, which runs the same kernels, device neighbour lists and deferred checks on
the CPU, so that CI exercises all of the GPU path but the launches themselves."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from conftest import make_frame, random_positions

HAVE_GPU = _core.cuda_enabled and _core.gpu_available()
BACKENDS = [
    pytest.param(ha.device.GPU, id="cuda", marks=pytest.mark.skipif(not HAVE_GPU, reason="no CUDA device")),
    pytest.param(ha.device._HostBackendGPU, id="host"),
]


def make_sim(device, frame, method, pair, params, dt, seed=5, mode="shift", buffer=0.3, r_cut=2.5):
    sim = ha.Simulation(device=device, seed=seed)
    sim.create_state_from_snapshot(frame)
    pot = getattr(ha.md.pair, pair)(nlist=ha.md.nlist.Cell(buffer=buffer), default_r_cut=r_cut, mode=mode)
    pot.params[("A", "A")] = params
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[method()], forces=[pot])
    return sim, pot


def result(sim, pot):
    s = sim.state.get_snapshot()
    return s.particles.position, s.particles.velocity, s.particles.image, pot.forces, pot.energy, pot.nlist.num_builds


def run(device, frame, method, pair, params, steps, dt, **kw):
    sim, pot = make_sim(device, frame, method, pair, params, dt, **kw)
    sim.run(steps)
    return result(sim, pot)


def assert_same(gpu, cpu, exact, builds=True):
    if builds:
        assert cpu[5] > 1 and cpu[5] == gpu[5]  # the list was rebuilt on the same steps
    tol = 0 if exact else 1e-11
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=0, atol=tol)
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=0, atol=tol)
    np.testing.assert_array_equal(gpu[2], cpu[2])
    np.testing.assert_allclose(gpu[3], cpu[3], rtol=0 if exact else 1e-9, atol=0 if exact else 1e-9)
    np.testing.assert_allclose(gpu[4], cpu[4], rtol=0 if exact else 1e-12)


CASES = [
    ("LJ", dict(epsilon=1.0, sigma=1.0), lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0), 2e-4),
    ("LJ", dict(epsilon=1.0, sigma=1.0), lambda: ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0), 2e-3),
    ("LJ", dict(epsilon=1.0, sigma=1.0), lambda: ha.md.methods.ConstantVolume(filter=ha.filter.All()), 2e-3),
    ("Morse", dict(D0=1.0, alpha=3.0, r0=1.1), lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.5), 5e-4),
    (
        "Rechtsman",
        dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823),
        lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.2),
        2e-4,
    ),
]


def case_frame(case, dim, N):
    rng = np.random.default_rng(case)
    box = [60, 60, 0, 0.1, 0, 0] if dim == 2 else [14, 14.5, 15, 0.1, 0.05, -0.1]
    if N < 1500:  # the same density
        s = (N / 1500) ** (1 / dim)
        box = [box[0] * s, box[1] * s, box[2] * s if dim == 3 else 0] + box[3:]
    pos = random_positions(rng, N, box, min_dist=1.0)
    return make_frame(pos, box, velocity=rng.normal(size=(N, 3)) * (dim == 3 or np.array([1, 1, 0])))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_gpu_matches_cpu(backend, case, dim):
    pair, params, method, dt = CASES[case]
    N = 1500 if backend is ha.device.GPU else 400
    frame = case_frame(case, dim, N)
    cpu = run(ha.device.CPU(), frame, method, pair, params, 400, dt)
    gpu = run(backend(), frame, method, pair, params, 400, dt)
    # no transcendental functions in LJ: device arithmetic is IEEE, in source order; the host
    # backend is the CPU's own arithmetic
    assert_same(gpu, cpu, exact=pair == "LJ" or backend is ha.device._HostBackendGPU)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lists_that_outgrow_their_arrays_are_replayed_bitwise(backend):
    """Cells and rows started far too small: the device notes each overflow, the host grows the
    arrays and replays the chunk from its saved start, and the trajectory is the CPU's."""
    pair, params, method, dt = CASES[1]
    frame = case_frame(1, 3, 300)
    cpu = run(ha.device.CPU(), frame, method, pair, params, 300, dt)
    sim, pot = make_sim(backend(), frame, method, pair, params, dt)
    nl = pot.nlist._cpp
    nl.set_device_sizes(4, 1)
    sim.run(300)
    assert nl.device_stride > 4 and nl.device_cell_capacity > 1
    gpu = result(sim, pot)
    # replays rebuild the list at the restored step, which the CPU never did: the builds differ
    assert_same(gpu, cpu, exact=True, builds=False)


@pytest.mark.parametrize("backend", BACKENDS)
def test_runs_continue_and_alternate_with_the_cpu(backend):
    """The device list persists between runs; a CPU run in between changes nothing."""
    pair, params, method, dt = CASES[0]
    frame = case_frame(0, 2, 300)
    cpu = run(ha.device.CPU(), frame, method, pair, params, 500, dt)
    sim, pot = make_sim(backend(), frame, method, pair, params, dt)
    for n in (1, 130, 2, 167):
        sim.run(n)
    sim._state._cpp.use_gpu = False
    sim.run(100)
    sim._state._cpp.use_gpu = True
    sim.run(100)
    np.testing.assert_array_equal(result(sim, pot)[0], cpu[0])
    np.testing.assert_array_equal(result(sim, pot)[4], cpu[4])


@pytest.mark.parametrize("backend", BACKENDS)
def test_small_box_and_rebuild_check_delay(backend):
    """Fewer than three cells along a direction (each cell is then visited once), and HOOMD's
    rebuild_check_delay, decided on the device."""
    rng = np.random.default_rng(3)
    box = [7.0, 6.5, 5.9, 0.0, 0.0, 0.0]
    pos = random_positions(rng, 60, box, min_dist=1.0)
    frame = make_frame(pos, box)
    for delay in (1, 4):
        out = []
        for dev in (ha.device.CPU(), backend()):
            sim = ha.Simulation(device=dev, seed=2)
            sim.create_state_from_snapshot(frame)
            nl = ha.md.nlist.Cell(buffer=0.2, rebuild_check_delay=delay)
            lj = ha.md.pair.LJ(nlist=nl, default_r_cut=2.5)
            lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
            sim.operations.integrator = ha.md.Integrator(
                dt=1e-3, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)], forces=[lj]
            )
            sim.run(300)
            out.append((sim.state.get_snapshot().particles.position, nl.num_builds))
        assert out[0][1] > 3 and out[0][1] == out[1][1]
        np.testing.assert_array_equal(out[0][0], out[1][0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_lists_and_two_forces(backend):
    rng = np.random.default_rng(4)
    box = [12, 12, 12, 0, 0, 0]
    pos = random_positions(rng, 400, box, min_dist=1.0)
    frame = make_frame(pos, box, typeid=rng.integers(0, 2, 400), types=("A", "B"))
    out = []
    for dev in (ha.device.CPU(), backend()):
        sim = ha.Simulation(device=dev, seed=9)
        sim.create_state_from_snapshot(frame)
        nl = ha.md.nlist.Cell(buffer=0.3)
        lj = ha.md.pair.LJ(nlist=nl, default_r_cut=2.5)
        lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=1.0, sigma=1.0)
        lj.r_cut[("A", "B")] = 1.5
        y = ha.md.pair.Yukawa(nlist=ha.md.nlist.Cell(buffer=0.5), default_r_cut=3.0)
        y.params[(("A", "B"), ("A", "B"))] = dict(epsilon=0.3, kappa=1.0)
        sim.operations.integrator = ha.md.Integrator(
            dt=1e-3, methods=[ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)], forces=[lj, y]
        )
        sim.run(200)
        out.append(sim.state.get_snapshot().particles.position)
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gpu_non_finite_force_names_step_and_tags(backend):
    pos = np.array([[0.5, 0, 0], [-0.5, 0, 0], [3, 3, 3]])
    f = make_frame(pos, [10, 10, 10, 0, 0, 0], velocity=np.array([[-1.0, 0, 0], [1.0, 0, 0], [0, 0, 0]]))
    sim = ha.Simulation(device=backend(), seed=1)
    sim.create_state_from_snapshot(f)
    y = ha.md.pair.Yukawa(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    y.params[("A", "A")] = dict(epsilon=1e-30, kappa=1.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.5, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], forces=[y]
    )
    with pytest.raises(RuntimeError, match=r"non-finite force at step 1 on 2 particle\(s\), tags 0, 1"):
        sim.run(5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_failure_deep_in_a_chunk_is_found_at_its_step(backend):
    """The device only notes a non-finite force; the host finds the step by replaying the chunk
    one step at a time, and says what the CPU says, leaving the state where the CPU leaves it.
    Two particles meet head on at step 40 (all exact in binary: positions are multiples of
    dt = 1/64, and the forces too weak to change a velocity), inside the chunk of steps 32-63."""
    pos = np.array([[-0.625, 0, 0], [0.625, 0, 0], [3, 3, 3]])
    vel = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 0, 0]])
    msgs, states = [], []
    for dev in (ha.device.CPU(), backend()):
        sim = ha.Simulation(device=dev, seed=1)
        sim.create_state_from_snapshot(make_frame(pos, [10, 10, 10, 0, 0, 0], velocity=vel))
        y = ha.md.pair.Yukawa(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
        y.params[("A", "A")] = dict(epsilon=1e-30, kappa=1.0)
        sim.operations.integrator = ha.md.Integrator(
            dt=1 / 64, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], forces=[y]
        )
        with pytest.raises(RuntimeError) as e:
            sim.run(100)
        msgs.append(str(e.value))
        s = sim.state.get_snapshot()
        states.append((sim.timestep, s.particles.position, s.particles.velocity))
    assert "non-finite force at step 40 on 2 particle(s), tags 0, 1" in msgs[0]
    assert msgs[1] == msgs[0]
    assert states[1][0] == states[0][0]
    np.testing.assert_array_equal(states[1][1], states[0][1])
    np.testing.assert_array_equal(states[1][2], states[0][2])


# ---- gradients on the device ------------------------------------------------------------------

METHODS = {
    "brownian": (lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0), 2e-4),
    "langevin": (lambda: ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0), 1e-3),
    "nve": (lambda: ha.md.methods.ConstantVolume(filter=ha.filter.All()), 1e-3),
}


def spread_loss(f):
    """sum of x^2 + y z: a loss that every particle and direction enter"""
    p = f.positions
    d = np.stack([2 * p[:, 0], p[:, 2], p[:, 1]], axis=1)
    return float(np.sum(p[:, 0] ** 2) + np.sum(p[:, 1] * p[:, 2])), d


def gradient_sim(device, method, ntypes=1, N=200, seed=3, eps=1.0):
    rng = np.random.default_rng(11)
    box = [9.0, 9.0, 9.0, 0.1, 0.0, 0.0]
    pos = random_positions(rng, N, box, min_dist=1.0)
    types = ("A", "B")[:ntypes]
    frame = make_frame(pos, box, typeid=rng.integers(0, ntypes, N), types=types, velocity=rng.normal(size=(N, 3)))
    make, dt = METHODS[method]
    sim = ha.Simulation(device=device, seed=seed)
    sim.create_state_from_snapshot(frame)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    lj.params[(types, types)] = dict(epsilon=eps, sigma=1.0)
    if ntypes == 2:
        lj.params[("A", "B")] = dict(epsilon=0.7 * eps, sigma=1.1)
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[make()], forces=[lj])
    return sim, lj


def device_gradient(device, method, ntypes=1, steps=60, **kw):
    sim, lj = gradient_sim(device, method, ntypes)
    wrt = [lj, "positions"] + (["kT", "gamma"] if method != "nve" else [])
    r = ha.adjoint.gradient(sim, steps, spread_loss, wrt, **kw)
    flat = [r.loss] + [v for tp in r.grad(lj).values() for v in tp.values()]
    if method != "nve":
        flat += [r.grad("kT")] + list(r.grad("gamma").values())
    return np.array(flat), r.positions, r, sim


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("ntypes", [1, 2])
@pytest.mark.parametrize("method", list(METHODS))
def test_device_gradient_matches_cpu(backend, method, ntypes):
    """Parameters (one type: per-particle sums; two: pair by pair, as the CPU), positions, kT and
    gamma; the simulation is left where the CPU's is."""
    cpu, cpu_pos, _, cpu_sim = device_gradient(ha.device.CPU(), method, ntypes)
    dev, dev_pos, _, dev_sim = device_gradient(backend(), method, ntypes)
    # LJ, the noise (sqrt) and the steps are IEEE arithmetic in source order on both (no FMA
    # contraction): the bits must agree on CUDA too
    np.testing.assert_array_equal(dev, cpu)
    np.testing.assert_array_equal(dev_pos, cpu_pos)
    assert dev_sim.timestep == cpu_sim.timestep
    np.testing.assert_array_equal(
        dev_sim.state.get_snapshot().particles.position, cpu_sim.state.get_snapshot().particles.position
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_device_xplor_matches_cpu(backend):
    """mode="xplor" (A-A smoothed from r_on = 1.8, A-B with r_on > r_cut: shifted): the run and the
    gradient, r_on's included, bitwise the CPU's."""
    out = []
    for device in (ha.device.CPU(), backend()):
        sim, lj = gradient_sim(device, "langevin", ntypes=2)
        lj.mode = "xplor"
        lj.r_on[("A", "A")] = 1.8
        lj.r_on[("A", "B")] = 3.0
        r = ha.adjoint.gradient(sim, 60, spread_loss, [lj, "positions"])
        g = r.grad(lj)
        assert g[("A", "A")]["r_on"] != 0 and g[("A", "B")]["r_on"] == 0
        out.append(np.array([r.loss] + [v for tp in g.values() for v in tp.values()] + list(r.positions.ravel())))
    np.testing.assert_array_equal(out[1], out[0])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["brownian", "langevin"])
def test_device_checkpointed_equals_stored(backend, method):
    full, full_pos, r_full, _ = device_gradient(backend(), method, steps=90)
    state = r_full.diagnostics["state_bytes"]
    for budget in (5, 12):
        ck, ck_pos, r, _ = device_gradient(backend(), method, steps=90, memory=budget * state)
        assert r.diagnostics["checkpointing"] and r.diagnostics["recomputed_steps"] > 0
        np.testing.assert_array_equal(ck, full)
        np.testing.assert_array_equal(ck_pos, full_pos)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["brownian", "nve"])
def test_device_memory_beyond_its_budget_is_host_memory(backend, method):
    """States beyond device_memory live on the host and pass through a small device block: the
    same gradient to the bit, with every state stored and with checkpoints."""
    full, full_pos, r_full, _ = device_gradient(backend(), method, steps=90)
    assert r_full.diagnostics["host_bytes_peak"] == 0
    state = r_full.diagnostics["state_bytes"]
    for memory, device_memory in ((None, 10 * state), (12 * state, 5 * state), (12 * state, 0)):
        g, pos, r, _ = device_gradient(backend(), method, steps=90, memory=memory, device_memory=device_memory)
        assert r.diagnostics["host_bytes_peak"] > 0 and r.diagnostics["device_bytes_peak"] <= device_memory
        np.testing.assert_array_equal(g, full)
        np.testing.assert_array_equal(pos, full_pos)


def test_device_memory_needs_a_gpu():
    sim, lj = gradient_sim(ha.device.CPU(), "nve")
    with pytest.raises(ValueError, match="device_memory applies to simulations on a GPU"):
        ha.adjoint.gradient(sim, 10, spread_loss, [lj], device_memory=1000)
    assert sim.timestep == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_device_clip_matches_cpu(backend):
    out = []
    for dev in (ha.device.CPU(), backend()):
        sim, lj = gradient_sim(dev, "langevin")
        r = ha.adjoint.gradient(sim, 60, spread_loss, [lj, "kT"], clip=5.0)
        out.append(np.array([r.grad(lj)[("A", "A")]["epsilon"], r.grad("kT")]))
    np.testing.assert_array_equal(out[1], out[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_device_gradient_finite_differences(backend):
    """d L / d epsilon against central differences of the same discrete map on the device, two
    step sizes (a cutoff crossing would show as disagreement between them)."""
    steps = 40

    def run_loss(eps):
        sim, lj = gradient_sim(backend(), "brownian", eps=eps)
        sim.run(steps)
        return spread_loss(ha.adjoint._frame(sim))[0]

    sim, lj = gradient_sim(backend(), "brownian")
    g = ha.adjoint.gradient(sim, steps, spread_loss, [lj]).grad(lj)[("A", "A")]["epsilon"]
    fds = [(run_loss(1 + h) - run_loss(1 - h)) / (2 * h) for h in (1e-5, 1e-6)]
    for fd in fds:
        assert abs(fd - g) <= 1e-6 * max(1.0, abs(g)), (g, fds)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("backend", BACKENDS)
def test_device_non_finite_adjoint_stops_where_the_cpu_stops(backend):
    def bad_loss(f):  # finite, but the adjoint overflows on the way back
        v, d = spread_loss(f)
        d[7] = 1.7e308
        return v, d

    msgs = []
    for dev in (ha.device.CPU(), backend()):
        sim, lj = gradient_sim(dev, "nve")
        with pytest.raises(FloatingPointError) as e:
            ha.adjoint.gradient(sim, 30, bad_loss, [lj], frames=[10, 30])
        msgs.append(str(e.value))
    # (1.7e308 is finite but beyond the sweep's limit, 1e150: it stops at the first step back)
    assert "overflowing adjoint at step 29, particle tags [7]" in msgs[0] and msgs[1] == msgs[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_device_sweep_lists_that_outgrow_their_arrays(backend):
    """The sweep's lists overflow (arrays started tiny): the pass is run again with larger
    arrays, and the gradient is the CPU's."""
    out = []
    for dev in (ha.device.CPU(), backend()):
        sim, lj = gradient_sim(dev, "langevin")
        sim.run(0)
        on_device = dev.__class__ is not ha.device.CPU
        if on_device:
            lj.nlist._cpp.set_device_sizes(4, 1)  # the forward run's lists overflow

        def loss(f, nl=lj.nlist._cpp, on_device=on_device):
            if on_device and f.timestep == 60:  # the last frame: then the sweep's overflow
                nl.set_device_sizes(4, 1)
            return spread_loss(f)

        r = ha.adjoint.gradient(sim, 60, loss, [lj, "positions", "kT", "gamma"], frames=[30, 60])
        out.append(
            (
                np.array(
                    [r.loss] + list(r.grad(lj)[("A", "A")].values()) + [r.grad("kT")] + list(r.grad("gamma").values())
                ),
                r.positions,
            )
        )
    assert lj.nlist._cpp.device_stride > 4
    for a, b in zip(out[1], out[0]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_ensemble_of_device_replicas(backend):
    """Replicas on the device, run on two threads at once, give each their CPU gradient."""
    means = []
    for dev in (ha.device.CPU, backend):

        def build(i, dev=dev):
            return gradient_sim(dev(), "brownian", N=120, seed=50 + i)[0]

        ens = ha.Ensemble(build, replicas=4, threads=2)
        res = ens.gradient(
            40, loss=lambda sim: spread_loss, wrt=lambda sim: [sim.operations.integrator.forces[0], "kT"]
        )
        means.append((res.losses, res.grad(0)[("A", "A")]["epsilon"], res.grad(1)))
    np.testing.assert_array_equal(means[1][0], means[0][0])
    assert means[1][1:] == means[0][1:]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["langevin", "brownian"])
def test_no_transfers_per_step(backend, method):
    """A device run moves nothing between host and device per step: its copies to and from the
    host (counted by the profile) are those of its start, end and looks between chunks (1, 2, 4,
    ... 128 steps), so 127 and 255 steps (7 and 8 chunks) differ by one look's worth; a gradient
    of 40 and of 80 steps (the same 20 diagnostic pauses) by one recording chunk's."""
    from hoomd_adjoint import _core

    def transfers(call):
        _core.gpu_profile_start()
        call()
        prof = _core.gpu_profile_stop()
        return sum(prof.get(k, (0, 0))[0] for k in ("copies to the device", "copies to the host"))

    runs, grads = [], []
    for n in (127, 255, 383):  # (383: a ninth chunk, of 128)
        sim, _ = gradient_sim(backend(), method, N=100)
        runs.append(transfers(lambda: sim.run(n)))
    for n in (40, 80):
        sim, lj = gradient_sim(backend(), method, N=100)
        grads.append(transfers(lambda: ha.adjoint.gradient(sim, n, spread_loss, [lj])))
    look = runs[1] - runs[0]
    assert 0 < look <= 4 and runs[2] - runs[1] == look
    assert grads[1] - grads[0] == look


@pytest.mark.parametrize("backend", BACKENDS)
def test_kernel_profile(backend):
    """gpu_profile_start/stop time every kernel: one launch of each step's kernels a step (and, at
    the run's start, the forces and list of prepRun: on the device, not the host)."""
    from hoomd_adjoint import _core

    sim, lj = gradient_sim(backend(), "langevin", N=100)
    sim.run(1)
    _core.gpu_profile_start()
    sim.run(7)
    prof = _core.gpu_profile_stop()
    assert prof["pair forces"][0] == 8 and prof["neighbour list: rows"][0] == 8
    assert prof["step one"][0] == 7 and prof["Langevin step two"][0] == 7
    assert all(sec >= 0 for _, sec in prof.values())
    sim.run(3)
    assert _core.gpu_profile_stop() == {}  # (off again)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("columns", [False, True])
def test_device_list_layouts(backend, columns):
    """The device's lists as rows or as columns (the default): the CPU's trajectory and gradient,
    growth and replays included."""
    cpu, cpu_pos, _, _ = device_gradient(ha.device.CPU(), "langevin", ntypes=2)
    sim, lj = gradient_sim(backend(), "langevin", ntypes=2)
    lj.nlist._cpp.device_columns = columns
    lj.nlist._cpp.set_device_sizes(8, 2)
    r = ha.adjoint.gradient(sim, 60, spread_loss, [lj, "positions", "kT", "gamma"])
    flat = (
        [r.loss]
        + [v for tp in r.grad(lj).values() for v in tp.values()]
        + [r.grad("kT")]
        + list(r.grad("gamma").values())
    )
    assert lj.nlist._cpp.device_stride > 8
    np.testing.assert_array_equal(np.array(flat), cpu)
    np.testing.assert_array_equal(r.positions, cpu_pos)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [3, 2])
@pytest.mark.parametrize("method", ["nve", "langevin", "bd"])
def test_rigid_bodies_follow_the_cpu(backend, method, dim):
    """Rigid trimers and free particles on the device (the constituents placed, their forces and
    torques handed to the centres, NO_SQUISH and the Brownian rotation: engine/Rigid.h's functions
    a thread a body or particle): the CPU's trajectory, orientations and angular momenta."""
    from test_rigid_bodies import _rigid_system

    out = []
    for device in (ha.device.CPU(num_cpu_threads=1), backend()):
        sim, lj = _rigid_system(ha, method, dim, device=device)
        sim.run(300)
        p = sim.state.get_snapshot().particles
        out.append((p.position, p.orientation, p.angmom, p.velocity, p.image, lj.forces))
    exact = backend is ha.device._HostBackendGPU  # (CUDA's sin/cos: an ulp apart)
    for a, b in zip(*out):
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forces_sharing_a_list_follow_the_cpu(backend):
    """Two pair forces on one neighbour list (the spider's three do): the device starts the list
    once. (It used to start it once per force, and the second start dropped the first's request
    to build: the forces then read a list never built, out of bounds.)"""
    rng = np.random.default_rng(1)
    box = [9.0, 9.0, 9.0, 0.1, 0, 0]
    pos = random_positions(rng, 120, box, min_dist=1.0)
    out = []
    for device in (ha.device.CPU(num_cpu_threads=1), backend()):
        sim = ha.Simulation(device=device, seed=1)
        sim.create_state_from_snapshot(make_frame(pos, box))
        nl = ha.md.nlist.Cell(buffer=0.3)
        a = ha.md.pair.LJ(nlist=nl, default_r_cut=2.5)
        a.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
        b = ha.md.pair.Gaussian(nlist=nl, default_r_cut=1.5)
        b.params[("A", "A")] = dict(epsilon=0.5, sigma=0.8)
        sim.operations.integrator = ha.md.Integrator(
            dt=2e-3, methods=[ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)], forces=[a, b]
        )
        sim.run(100)
        res = ha.adjoint.gradient(sim, 40, spread_loss, [a, b, "positions"])
        g = [res.grad(f)[("A", "A")][k] for f in (a, b) for k in ("epsilon", "sigma")]
        out.append([np.array(sim.state._cpp.position), res.positions, np.array(g), a.forces, b.forces])
    for x, y in zip(*out):
        if backend is ha.device._HostBackendGPU:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shell", ["octahedron", "icosahedron"])
def test_the_spider_runs_on_the_device(backend, shell):
    """The spider's complex (rigid shell and spider, three pair forces on one list, the legs' bar
    force: engine/BarForce.h's loop run by one device thread) on the device, forward and through
    the paper's loss and its exact 8-parameter gradient: the CPU's, bit for bit on the host
    backend."""
    from hoomd_adjoint.apps.spider import design, model

    out = []
    for device in (ha.device.CPU(num_cpu_threads=1), backend()):
        cx = model.Complex(shell, model.Params.start(shell, "strong"), seed=3, leg_sigma=2.25, device=device)
        ev = design.evaluate(cx, steps=200, stable=design.STABLE_SHELL[shell])
        out.append([np.array([ev.loss]), ev.grad, np.array(cx.sim.state._cpp.position), cx.bar.forces])
    for x, y in zip(*out):
        if backend is ha.device._HostBackendGPU:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-9)


def _rigid_gradient(device, method, dim, steps=60, **kw):
    """A gradient of rigid trimers and free particles (rotations integrated) with respect to
    everything a rigid system has: LJ, initial state, body geometry, moments, rotational drags."""
    from test_rigid_bodies import _rigid_system

    sim, lj = _rigid_system(ha, method, dim, device=device)
    rigid = sim.operations.integrator.rigid
    wrt = [lj, "positions", rigid, "moment_inertia"] + (["gamma_r"] if method != "nve" else [])

    def loss(f):
        return float(np.sum(f.positions**2)), 2 * f.positions

    res = ha.adjoint.gradient(sim, steps, loss, wrt, frames=[steps // 2, steps], **kw)
    g = res.grad(lj)
    flat = [res.loss, res.positions, res.orientations, res.velocities, res.angmom, res.grad("moment_inertia")]
    flat += [g[k][p] for k in sorted(g) for p in sorted(g[k])] + list(res.grad(rigid).values())
    flat += list(res.grad("gamma_r").values()) if method != "nve" else []
    p = sim.state.get_snapshot().particles
    return [x for x in flat if x is not None], (p.position, p.orientation, p.angmom), res.diagnostics


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dim", [3, 2])
@pytest.mark.parametrize("method", ["nve", "langevin", "bd"])
@pytest.mark.parametrize("store", ["stored", "checkpointed", "host"])
def test_rigid_gradients_on_the_device_are_the_cpus(backend, method, dim, store):
    """The rigid-body adjoint on the device (RigidAdjointStep.h's pieces as ops: the rotations
    pulled back in dual numbers a thread a body, the constituents' weights and pull-backs, the
    drags' and the geometry's sums by blocks and tree): the CPU's gradient, bit for bit on the
    host backend, whether the states stay on the device, are checkpointed, or spill to host
    memory; the simulation ends where sim.run leaves it."""
    N, width = 7 * 4, 20 if method != "bd" else 7  # (particles: 4 trimers' sites and centres, 3 free)
    kw = {"checkpointed": dict(memory=12 * N * width * 8), "host": dict(device_memory=5 * N * width * 8)}.get(store, {})
    cpu, cpu_end, _ = _rigid_gradient(ha.device.CPU(num_cpu_threads=1), method, dim)
    dev, dev_end, diag = _rigid_gradient(backend(), method, dim, **kw)
    if store == "host":
        assert diag["host_bytes_peak"] > 0
    exact = backend is ha.device._HostBackendGPU  # (CUDA's sin/cos: an ulp apart)
    assert len(cpu) == len(dev)
    for a, b in zip(cpu + list(cpu_end), dev + list(dev_end)):
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)
