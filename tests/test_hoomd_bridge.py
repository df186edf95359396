"""Differentiating a HOOMD-blue script (skipped where HOOMD-blue is not importable): the embedded
twin reproduces HOOMD-blue's trajectory, its gradient matches central differences of HOOMD-blue
runs themselves, and what the adjoint does not cover is refused by name."""

import numpy as np
import pytest

hoomd = pytest.importorskip("hoomd")
import hoomd_adjoint.bridge as bridge  # noqa: E402


def _script(method="langevin", dim=3, eps=1.0, seed=7, N=64):
    """A user's HOOMD-blue script: LJ particles on a lattice, one method over all."""
    L = 6.0 if dim == 3 else 9.0
    snap = hoomd.Snapshot()
    snap.configuration.box = [L, L, 0 if dim == 2 else L, 0, 0, 0]
    n = int(round(N ** (1 / dim)))
    g = (np.arange(n) + 0.5) * L / n - L / 2
    pts = np.array(np.meshgrid(*[g] * dim, indexing="ij")).reshape(dim, -1).T
    snap.particles.N = len(pts)
    snap.particles.types = ["A"]
    pos = np.zeros((len(pts), 3))
    pos[:, :dim] = pts
    snap.particles.position[:] = pos
    v = np.random.default_rng(seed).normal(size=(len(pts), 3)) * 0.5
    if dim == 2:
        v[:, 2] = 0
    snap.particles.velocity[:] = v
    sim = hoomd.Simulation(device=hoomd.device.CPU(), seed=seed)
    sim.create_state_from_snapshot(snap)
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=eps, sigma=1.0)
    m = {
        "langevin": lambda: hoomd.md.methods.Langevin(filter=hoomd.filter.All(), kT=1.2),
        "bd": lambda: hoomd.md.methods.Brownian(filter=hoomd.filter.All(), kT=1.2, default_gamma=10.0),
        "nve": lambda: hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All()),
    }[method]()
    sim.operations.integrator = hoomd.md.Integrator(dt=0.002, methods=[m], forces=[lj])
    return sim, lj


W = np.random.default_rng(1).normal(size=(64, 3))
try:  # hoomd.adjoint, the C++ component (component/), where it is built and installed
    import hoomd.adjoint as component

    COMPONENT = (None, 4 * 64 * 72)
except ImportError:
    component, COMPONENT = None, ()


def _loss(frame):
    x = frame.positions
    return float(np.sum(W[: len(x)] * x)), W[: len(x)].copy()


@pytest.mark.parametrize("method,dim", [("langevin", 3), ("bd", 2), ("nve", 3)])
def test_twin_gradient_matches_differences_of_hoomd_runs(method, dim):
    steps = 40
    sim, lj = _script(method, dim)
    res = bridge.gradient(sim, steps, _loss, wrt=[lj])
    assert res.diagnostics["hoomd_gap"] <= 1e-12 and sim.timestep == steps
    g = res.grad(lj)[("A", "A")]["epsilon"]

    def run(eps):
        s, _ = _script(method, dim, eps=eps)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    for h in (1e-5, 1e-6):
        fd = (run(1 + h) - run(1 - h)) / (2 * h)
        assert abs(g - fd) <= 1e-6 * abs(fd) + 1e-13 / h, (h, g, fd)


def test_what_the_adjoint_does_not_cover_is_refused():
    sim, lj = _script()
    sim.operations.updaters.append(
        hoomd.update.BoxResize(
            trigger=hoomd.trigger.Periodic(10),
            box1=sim.state.box,
            box2=sim.state.box,
            variant=hoomd.variant.Ramp(0, 1, 0, 100),
        )
    )
    with pytest.raises(bridge.Unsupported, match="updater BoxResize"):
        bridge.twin(sim)
    sim, lj = _script()
    lj.nlist.rebuild_check_delay = 5
    with pytest.raises(bridge.Unsupported, match="rebuild_check_delay = 5"):
        bridge.twin(sim)
    sim, lj = _script()
    sim.operations.integrator.forces.append(hoomd.md.pair.LJ1208(nlist=lj.nlist, default_r_cut=2.5))
    with pytest.raises(bridge.Unsupported, match="force LJ1208"):
        bridge.twin(sim)
    assert sim.timestep == 0  # nothing ran


def test_a_simulation_that_has_already_run_continues_exactly():
    """HOOMD-blue keeps the last step's accelerations (Langevin's include drag and noise): the twin
    takes them over, so differentiating a continued run follows HOOMD-blue's own."""
    sim, lj = _script("langevin", 3)
    sim.run(25)
    res = bridge.gradient(sim, 30, _loss, wrt=[lj])
    assert res.diagnostics["hoomd_gap"] <= 1e-12 and sim.timestep == 55


def test_rigid_bodies_are_read_and_differentiated():
    import sys

    sys.path.insert(0, __import__("os").path.dirname(__file__))
    from test_rigid_bodies import _rigid_system

    steps = 60

    def final(eps):
        s, lj = _rigid_system(hoomd, "langevin")
        lj.params[("A", "A")] = dict(epsilon=eps, sigma=1.0)
        s.run(steps)
        return s, lj

    sim, lj = _rigid_system(hoomd, "langevin")
    rigid = sim.operations.integrator.rigid
    res = bridge.gradient(sim, steps, _loss, wrt=[lj, rigid])
    assert res.diagnostics["hoomd_gap"] <= 1e-12
    assert res.grad(rigid)["R"].shape == (3, 3)
    g = res.grad(lj)[("A", "A")]["epsilon"]
    value = lambda s: _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]  # noqa: E731
    for h in (1e-5, 1e-6):
        fd = (value(final(1 + h)[0]) - value(final(1 - h)[0])) / (2 * h)
        assert abs(g - fd) <= 1e-6 * abs(fd) + 1e-13 / h, (h, g, fd)


@pytest.mark.parametrize("name", ["Bussi", "MTTK"])
def test_thermostats_with_rigid_bodies_match_differences_of_hoomd_runs(name):
    """Rigid trimers under ConstantVolume with HOOMD-blue's Bussi or MTTK thermostat (translational
    and rotational factors; MTTK's xi and xi_rot read from HOOMD-blue at every step): d/dkT and
    d/dtau against central differences of HOOMD-blue runs."""
    import sys

    sys.path.insert(0, __import__("os").path.dirname(__file__))
    from test_rigid_bodies import _rigid_system

    steps = 40

    def script(kT=1.2, tau=0.1):
        s, lj = _rigid_system(hoomd, "nve")
        s.state.thermalize_particle_momenta(filter=hoomd.filter.Rigid(("center", "free")), kT=1.0)
        s.operations.integrator.methods[0].thermostat = getattr(hoomd.md.methods.thermostats, name)(kT=kT, tau=tau)
        return s

    res = bridge.gradient(script(), steps, _loss, wrt=["kT", "tau"], memory=6 * 1000)
    assert res.diagnostics["hoomd_gap"] <= 1e-12 and res.diagnostics["checkpointing"]

    def value(**kw):
        s = script(**kw)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    for key, x in (("kT", 1.2), ("tau", 0.1)):
        g = res.grad(key)
        assert g != 0
        for h in (1e-5, 1e-6):
            fd = (value(**{key: x + h}) - value(**{key: x - h})) / (2 * h)
            assert abs(g - fd) <= 1e-6 * abs(fd) + 1e-13 / h, (key, h, g, fd)


def _embedded_gradient(method, dim, steps, **kw):
    """The same script differentiated on the embedded engine alone (the twin runs forward too)."""
    from hoomd_adjoint import adjoint

    sim, lj = _script(method, dim)
    tw = bridge.twin(sim)
    return adjoint.gradient(tw, steps, _loss, [tw._hoomd_forces[id(lj)], "positions"], **kw)


@pytest.mark.parametrize("method,dim", [("langevin", 3), ("bd", 2), ("nve", 2)])
def test_recorded_hoomd_run_gives_the_embedded_gradient(method, dim):
    """HOOMD-blue integrates and is recorded; the adjoint along its states equals the embedded
    engine's own gradient to rounding, stored or checkpointed (the twin replays between HOOMD-blue's
    checkpoints), and loss frames before a truncated window still count."""
    steps = 30
    ref = _embedded_gradient(method, dim, steps)
    eps_ref = next(iter(ref._grads.values()))
    for memory, recorder in [(None, "python"), (4 * 64 * 72, "python")] + [(m, "component") for m in COMPONENT]:
        sim, lj = _script(method, dim)
        res = bridge.gradient(sim, steps, _loss, wrt=[lj, "positions"], memory=memory, recorder=recorder)
        assert res.diagnostics["forward_engine"] == "hoomd" and res.diagnostics["hoomd_gap"] <= 1e-12
        assert res.diagnostics["recorder"] == recorder
        assert res.diagnostics["checkpointing"] == (memory is not None)
        assert sim.timestep == steps
        for name, v in res.grad(lj)[("A", "A")].items():
            assert v == pytest.approx(eps_ref[("A", "A")][name], rel=1e-9, abs=1e-12)
        assert np.allclose(res.positions, ref.positions, rtol=1e-9, atol=1e-12)
        assert res.loss == pytest.approx(ref.loss, rel=1e-12)
    ref = _embedded_gradient(method, dim, steps, frames=[5, 20, 30], truncate=12)
    sim, lj = _script(method, dim)
    res = bridge.gradient(sim, steps, _loss, wrt=[lj, "positions"], frames=[5, 20, 30], truncate=12)
    assert res.loss == pytest.approx(ref.loss, rel=1e-12)
    assert np.allclose(res.positions, ref.positions, rtol=1e-9, atol=1e-12)


def test_the_users_writers_run_during_the_recorded_run(tmp_path):
    import gsd.hoomd

    sim, lj = _script("langevin", 3)
    path = str(tmp_path / "traj.gsd")
    sim.operations.writers.append(hoomd.write.GSD(filename=path, trigger=hoomd.trigger.Periodic(10), mode="wb"))
    bridge.gradient(sim, 30, _loss, wrt=[lj])
    sim.operations.writers[0].flush()
    with gsd.hoomd.open(path) as t:
        assert [f.configuration.step for f in t] == [10, 20, 30]
        final = t[-1].particles.position
    assert np.allclose(final, sim.state.get_snapshot().particles.position, atol=1e-6)
    assert len(sim.operations.updaters) == 0  # the recorder is gone


@pytest.mark.parametrize(
    "name,params",
    [
        ("Morse", dict(D0=1.0, alpha=3.0, r0=1.1)),
        ("Yukawa", dict(epsilon=1.5, kappa=1.0)),
        ("Gaussian", dict(epsilon=1.0, sigma=0.8)),
        ("DPDConservative", dict(A=5.0)),
        ("ExpandedLJ", dict(epsilon=1.2, sigma=0.9, delta=0.1)),
        ("ForceShiftedLJ", dict(epsilon=1.2, sigma=1.0)),
        ("Buckingham", dict(A=300.0, rho=0.25, C=0.5)),
        ("Mie", dict(epsilon=1.2, sigma=1.0, n=11.0, m=5.5)),
    ],
)
def test_every_shared_pair_potential_matches_differences_of_hoomd_runs(name, params):
    steps = 25
    first = next(iter(params))

    def script(value):
        sim, lj = _script("langevin", 3)
        pot = getattr(hoomd.md.pair, name)(nlist=lj.nlist, default_r_cut=2.0)
        pot.params[("A", "A")] = dict(params, **{first: value})
        sim.operations.integrator.forces.append(pot)
        return sim, pot

    sim, pot = script(params[first])
    res = bridge.gradient(sim, steps, _loss, wrt=[pot])
    g = res.grad(pot)[("A", "A")][first]

    def value(v):
        s, _ = script(v)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    x = params[first]
    for h in (1e-5, 1e-6):
        fd = (value(x * (1 + h)) - value(x * (1 - h))) / (2 * h * x)
        assert abs(g - fd) <= 1e-6 * abs(fd) + 1e-13 / (h * x), (h, g, fd)


@pytest.mark.parametrize(
    "name,params", [("Morse", dict(D0=1.0, alpha=3.0, r0=1.1)), ("LJ", dict(epsilon=0.8, sigma=1.0))]
)
def test_xplor_mode_matches_differences_of_hoomd_runs(name, params):
    """mode="xplor": a parameter and r_on, against central differences of HOOMD-blue's own runs."""
    steps = 25

    def script(p, r_on):
        sim, lj = _script("langevin", 3)
        pot = getattr(hoomd.md.pair, name)(nlist=lj.nlist, default_r_cut=2.2, mode="xplor")
        pot.params[("A", "A")] = p
        pot.r_on[("A", "A")] = r_on
        sim.operations.integrator.forces.append(pot)
        return sim, pot

    r_on = 1.7  # (not a distance of the starting lattice, 1.5 and 2.12: S is C1 only at r_on)
    sim, pot = script(params, r_on)
    g = bridge.gradient(sim, steps, _loss, wrt=[pot]).grad(pot)[("A", "A")]

    def value(p, r):
        s, _ = script(p, r)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    first = next(iter(params))
    for h in (1e-5, 1e-6):
        x = params[first]
        fd = (value(dict(params, **{first: x + h}), r_on) - value(dict(params, **{first: x - h}), r_on)) / (2 * h)
        assert abs(g[first] - fd) <= 1e-6 * abs(fd) + 1e-13 / h, (first, h, g[first], fd)
        fd = (value(params, r_on + h) - value(params, r_on - h)) / (2 * h)
        assert g["r_on"] != 0 and abs(g["r_on"] - fd) <= 1e-6 * abs(fd) + 1e-13 / h, ("r_on", h, g["r_on"], fd)


@pytest.mark.parametrize("name,memory", [("Bussi", None), ("Berendsen", None), ("MTTK", None), ("MTTK", 4 * 64 * 72)])
def test_thermostats_match_differences_of_hoomd_runs(name, memory):
    """ConstantVolume with HOOMD-blue's Bussi, Berendsen or MTTK thermostat: d/d epsilon, kT and tau
    of a HOOMD-blue run against central differences of HOOMD-blue runs (the same seed, the same
    draws). MTTK starts from a nonzero xi; under a memory budget the twin replays from HOOMD-blue's
    checkpoints with HOOMD-blue's xi there."""
    steps = 25

    def script(eps=1.0, kT=1.2, tau=0.05):
        sim, lj = _script("nve", 3, eps=eps)
        th = getattr(hoomd.md.methods.thermostats, name)(kT=kT, tau=tau)
        sim.operations.integrator.methods[0].thermostat = th
        if name == "MTTK":
            th.translational_dof = (0.3, 0.1)
        return sim, lj

    sim, lj = script()
    res = bridge.gradient(sim, steps, _loss, wrt=[lj, "kT", "tau"], memory=memory)
    assert res.diagnostics["checkpointing"] == (memory is not None)
    got = {"eps": res.grad(lj)[("A", "A")]["epsilon"], "kT": res.grad("kT"), "tau": res.grad("tau")}

    def value(**kw):
        s, _ = script(**kw)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    for key, x in (("eps", 1.0), ("kT", 1.2), ("tau", 0.05)):
        assert got[key] != 0
        for h in (1e-5, 1e-6):
            fd = (value(**{key: x + h}) - value(**{key: x - h})) / (2 * h)
            assert abs(got[key] - fd) <= 1e-6 * abs(fd) + 1e-13 / h, (key, h, got[key], fd)


def test_tree_list_gives_the_cell_lists_gradient():
    """A script with nlist.Tree is differentiated (its twin lists the same pairs)."""
    out = []
    for make in (hoomd.md.nlist.Cell, hoomd.md.nlist.Tree):
        sim, lj = _script("langevin", 3)
        lj.nlist = make(buffer=0.4)
        out.append(bridge.gradient(sim, 20, _loss, wrt=[lj]).grad(lj)[("A", "A")])
    for k in out[0]:
        assert out[1][k] == pytest.approx(out[0][k], rel=1e-9), k


@pytest.mark.skipif(component is None, reason="hoomd.adjoint (the C++ component) is not installed")
def test_the_components_rechtsman_potential_is_differentiated_in_hoomd_runs():
    """The honeycomb potential, which HOOMD-blue lacks, runs in HOOMD-blue from the component
    (the embedded engine's evaluator); its gradient matches differences of HOOMD-blue runs."""
    steps = 25
    a = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)

    def script(a1):
        sim, lj = _script("bd", 2)
        pot = component.pair.Rechtsman(nlist=lj.nlist, default_r_cut=2.5, mode="shift")
        pot.params[("A", "A")] = dict(a, a1=a1)
        sim.operations.integrator.forces.remove(lj)
        sim.operations.integrator.forces.append(pot)
        return sim, pot

    sim, pot = script(a["a1"])
    res = bridge.gradient(sim, steps, _loss, wrt=[pot], recorder="component")
    assert res.diagnostics["hoomd_gap"] <= 1e-12
    g = res.grad(pot)[("A", "A")]["a1"]

    def value(v):
        s, _ = script(v)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    for h in (1e-5, 1e-6):
        fd = (value(a["a1"] + h) - value(a["a1"] - h)) / (2 * h)
        assert abs(g - fd) <= 1e-6 * abs(fd) + 1e-12 / h, (h, g, fd)


@pytest.mark.skipif(component is None, reason="hoomd.adjoint (the C++ component) is not installed")
def test_honeycomb_design_with_hoomd_as_the_engine(tmp_path):
    """The design loop with HOOMD-blue integrating every replica gives the embedded engine's
    objective and gradient (the same starts, seeds and discrete map), and runs from the command line."""
    import subprocess
    import sys

    from hoomd_adjoint.apps.assembly import honeycomb as hc

    from conftest import TESTS, subprocess_env

    small = hc.Protocol(N=36, melt_steps=200)
    kw = dict(k_T=1 / 30, k_H=1 / 40, variant="truncated", truncate=20, replicas=2, protocol=small)
    ours = hc.Design(tmp_path / "embedded", **kw).evaluate(np.array(hc.RECHTSMAN), 0)
    theirs = hc.Design(tmp_path / "hoomd", engine="hoomd", **kw).evaluate(np.array(hc.RECHTSMAN), 0)
    assert not theirs[3] and theirs[0] == pytest.approx(ours[0], rel=1e-9)
    assert np.allclose(theirs[1], ours[1], rtol=1e-7, atol=1e-10), (theirs[1], ours[1])
    out = tmp_path / "cli"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "hoomd_adjoint.cli",
            "honeycomb",
            "design",
            "--engine",
            "hoomd",
            "--out",
            str(out),
            "--iterations",
            "1",
            "--replicas",
            "1",
            "--N",
            "36",
            "--check-replicas",
            "2",
            "--check-steps",
            "20",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=TESTS,
        env=subprocess_env(),
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    import json

    assert json.loads((out / "state.json").read_text())["config"]["engine"] == "hoomd"


def test_2d_states_off_the_plane_are_refused_with_the_release_notes():
    """Out-of-plane motion in 2D changed between HOOMD-blue releases (#2021, #2303): refused."""
    assert bridge.hoomd_version() >= (4, 0, 0)
    assert [c[1] for c in bridge.VERSION_CHANGES] == ["hoomd-blue#2021", "hoomd-blue#2071", "hoomd-blue#2303"]
    sim, lj = _script("langevin", 2)
    snap = sim.state.get_snapshot()
    snap.particles.velocity[3, 2] = 0.1
    sim.state.set_snapshot(snap)
    with pytest.raises(bridge.Unsupported, match="particle tag 3 has velocity z"):
        bridge.gradient(sim, 5, _loss, wrt=[lj])
    assert sim.timestep == 0
    import sys

    sys.path.insert(0, __import__("os").path.dirname(__file__))
    from test_rigid_bodies import _rigid_system

    sim, lj = _rigid_system(hoomd, "langevin", dim=2)
    sim.operations.integrator.rigid.body["R"]["positions"][2] = (-0.5, -0.8, 0.3)
    with pytest.raises(bridge.Unsupported, match="rigid body type 'R' has constituents off the plane"):
        bridge.twin(sim)


def test_a_twin_that_does_not_reproduce_hoomd_blue_is_caught(monkeypatch):
    """The safeguard: the twin replays HOOMD-blue's first steps and must land on HOOMD-blue."""
    import hoomd_adjoint.bridge as module

    real = module.twin

    def wrong(sim, threads=1):
        tw = real(sim, threads)
        f = tw.operations.integrator.forces[0]
        f.params[("A", "A")] = dict(epsilon=1.001, sigma=1.0)
        return tw

    monkeypatch.setattr(module, "twin", wrong)
    sim, lj = _script("langevin", 3)
    with pytest.raises(RuntimeError, match="the embedded twin is .* away from HOOMD-blue after 2 steps"):
        bridge.gradient(sim, 20, _loss, wrt=[lj])


@pytest.mark.skipif(component is None, reason="hoomd.adjoint (the C++ component) is not installed")
def test_hoomd_engine_design_shares_replicas_over_mpi_ranks(tmp_path):
    """Two MPI ranks (one HOOMD-blue simulation each at a time) give the one-process design
    evaluation bit for bit: the replica means are summed in replica order."""
    import json
    import shutil
    import subprocess
    import sys

    from hoomd_adjoint.apps.assembly import honeycomb as hc

    from conftest import TESTS, subprocess_env

    pytest.importorskip("mpi4py")
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None:
        pytest.skip("no mpirun on the PATH")
    code = (
        "import json, sys, numpy as np\n"
        "from hoomd_adjoint.apps.assembly import honeycomb as hc\n"
        "d = hc.Design(sys.argv[1], k_T=1/30, k_H=1/40, truncate=20, replicas=3, engine='hoomd',\n"
        "              protocol=hc.Protocol(N=36, melt_steps=100))\n"
        "L, g, v, f = d.evaluate(np.array(hc.RECHTSMAN), 0)\n"
        "if d.communicator.partition == 0: print(json.dumps([L, list(g), f, d.communicator.num_partitions]))\n"
    )
    r = subprocess.run(
        [mpirun, "-n", "2", sys.executable, "-c", code, str(tmp_path / "mpi")],
        capture_output=True,
        text=True,
        cwd=TESTS,
        env=subprocess_env(),
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    L, g, failures, parts = json.loads(r.stdout.strip().splitlines()[-1])
    assert parts == 2 and not failures
    ref = hc.Design(
        tmp_path / "one",
        k_T=1 / 30,
        k_H=1 / 40,
        truncate=20,
        replicas=3,
        engine="hoomd",
        protocol=hc.Protocol(N=36, melt_steps=100),
    ).evaluate(np.array(hc.RECHTSMAN), 0)
    assert L == ref[0] and g == ref[1].tolist()


@pytest.mark.parametrize("kind", ["Electric", "Periodic"])
def test_external_fields_match_differences_of_hoomd_runs(kind):
    """A HOOMD-blue script with an external field: d/d(its parameter) against central differences
    of HOOMD-blue runs."""
    steps = 25

    def script(x):
        sim, lj = _script("langevin", 3)
        snap = sim.state.get_snapshot()
        snap.particles.charge[:] = np.linspace(-1, 1, snap.particles.N)
        sim.state.set_snapshot(snap)
        field = getattr(hoomd.md.external.field, kind)()
        if kind == "Electric":
            field.E["A"] = (x, -0.2, 0.1)
        else:
            field.params["A"] = dict(A=x, i=1, w=0.4, p=2)
        sim.operations.integrator.forces.append(field)
        return sim, field

    x = 0.7
    sim, field = script(x)
    g = bridge.gradient(sim, steps, _loss, wrt=[field]).grad(field)["A"]["Ex" if kind == "Electric" else "A"]

    def value(v):
        s, _ = script(v)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    assert g != 0
    for h in (1e-5, 1e-6):
        fd = (value(x + h) - value(x - h)) / (2 * h)
        assert abs(g - fd) <= 1e-6 * abs(fd) + 1e-13 / h, (h, g, fd)


@pytest.mark.parametrize("r_extrap,plane_z", [(0.0, -2.9), (0.6, -1.2)])
def test_wall_potential_matches_differences_of_hoomd_runs(r_extrap, plane_z):
    """A HOOMD-blue script with an LJ wall (planes and a sphere): d/d epsilon of the wall; with
    r_extrap > 0 the plane cuts through the particles (extrapolated mode past it)."""
    steps = 25

    def script(eps):
        sim, lj = _script("langevin", 3)
        walls = [hoomd.wall.Plane(origin=(0, 0, plane_z), normal=(0, 0, 1)), hoomd.wall.Sphere(radius=5.0)]
        wall = hoomd.md.external.wall.LJ(walls=walls)
        wall.params["A"] = dict(epsilon=eps, sigma=0.5, r_cut=2.0, r_extrap=r_extrap)
        sim.operations.integrator.forces.append(wall)
        return sim, wall

    sim, wall = script(0.8)
    g = bridge.gradient(sim, steps, _loss, wrt=[wall]).grad(wall)["A"]["epsilon"]

    def value(v):
        s, _ = script(v)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    assert g != 0
    for h in (1e-5, 1e-6):
        fd = (value(0.8 + h) - value(0.8 - h)) / (2 * h)
        assert abs(g - fd) <= 1e-6 * abs(fd) + 1e-13 / h, (h, g, fd)


def test_table_matches_differences_of_hoomd_runs():
    """A HOOMD-blue script with a tabulated pair potential: d/d F[k] (the entry the run uses most)
    and d/d r_min of the table."""
    steps = 25

    def script(r_min, k=0, dF=0.0):
        sim, lj = _script("langevin", 3)
        r = np.linspace(0.8, 2.5, 50, endpoint=False)  # (the values stay; r_min moves the grid)
        table = hoomd.md.pair.Table(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
        F = 24 * (2 / r**13 - 1 / r**7)
        F[k] += dF
        table.params[("A", "A")] = dict(r_min=r_min, U=4 * (1 / r**12 - 1 / r**6), F=F)
        sim.operations.integrator.forces = [table]
        return sim, table

    sim, table = script(0.8)
    g = bridge.gradient(sim, steps, _loss, wrt=[table]).grad(table)[("A", "A")]
    assert g["F"].shape == (50,)
    k = int(np.argmax(np.abs(g["F"])))

    def value(*args):
        s, _ = script(*args)
        s.run(steps)
        return _loss(type("F", (), {"positions": np.asarray(s.state.get_snapshot().particles.position)}))[0]

    assert g["F"][k] != 0 and g["r_min"] != 0
    for h in (1e-6, 3e-7):  # (small: the interpolation's kinks, tests/test_table.py)
        fd = (value(0.8, k, h) - value(0.8, k, -h)) / (2 * h)
        assert abs(g["F"][k] - fd) <= 1e-6 * abs(fd) + 2e-13 / h, (h, g["F"][k], fd)
        fd = (value(0.8 + h) - value(0.8 - h)) / (2 * h)
        assert abs(g["r_min"] - fd) <= 1e-6 * abs(fd) + 2e-13 / h, (h, g["r_min"], fd)
