"""The HOOMD-blue engine follows HOOMD-blue exactly (skipped where HOOMD-blue, or for the design
the component hoomd.adjoint, is not installed): forces HOOMD-blue cached under earlier parameters
are caught before a step, operations that change the state between steps are refused or stopped
by name, every refusal comes before HOOMD-blue takes a step or writes a frame, and the honeycomb
design on HOOMD-blue equals the embedded engine's over several iterations for every variant."""

import os
import sys

import numpy as np
import pytest

hoomd = pytest.importorskip("hoomd")
import hoomd_adjoint.bridge as bridge  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from test_hoomd_bridge import _loss, _script  # noqa: E402

try:
    import hoomd.adjoint  # noqa: F401

    COMPONENT = True
except ImportError:
    COMPONENT = False


def _frames(path):
    import gsd.hoomd

    if not os.path.exists(path):
        return None
    with gsd.hoomd.open(path) as t:
        return len(t)


def _with_gsd(sim, tmp_path, name="traj.gsd"):
    path = str(tmp_path / name)
    sim.operations.writers.append(hoomd.write.GSD(filename=path, trigger=hoomd.trigger.Periodic(1), mode="wb"))
    return path


def _final(sim):
    return np.asarray(sim.state.get_snapshot().particles.position)


def test_forces_cached_under_earlier_parameters_are_refused_before_a_step(tmp_path):
    """HOOMD-blue computes forces again only on a new timestep: after a parameter change between
    runs, Brownian's first step would use the old parameters' forces, which the adjoint does not
    differentiate. Refused before a step or a frame; set_snapshot makes HOOMD-blue recompute, and
    the run then follows the embedded engine."""
    sim, lj = _script("bd", 2)
    path = _with_gsd(sim, tmp_path)
    sim.run(10)
    lj.params[("A", "A")] = dict(epsilon=1.3, sigma=1.0)
    with pytest.raises(
        bridge.Unsupported,
        match=r"start this run at step 10 from forces it computed at that step "
        r"with earlier settings: net force of particle tag \d+",
    ):
        bridge.gradient(sim, 20, _loss, wrt=[lj])
    sim.operations.writers[0].flush()
    assert sim.timestep == 10 and _frames(path) == 10
    with pytest.raises(bridge.Unsupported, match="earlier settings"):
        bridge.gradient(sim, 20, _loss, wrt=[lj], mode="forward")
    assert sim.timestep == 10
    sim.state.set_snapshot(sim.state.get_snapshot())
    tw = bridge.twin(sim)
    from hoomd_adjoint import adjoint

    ref = adjoint.gradient(tw, 20, _loss, [tw._hoomd_forces[id(lj)]])
    res = bridge.gradient(sim, 20, _loss, wrt=[lj])
    assert res.diagnostics["hoomd_gap"] <= 1e-12 and sim.timestep == 30
    assert res.loss == pytest.approx(ref.loss, rel=1e-12)
    assert res.grad(lj)[("A", "A")]["epsilon"] == pytest.approx(
        ref.grad(tw._hoomd_forces[id(lj)])[("A", "A")]["epsilon"], rel=1e-9
    )


def test_hoomd_really_reuses_the_cached_forces():
    """What the refusal is about, shown on HOOMD-blue alone: after a parameter change between runs,
    a Brownian run differs from the same run started with forces computed afresh."""

    def run(refresh):
        sim, lj = _script("bd", 2)
        sim.run(5)
        lj.params[("A", "A")] = dict(epsilon=1.3, sigma=1.0)
        if refresh:
            sim.state.set_snapshot(sim.state.get_snapshot())
        sim.run(1)
        return _final(sim)

    assert np.abs(run(False) - run(True)).max() > 1e-6


def test_a_continued_langevin_run_after_a_parameter_change_is_followed():
    """Langevin's first half step reads the accelerations HOOMD-blue kept (the twin takes them
    over) and not the cached forces: nothing to refuse, and the twin follows HOOMD-blue."""
    sim, lj = _script("langevin", 3)
    sim.run(10)
    lj.params[("A", "A")] = dict(epsilon=1.3, sigma=1.0)
    res = bridge.gradient(sim, 20, _loss, wrt=[lj])
    assert res.diagnostics["hoomd_gap"] <= 1e-12 and sim.timestep == 30


@pytest.mark.parametrize("method,what", [("langevin", "net torque"), ("bd", "net force")])
def test_rigid_bodies_continue_and_their_cached_forces_are_refused(method, what):
    """Rigid bodies: a continued run is followed (constituents' sums, which the engines keep
    differently, are not compared), a cached force or torque of a centre after a parameter change
    is refused (Langevin's first rotational step reads the torque), and set_snapshot cures it."""
    from test_rigid_bodies import _rigid_system

    sim, lj = _rigid_system(hoomd, method)
    sim.run(10)
    assert bridge.gradient(sim, 10, _loss, wrt=[lj]).diagnostics["hoomd_gap"] <= 1e-12
    lj.params[("A", "A")] = dict(epsilon=1.2, sigma=1.0)
    with pytest.raises(bridge.Unsupported, match=f"at step 20 from forces .* {what} of particle tag"):
        bridge.gradient(sim, 10, _loss, wrt=[lj])
    assert sim.timestep == 20
    sim.state.set_snapshot(sim.state.get_snapshot())
    assert bridge.gradient(sim, 10, _loss, wrt=[lj]).diagnostics["hoomd_gap"] <= 1e-12


class _Push(hoomd.md.HalfStepHook):
    def __init__(self, sim):
        hoomd.md.HalfStepHook.__init__(self)
        self.sim = sim

    def update(self, timestep):
        with self.sim.state.cpu_local_snapshot as s:
            s.particles.position[:, 0] += 1e-4


def test_half_step_hook_is_refused_before_a_step(tmp_path):
    sim, lj = _script("langevin", 3)
    path = _with_gsd(sim, tmp_path)
    sim.operations.integrator.half_step_hook = _Push(sim)
    with pytest.raises(bridge.Unsupported, match="Integrator.half_step_hook _Push"):
        bridge.gradient(sim, 20, _loss, wrt=[lj])
    assert sim.timestep == 0 and _frames(path) is None


class _Nudge(hoomd.custom.Action):
    """A writer's action that moves a particle: the run is then not the map the adjoint differentiates."""

    def act(self, timestep):
        with self._state.cpu_local_snapshot as s:
            s.particles.position[s.particles.rtag[3], 0] += 1e-3


class _Look(hoomd.custom.Action):
    """A writer's action that only reads."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def act(self, timestep):
        with self._state.cpu_local_snapshot as s:
            self.seen.append((timestep, float(np.asarray(s.particles.position).sum())))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_writer_that_changes_the_state_stops_the_run_by_name_and_step(mode):
    """Before the guard such a run returned the gradient of another map with no error (the
    safeguard replays only the first 2 steps; the nudge comes at step 7)."""
    sim, lj = _script("bd", 2)
    sim.operations.writers.append(hoomd.write.CustomWriter(trigger=hoomd.trigger.Periodic(7), action=_Nudge()))
    with pytest.raises(
        bridge.Unsupported,
        match=r"writer CustomWriter \(action _Nudge\) changed the state at step 7 "
        r"\(position\)",
    ):
        bridge.gradient(sim, 30, _loss, wrt=[lj], mode=mode)
    assert [type(w).__name__ for w in sim.operations.writers] == ["CustomWriter"]  # the guards are gone


def test_a_writer_that_only_reads_runs_and_changes_nothing():
    sim, lj = _script("bd", 2)
    look = _Look()
    sim.operations.writers.append(hoomd.write.CustomWriter(trigger=hoomd.trigger.Periodic(5), action=look))
    res = bridge.gradient(sim, 30, _loss, wrt=[lj])
    ref_sim, ref_lj = _script("bd", 2)
    ref = bridge.gradient(ref_sim, 30, _loss, wrt=[ref_lj])
    assert [t for t, _ in look.seen] == [5, 10, 15, 20, 25, 30]
    assert res.loss == ref.loss and res.grad(lj) == ref.grad(ref_lj)
    assert len(sim.operations.writers) == 1


class _Heat(hoomd.custom.Action):
    def act(self, timestep):
        self._state._simulation.operations.integrator.methods[0].kT = 2.0


def test_a_writer_that_changes_the_script_is_stopped():
    sim, lj = _script("bd", 2)
    sim.operations.writers.append(hoomd.write.CustomWriter(trigger=hoomd.trigger.Periodic(4), action=_Heat()))
    with pytest.raises(bridge.Unsupported, match=r"changed the state at step 4 \(Brownian.kT\)"):
        bridge.gradient(sim, 10, _loss, wrt=[lj])


def _subset(sim):
    sim.operations.integrator.methods[0] = hoomd.md.methods.Langevin(filter=hoomd.filter.Tags(list(range(10))), kT=1.0)


def _two_methods(sim):
    sim.operations.integrator.methods[0] = hoomd.md.methods.Langevin(filter=hoomd.filter.Tags(list(range(10))), kT=1.0)
    sim.operations.integrator.methods.append(
        hoomd.md.methods.Langevin(filter=hoomd.filter.Tags(list(range(10, 64))), kT=1.0)
    )


def _bonded():
    """The script with one bond in the state and no bond force (HOOMD-blue's nlist excludes
    'bond' by default)."""
    sim, lj = _script("langevin", 3)
    snap = sim.state.get_snapshot()
    snap.bonds.types = ["b"]
    snap.bonds.N = 1
    snap.bonds.group[0] = [0, 1]
    integ = sim.operations.integrator
    sim.operations.integrator = None
    out = hoomd.Simulation(device=hoomd.device.CPU(), seed=7)
    out.create_state_from_snapshot(snap)
    out.operations.integrator = integ
    return out, lj


def _bonds(sim):
    assert sim.state.get_snapshot().bonds.N == 1 and "bond" in sim.operations.integrator.forces[0].nlist.exclusions


def _hook(sim):
    sim.operations.integrator.half_step_hook = _Push(sim)


def _cold(sim):
    sim.operations.integrator.methods[0].kT = 0.0


@pytest.mark.parametrize(
    "change,message,wrt",
    [
        (_subset, r"Langevin's filter Tags leaves out particle tags \[10, 11, 12, 13, 14\] ... \(54 of 64\)", "lj"),
        (_two_methods, r"the integrator has 2 methods \(Langevin, Langevin\)", "lj"),
        (_bonds, r"LJ's nlist has exclusions containing 'bond' and the state has 1 bonds", "lj"),
        (_hook, r"half_step_hook", "lj"),
        (_cold, r"wrt 'kT': Langevin has kT\(\d+\) = 0.0", "kT"),
    ],
)
@pytest.mark.parametrize("ran", [False, True])
def test_every_refusal_comes_before_hoomd_takes_a_step_or_writes_a_frame(tmp_path, change, message, wrt, ran):
    """The refusals of docs/hoomd.md, on a fresh script and on one that has already run: the
    timestep and the GSD file are as they were."""
    sim, lj = _bonded() if change is _bonds else _script("langevin", 3)
    path = _with_gsd(sim, tmp_path)
    if ran:
        sim.run(3)
    change(sim)
    for mode in ("reverse", "forward"):
        with pytest.raises(bridge.Unsupported, match=message):
            bridge.gradient(sim, 10, _loss, wrt=[lj if wrt == "lj" else wrt], mode=mode)
        if ran:
            sim.operations.writers[0].flush()
        assert sim.timestep == (3 if ran else 0) and _frames(path) == (3 if ran else None)


@pytest.mark.skipif(not COMPONENT, reason="hoomd.adjoint (the C++ component) is not installed")
@pytest.mark.parametrize("variant", ["truncated", "forward", "reverse"])
def test_hoomd_engine_design_equals_the_embedded_engine_over_iterations(tmp_path, variant):
    """Three RMSProp iterations (the parameters move away from the melt's after the first, which is
    where HOOMD-blue's cached forces made the engines part: loss 0.641 vs 0.651, and reverse and
    forward stopped with every replica failed) give the embedded engine's losses, gradients and
    parameters."""
    from hoomd_adjoint.apps.assembly import honeycomb as hc

    kw = dict(
        objective="assemble",
        steps=100,
        variant=variant,
        truncate=30,
        replicas=2,
        protocol=hc.Protocol(melt_steps=300, settle_steps=50),
    )
    ours = hc.Design(tmp_path / "embedded", **kw)
    ours.run(3, progress=False)
    theirs = hc.Design(tmp_path / "hoomd", engine="hoomd", **kw)
    theirs.run(3, progress=False)
    assert [h["iteration"] for h in theirs.history] == [0, 1, 2]
    for a, b in zip(ours.history, theirs.history):
        assert b["failures"] == 0 and a["failures"] == 0
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-9)
        assert np.allclose(b["grad"], a["grad"], rtol=1e-7, atol=1e-12), (b["grad"], a["grad"])
        assert np.allclose(b["params"], a["params"], rtol=1e-9)
    assert not np.allclose(theirs.history[2]["params"], hc.RECHTSMAN)
