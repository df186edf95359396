"""Errors that name the step and the cause: a particle outside the box or a non-finite force says
at which step, and names the closest pair of the state before the failed step when it is closer
than 0.8 of its contact distance (the same words on the CPU, through the device code, and in the
adjoint's recording run); a gradient whose adjoint grew more than 100-fold over its horizon warns
(ChaoticHorizonWarning)."""

import warnings

import gsd.hoomd
import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import cubic


def _pair_sim(positions, velocities=None, L=20.0, device=None, method="nve", dt=0.005, r0=None, kT=0.0):
    """Free particles with LJ (or Morse with r0), in a cubic box of side L."""
    f = gsd.hoomd.Frame()
    f.configuration.box = [L, L, L, 0, 0, 0]
    f.particles.N = len(positions)
    f.particles.types = ["A"]
    f.particles.position = np.asarray(positions, dtype=np.float64)
    if velocities is not None:
        f.particles.velocity = np.asarray(velocities, dtype=np.float64)
    sim = ha.Simulation(device=device or ha.device.CPU(num_cpu_threads=1), seed=2)
    sim.create_state_from_snapshot(f)
    nl = ha.md.nlist.Cell(buffer=0.4)
    if r0 is None:
        pot = ha.md.pair.LJ(nlist=nl, default_r_cut=2.5)
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    else:
        pot = ha.md.pair.Morse(nlist=nl, default_r_cut=2.5)
        pot.params[("A", "A")] = dict(D0=1.0, alpha=6.0, r0=r0)
    m = (
        ha.md.methods.ConstantVolume(ha.filter.All())
        if method == "nve"
        else ha.md.methods.Brownian(ha.filter.All(), kT=kT)
    )
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[m], forces=[pot])
    return sim, pot


def test_outside_the_box_names_the_step_and_the_overlapping_pair():
    # 0.3 sigma apart: the first step's force throws both out of the box (the neighbour list's
    # build finds it first: it did not name the step before)
    sim, _ = _pair_sim([[0.0, 0, 0], [0.3, 0, 0], [5.0, 5.0, 5.0]])
    with pytest.raises(
        RuntimeError,
        match=r"^particle tag 0 at .* is outside the box at step 1 \(it moved more than "
        r"a box length .*\)\. At step 0 particle tags 0 and 1 were 0\.3 apart, at "
        r"\(0, 0, 0\) and \(0\.3, 0, 0\): 0\.3 of their contact distance 1 "
        r"\(LJ sigma for \(A, A\)\)\.$",
    ) as e:
        sim.run(10)
    # one step at a time (a call of one step keeps only the positions): the same words
    sim, _ = _pair_sim([[0.0, 0, 0], [0.3, 0, 0], [5.0, 5.0, 5.0]])
    with pytest.raises(RuntimeError) as e1:
        sim.run(1)
    assert str(e1.value) == str(e.value)


def _collision(device=None):
    """Two particles flying at each other at 100 sigma/tau from 139 sigma apart: they meet deep in
    each other's core after ~130 steps (past the engine's copy at step 128, which is replayed)."""
    return _pair_sim(
        [[-69.5, 0.0, 0.0], [69.5, 0.0, 0.0], [0.0, 40.0, 0.0]],
        velocities=[[100.0, 0, 0], [-100.0, 0, 0], [0, 0, 0]],
        L=300.0,
        device=device,
    )


def test_a_failure_late_in_a_run_names_the_pair_of_the_step_before():
    sim, _ = _collision()
    with pytest.raises(RuntimeError) as e:
        sim.run(1000)
    msg = str(e.value)
    step = sim.timestep  # the failed step's start: the state is left where the step stopped
    assert f"is outside the box at step {step + 1} " in msg
    assert f". At step {step} particle tags 0 and 1 were " in msg and "(LJ sigma for (A, A))." in msg
    assert step > 128  # (the pair was found by replaying from a copy, not at the run's start)
    # the same steps, recorded for a gradient, stop with the same words
    sim2, pot = _collision()
    with pytest.raises(RuntimeError) as e2:
        ha.adjoint.gradient(sim2, 1000, lambda fr: (0.0, np.zeros_like(fr.positions)), wrt=[pot])
    assert str(e2.value) == msg


def test_the_device_code_names_the_same_step_and_pair():
    msgs = []
    for dev in (ha.device.CPU(num_cpu_threads=1), ha.device._HostBackendGPU()):
        sim, _ = _collision(device=dev)
        with pytest.raises(RuntimeError) as e:
            sim.run(1000)
        msgs.append((str(e.value), sim.timestep, np.array(sim.state._cpp.position)))
    assert msgs[1][0] == msgs[0][0] and msgs[1][1] == msgs[0][1]
    np.testing.assert_array_equal(msgs[1][2], msgs[0][2])


def test_a_non_finite_force_at_the_start_names_the_pair():
    sim, _ = _pair_sim([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [5.0, 5.0, 5.0]])
    with pytest.raises(
        RuntimeError,
        match=r"non-finite force at step 0 on 2 particle\(s\), tags 0, 1 .*\. At step 0 "
        r"particle tags 0 and 1 were 0 apart",
    ):
        sim.run(1)


def test_too_large_a_time_step_is_not_blamed_on_an_overlap():
    # a Morse lattice 1.5 r0 apart whose noise (kT = 1e6) throws particles out in the first step
    frame = cubic(64, 0.1, 3)
    sim, _ = _pair_sim(frame.particles.position, L=frame.configuration.box[0], method="bd", dt=0.01, r0=1.0, kT=1e6)
    with pytest.raises(
        RuntimeError,
        match=r"outside the box at step 1 .*\. At step 0 no two particles were closer than "
        r"0\.8 of their contact distance\.$",
    ):
        sim.run(10)


def _morse_fluid():
    """The README's gradient example (examples/morse_gradient.py): 500 Brownian Morse particles."""
    frame = cubic(500, 0.5, 3, jitter=0.1, seed=3)
    frame.particles.types = ["A", "B"]
    frame.particles.typeid = (np.arange(500) % 2).astype(np.uint32)
    sim = ha.Simulation(device=ha.device.CPU(), seed=7)
    sim.create_state_from_snapshot(frame)
    morse = ha.md.pair.Morse(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    morse.params[("A", "A")] = dict(D0=1.0, alpha=3.0, r0=1.1)
    morse.params[("A", "B")] = dict(D0=1.0, alpha=3.0, r0=1.1)
    morse.params[("B", "B")] = dict(D0=2.0, alpha=4.0, r0=1.0)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.5)
    sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[bd], forces=[morse])
    return sim, morse


def _sin_loss(frame):
    x = frame.positions
    return float(np.sin(x).sum()), np.cos(x)


def test_a_chaotic_horizon_warns_and_points_to_truncate():
    assert ha.ChaoticHorizonWarning is ha.errors.ChaoticHorizonWarning
    sim, morse = _morse_fluid()
    with pytest.warns(
        ha.ChaoticHorizonWarning,
        match=r"the adjoint's norm grew \d+-fold over the 1000-step horizon "
        r".*truncate=.*docs/adjoint\.md",
    ) as w:
        res = ha.adjoint.gradient(sim, 1000, _sin_loss, wrt=[morse, "positions"])
    assert w[0].filename == __file__  # (points at the caller's line)
    assert res.diagnostics["adjoint_growth"] > ha.adjoint.CHAOTIC_GROWTH
    assert np.isfinite(res.positions).all()  # the gradient is still returned
    # 200 steps (where finite differences agree with the adjoint), or the last 200 of 1000: quiet
    for steps, truncate in ((200, None), (1000, 200)):
        sim, morse = _morse_fluid()
        with warnings.catch_warnings():
            warnings.simplefilter("error", ha.ChaoticHorizonWarning)
            res = ha.adjoint.gradient(sim, steps, _sin_loss, wrt=[morse], truncate=truncate)
        assert res.diagnostics["adjoint_growth"] < 10


def test_an_ensemble_warns_once_for_its_chaotic_replicas():
    """Replicas warn as one line for the batch (a design's every iteration would print R warnings)."""
    ens = ha.Ensemble(lambda i: _morse_fluid()[0], replicas=2, threads=2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res = ens.gradient(1000, lambda sim: _sin_loss, lambda sim: [sim.operations.integrator.forces[0]])
    chaotic = [x for x in w if issubclass(x.category, ha.ChaoticHorizonWarning)]
    assert len(chaotic) == 1, [str(x.message) for x in chaotic]
    assert "more than 100-fold in 2 of 2 replicas" in str(chaotic[0].message)
    assert all(res.replica(i).diagnostics["adjoint_growth"] > ha.adjoint.CHAOTIC_GROWTH for i in range(2))
