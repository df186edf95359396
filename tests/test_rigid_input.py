"""Rigid-body input that HOOMD-blue 4.8.2 takes without a word and that cannot give a sound run:
negative moments of inertia (refused; zero still freezes an axis), orientations that are not unit
quaternions (refused: HOOMD places a body's sites at |q|^2 times their distance and turns q = 0
into NaN), and bodies whose sites overlap at the start (named, with the step, by the error the
run or the gradient stops with)."""

import gsd.hoomd
import numpy as np
import pytest

import hoomd_adjoint as ha


def _frame(orientation=((1, 0, 0, 0), (1, 0, 0, 0)), moments=((1.0, 1.0, 1.0),) * 2, sep=3.0):
    f = gsd.hoomd.Frame()
    f.configuration.box = [12, 12, 12, 0, 0, 0]
    f.particles.N = 2
    f.particles.types = ["R", "A"]
    f.particles.typeid = [0, 0]
    f.particles.position = [[-sep / 2, 0, 0], [sep / 2, 0, 0]]
    f.particles.orientation = np.asarray(orientation, dtype=np.float64)
    f.particles.moment_inertia = np.asarray(moments, dtype=np.float64)
    f.particles.mass = [2.0, 2.0]
    return f


def _dimers(frame, create=True):
    """Two rigid dimers (sites 0.5 from the centre) with LJ between sites, Langevin."""
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=3)
    sim.create_state_from_snapshot(frame)
    rigid = ha.md.constrain.Rigid()
    rigid.body["R"] = dict(constituent_types=["A", "A"], positions=[(0.5, 0, 0), (-0.5, 0, 0)])
    if create:
        rigid.create_bodies(sim.state)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4, exclusions=["body"]), default_r_cut=2.5)
    for p in [("R", "R"), ("R", "A"), ("A", "A")]:
        lj.params[p] = dict(epsilon=1.0, sigma=1.0)
    lj.r_cut[("R", "R")] = lj.r_cut[("R", "A")] = 0.0
    m = ha.md.methods.Langevin(filter=ha.filter.Rigid(("center", "free")), kT=1.0)
    m.gamma_r["R"] = (1.0, 1.0, 1.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.002, methods=[m], forces=[lj], integrate_rotational_dof=True, rigid=rigid
    )
    return sim, lj, rigid


def test_negative_moments_are_refused_and_zero_freezes_an_axis():
    # (HOOMD-blue takes I = (-1, 1, 1): the body heats without bound, |L| ~ 70 after 2000 steps)
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=3)
    with pytest.raises(
        ValueError,
        match=r"particle tag 1 has moment_inertia \[1.0, -0.5, 1.0\]; principal moments "
        r"must be >= 0 \(0 freezes the rotation about that axis",
    ):
        sim.create_state_from_snapshot(_frame(moments=[(1.0, 1.0, 1.0), (1.0, -0.5, 1.0)]))
    sim, _, _ = _dimers(_frame())
    before = sim.state.get_snapshot()
    with pytest.raises(ValueError, match=r"moment_inertia \[-2.0, 1.0, 1.0\]"):
        p = sim.state.get_snapshot()
        p.particles.moment_inertia[0] = [-2.0, 1.0, 1.0]
        sim.state.set_snapshot(p)
    np.testing.assert_array_equal(sim.state.get_snapshot().particles.moment_inertia, before.particles.moment_inertia)
    # the engine's own guard (arrays written behind the snapshot's back) names the centre
    sim.state._cpp.moment_inertia[1] = [1.0, 1.0, -3.0]
    with pytest.raises(ValueError, match=r"particle tag 1 \(a rigid body's centre\) has moment_inertia \(1, 1, -3\)"):
        sim.run(1)
    assert sim.timestep == 0
    # zero: that axis does not turn (HOOMD's meaning), and the run goes on
    sim, _, _ = _dimers(_frame(moments=[(0.0, 0.0, 1.0)] * 2))
    sim.run(200)
    L = np.asarray(sim.state._cpp.angmom)[:2]
    assert np.isfinite(L).all() and np.all(np.linalg.norm(L, axis=1) < 50)


@pytest.mark.parametrize("q", [(2.0, 0, 0, 0), (0.0, 0, 0, 0), (0.6, 0.6, 0.6, 0.6)])
def test_non_unit_orientations_are_refused_before_anything_moves(q):
    norm = np.linalg.norm(q)
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=3)
    sim.create_state_from_snapshot(_frame(orientation=[(1, 0, 0, 0), q]))
    rigid = ha.md.constrain.Rigid()
    rigid.body["R"] = dict(constituent_types=["A", "A"], positions=[(0.5, 0, 0), (-0.5, 0, 0)])
    # create_bodies would place the sites at |q|^2 times their distance, as HOOMD-blue does
    with pytest.raises(
        ValueError,
        match=rf"create_bodies: central particle tag 1 has orientation .* of norm "
        rf"{norm:.6g}: orientations must be unit quaternions",
    ):
        rigid.create_bodies(sim.state)
    assert sim.state.N_particles == 2  # nothing was added
    # a state whose centre turned non-unit after create_bodies: the run refuses, at step 0
    sim, _, _ = _dimers(_frame())
    snap = sim.state.get_snapshot()
    snap.particles.orientation[1] = q
    sim.state.set_snapshot(snap)
    pos = np.array(sim.state._cpp.position)
    with pytest.raises(ValueError, match=r"particle tag 1 \(a rigid body's centre\) has orientation .* of norm "):
        sim.run(5)
    assert sim.timestep == 0
    np.testing.assert_array_equal(np.asarray(sim.state._cpp.position), pos)


def test_orientations_within_the_tolerance_pass():
    # float32 frames (~1e-7 off) and finite-difference steps (1e-5) are within 1e-3 of unit norm
    q = np.array([0.3, -0.5, 0.7, 0.4])
    q /= np.linalg.norm(q)
    for qq in (q.astype(np.float32).astype(np.float64), q + [0, 0, 0, 1e-5]):
        sim, _, _ = _dimers(_frame(orientation=[(1, 0, 0, 0), qq]))
        sim.run(10)
        assert np.isfinite(np.asarray(sim.state._cpp.position)).all()


def test_zero_orientation_of_a_rotating_free_particle_is_refused():
    # HOOMD-blue normalises every integrated orientation at each rotational step: q = 0 -> NaN
    f = _frame(orientation=[(1, 0, 0, 0), (0, 0, 0, 0)])
    f.particles.types = ["A"]
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=3)
    sim.create_state_from_snapshot(f)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.002, methods=[ha.md.methods.Langevin(ha.filter.All(), kT=1.0)], forces=[lj], integrate_rotational_dof=True
    )
    with pytest.raises(ValueError, match=r"particle tag 1 has orientation \(0, 0, 0, 0\) of norm 0"):
        sim.run(1)
    # without rotational integration orientations are not used, and not checked
    sim.operations.integrator.integrate_rotational_dof = False
    sim.run(1)


def test_overlapping_bodies_at_the_start_are_named_by_the_failure():
    # sites 0.2 apart at step 0 (centres 1.2 apart): the first step throws the bodies out of the box
    sim, _, _ = _dimers(_frame(sep=1.2))
    with pytest.raises(
        RuntimeError,
        match=r"particle tag 0 at .* is outside the box at step 1 .* At step 0 particle "
        r"tags 2 \(a site of body 0\) and 5 \(a site of body 1\) were 0.2 apart, at "
        r"\(-0.1, 0, 0\) and \(0.1, 0, 0\): 0.2 of their contact distance 1 "
        r"\(LJ sigma for \(A, A\)\)",
    ):
        sim.run(10)


def _pinned_overlap():
    """A free particle squeezed between two sites 0.4 from it, on heavy (slow) bodies, at kT = 0:
    the forces on it cancel, so the run goes on, but the adjoint grows by ~1 + dt k / gamma per
    step (k ~ 1e6 at r = 0.4 sigma) -- a gradient of 1e241 before this check."""
    f = gsd.hoomd.Frame()
    f.configuration.box = [12, 12, 12, 0, 0, 0]
    f.particles.N = 3
    f.particles.types = ["R", "A", "F"]
    f.particles.typeid = [0, 0, 2]
    f.particles.position = [[-1.0, 0, 0], [1.0, 0, 0], [0, 0, 0]]
    f.particles.orientation = [[1, 0, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]  # body 1 turned half round z
    f.particles.moment_inertia = [[1, 1, 1], [1, 1, 1], [0, 0, 0]]
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=3)
    sim.create_state_from_snapshot(f)
    rigid = ha.md.constrain.Rigid()
    rigid.body["R"] = dict(constituent_types=["A"], positions=[(0.6, 0, 0)])
    rigid.create_bodies(sim.state)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4, exclusions=["body"]), default_r_cut=2.5)
    for a, b in [("R", "R"), ("R", "A"), ("A", "A"), ("R", "F"), ("A", "F"), ("F", "F")]:
        lj.params[(a, b)] = dict(epsilon=1.0, sigma=1.0)
        if "R" in (a, b):
            lj.r_cut[(a, b)] = 0.0
    m = ha.md.methods.Brownian(
        filter=ha.filter.Rigid(("center", "free")), kT=0.0, default_gamma=1.0, default_gamma_r=(1.0, 1.0, 1.0)
    )
    m.gamma["R"] = 1e4
    m.gamma_r["R"] = (1e4, 1e4, 1e4)
    sim.operations.integrator = ha.md.Integrator(
        dt=1e-4, methods=[m], forces=[lj], integrate_rotational_dof=True, rigid=rigid
    )
    return sim, lj


def test_a_gradient_through_overlapping_sites_stops_naming_the_step_and_the_pair():
    sim, lj = _pinned_overlap()

    def loss(frame):
        g = np.zeros_like(frame.positions)
        g[2, 1] = 1.0
        return float(frame.positions[2, 1]), g

    with pytest.raises(FloatingPointError) as e:
        ha.adjoint.gradient(sim, 100, loss, wrt=[lj, "positions"])
    msg = str(e.value)
    assert msg.startswith("overflowing adjoint at step ")
    assert "beyond 1e+150" in msg and "Its norm was " in msg and "truncate=" in msg
    assert (
        "particle tags 2 and 3 (a site of body 0) were" in msg or "particle tags 2 and 4 (a site of body 1) were" in msg
    )
    # the forward run itself is sound: the same steps without the adjoint stay in the box
    sim2, _ = _pinned_overlap()
    sim2.run(100)
    assert np.isfinite(np.asarray(sim2.state._cpp.position)).all()
