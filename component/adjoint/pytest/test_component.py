"""hoomd.adjoint against HOOMD-blue itself: ``pytest --pyargs hoomd.adjoint``."""

import numpy as np
import pytest

import hoomd
import hoomd.adjoint


def _sim(N=27, L=6.5, seed=3):
    snap = hoomd.Snapshot()
    snap.configuration.box = [L, L, L, 0, 0, 0]
    g = (np.arange(3) + 0.5) * L / 3 - L / 2
    snap.particles.N = N
    snap.particles.types = ["A"]
    rng = np.random.default_rng(seed)
    snap.particles.position[:] = np.array(np.meshgrid(g, g, g)).reshape(3, -1).T + rng.normal(scale=0.1, size=(N, 3))
    snap.particles.velocity[:] = rng.normal(size=(N, 3))
    sim = hoomd.Simulation(device=hoomd.device.CPU(), seed=seed)
    sim.create_state_from_snapshot(snap)
    return sim


def _rechtsman(sim, mode="shift"):
    pot = hoomd.adjoint.pair.Rechtsman(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode=mode)
    pot.params[("A", "A")] = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)
    return pot


def V(r, a0=5.89, a1=17.9, a2=2.49, a3=1.823, b0=5.0, b1=0.4, b2=40.0):
    return b0 / r**12 - a0 / r**10 + a1 * np.exp(-a2 * r) - b1 * np.exp(-b2 * (r - a3) ** 2)


def test_rechtsman_forces_and_energy_are_those_of_the_formula():
    sim = _sim()
    pot = _rechtsman(sim)
    sim.operations.integrator = hoomd.md.Integrator(
        dt=0.001, methods=[hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All())], forces=[pot]
    )
    sim.run(0)
    x = sim.state.get_snapshot().particles.position
    L = 6.5
    E, F = 0.0, np.zeros_like(x)
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            d = x[i] - x[j]
            d -= L * np.round(d / L)
            r = np.linalg.norm(d)
            if r < 2.5:
                E += V(r) - V(2.5)
                h = 1e-6
                dV = (V(r + h) - V(r - h)) / (2 * h)
                F[i] -= dV * d / r
                F[j] += dV * d / r
    assert pot.energy == pytest.approx(E, rel=1e-12)
    assert np.allclose(pot.forces, F, rtol=1e-7, atol=1e-7)
    assert pot.params[("A", "A")]["b1"] == 0.4


def test_the_recorder_writes_tag_ordered_states_at_its_steps():
    sim = _sim()
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim.operations.integrator = hoomd.md.Integrator(
        dt=0.002, methods=[hoomd.md.methods.Langevin(filter=hoomd.filter.All(), kT=1.0)], forces=[lj]
    )
    sim.operations.tuners.append(hoomd.tune.ParticleSorter(trigger=hoomd.trigger.Periodic(2)))
    rec = hoomd.adjoint.Recorder(trigger=hoomd.trigger.On(5))
    out = np.full((27, 10), np.nan)
    for field, column in (("position", 0), ("velocity", 3), ("acceleration", 6)):
        rec.add(5, field, out, column)
    sim.operations.updaters.append(rec)
    sim.run(5)  # an updater runs before the step: step 5 is the next run's first
    assert rec.num_recorded == 0 and np.isnan(out).all()
    snap = sim.state.get_snapshot()
    with sim.state.cpu_local_snapshot as s:
        order = np.argsort(np.array(s.particles.tag))
        acc = np.array(s.particles.acceleration)[order]
        assert not np.array_equal(order, np.arange(27))  # the sorter moved them: tag order matters
    sim.run(2)
    assert rec.num_recorded == 1
    assert np.array_equal(out[:, :3], snap.particles.position)
    assert np.array_equal(out[:, 3:6], snap.particles.velocity)
    assert np.array_equal(out[:, 6:9], acc)
    assert np.isnan(out[:, 9]).all()
    rec.add(7, "image", out, 7)
    rec.record_now(7)
    assert np.array_equal(out[:, 7:10], sim.state.get_snapshot().particles.image)
    with pytest.raises(ValueError, match="unknown field 'force'"):
        rec.add(8, "force", out)
    with pytest.raises(ValueError, match="shape"):
        rec.add(8, "position", out, 8)
