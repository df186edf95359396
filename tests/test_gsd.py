"""GSD: round trips through real gsd files, HOOMD's frame layout, and failure behaviour."""

import numpy as np
import pytest
import gsd.hoomd

import hoomd_adjoint as ha
from conftest import make_frame, make_sim, random_positions


def small_system(rng, tmp_path=None, N=50):
    box = [9, 8, 7, 0.1, 0, 0.2]
    pos = random_positions(rng, N, box, min_dist=1.0)
    frame = make_frame(
        pos,
        box,
        typeid=np.arange(N) % 3,
        types=("A", "B", "C"),
        mass=rng.uniform(1, 2, N),
        charge=rng.normal(size=N),
        velocity=rng.normal(size=(N, 3)),
        image=rng.integers(-3, 3, (N, 3)).astype(np.int32),
    )
    return frame


def test_snapshot_round_trip(rng, tmp_path):
    frame = small_system(rng)
    sim = ha.Simulation(device=ha.device.CPU(1), seed=3)
    sim.create_state_from_snapshot(frame)
    snap = sim.state.get_snapshot()
    for name in ("position", "velocity", "typeid", "mass", "charge", "image"):
        np.testing.assert_array_equal(getattr(snap.particles, name), getattr(frame.particles, name))
    assert snap.particles.types == ["A", "B", "C"]
    assert snap.configuration.box == [9, 8, 7, 0.1, 0, 0.2]

    path = tmp_path / "one.gsd"
    ha.write.GSD.write(sim.state, path)
    sim2 = ha.Simulation(device=ha.device.CPU(1), seed=3)
    sim2.create_state_from_gsd(path)
    s2 = sim2.state.get_snapshot()
    for name in ("position", "velocity", "mass", "charge"):
        np.testing.assert_array_equal(
            getattr(s2.particles, name), getattr(frame.particles, name).astype(np.float32).astype(np.float64)
        )
    np.testing.assert_array_equal(s2.particles.typeid, frame.particles.typeid)
    np.testing.assert_array_equal(s2.particles.image, frame.particles.image)


def test_trajectory_frames_follow_hoomd_layout(rng, tmp_path):
    frame = small_system(rng)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    lj.params[(["A", "B", "C"], ["A", "B", "C"])] = dict(epsilon=1.0, sigma=1.0)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)
    sim = make_sim(frame, forces=[lj], methods=[bd], dt=1e-4)
    path = tmp_path / "traj.gsd"
    sim.operations.writers.append(ha.write.GSD(trigger=ha.trigger.Periodic(10), filename=path, mode="wb"))
    sim.run(35)
    sim.run(15)  # a second run appends
    with gsd.hoomd.open(path, "r") as t:
        steps = [f.configuration.step for f in t]
        assert steps == [10, 20, 30, 40, 50]
        last = t[-1]
        snap = sim.state.get_snapshot()
        np.testing.assert_array_equal(last.particles.position, snap.particles.position.astype(np.float32))
        assert last.particles.position.dtype == np.float32
        assert last.particles.types == ["A", "B", "C"]
        # images are not dynamic by default (HOOMD): later frames fall back to frame 0
        np.testing.assert_array_equal(last.particles.image, t[0].particles.image)
    with gsd.hoomd.open(path, "r") as t:
        sim3 = ha.Simulation(device=ha.device.CPU(1), seed=3)
        sim3.create_state_from_gsd(path, frame=2)
        assert sim3.timestep == 30


def test_dynamic_momentum_writes_images(rng, tmp_path):
    frame = small_system(rng)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=50.0)
    sim = make_sim(frame, forces=[], methods=[bd], dt=1e-2)
    path = tmp_path / "m.gsd"
    sim.operations.writers.append(ha.write.GSD(trigger=5, filename=path, mode="wb", dynamic=["property", "momentum"]))
    sim.run(20)
    with gsd.hoomd.open(path, "r") as t:
        np.testing.assert_array_equal(t[-1].particles.image, sim.state.get_snapshot().particles.image)


def test_filter_writes_selected_tags(rng, tmp_path):
    frame = small_system(rng)
    sim = make_sim(frame, forces=[], methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
    path = tmp_path / "f.gsd"
    sim.operations.writers.append(ha.write.GSD(trigger=1, filename=path, mode="wb", filter=ha.filter.Type("B")))
    sim.run(1)
    with gsd.hoomd.open(path, "r") as t:
        f = t[0]
        assert f.particles.N == np.sum(frame.particles.typeid == 1)
        np.testing.assert_array_equal(f.particles.typeid, 1)


def test_malformed_gsd_is_a_clear_error(tmp_path):
    bad = tmp_path / "garbage.gsd"
    bad.write_bytes(b"this is not a gsd file" * 100)
    sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
    with pytest.raises(ValueError, match="garbage.gsd"):
        sim.create_state_from_gsd(bad)


def test_truncated_gsd_is_a_clear_error(rng, tmp_path):
    frame = small_system(rng)
    sim = make_sim(frame, forces=[], methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
    path = tmp_path / "t.gsd"
    ha.write.GSD.write(sim.state, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.gsd"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match="cut.gsd"):
        ha.Simulation(device=ha.device.CPU(1), seed=1).create_state_from_gsd(cut)


def test_missing_frame_is_a_clear_error(rng, tmp_path):
    frame = small_system(rng)
    sim = make_sim(frame, forces=[], methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
    path = tmp_path / "one.gsd"
    ha.write.GSD.write(sim.state, path)
    with pytest.raises(IndexError, match="has 1 frames; frame 5"):
        ha.Simulation(device=ha.device.CPU(1), seed=1).create_state_from_gsd(path, frame=5)


class Explode(ha.write.Writer):
    def __init__(self, at):
        self.trigger = ha.trigger.Periodic(1)
        self.at = at

    def _write(self):
        if self._simulation.timestep == self.at:
            raise RuntimeError("boom")


def test_failed_run_leaves_complete_frames(rng, tmp_path):
    frame = small_system(rng)
    sim = make_sim(frame, forces=[], methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
    path = tmp_path / "partial.gsd"
    sim.operations.writers.append(ha.write.GSD(trigger=10, filename=path, mode="wb"))
    sim.operations.writers.append(Explode(at=27))
    with pytest.raises(RuntimeError, match="boom"):
        sim.run(100)
    with gsd.hoomd.open(path, "r") as t:
        assert [f.configuration.step for f in t] == [10, 20]
