"""Forward (tangent-linear) mode's steps run in C++ (_core.tangent_advance, in chunks: the GIL
released, Ctrl-C honoured), stopping only at the frames, where Python evaluates the loss, and where
writers write: the same bits whatever the chunks, the loss called once per frame, the writers'
output that of sim.run."""

import gsd.hoomd
import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from test_adjoint import STEPS, System
from test_gpu import gradient_sim, spread_loss

FRAMES = [0, 13, 40, STEPS]


@pytest.fixture
def chunk_steps():
    yield _core._testing.set_chunk_steps
    _core._testing.set_chunk_steps(0)


def _flat(r, sim, force):
    g = [v for tp in r.grad(force).values() for v in tp.values()] + [r.grad("kT")] + list(r.grad("gamma").values())
    return np.concatenate([[r.loss], g, np.ravel(sim.state._cpp.position), np.ravel(sim.state._cpp.velocity)])


@pytest.mark.parametrize("device", ["cpu", "host_backend"])
@pytest.mark.parametrize("method", ["brownian", "langevin"])
def test_forward_mode_bits_do_not_depend_on_chunks(chunk_steps, method, device):
    def flat():
        make = ha.device.CPU if device == "cpu" else ha.device._HostBackendGPU
        sim, lj = gradient_sim(make(), method, ntypes=2, N=60)
        r = ha.adjoint.gradient(sim, STEPS, spread_loss, [lj, "kT", "gamma"], frames=FRAMES, mode="forward")
        return _flat(r, sim, lj)

    whole = flat()
    for k in (1, 7):
        chunk_steps(k)
        np.testing.assert_array_equal(flat(), whole)


def test_loss_is_called_at_the_frames_only(rng, tmp_path):
    """Python runs only at the frames (the loss) and where a writer writes; the file is sim.run's."""
    s = System("Morse", "langevin", 3, rng)
    seen = []

    def loss(frame):
        seen.append(frame.timestep)
        return s.loss(frame)

    sim, force = s.build()
    sim.operations.writers.append(ha.write.GSD(trigger=7, filename=tmp_path / "f.gsd", mode="wb"))
    t0 = sim.timestep
    ha.adjoint.gradient(sim, STEPS, loss, [force, "kT"], frames=FRAMES, mode="forward")
    assert seen == [t0 + k for k in FRAMES]
    ref, _ = s.build()
    ref.operations.writers.append(ha.write.GSD(trigger=7, filename=tmp_path / "r.gsd", mode="wb"))
    ref.run(STEPS)
    with gsd.hoomd.open(tmp_path / "f.gsd") as f, gsd.hoomd.open(tmp_path / "r.gsd") as r:
        assert len(f) == len(r) == STEPS // 7  # (steps 7, 14, ..., 56)
        for a, b in zip(f, r):
            assert a.configuration.step == b.configuration.step
            np.testing.assert_array_equal(a.particles.position, b.particles.position)


def _tangents(cpp, K):
    return [(np.zeros((cpp.N, 3)), np.zeros((cpp.N, 3)), np.zeros((cpp.N, 3)), 1.0, None) for _ in range(K)]


def test_ctrl_c_stops_forward_mode_between_chunks():
    import _thread
    import threading

    sim, _ = gradient_sim(ha.device.CPU(1), "langevin", N=20)
    sim.run(0)
    cpp = sim.state._cpp
    tangents = _tangents(cpp, 2)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            _core.tangent_advance(cpp, 10**9, tangents, [[]])  # (hours)
    finally:
        timer.cancel()
    chunk = _core._testing.chunk_steps(cpp.N * len(tangents), "host_adjoint")
    assert 0 < cpp.timestep < 10**9 and cpp.timestep % chunk == 0
    assert np.all(np.isfinite(tangents[0][0])) and np.any(tangents[0][0] != 0)


def test_bad_tangent_arguments_are_refused():
    sim, _ = gradient_sim(ha.device.CPU(1), "langevin", N=20)
    sim.run(0)
    cpp = sim.state._cpp
    with pytest.raises(ValueError, match=r"ptan: 2 lists for 1 forces"):
        _core.tangent_advance(cpp, 1, _tangents(cpp, 1), [[], []])
    with pytest.raises(ValueError, match=r"ptan\[0\]: 2 arrays for 1 tangents"):
        _core.tangent_advance(cpp, 1, _tangents(cpp, 1), [[np.zeros(2), np.zeros(2)]])
    with pytest.raises(ValueError, match=r"each tangent is \(dr, dv, da, dkT, dgamma or None\[, dtau\]\)"):
        _core.tangent_advance(cpp, 1, [(np.zeros((cpp.N, 3)),)], [[]])
    with pytest.raises(ValueError, match=r"dgamma has 3 entries, one per type \(1\) expected"):
        bad = [(np.zeros((cpp.N, 3)), np.zeros((cpp.N, 3)), np.zeros((cpp.N, 3)), 0.0, np.ones(3))]
        _core.tangent_advance(cpp, 1, bad, [[]])
    assert cpp.timestep == 0
