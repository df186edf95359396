"""HOOMD-blue's script surface around the engine: custom actions (write.CustomWriter,
update.CustomUpdater), hoomd.Snapshot, the local snapshot, runs without an integrator,
``operations -=`` and ``loggables`` (the tutorials' "Custom Actions in Python" use them)."""

import io

import numpy as np
import pytest

import hoomd_adjoint as ha


def snapshot(N=8, L=10.0):
    snap = ha.Snapshot()
    snap.configuration.box = [L, L, L, 0, 0, 0]
    snap.particles.N = N
    g = (np.arange(2) + 0.5) * L / 2 - L / 2
    snap.particles.position[:] = np.array(np.meshgrid(g, g, g, indexing="ij")).reshape(3, -1).T[:N]
    snap.particles.types = ["A"]
    snap.particles.typeid[:] = 0
    return snap


class Counter(ha.custom.Action):
    def __init__(self):
        self.seen = []

    @ha.logging.log
    def calls(self):
        return len(self.seen)

    @ha.logging.log(category="string")
    def last(self):
        return str(self.seen[-1] if self.seen else None)

    def act(self, timestep):
        self.seen.append(timestep)


class Kick(ha.custom.Action):
    def act(self, timestep):
        with self._state.cpu_local_snapshot as snap:
            snap.particles.velocity[snap.particles.rtag[0]] += [1.0, 0.0, 0.0]


def test_snapshot_allocates_arrays_as_hoomd_does():
    snap = ha.Snapshot()
    snap.particles.N = 3
    assert snap.particles.position.shape == (3, 3) and snap.particles.mass.tolist() == [1.0] * 3
    assert snap.particles.orientation[:, 0].tolist() == [1.0] * 3 and snap.particles.body.tolist() == [-1] * 3
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(snapshot())
    got = sim.state.get_snapshot()
    assert isinstance(got, ha.Snapshot) and got.communicator.rank == 0
    np.testing.assert_array_equal(got.particles.position, snapshot().particles.position)


def test_custom_writer_and_updater_run_at_their_triggers_without_an_integrator():
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(snapshot())
    counter = Counter()
    writer = ha.write.CustomWriter(action=counter, trigger=ha.trigger.Periodic(10))
    sim.operations.writers.append(writer)
    sim.run(35)  # no integrator: the timestep advances and the operations run
    assert counter.seen == [10, 20, 30] and sim.timestep == 35
    assert writer.calls == 3 and writer.loggables == {"calls": "scalar", "last": "string"}
    logger = ha.logging.Logger(categories=["scalar", "string"])
    logger.add(writer)
    text = io.StringIO()
    sim.operations.writers.append(ha.write.Table(trigger=5, logger=logger, output=text))
    sim.run(5)
    assert "Counter.calls" in text.getvalue() and "40" in text.getvalue()
    sim.operations -= writer
    assert writer not in sim.operations.writers
    with pytest.raises(ValueError, match="not an operation of this simulation"):
        sim.operations -= writer
    with pytest.raises(TypeError, match="action must be a hoomd_adjoint.custom.Action"):
        ha.write.CustomWriter(action=print, trigger=1)


def test_custom_updater_changes_the_state_before_the_step():
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(snapshot())
    sim.operations.integrator = ha.md.Integrator(
        dt=0.01, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())]
    )
    sim.operations.updaters.append(ha.update.CustomUpdater(action=Kick(), trigger=ha.trigger.Periodic(5)))
    x0 = sim.state.get_snapshot().particles.position[0, 0]
    sim.run(10)  # kicks at steps 0 and 5, each before that step's integration
    v = sim.state.get_snapshot().particles.velocity
    assert v[0, 0] == pytest.approx(2.0) and np.all(v[1:] == 0)
    x = sim.state.get_snapshot().particles.position[0, 0]
    assert x - x0 == pytest.approx(10 * 0.01 + 5 * 0.01)
    assert ha.Simulation.loggables["timestep"] == "scalar" and ha.md.pair.LJ.loggables["energies"] == "particle"


def test_small_hoomd_surface(capsys, tmp_path):
    """What the tutorials touch besides the physics: a compute read right after it is added, GSD
    flush, the (trivial) domain decomposition, Device.notice, LJ pairs switched off with sigma 0."""
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(snapshot())
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=0.0, sigma=0.0)  # off, as HOOMD-blue allows
    with pytest.raises(ValueError, match=r"\['sigma'\] must be > 0, got 0.0"):
        lj.params[("A", "A")] = dict(epsilon=1.0, sigma=0.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.005, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], forces=[lj]
    )
    sim.run(0)
    thermo = ha.md.compute.ThermodynamicQuantities(filter=ha.filter.All())
    sim.operations.computes.append(thermo)
    assert thermo.num_particles == 8 and thermo.kinetic_energy == 0.0
    gsd_writer = ha.write.GSD(filename=str(tmp_path / "t.gsd"), trigger=1, mode="wb")
    sim.operations.writers.append(gsd_writer)
    sim.run(2)
    gsd_writer.flush()
    assert sim.state.domain_decomposition == (1, 1, 1)
    sim.device.notice("seen")
    sim.device.notice("not seen", level=5)
    assert capsys.readouterr().out == "seen\n"
