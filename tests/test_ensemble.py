"""Ensembles: each replica bitwise equal to running it alone, means independent of the thread
count (and, under mpirun, of the rank count: tests/mpi_ensemble.py), failures reported by replica."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import random_packing

N = 40
STEPS = 60
HC = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)


def build(i, threads=1, kT=0.2):
    """Replica i of a small 2D honeycomb system: its own seed, starting frame and (odd i) state point."""
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=threads), seed=100 + i)
    sim.create_state_from_snapshot(random_packing(N, 0.6 if i % 2 == 0 else 0.5, dimensions=2, min_dist=0.9, seed=i))
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    pot.params[("A", "A")] = dict(HC)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=kT)
    sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[bd], forces=[pot])
    return sim


def energy_loss(sim):
    return ha.loss.PotentialEnergy(sim.operations.integrator.forces[0])


def wrt(sim):
    return [(sim.operations.integrator.forces[0], ["a0", "a3"]), "kT"]


def test_run_replicas_equal_single_runs():
    ens = ha.Ensemble(build, replicas=5, threads=2)
    ens.run(STEPS)
    for i in range(5):
        alone = build(i)
        alone.run(STEPS)
        a = ens.simulation(i).state.get_snapshot().particles.position
        b = alone.state.get_snapshot().particles.position
        assert np.array_equal(a, b), f"replica {i} differs from its single run"
    # the replicas really differ (seeds, frames)
    p0 = ens.simulation(0).state.get_snapshot().particles.position
    p2 = ens.simulation(2).state.get_snapshot().particles.position
    assert not np.array_equal(p0, p2)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gradient_mean_independent_of_threads(threads):
    ref = ha.Ensemble(build, replicas=4, threads=1).gradient(STEPS, energy_loss, wrt)
    res = ha.Ensemble(build, replicas=4, threads=threads).gradient(STEPS, energy_loss, wrt)
    assert res.loss == ref.loss
    assert res.grad(0) == ref.grad(0)
    assert res.grad(1) == res.grad("kT") == ref.grad("kT")
    assert np.array_equal(res.losses, ref.losses)


def test_gradient_replicas_equal_single_gradients_and_mean_order():
    ens = ha.Ensemble(build, replicas=3, threads=2)
    res = ens.gradient(STEPS, energy_loss, wrt, memory=4 * N * 24)  # checkpointed, too
    singles = []
    for i in range(3):
        sim = build(i)
        pot = sim.operations.integrator.forces[0]
        g = ha.adjoint.gradient(sim, STEPS, energy_loss(sim), wrt(sim))
        singles.append(g)
        assert res.replica(i).loss == g.loss
        assert res.grads(0)[i] == g.grad(pot)
        assert res.replica(i).grad("kT") == g.grad("kT")
    # the mean is summed in replica order
    total = 0.0
    for g in singles:
        total += g.loss
    assert res.loss == total / 3
    a0 = 0.0
    for i in range(3):
        a0 += res.grads(0)[i][("A", "A")]["a0"]
    assert res.grad(0)[("A", "A")]["a0"] == a0 / 3


def test_frames_given_as_an_iterator_are_read_once():
    """An iterator of frames reaches every replica whole (the argument check once used it up and
    the replicas got no frames: loss 0 and a zero gradient, without a word)."""
    frames = [20, 40, STEPS]
    ref = ha.Ensemble(build, replicas=2).gradient(STEPS, energy_loss, wrt, frames=frames)
    res = ha.Ensemble(build, replicas=2).gradient(STEPS, energy_loss, wrt, frames=iter(frames))
    assert res.loss == ref.loss != 0.0
    assert res.grad("kT") == ref.grad("kT") != 0.0


def test_mean_gradient_matches_finite_differences():
    """d(mean loss)/d a0 of the batch against central differences of the same discrete maps."""
    R, steps = 2, 40
    res = ha.Ensemble(build, replicas=R, threads=2).gradient(
        steps, energy_loss, lambda s: [s.operations.integrator.forces[0]]
    )
    g = res.grad(0)[("A", "A")]["a0"]

    def mean_loss(a0):
        total = 0.0
        for i in range(R):
            sim = build(i)
            sim.operations.integrator.forces[0].params[("A", "A")] = dict(HC, a0=a0)
            sim.run(steps)
            total += energy_loss(sim)(ha.adjoint._frame(sim))[0]
        return total / R

    for h in (1e-5, 1e-6):
        fd = (mean_loss(HC["a0"] + h) - mean_loss(HC["a0"] - h)) / (2 * h)
        assert abs(fd - g) <= 1e-8 * max(1.0, abs(g)), (h, fd, g)  # seen: 4e-11 (h = 1e-5), 3e-10 (1e-6)


def _exploding_build(i):
    sim = build(i)
    if i == 1:  # overlapping pair: the r^-12 force is enormous, the particle leaves the box
        snap = sim.state.get_snapshot()
        snap.particles.position[1] = snap.particles.position[0] + [0.05, 0, 0]
        sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=101)
        sim.create_state_from_snapshot(snap)
        pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(HC)
        sim.operations.integrator = ha.md.Integrator(
            dt=1e-3, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.2)], forces=[pot]
        )
    return sim


def test_failed_replica_is_reported_by_index_step_and_tags():
    ens = ha.Ensemble(_exploding_build, replicas=3, threads=2)
    with pytest.raises(ha.ReplicaError) as info:
        ens.run(STEPS)
    assert list(info.value.failures) == [1]
    msg = str(info.value)
    assert "replica 1" in msg and "step" in msg and "tag" in msg
    # the healthy replicas ran and are unaffected
    alone = build(2)
    alone.run(STEPS)
    assert np.array_equal(
        ens.simulation(2).state.get_snapshot().particles.position, alone.state.get_snapshot().particles.position
    )


def test_failed_replica_dropped_from_means():
    ens = ha.Ensemble(_exploding_build, replicas=3, threads=2, on_failure="drop")
    with pytest.warns(ha.ReplicaWarning, match=r"2 of 3 replicas used; failed: 1 \(stopped at timestep 0"):
        res = ens.gradient(STEPS, energy_loss, wrt)
    assert list(res.failures) == [1] and ens.alive == [0, 2]
    assert np.isnan(res.losses[1]) and res.replica(1) is None
    assert res.loss == (res.losses[0] + res.losses[2]) / 2
    # the result says what it is over, and why the rest is missing
    failure = res.failures[1]
    assert isinstance(failure, ha.Failure) and failure.step == 0 and "outside the box" in failure.cause
    assert res.num_used == 2 and res.describe().startswith("2 of 3 replicas used; failed: 1 (stopped at timestep 0")
    assert "2 of 3 replicas used" in repr(res)
    # later calls leave it out
    ens.run(5)
    assert ens.alive == [0, 2]


def test_max_failed_turns_a_drop_into_an_error():
    ens = ha.Ensemble(_exploding_build, replicas=3, threads=2, on_failure="drop", max_failed=0.2)
    with pytest.raises(ha.ReplicaError, match=r"1 of 3 replicas failed, more than max_failed = 0.2 allows \(0\)"):
        ens.run(STEPS)
    ens = ha.Ensemble(_exploding_build, replicas=3, threads=2, on_failure="drop", max_failed=0.34)
    with pytest.warns(ha.ReplicaWarning):
        assert ens.run(STEPS) == [1]
    with pytest.raises(ValueError, match="max_failed must be <= 1"):
        ha.Ensemble(_exploding_build, replicas=3, on_failure="drop", max_failed=5)


def test_progress_bar_counts_every_step(capsys):
    ens = ha.Ensemble(build, replicas=3, threads=2)
    res = ens.gradient(STEPS, energy_loss, wrt, progress=True)
    assert res.num_replicas == 3
    err = capsys.readouterr().err
    assert f"{3 * 2 * STEPS}/{3 * 2 * STEPS}" in err


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(replicas=0), "replicas must be a positive integer, got 0"),
        (dict(replicas=2.5), "replicas must be a positive integer, got 2.5"),
        (dict(replicas=2, threads=0), "threads must be a positive integer, got 0"),
        (dict(replicas=2, on_failure="ignore"), "on_failure must be 'raise' or 'drop', got 'ignore'"),
    ],
)
def test_bad_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        ha.Ensemble(build, **bad)


def test_build_must_return_a_simulation():
    with pytest.raises(TypeError, match=r"build\(0\) returned 3"):
        ha.Ensemble(lambda i: 3, replicas=2)


def test_loss_and_wrt_must_be_functions_of_the_replica():
    ens = ha.Ensemble(build, replicas=2)
    with pytest.raises(TypeError, match="functions of the replica"):
        ens.gradient(10, energy_loss, ["kT"])


def test_partition_assignment_and_ranks_per_partition():
    comm = ha.communicator.Communicator()
    assert comm.num_partitions >= 1 and comm.rank == 0
    with pytest.raises(ValueError, match="ranks_per_partition=2"):
        ha.communicator.Communicator(ranks_per_partition=2)


def test_replica_threads_from_the_pool():
    ens = ha.Ensemble(lambda i: build(i, threads=2), replicas=4, threads=2)
    assert all(ens.simulation(i).state._cpp.nthreads == 1 for i in range(4))
    one = ha.Ensemble(lambda i: build(i, threads=2), replicas=1, threads=2)
    assert one.simulation(0).state._cpp.nthreads == 2


def test_adaptive_threads_change_no_bits():
    """The thread governor switches between one and all threads by timing: trajectories and
    gradients are bitwise those of a fixed thread count."""
    frame = random_packing(600, 0.6, dimensions=2, min_dist=0.9, seed=3)
    out = []
    for adaptive, threads in ((False, 1), (False, 2), (True, 2)):
        sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=threads, adaptive_threads=adaptive), seed=5)
        sim.create_state_from_snapshot(frame)
        pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(HC)
        sim.operations.integrator = ha.md.Integrator(
            dt=1e-3, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.2)], forces=[pot]
        )
        sim.run(200)
        g = ha.adjoint.gradient(sim, 100, ha.loss.PotentialEnergy(pot), [pot, "positions"])
        out.append((sim.state.get_snapshot().particles.position, g.grad(pot), g.positions))
        assert sim.state._cpp.adaptive_threads == adaptive
        choice = sim.state._cpp.thread_choice
        assert choice["step"][0] in (1, threads) and choice["adjoint"][0] in (1, threads)
    for o in out[1:]:
        assert np.array_equal(o[0], out[0][0]) and o[1] == out[0][1] and np.array_equal(o[2], out[0][2])


def test_wrt_function_may_return_a_single_entry():
    """wrt(sim) -> "kT" is one entry, as in adjoint.gradient (not the letters 'k', 'T')."""
    res = ha.Ensemble(build, replicas=2, threads=2).gradient(20, energy_loss, lambda sim: "kT")
    assert res.grad(0) == res.grad("kT")


def test_one_loss_convention_for_gradient_and_ensemble():
    """Ensemble.gradient takes adjoint.gradient's loss(frame) too, or says which forms it takes."""
    by_replica = ha.Ensemble(build, replicas=2, threads=1).gradient(STEPS, energy_loss, wrt)
    pot = lambda sim: sim.operations.integrator.forces[0]  # noqa: E731

    def squared(frame):  # a user's loss of a frame, as adjoint.gradient takes it
        return float(np.sum(frame.positions**2)), 2 * frame.positions

    for loss in (squared, ha.loss.Triangular()):
        res = ha.Ensemble(build, replicas=2, threads=2).gradient(STEPS, loss, lambda s: [pot(s)])
        assert res.num_used == 2
        for i in range(2):
            sim = build(i)
            alone = ha.adjoint.gradient(sim, STEPS, loss, [pot(sim)])
            assert res.replica(i).loss == alone.loss
    assert by_replica.num_used == 2
    with pytest.raises(
        TypeError,
        match=r"^loss must be loss\(sim\) -> a loss, or one loss\(frame\) -> \(value, dL/dr\)"
        r" for every replica; <lambda> is neither",
    ) as info:
        ha.Ensemble(build, replicas=2).gradient(STEPS, lambda x: 3.0, wrt)
    assert len(str(info.value)) < 400
