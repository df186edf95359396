"""The adjoint through rigid-body dynamics (ConstantVolume, Langevin, Brownian; 2D and 3D):
gradients with respect to pair parameters, the bodies' geometry (body-frame constituent
positions), initial positions, orientations, velocities and angular momenta, against central
finite differences of the same discrete map at two step sizes; checkpointed sweeps equal stored
ones bit for bit."""

import gsd.hoomd
import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint.md.constrain import quat_mul
from test_rigid_bodies import _forces_and_method

GEOMETRY = np.array([(1.0, 0, 0), (-0.5, 0.8, 0.0), (-0.5, -0.8, 0.3)])
WEIGHTS = np.random.default_rng(9).normal(size=(9, 3))


def _system(method, dim, eps=1.0, geometry=GEOMETRY, dr=0.0, dq=0.0, dv=0.0, dp=0.0, dI=0.0, dgr=0.0, seed=3):
    """Two rigid trimers and a free particle in contact (LJ between all sites and the free one)."""
    rng = np.random.default_rng(seed)
    pos = np.array([[0.0, 0.0, 0.0], [2.2, 0.4, 0.3], [0.8, 2.0, -0.4]])
    q = rng.normal(size=(3, 4))
    q[2] = [1, 0, 0, 0]
    geometry = np.array(geometry, dtype=float)
    if dim == 2:
        pos[:, 2] = 0
        q[:, 1:3] = 0
        geometry[:, 2] = 0
    q[:2] /= np.linalg.norm(q[:2], axis=1, keepdims=True)
    v = rng.normal(size=(3, 3)) * 0.5
    L = rng.normal(size=(2, 3))
    if dim == 2:
        v[:, 2] = 0
        L[:, :2] = 0
    I = np.array([[1.2, 0.9, 0.7]] * 2 + [[0, 0, 0]]) if dim == 3 else np.array([[0, 0, 0.8]] * 2 + [[0, 0, 0]])
    p = np.zeros((3, 4))
    p[:2] = 2 * quat_mul(q[:2], np.c_[np.zeros(2), L])
    f = gsd.hoomd.Frame()
    f.configuration.box = [20, 20, 0 if dim == 2 else 20, 0, 0, 0]
    f.particles.N = 3
    f.particles.types = ["R", "A", "B"]
    f.particles.typeid = np.array([0, 0, 2], dtype=np.uint32)
    f.particles.position = pos + dr
    f.particles.orientation = q + dq
    f.particles.velocity = v + dv
    f.particles.angmom = p + dp
    f.particles.moment_inertia = I + dI
    f.particles.mass = np.array([3.0, 3.0, 1.0])
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=seed)
    sim.create_state_from_snapshot(f)
    rigid = ha.md.constrain.Rigid()
    rigid.body["R"] = dict(constituent_types=["A", "A", "B"], positions=geometry, orientations=[(1, 0, 0, 0)] * 3)
    rigid.create_bodies(sim.state)
    lj, m = _forces_and_method(ha, method, eps=eps, dgr=dgr)
    sim.operations.integrator = ha.md.Integrator(
        dt=0.002, methods=[m], forces=[lj], integrate_rotational_dof=True, rigid=rigid
    )
    return sim, lj, rigid


def _loss(frame):
    """Depends on every particle, constituents included: their adjoint reaches the bodies."""
    x = frame.positions
    return float(np.sum(WEIGHTS * x) + 0.5 * np.sum(x * x)), WEIGHTS + x


def _final_loss(method, dim, steps, **change):
    sim, _, _ = _system(method, dim, **change)
    sim.run(steps)
    return _loss(type("Frame", (), {"positions": np.array(sim.state._cpp.position)}))[0]


def _unit(shape, index):
    e = np.zeros(shape)
    e[index] = 1.0
    return e


@pytest.mark.parametrize("dim", [3, 2])
@pytest.mark.parametrize("method", ["nve", "langevin", "bd"])
def test_rigid_gradients_match_finite_differences(method, dim):
    steps = 60
    sim, lj, rigid = _system(method, dim)
    res = ha.adjoint.gradient(sim, steps, _loss, wrt=[lj, rigid, "positions", "moment_inertia", "gamma_r"])
    axis = 2 if dim == 2 else 0
    checks = {
        "moment of inertia": (res.grad("moment_inertia")[1, axis], dict(dI=_unit((3, 3), (1, axis)))),
        "epsilon": (sum(v["epsilon"] for v in res.grad(lj).values()), dict(eps=1.0)),
        "geometry[1, 1]": (res.grad(rigid)["R"][1, 1], dict(geometry=GEOMETRY + _unit((3, 3), (1, 1)))),
        "geometry[0, 0]": (res.grad(rigid)["R"][0, 0], dict(geometry=GEOMETRY + _unit((3, 3), (0, 0)))),
        "centre position": (res.positions[0, 0], dict(dr=_unit((3, 3), (0, 0)))),
        "free position": (res.positions[2, 1], dict(dr=_unit((3, 3), (2, 1)))),
        "orientation": (res.orientations[1, 3], dict(dq=_unit((3, 4), (1, 3)))),
    }
    if method != "nve":
        checks["gamma_r"] = (res.grad("gamma_r")["R"][2], dict(dgr=_unit(3, 2)))
    if method != "bd":
        checks["velocity"] = (res.velocities[0, 1], dict(dv=_unit((3, 3), (0, 1))))
        checks["angmom"] = (res.angmom[0, 3], dict(dp=_unit((3, 4), (0, 3))))
    assert not res.positions[3:].any() and not res.orientations[2:].any()  # constituents and the free particle
    for name, (adjoint, change) in checks.items():
        for h in (1e-5, 2e-6):
            if name == "epsilon":
                kw = dict(eps=1.0 + h), dict(eps=1.0 - h)
            else:
                ((key, d),) = change.items()
                base = GEOMETRY if key == "geometry" else 0.0
                kw = {key: base + h * (d - base)}, {key: base - h * (d - base)}
            fd = (_final_loss(method, dim, steps, **kw[0]) - _final_loss(method, dim, steps, **kw[1])) / (2 * h)
            # FD rounding: ~1e-16 |L| / h; the bound 1e-6 relative is the issue's
            assert abs(adjoint - fd) <= 1e-6 * abs(fd) + 3e-15 * 20 / h, (name, h, adjoint, fd)


@pytest.mark.parametrize("method", ["nve", "langevin", "bd"])
def test_rigid_checkpointed_gradient_is_bitwise_the_stored_one(method):
    out = []
    for memory in (None, 5 * 9 * 20 * 8):
        sim, lj, rigid = _system(method, 3)
        res = ha.adjoint.gradient(sim, 60, _loss, wrt=[lj, rigid, "positions"], memory=memory)
        out.append((res, sim, lj, rigid))
    (a, sa, la, ra), (b, sb, lb, rb) = out
    assert b.diagnostics["recomputed_steps"] > 0
    for x, y in [
        (a.positions, b.positions),
        (a.orientations, b.orientations),
        (a.grad(ra)["R"], b.grad(rb)["R"]),
        (np.array(sa.state._cpp.position), np.array(sb.state._cpp.position)),
        (np.array(sa.state._cpp.orientation), np.array(sb.state._cpp.orientation)),
    ]:
        assert np.array_equal(x, y)
    assert list(a.grad(la).values()) == list(b.grad(lb).values())
    # the simulation is left as sim.run(60) would leave it
    plain, _, _ = _system(method, 3)
    plain.run(60)
    for s in (sa, sb):  # (Brownian's angular momenta are drawn, not in its states: kept at the end)
        assert np.array_equal(np.array(plain.state._cpp.position), np.array(s.state._cpp.position))
        assert np.array_equal(np.array(plain.state._cpp.angmom), np.array(s.state._cpp.angmom))


def test_rigid_gradient_refuses_what_it_does_not_cover():
    sim, lj, rigid = _system("langevin", 3)
    with pytest.raises(ValueError, match="kT"):
        ha.adjoint.gradient(sim, 5, _loss, wrt=["kT"])
    with pytest.raises(ValueError, match="forward"):
        ha.adjoint.gradient(sim, 5, _loss, wrt=[lj], mode="forward")
    with pytest.raises(ValueError, match="rigid-body constraint"):
        ha.adjoint.gradient(sim, 5, _loss, wrt=[ha.md.constrain.Rigid()])
    assert sim.timestep == 0


TAU = {"Bussi": 0.05, "Berendsen": 0.1, "MTTK": 0.1}


def _thermostatted(name, dim, kT=1.3, tau=None, **change):
    """_system's bodies under ConstantVolume with a thermostat: its factors act on the velocities
    and on the angular momenta (rotational kinetic energy, MTTK's xi_rot)."""
    sim, lj, rigid = _system("nve", dim, **change)
    th = getattr(ha.md.methods.thermostats, name)(kT=kT, tau=TAU[name] if tau is None else tau)
    sim.operations.integrator.methods[0].thermostat = th
    return sim, lj, rigid


def _thermostatted_loss(name, dim, steps, **change):
    sim, _, _ = _thermostatted(name, dim, **change)
    sim.run(steps)
    return _loss(type("Frame", (), {"positions": np.array(sim.state._cpp.position)}))[0]


@pytest.mark.parametrize("dim", [3, 2])
@pytest.mark.parametrize("name", list(TAU))
def test_thermostats_with_rigid_bodies_match_finite_differences(name, dim):
    """kT, tau, epsilon, geometry, orientations, velocities and angular momenta through a thermostat's
    translational and rotational factors (Bussi's and Berendsen's of the kinetic energies at each
    step's start, MTTK's of xi and xi_rot)."""
    steps = 60
    sim, lj, rigid = _thermostatted(name, dim)
    res = ha.adjoint.gradient(sim, steps, _loss, wrt=[lj, rigid, "positions", "kT", "tau"])
    checks = {
        "kT": (res.grad("kT"), "kT", 1.3),
        "tau": (res.grad("tau"), "tau", TAU[name]),
        "epsilon": (sum(v["epsilon"] for v in res.grad(lj).values()), "eps", 1.0),
        "geometry[1, 1]": (res.grad(rigid)["R"][1, 1], "geometry", _unit((3, 3), (1, 1))),
        "orientation": (res.orientations[1, 3], "dq", _unit((3, 4), (1, 3))),
        "velocity": (res.velocities[0, 1], "dv", _unit((3, 3), (0, 1))),
        "angmom": (res.angmom[0, 3], "dp", _unit((3, 4), (0, 3))),
    }
    for what, (adjoint, key, d) in checks.items():
        assert adjoint != 0, what
        for h in (1e-5, 2e-6):
            if key in ("kT", "tau", "eps"):
                kw = {key: d + h}, {key: d - h}
            else:
                base = GEOMETRY if key == "geometry" else 0.0
                kw = {key: base + h * d}, {key: base - h * d}
            fd = (_thermostatted_loss(name, dim, steps, **kw[0]) - _thermostatted_loss(name, dim, steps, **kw[1])) / (
                2 * h
            )
            assert abs(adjoint - fd) <= 1e-6 * abs(fd) + 3e-15 * 20 / h, (what, h, adjoint, fd)


def test_mttk_with_rigid_bodies_checkpointed_is_the_stored_gradient():
    out = []
    for memory in (None, 5 * 9 * 20 * 8):
        sim, lj, rigid = _thermostatted("MTTK", 3)
        res = ha.adjoint.gradient(sim, 60, _loss, wrt=[lj, rigid, "positions", "kT", "tau"], memory=memory)
        out.append((res, res.grad(rigid)["R"]))
    (a, ga), (b, gb) = out
    assert b.diagnostics["recomputed_steps"] > 0
    assert (a.grad("kT"), a.grad("tau")) == (b.grad("kT"), b.grad("tau"))
    assert np.array_equal(a.orientations, b.orientations) and np.array_equal(ga, gb)
