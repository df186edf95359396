"""Replica batches on the device (cpp/device/BatchRun.h): an Ensemble on a GPU advances all its
replicas together, each step's launches of every replica as one kernel per op. Each replica must
be bitwise the trajectory it has alone; a replica that fails stops where it stops alone while the
others go on. Run on the host backend (CI) and on CUDA where a GPU is present."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from conftest import make_frame, random_positions
from test_gpu import BACKENDS

METHODS = {
    "langevin": lambda kT: ha.md.methods.Langevin(filter=ha.filter.All(), kT=kT),
    "brownian": lambda kT: ha.md.methods.Brownian(filter=ha.filter.All(), kT=kT),
    "nve": lambda kT: ha.md.methods.ConstantVolume(filter=ha.filter.All()),
}


def replica_frame(i, dim=2):
    """Replica i: its own size (mixed sizes in one batch), density and starting positions."""
    rng = np.random.default_rng(100 + i)
    N = 40 + 17 * i
    L = (N / (0.45 - 0.03 * i)) ** (1 / dim)
    box = [L, L * 1.05, 0 if dim == 2 else L, 0.05 * (i % 2), 0, 0]
    pos = random_positions(rng, N, box, min_dist=0.95)
    vel = rng.normal(size=(N, 3))
    if dim == 2:
        vel[:, 2] = 0
    return make_frame(pos, box, velocity=vel)


def build(device, i, method="langevin", frame=None, dim=2):
    sim = ha.Simulation(device=device, seed=7 + 3 * i)
    sim.create_state_from_snapshot(frame if frame is not None else replica_frame(i, dim))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5, mode="shift")
    lj.params[("A", "A")] = dict(epsilon=1.0 + 0.1 * i, sigma=1.0)
    dt = 2e-4 if method == "brownian" else 2e-3
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[METHODS[method](0.8 + 0.1 * i)], forces=[lj])
    return sim


def state(sim):
    p = sim.state.get_snapshot().particles
    lj = sim.operations.integrator.forces[0]
    return p.position, p.velocity, p.image, lj.forces, lj.nlist.num_builds, sim.timestep


def assert_same(a, b):
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", list(METHODS))
def test_batch_is_each_replica_alone(backend, method):
    """Mixed sizes and densities, 200 steps: every replica equals its run alone on the same device
    (bitwise), and the batch launched each op once per step for all replicas."""
    R, steps = 5, 200
    alone = []
    for i in range(R):
        sim = build(backend(), i, method)
        sim.run(steps)
        alone.append(state(sim))
    ens = ha.Ensemble(lambda i: build(backend(), i, method), replicas=R, threads=1)
    _core.gpu_profile_start()
    try:
        assert ens.run(steps) == []
    finally:
        profile = dict(_core.gpu_profile_stop())
    for i in range(R):
        assert_same(state(ens.simulation(i)), alone[i])
    assert alone[-1][4] > 1  # the lists were rebuilt (on the same steps)
    # one kernel a step for the pair forces of all five replicas of a kind: two kinds here, the
    # orthorhombic boxes and the tilted ones (another op); a run alone would launch 5 a step.
    # (And each replica's forces at the start, prepRun's, on the device: R more.)
    calls = profile["pair forces"][0]
    assert calls == 2 * steps + R, calls


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_matches_the_cpu(backend):
    """LJ with Langevin: the batch's replicas equal the CPU's runs (no transcendental functions:
    device arithmetic is the host's)."""
    R, steps = 4, 150
    ens = ha.Ensemble(lambda i: build(backend(), i), replicas=R, threads=1)
    ens.run(steps)
    for i in range(R):
        cpu = build(ha.device.CPU(), i)
        cpu.run(steps)
        got, want = state(ens.simulation(i)), state(cpu)
        for x, y in zip(got[:3], want[:3]):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failing_replica_stops_alone(backend):
    """Replica 2 starts with two particles almost on top of each other: it fails at the step its run
    alone fails, with the same message, and the others run every step, as they do alone."""
    R, steps = 4, 120
    bad = replica_frame(2)
    bad.particles.position[1] = bad.particles.position[0] + np.array([0.02, 0, 0])

    def make(i):
        return build(backend(), i, frame=bad if i == 2 else None)

    alone = make(2)
    with pytest.raises(RuntimeError) as solo:
        alone.run(steps)
    ens = ha.Ensemble(make, replicas=R, threads=1, on_failure="drop")
    with pytest.warns(ha.ensemble.ReplicaWarning, match="1 replica"):
        failed = ens.run(steps)
    assert failed == [2]
    f = ens.failures[2]
    assert f.step == alone.timestep and f.cause == f"RuntimeError: {solo.value}"
    for i in (0, 1, 3):
        sim = make(i)
        sim.run(steps)
        assert_same(state(ens.simulation(i)), state(sim))


@pytest.mark.parametrize("backend", BACKENDS)
def test_mixed_methods_run_in_groups(backend):
    """Replicas with different methods launch different ops: each kind runs as its own batch."""
    kinds = ["langevin", "brownian", "nve", "langevin"]
    ens = ha.Ensemble(lambda i: build(backend(), i, kinds[i]), replicas=4, threads=1)
    ens.run(100)
    for i, kind in enumerate(kinds):
        sim = build(backend(), i, kind)
        sim.run(100)
        assert_same(state(ens.simulation(i)), state(sim))


def test_ensembles_with_writers_run_replica_by_replica(tmp_path):
    """A replica with a writer runs its own steps (the writer acts between them): no batch."""

    def make(i):
        sim = build(ha.device._HostBackendGPU(), i)
        if i == 1:
            sim.operations.writers.append(
                ha.write.GSD(filename=str(tmp_path / "r1.gsd"), trigger=ha.trigger.Periodic(50), mode="wb")
            )
        return sim

    ens = ha.Ensemble(make, replicas=2, threads=1)
    assert not ens._batchable()
    ens.run(100)
    sim = build(ha.device._HostBackendGPU(), 0)
    sim.run(100)
    assert_same(state(ens.simulation(0)), state(sim))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_list_that_outgrows_its_arrays_replays_alone(backend):
    """Replica 1's device list starts far too small: its chunks overflow and replay, alone, from
    their starts with larger arrays; it and the others end as they do alone (the same builds)."""
    R, steps = 3, 150

    def make(i):
        sim = build(backend(), i)
        if i == 1:
            sim.run(0)
            sim.operations.integrator.forces[0].nlist._cpp.set_device_sizes(4, 1)
        return sim

    ens = ha.Ensemble(make, replicas=R, threads=1)
    ens.run(steps)
    nl = ens.simulation(1).operations.integrator.forces[0].nlist._cpp
    assert nl.device_stride > 4 and nl.device_cell_capacity > 1
    for i in range(R):
        sim = make(i)
        sim.run(steps)
        assert_same(state(ens.simulation(i)), state(sim))


def mean_square(frame):
    """A loss of any size: mean of |x|^2 (each replica its own N)."""
    x = frame.positions
    return float(np.sum(x * x) / len(x)), 2 * x / len(x)


def gradient_of(res, sim):
    lj = sim.operations.integrator.forces[0]
    g = res.grad(lj)[("A", "A")]
    return [res.loss, g["epsilon"], g["sigma"]] + ([res.grad("kT")] if "kT" in res._grads else []), res.positions


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("memory", [None, 6], ids=["stored", "checkpointed"])
def test_batch_gradient_is_each_replica_alone(backend, method, memory):
    """Ensemble.gradient on the device runs every replica's recording, replays and sweeps as one
    batch: each replica's gradient is the one it has alone, bit for bit, and the sweep launched
    its Jacobian once a step for all of them. (Checkpointed: six states' worth of memory, the
    same size for every replica, so that their schedules agree.)"""
    R, steps = 4, 60
    frames = [replica_frame(1) if memory else None for _ in range(R)]  # (checkpointed: one size)

    def make(i):
        sim = build(backend(), i, method, frame=frames[i])
        if frames[i] is not None:
            sim.state._cpp.seed = 7 + 3 * i
        return sim

    def wrt(sim):
        return [sim.operations.integrator.forces[0], "positions"] + (["kT"] if method != "nve" else [])

    def budget(sim):
        return None if memory is None else memory * sim.state.N_particles * 72

    alone = []
    for i in range(R):
        sim = make(i)
        res = ha.adjoint.gradient(sim, steps, mean_square, wrt(sim), memory=budget(sim))
        alone.append((gradient_of(res, sim), state(sim)))
    ens = ha.Ensemble(make, replicas=R, threads=1)
    assert ens._batchable()
    _core.gpu_profile_start()
    try:
        res = ens.gradient(steps, mean_square, wrt, memory=budget(ens.simulation(0)))
    finally:
        profile = dict(_core.gpu_profile_stop())
    for i in range(R):
        sim = ens.simulation(i)
        got = gradient_of(res.replica(i), sim)
        assert got[0] == alone[i][0][0]
        np.testing.assert_array_equal(got[1], alone[i][0][1])
        assert_same(state(sim), alone[i][1])
    assert res.loss == sum(a[0][0][0] for a in alone) / R
    assert profile["pair Jacobian"][0] == steps  # one kernel a step for all four (alone: four)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_gradient_drops_a_failing_replica(backend):
    """A replica whose run fails (two particles almost on top of each other) is left out of the
    means with its step and cause, as Ensemble.gradient does on the CPU; the others' gradients
    are their own."""
    R, steps = 3, 40
    bad = replica_frame(1)
    bad.particles.position[1] = bad.particles.position[0] + np.array([0.02, 0, 0])

    def make(i):
        return build(backend(), i, frame=bad if i == 1 else None)

    def wrt(sim):
        return [sim.operations.integrator.forces[0]]

    ens = ha.Ensemble(make, replicas=R, threads=1, on_failure="drop")
    with pytest.warns(ha.ensemble.ReplicaWarning):
        res = ens.gradient(steps, mean_square, wrt)
    assert list(res.failures) == [1] and res.failures[1].cause.startswith("RuntimeError: ")
    for i in (0, 2):
        sim = make(i)
        alone = ha.adjoint.gradient(sim, steps, mean_square, wrt(sim))
        assert gradient_of(res.replica(i), ens.simulation(i))[0] == gradient_of(alone, sim)[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_rigid_replicas_batch(backend):
    """Replicas of rigid trimers (Langevin, rotations integrated) as one device batch: each the
    CPU's trajectory, orientations and angular momenta."""
    from test_rigid_bodies import _rigid_system

    R, steps = 3, 150
    ens = ha.Ensemble(
        lambda i: _rigid_system(ha, "langevin", 3, seed=5 + i, device=backend())[0], replicas=R, threads=1
    )
    assert ens._batchable()
    ens.run(steps)
    for i in range(R):
        cpu, _ = _rigid_system(ha, "langevin", 3, seed=5 + i)
        cpu.run(steps)
        a, b = ens.simulation(i).state.get_snapshot().particles, cpu.state.get_snapshot().particles
        for x, y in ((a.position, b.position), (a.orientation, b.orientation), (a.angmom, b.angmom)):
            if backend is ha.device._HostBackendGPU:
                np.testing.assert_array_equal(x, y)
            else:
                np.testing.assert_allclose(x, y, rtol=0, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("method", ["langevin", "bd"])
def test_rigid_gradients_batch(backend, method):
    """Ensemble.gradient of rigid replicas on the device: their recordings and sweeps as one batch
    (the bodies' adjoint one kernel a step for all of them), each replica's gradient the one it
    has alone on the CPU."""
    from test_rigid_bodies import _rigid_system

    R, steps = 3, 40

    def wrt(sim):
        integ = sim.operations.integrator
        return [integ.forces[0], "positions", integ.rigid, "gamma_r"]

    def flat(res, sim):
        integ = sim.operations.integrator
        g = res.grad(integ.forces[0])
        out = [res.loss, res.positions, res.orientations] + [g[k][p] for k in sorted(g) for p in sorted(g[k])]
        return out + list(res.grad(integ.rigid).values()) + list(res.grad("gamma_r").values())

    ens = ha.Ensemble(lambda i: _rigid_system(ha, method, 3, seed=5 + i, device=backend())[0], replicas=R, threads=1)
    assert ens._batchable()
    _core.gpu_profile_start()
    try:
        res = ens.gradient(steps, mean_square, wrt)
    finally:
        profile = dict(_core.gpu_profile_stop())
    assert profile["rigid adjoint: bodies"][0] == steps  # (alone: R a step)
    for i in range(R):
        cpu, _ = _rigid_system(ha, method, 3, seed=5 + i)
        alone = flat(ha.adjoint.gradient(cpu, steps, mean_square, wrt(cpu)), cpu)
        for x, y in zip(flat(res.replica(i), ens.simulation(i)), alone):
            if backend is ha.device._HostBackendGPU:
                np.testing.assert_array_equal(x, y)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_spider_replicas_batch(backend):
    """The spider's workload as a device batch: replicas of the complex (rigid shell and spider,
    bars, three pair forces on one list) through Ensemble.gradient, each replica's gradient the
    one it has alone on the CPU, the bars' Jacobian one launch a step for all of them."""
    from hoomd_adjoint.apps.spider import design, model

    R, steps = 3, 150

    def complex_(i, device):
        return model.Complex(
            "octahedron", model.Params.start("octahedron", "strong"), seed=3 + i, leg_sigma=2.25, device=device
        )

    cxs = [complex_(i, backend()) for i in range(R)]
    of = {id(cx.sim): cx for cx in cxs}

    def loss(sim):
        cx = of.get(id(sim))
        return lambda frame: design.extraction(cx, frame.positions)

    def wrt(sim):
        cx = of.get(id(sim))
        return [cx.soft, cx.morse, cx.rigid, "positions"]

    ens = ha.Ensemble(lambda i: cxs[i].sim, replicas=R, threads=1)
    assert ens._batchable()
    _core.gpu_profile_start()
    try:
        res = ens.gradient(steps, loss, wrt)
    finally:
        profile = dict(_core.gpu_profile_stop())
    assert profile["bar Jacobian"][0] == steps
    for i in range(R):
        cx = complex_(i, ha.device.CPU(num_cpu_threads=1))
        alone = ha.adjoint.gradient(
            cx.sim, steps, lambda f: design.extraction(cx, f.positions), [cx.soft, cx.morse, cx.rigid, "positions"]
        )
        got, b = res.replica(i), cxs[i]
        pairs = [(got.loss, alone.loss), (got.positions, alone.positions), (got.orientations, alone.orientations)]
        pairs += [(got.grad(b.rigid)[t], alone.grad(cx.rigid)[t]) for t in alone.grad(cx.rigid)]
        for f, g in ((b.soft, cx.soft), (b.morse, cx.morse)):
            pairs += [(got.grad(f)[k][p], alone.grad(g)[k][p]) for k in alone.grad(g) for p in alone.grad(g)[k]]
        for x, y in pairs:
            if backend is ha.device._HostBackendGPU:
                np.testing.assert_array_equal(x, y)
            else:
                np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_observe_batches(backend):
    """Ensemble.observe on the device: the segments between observations as batches; the values
    are each replica's own (its run alone, observed the same way)."""
    R = 4

    def obs(frame):
        return float(np.mean(frame.positions[:, 0] ** 2))

    ens = ha.Ensemble(lambda i: build(backend(), i), replicas=R, threads=1)
    _core.gpu_profile_start()
    try:
        offsets, values = ens.observe(120, 40, obs)
    finally:
        profile = dict(_core.gpu_profile_stop())
    assert list(offsets) == [0, 40, 80, 120]
    assert profile["pair forces"][0] == 2 * 120 + R  # (two kinds of box; each replica's start)
    for i in range(R):
        sim = build(backend(), i)
        alone = [obs(ha.adjoint._frame(sim))]
        for _ in range(3):
            sim.run(40)
            alone.append(obs(ha.adjoint._frame(sim)))
        assert list(values[i]) == alone


def test_the_mean_does_not_depend_on_the_layout():
    """The ensemble's mean gradient is the same bits whether its replicas run as one device batch
    (host backend), as groups of another mix, or on a CPU thread pool: every replica's gradient is
    its own, and the mean adds them in replica order."""
    R, steps = 6, 40

    def wrt(sim):
        return [sim.operations.integrator.forces[0]]

    means = []
    for device, threads in ((ha.device._HostBackendGPU, 1), (ha.device.CPU, 2)):
        ens = ha.Ensemble(lambda i: build(device(), i), replicas=R, threads=threads)
        res = ens.gradient(steps, mean_square, wrt)
        means.append((res.loss, res.grad(0)[("A", "A")]["epsilon"], res.grad(0)[("A", "A")]["sigma"]))
    assert means[0] == means[1]
