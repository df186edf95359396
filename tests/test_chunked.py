"""Long C++ calls run in chunks (cpp/python/Chunked.h: the GIL released, Ctrl-C honoured between
chunks): the chunk rule, and the same bits whatever the chunk size, for every chunked call (host,
device on the host backend and rigid bodies; forward runs, recordings and reverse sweeps)."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from test_gpu import device_gradient
from test_rigid_adjoint import _loss as rigid_loss, _system as rigid_system


@pytest.fixture
def chunk_steps():
    """Set the steps per chunk for a test; the chunk rule again afterwards."""
    yield _core._testing.set_chunk_steps
    _core._testing.set_chunk_steps(0)


def test_chunk_rule():
    rule = _core._testing.chunk_steps
    assert rule(1000, "host_forward") == 2000 and rule(1000, "host_adjoint") == 1000
    assert rule(0, "host_forward") == rule(1, "host_forward") == 100000  # at most 100000 steps
    assert rule(10**8, "host_forward") == 1  # at least one
    assert rule(10**4, "device_forward") == 100000 and rule(10**7, "device_forward") == 1000
    assert rule(10**5, "device_adjoint") == 5000
    with pytest.raises(ValueError, match="chunk_steps: unknown cost 'gpu'"):
        rule(10, "gpu")


def _flat(method, device, **kw):
    g, pos, r, sim = device_gradient(device, method, steps=40, **kw)
    return np.concatenate([g, pos.ravel(), sim.state._cpp.position.ravel(), [sim.timestep]])


@pytest.mark.parametrize("device", ["cpu", "host_backend"])
@pytest.mark.parametrize("method", ["brownian", "langevin"])
def test_gradient_bits_do_not_depend_on_chunks(chunk_steps, method, device):
    make = ha.device.CPU if device == "cpu" else ha.device._HostBackendGPU
    whole = _flat(method, make())
    for k in (1, 7):
        chunk_steps(k)
        np.testing.assert_array_equal(_flat(method, make()), whole)
        np.testing.assert_array_equal(_flat(method, make(), memory=3 * 200 * 3 * 8 * 10), whole)


def test_rigid_gradient_bits_do_not_depend_on_chunks(chunk_steps):
    def flat():
        sim, lj, rigid = rigid_system("langevin", 3)
        res = ha.adjoint.gradient(sim, 30, rigid_loss, wrt=[lj, rigid, "positions", "moment_inertia"])
        parts = [
            res.positions,
            res.orientations,
            res.grad("moment_inertia"),
            res.grad(rigid)["R"],
            [v["epsilon"] for v in res.grad(lj).values()],
            [res.loss],
            sim.state._cpp.position,
        ]
        return np.concatenate([np.ravel(p) for p in parts])

    whole = flat()
    chunk_steps(4)
    np.testing.assert_array_equal(flat(), whole)


def test_chunk_stops_at_a_failing_step(chunk_steps):
    """A sweep that stops at a non-finite adjoint names the same step whatever the chunks."""

    def failing():
        sim, lj = _overlapping()
        with pytest.raises(FloatingPointError, match="overflowing adjoint at step 7,") as e:
            ha.adjoint.gradient(sim, 100, lambda f: (1e149 * float(np.sum(f.positions**2)), 2e149 * f.positions), [lj])
        return str(e.value), sim.timestep

    whole = failing()
    chunk_steps(3)  # (the sweep stops inside its 31st chunk)
    assert failing() == whole


def _overlapping():
    from conftest import make_frame

    pos = np.array([[0.0, 0, 0], [0.95, 0, 0], [0, 1.0, 0], [3, 3, 3]])
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=1)
    sim.create_state_from_snapshot(make_frame(pos, [10, 10, 10, 0, 0, 0]))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.004, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], forces=[lj]
    )
    return sim, lj


def test_ctrl_c_stops_a_long_run():
    """A run far longer than the test: Ctrl-C (here from another thread, which can run because
    the GIL is released) raises KeyboardInterrupt between chunks; the run stops where a chunk ended."""
    import _thread
    import threading

    sim, _ = _overlapping()
    sim.run(0)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sim.state._cpp.advance(10**9)  # (hours)
    finally:
        timer.cancel()
    assert (
        0 < sim.state._cpp.timestep < 10**9
        and sim.state._cpp.timestep % _core._testing.chunk_steps(4, "host_forward") == 0
    )
