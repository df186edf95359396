"""hoomd.logging and write.Table: namespaces, categories, the Table's layout and the GSD log
chunks, against HOOMD-blue 4.8.2 where it is importable (same text, same chunks)."""

import io

import gsd.hoomd
import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import make_frame, random_positions, sim_from_frame


def script(lib, frame, table_out, gsd_path):
    """A tutorial-style script: LJ, NVE, thermodynamic quantities in a Table and a GSD log."""
    sim = sim_from_frame(lib, frame, 3)
    lj = lib.md.pair.LJ(nlist=lib.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1, sigma=1)
    sim.operations.integrator = lib.md.Integrator(
        dt=0.002, methods=[lib.md.methods.ConstantVolume(filter=lib.filter.All())], forces=[lj]
    )
    thermo = lib.md.compute.ThermodynamicQuantities(filter=lib.filter.All())
    sim.operations.computes.append(thermo)
    table_log = lib.logging.Logger(categories=["scalar", "string"])
    table_log.add(sim, quantities=["timestep"])
    table_log.add(thermo, quantities=["kinetic_temperature", "potential_energy", "num_particles", "degrees_of_freedom"])
    table_log[("custom", "label")] = (lambda: "hello", "string")
    sim.operations.writers.append(lib.write.Table(trigger=lib.trigger.Periodic(10), logger=table_log, output=table_out))
    gsd_log = lib.logging.Logger()
    gsd_log += lj
    gsd_log.add(thermo)
    gsd_log.add(sim, quantities=["timestep"])
    sim.operations.writers.append(
        lib.write.GSD(filename=gsd_path, trigger=lib.trigger.Periodic(20), mode="wb", logger=gsd_log)
    )
    return sim, table_log, gsd_log


def frame_2d(N=40, seed=2):
    rng = np.random.default_rng(seed)
    box = [10, 10, 0, 0, 0, 0]
    vel = rng.normal(0, 1, (N, 3))
    vel[:, 2] = 0
    return make_frame(random_positions(rng, N, box, min_dist=1.0), box, typeid=np.zeros(N, int), velocity=vel)


def flat(log, prefix=()):
    out = {}
    for k, v in log.items():
        out.update(flat(v, prefix + (k,)) if isinstance(v, dict) else {prefix + (k,): v})
    return out


def test_same_table_log_and_gsd_chunks_as_hoomd(tmp_path):
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_2d()
    out = {}
    for lib in (ha, hoomd):
        text = io.StringIO()
        path = tmp_path / f"{lib.__name__}.gsd"
        sim, table_log, gsd_log = script(lib, frame, text, str(path))
        sim.run(60)
        logged = flat(table_log.log())
        del sim
        import gc

        gc.collect()  # HOOMD-blue closes its GSD file when the writer goes
        with gsd.hoomd.open(str(path)) as f:
            chunks = [f[i].log for i in range(len(f))]
        out[lib.__name__] = (text.getvalue(), logged, chunks)
    (text_a, log_a, gsd_a), (text_b, log_b, gsd_b) = out["hoomd_adjoint"], out["hoomd"]
    assert text_a == text_b  # the same characters: layout, number formats, header
    assert text_a.count("\n") == 7
    assert log_a.keys() == log_b.keys()
    for k in log_b:
        assert log_a[k][1] == log_b[k][1], k
        if isinstance(log_b[k][0], str):
            assert log_a[k][0] == log_b[k][0]
        else:
            assert type(log_a[k][0]) is type(log_b[k][0]) and log_a[k][0] == pytest.approx(log_b[k][0], rel=1e-12)
    assert len(gsd_a) == len(gsd_b) == 3
    for fa, fb in zip(gsd_a, gsd_b):
        assert list(fa) == list(fb)  # the same chunk names, in the same order
        for name in fb:
            assert fa[name].dtype == fb[name].dtype and fa[name].shape == fb[name].shape, name
            np.testing.assert_allclose(fa[name], fb[name], rtol=1e-11, atol=1e-11, err_msg=name)


def test_namespaces_categories_and_names():
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(frame_2d())
    lj1 = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj2 = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    for lj in (lj1, lj2):
        lj.params[("A", "A")] = dict(epsilon=0.5, sigma=1)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.002, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], forces=[lj1, lj2]
    )
    logger = ha.logging.Logger(categories=["scalar"])
    logger += [lj1, lj2]  # a second object of a class gets "<class>_1"
    logger.add(lj1, user_name="attraction")
    assert ("md", "pair", "LJ", "energy") in logger and ("md", "pair", "LJ_1", "energy") in logger
    assert ("md", "pair", "attraction", "energy") in logger
    assert ("md", "pair", "LJ", "energies") not in logger  # a particle quantity: not a scalar logger's
    logger.add(lj1)  # again: already there, nothing new
    assert sum(k[2] == "LJ" for k in logger) == 2  # energy, additional_energy
    nl = lj1.nlist
    logger.add(nl)
    assert ("md", "nlist", "Cell", "num_builds") not in logger  # not a default quantity
    logger.add(nl, quantities=["num_builds"])
    assert ("md", "nlist", "Cell", "num_builds") in logger
    sim.run(5)
    values = flat(logger.log())
    assert values[("md", "pair", "LJ", "energy")] == (lj1.energy, "scalar")
    assert values[("md", "pair", "LJ_1", "energy")] == (lj2.energy, "scalar")
    logger -= lj2
    assert ("md", "pair", "LJ_1", "energy") not in logger
    logger -= ("md", "pair", "attraction", "energy")
    assert ("md", "pair", "attraction", "energy") not in logger
    with pytest.raises(ValueError, match=r"has no loggable quantities \['bogus'\]"):
        logger.add(lj1, quantities=["bogus"])
    with pytest.raises(ValueError, match="category 'particle' is not one this logger accepts"):
        logger[("x",)] = (lambda: np.zeros(3), "particle")
    with pytest.raises(ValueError, match="unknown logger category 'scalars'"):
        ha.logging.Logger(categories=["scalars"])
    with pytest.raises(TypeError, match="has no loggable quantities"):
        logger.add(object())


def test_table_refuses_other_categories_and_writes_headers_again_when_columns_change():
    with pytest.raises(ValueError, match=r"only have the scalar and string categories, it has \['particle'\]"):
        ha.write.Table(trigger=1, logger=ha.logging.Logger(categories=["scalar", "particle"]))
    with pytest.raises(TypeError, match="Table logger must be a hoomd_adjoint.logging.Logger"):
        ha.write.Table(trigger=1, logger=None)
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(frame_2d())
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1, sigma=1)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.002, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], forces=[lj]
    )
    logger = ha.logging.Logger(categories=["scalar"])
    logger.add(sim, quantities=["timestep"])
    text = io.StringIO()
    sim.operations.writers.append(ha.write.Table(trigger=5, logger=logger, output=text, pretty=False))
    sim.run(10)
    logger.add(lj, quantities=["energy"])
    sim.run(5)
    lines = text.getvalue().splitlines()
    assert lines[0].split() == ["Simulation.timestep"] and lines[1].split() == ["5"]
    assert lines[3].split() == ["Simulation.timestep", "md.pair.LJ.energy"]
    assert int(lines[4].split()[0]) == 15 and float(lines[4].split()[1]) == pytest.approx(lj.energy, abs=1e-5)
