"""Rigid-body definitions and create_bodies in HOOMD-blue 4.8.2's convention (ForceComposite):
constituent order, body tags, placement r_b + rotate(q_b, d_k), orientations q_b (x) q_k,
wrapping with the centre's image carried, filters, refused definitions; and the NO_SQUISH
rotational steps against a transcription of HOOMD's TwoStepConstantVolume."""

import math

import gsd.hoomd
import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint.md.constrain import quat_mul, rotate


def _sim(positions, typeid, orientation, L=10.0):
    f = gsd.hoomd.Frame()
    f.configuration.box = [L, L, L, 0, 0, 0]
    f.particles.N = len(positions)
    f.particles.types = ["R", "A", "B"]
    f.particles.typeid = np.asarray(typeid, dtype=np.uint32)
    f.particles.position = np.asarray(positions, dtype=np.float64)
    f.particles.orientation = np.asarray(orientation, dtype=np.float64)
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=1)
    sim.create_state_from_snapshot(f)
    return sim


def test_quaternion_helpers_are_hoomds():
    rng = np.random.default_rng(0)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    v = rng.normal(size=3)
    # rotate(q, v) is the vector part of q (x) (0, v) (x) conj(q), and keeps lengths for unit q
    ref = quat_mul(quat_mul(q, np.r_[0.0, v]), q * [1, -1, -1, -1])
    assert np.allclose(rotate(q, v), ref[1:], atol=1e-14) and abs(ref[0]) < 1e-14
    assert np.linalg.norm(rotate(q, v)) == pytest.approx(np.linalg.norm(v), rel=1e-14)
    assert np.allclose(rotate(2 * q, v), 4 * rotate(q, v))  # not normalised, as in HOOMD


def test_create_bodies_places_orders_and_wraps_constituents():
    half = np.sqrt(0.5)
    q1 = np.array([half, 0.0, 0.0, half])  # 90 degrees about z
    sim = _sim([[4.5, 0.0, 0.0], [0.0, 1.0, 0.0], [-2.0, 0.0, 0.0]], [0, 1, 0], [q1, [1, 0, 0, 0], [1, 0, 0, 0]])
    rigid = ha.md.constrain.Rigid()
    rigid.body["R"] = dict(
        constituent_types=["A", "B"],
        positions=[(1.0, 0.0, 0.0), (0.0, 0.0, 0.8)],
        orientations=[(1, 0, 0, 0), (half, half, 0, 0)],
    )
    rigid.create_bodies(sim.state, charges={"R": [0.5, -0.5]})
    p = sim.state.get_snapshot().particles
    assert p.N == 7
    # centres keep their tags (body = tag), the free particle gets -1; constituents follow, by
    # centre tag, then by constituent index
    assert p.body.tolist() == [0, -1, 2, 0, 0, 2, 2]
    assert p.typeid.tolist() == [0, 1, 0, 1, 2, 1, 2]
    assert p.charge[3:].tolist() == [0.5, -0.5, 0.5, -0.5]
    # rotating (1, 0, 0) by 90 degrees about z gives (0, 1, 0)
    np.testing.assert_allclose(p.position[3], [4.5, 1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(p.position[4], [4.5, 0.0, 0.8], atol=1e-15)
    np.testing.assert_allclose(p.position[5], [-1.0, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(p.orientation[4], quat_mul(q1, [half, half, 0, 0]), atol=1e-15)
    # a constituent that lands outside the box is wrapped in, and its image records it
    sim2 = _sim([[4.5, 0.0, 0.0]], [0], [[1, 0, 0, 0]])
    rigid.create_bodies(sim2.state)
    p2 = sim2.state.get_snapshot().particles
    np.testing.assert_allclose(p2.position[1], [-4.5, 0.0, 0.0], atol=1e-14)
    assert p2.image[1].tolist() == [1, 0, 0] and p2.image[0].tolist() == [0, 0, 0]
    # filters by role
    assert ha.filter.Rigid(("center",))(sim.state).tolist() == [0, 2]
    assert ha.filter.Rigid(("center", "free"))(sim.state).tolist() == [0, 1, 2]
    assert ha.filter.Rigid("constituent")(sim.state).tolist() == [3, 4, 5, 6]
    # calling it again makes the constituents again rather than adding more
    rigid.create_bodies(sim.state)
    assert sim.state.get_snapshot().particles.N == 7


def test_bad_body_definitions_are_refused():
    rigid = ha.md.constrain.Rigid()
    with pytest.raises(ValueError, match="unequal length"):
        rigid.body["R"] = dict(constituent_types=["A", "B"], positions=[(1.0, 0, 0)])
    with pytest.raises(TypeError, match="list of type names"):
        rigid.body["R"] = dict(constituent_types="AB", positions=[(1.0, 0, 0)])
    with pytest.raises(ValueError, match="not finite"):
        rigid.body["R"] = dict(constituent_types=["A"], positions=[(np.nan, 0, 0)])
    assert rigid.body["R"] is None  # nothing was stored
    sim = _sim([[0.0, 0.0, 0.0]], [0], [[1, 0, 0, 0]])
    rigid.body["R"] = dict(constituent_types=["C"], positions=[(1.0, 0, 0)])
    with pytest.raises(ValueError, match="constituent type 'C'"):
        rigid.create_bodies(sim.state)
    rigid.body["R"] = dict(constituent_types=["R"], positions=[(1.0, 0, 0)])
    with pytest.raises(ValueError, match="nested"):
        rigid.create_bodies(sim.state)
    assert sim.state.N_particles == 1  # a refused call changes nothing
    with pytest.raises(ValueError, match="flags"):
        ha.filter.Rigid(("centre",))


def _forces_and_method(mod, method, eps=1.0, dgr=0.0):
    """LJ between all sites and free particles (not the centres) and one method over centres and
    free particles (``dgr`` added to the trimers' gamma_r), for ``mod = hoomd`` or ``ha``."""
    lj = mod.md.pair.LJ(nlist=mod.md.nlist.Cell(buffer=0.4, exclusions=["body"]), default_r_cut=2.5)
    for a in ["R", "A", "B"]:
        for b in ["R", "A", "B"]:
            lj.params[(a, b)] = dict(epsilon=eps, sigma=1.0)
    for b in ["R", "A", "B"]:
        lj.r_cut[("R", b)] = 0.0
    flt = mod.filter.Rigid(("center", "free"))
    if method == "nve":
        m = mod.md.methods.ConstantVolume(filter=flt)
    elif method == "langevin":
        m = mod.md.methods.Langevin(filter=flt, kT=1.0)
        m.gamma_r["R"] = tuple(float(x) for x in np.array([0.8, 1.1, 0.5]) + dgr)
    else:
        m = mod.md.methods.Brownian(filter=flt, kT=1.0, default_gamma=4.0, default_gamma_r=(4.0, 4.0, 4.0))
        m.gamma_r["R"] = tuple(float(x) for x in np.array([3.0, 4.0, 2.0]) + dgr)
    return lj, m


def _rigid_system(mod, method, dim=3, seed=5, n_bodies=4, n_free=3, device=None):
    """Rigid trimers (one off-plane site in 3D) and free particles with LJ between all sites, built
    the same way with HOOMD-blue (``mod = hoomd``) or this package (``mod = ha``; ``device``: its
    device, default one CPU thread)."""
    rng = np.random.default_rng(seed)
    L = 7.0 if dim == 3 else 10.0
    N = n_bodies + n_free
    pos = []
    while len(pos) < N:
        x = rng.uniform(-L / 2 + 0.5, L / 2 - 0.5, 3)
        if dim == 2:
            x[2] = 0
        if all(np.linalg.norm(x - y) > (2.6 if dim == 3 else 3.3) for y in pos):
            pos.append(x)
    q = rng.normal(size=(N, 4))
    if dim == 2:
        q[:, 1:3] = 0
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[n_bodies:] = [1, 0, 0, 0]
    vel = rng.normal(size=(N, 3)) * 0.5
    if dim == 2:
        vel[:, 2] = 0
    I = np.zeros((N, 3))
    I[:n_bodies] = [1.2, 0.9, 0.7] if dim == 3 else [0, 0, 0.8]
    mass = np.ones(N)
    mass[:n_bodies] = 3.0
    snap = mod.Snapshot() if mod is not ha else gsd.hoomd.Frame()
    snap.configuration.box = [L, L, 0 if dim == 2 else L, 0, 0, 0]
    snap.particles.N = N
    snap.particles.types = ["R", "A", "B"]
    fields = dict(
        typeid=np.array([0] * n_bodies + [2] * n_free, dtype=np.uint32),
        position=np.array(pos),
        orientation=q,
        moment_inertia=I,
        mass=mass,
        velocity=vel,
    )
    for k, v in fields.items():
        if mod is ha:
            setattr(snap.particles, k, v)
        else:
            getattr(snap.particles, k)[:] = v
    if device is None:
        device = mod.device.CPU() if mod is not ha else ha.device.CPU(num_cpu_threads=1)
    sim = mod.Simulation(device=device, seed=seed)
    sim.create_state_from_snapshot(snap)
    rigid = mod.md.constrain.Rigid()
    rigid.body["R"] = dict(
        constituent_types=["A", "A", "B"],
        positions=[(1.0, 0, 0), (-0.5, 0.8, 0.0), (-0.5, -0.8, 0.3 if dim == 3 else 0.0)],
        orientations=[(1, 0, 0, 0)] * 3,
    )
    rigid.create_bodies(sim.state)
    lj, m = _forces_and_method(mod, method)
    sim.operations.integrator = mod.md.Integrator(
        dt=0.002, methods=[m], forces=[lj], integrate_rotational_dof=True, rigid=rigid
    )
    return sim, lj


@pytest.mark.parametrize("dim", [3, 2])
@pytest.mark.parametrize("method", ["nve", "langevin", "bd"])
def test_rigid_bodies_follow_hoomd(method, dim):
    """Rigid trimers and free particles, 300 steps, against HOOMD-blue itself (skipped where it is
    not importable): without interactions the trajectories are bitwise HOOMD's; with them they
    differ only by the order of force sums (seen: <= 5e-14 after 300 steps)."""
    hoomd = pytest.importorskip("hoomd")
    ref, _ = _rigid_system(hoomd, method, dim)
    ours, _ = _rigid_system(ha, method, dim)
    ref.run(300)
    ours.run(300)
    a, b = ref.state.get_snapshot().particles, ours.state.get_snapshot().particles
    for name in ("position", "orientation", "angmom"):
        np.testing.assert_allclose(
            np.asarray(getattr(b, name)), np.asarray(getattr(a, name)), rtol=0, atol=1e-12, err_msg=name
        )
    # 4.8.2 adds one to image.z per wrap in 2D; we do not (hoomd-blue#2071)
    assert np.array_equal(np.asarray(a.image)[:, :dim], np.asarray(b.image)[:, :dim])
    if method != "bd":
        np.testing.assert_allclose(np.asarray(b.velocity), np.asarray(a.velocity), rtol=0, atol=1e-12)


def test_constituents_follow_their_body_and_forces_move_to_the_centre():
    sim, lj = _rigid_system(ha, "nve")
    sim.run(50)
    c = sim.state._cpp
    body = np.asarray(c.body)
    pos, q = np.asarray(c.position), np.asarray(c.orientation)
    img = np.asarray(c.image)
    L = sim.state.box.Lx
    d = np.array([(1.0, 0, 0), (-0.5, 0.8, 0.0), (-0.5, -0.8, 0.3)])
    for b in np.flatnonzero(body == np.arange(body.size)):
        sites = np.flatnonzero((body == b) & (np.arange(body.size) != b))
        unwrapped = pos[sites] + L * img[sites] - (pos[b] + L * img[b])
        np.testing.assert_allclose(unwrapped, rotate(q[b], d), atol=1e-12)
    # pairs within one body are excluded from the neighbour list
    pairs = lj.nlist._cpp.pairs()
    assert len(pairs) and all(body[i] < 0 or body[i] != body[j] for i, j in pairs)
    # net force and torque on a centre: its own force plus the sum over its sites of f and u x f
    site_force = np.asarray(lj._cpp.forces)
    c.compute_net_force()
    F, T = np.asarray(c.net_force), np.asarray(c.net_torque)
    for b in np.flatnonzero(body == np.arange(body.size)):
        sites = np.flatnonzero((body == b) & (np.arange(body.size) != b))
        np.testing.assert_allclose(F[b], site_force[b] + site_force[sites].sum(axis=0), atol=1e-12)
        np.testing.assert_allclose(T[b], np.cross(rotate(q[b], d), site_force[sites]).sum(axis=0), atol=1e-12)
        assert not F[sites].any() and not T[sites].any()
    # NVE: total momentum is conserved (sites carry no momentum of their own)
    m, v = np.asarray(c.mass), np.asarray(sim.state.get_snapshot().particles.velocity)
    p0 = (m[:, None] * v)[body < 0].sum(axis=0) + (m[:, None] * v)[body == np.arange(body.size)].sum(axis=0)
    sim.run(200)
    v = np.asarray(sim.state.get_snapshot().particles.velocity)
    p1 = (m[:, None] * v)[body < 0].sum(axis=0) + (m[:, None] * v)[body == np.arange(body.size)].sum(axis=0)
    np.testing.assert_allclose(p1, p0, atol=1e-11)


def test_rigid_set_ups_that_cannot_run_are_refused():
    sim, lj = _rigid_system(ha, "nve")
    integ = sim.operations.integrator
    integ.methods[0].filter = ha.filter.All()
    with pytest.raises(ValueError, match="constituent"):
        sim.run(1)
    integ.methods[0].filter = ha.filter.Rigid(("center", "free"))
    rigid, integ.rigid = integ.rigid, None
    with pytest.raises(ValueError, match="no rigid"):
        sim.run(1)
    integ.rigid = rigid
    lj.nlist.exclusions = ["bond"]
    with pytest.warns(UserWarning, match="body exclusion"):
        sim.run(1)
    with pytest.raises(TypeError, match="Rigid"):
        integ.rigid = "rigid"


def _no_squish_reference(q, p, tau, I, dt, part):
    """HOOMD 4.8.2's TwoStepConstantVolume rotational update, transcribed (plain Python floats)."""

    def mul(a, b):
        return [
            a[0] * b[0] - (a[1] * b[1] + a[2] * b[2] + a[3] * b[3]),
            a[0] * b[1] + b[0] * a[1] + (a[2] * b[3] - a[3] * b[2]),
            a[0] * b[2] + b[0] * a[2] + (a[3] * b[1] - a[1] * b[3]),
            a[0] * b[3] + b[0] * a[3] + (a[1] * b[2] - a[2] * b[1]),
        ]

    def rot(qq, b):
        a = qq[0] * qq[0] - (qq[1] * qq[1] + qq[2] * qq[2] + qq[3] * qq[3])
        c, d = 2.0 * qq[0], 2.0 * (qq[1] * b[0] + qq[2] * b[1] + qq[3] * b[2])
        cr = [qq[2] * b[2] - qq[3] * b[1], qq[3] * b[0] - qq[1] * b[2], qq[1] * b[1] - qq[2] * b[0]]
        return [a * b[k] + c * cr[k] + d * qq[1 + k] for k in range(3)]

    def perm(k, a):
        return {1: [-a[1], a[0], a[3], -a[2]], 2: [-a[2], -a[3], a[0], a[1]], 3: [-a[3], a[2], -a[1], a[0]]}[k]

    q, p = list(map(float, q)), list(map(float, p))
    tb = rot([q[0], -q[1], -q[2], -q[3]], list(map(float, tau)))
    tb = [0.0 if I[k] == 0 else tb[k] for k in range(3)]
    kick = mul([dt * x for x in q], [0.0] + tb)
    p = [p[k] + kick[k] for k in range(4)]
    if part == 2:
        return q, p
    for k in (3, 2, 1, 2, 3):
        if I[k - 1] == 0:
            continue
        h = dt if k == 1 else 0.5 * dt
        qk = perm(k, q)
        phi = (0.25 / I[k - 1]) * (p[0] * qk[0] + (p[1] * qk[1] + p[2] * qk[2] + p[3] * qk[3]))
        c, s = math.cos(h * phi), math.sin(h * phi)  # libm, as the C++ (numpy may use SIMD kernels)
        pk = perm(k, p)
        p = [c * p[j] + s * pk[j] for j in range(4)]
        q = [c * q[j] + s * qk[j] for j in range(4)]
    inv = 1.0 / math.sqrt(q[0] * q[0] + (q[1] * q[1] + q[2] * q[2] + q[3] * q[3]))
    return [inv * x for x in q], p


def test_rotation_steps_are_hoomds_no_squish_and_conserve_angular_momentum():
    from hoomd_adjoint import _core

    rng = np.random.default_rng(7)
    M = 8
    q = rng.normal(size=(M, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    L = rng.normal(size=(M, 3))
    I = rng.uniform(0.5, 2.0, size=(M, 3))
    I[0, 0] = I[1, :2] = 0.0  # frozen axes are masked and skipped
    p = 2 * quat_mul(q, np.c_[np.zeros(M), L])
    tau = rng.normal(size=(M, 3))
    for part in (1, 2):
        qc, pc = _core._testing.rotation_step(q, p, tau, I, 0.01, part)
        for m in range(M):
            qr, pr = _no_squish_reference(q[m], p[m], tau[m], I[m], 0.01, part)
            assert np.array_equal(qc[m], qr) and np.array_equal(pc[m], pr)  # the same rounding
    # torque-free: every sub-step is an exact free rotation, so the box-frame angular momentum
    # rotate(q, L_body) is conserved to rounding, and |q| stays 1
    q0, p0 = q[2:], p[2:]
    lab0 = rotate(q0, quat_mul(0.5 * (q0 * [1, -1, -1, -1]), p0)[:, 1:])
    qq, pp = q0.copy(), p0.copy()
    zero = np.zeros((M - 2, 3))
    for _ in range(2000):
        qq, pp = _core._testing.rotation_step(qq, pp, zero, I[2:], 0.005, 1)
        qq, pp = _core._testing.rotation_step(qq, pp, zero, I[2:], 0.005, 2)
    lab = rotate(qq, quat_mul(0.5 * (qq * [1, -1, -1, -1]), pp)[:, 1:])
    assert np.abs(lab - lab0).max() < 1e-11 * np.abs(lab0).max()
    assert np.allclose(np.linalg.norm(qq, axis=1), 1.0, atol=1e-14)
    with pytest.raises(ValueError, match="part"):
        _core._testing.rotation_step(q, p, tau, I, 0.01, 3)


def test_free_rotation_is_bitwise_hoomds():
    """Against HOOMD-blue itself (skipped where it is not importable): ConstantVolume with
    integrate_rotational_dof, no torques, one frozen axis, 200 steps."""
    hoomd = pytest.importorskip("hoomd")
    from hoomd_adjoint import _core

    rng = np.random.default_rng(3)
    N = 4
    f = hoomd.Snapshot()
    f.particles.N = N
    f.configuration.box = [20, 20, 20, 0, 0, 0]
    f.particles.types = ["A"]
    f.particles.position[:] = rng.uniform(-5, 5, (N, 3))
    q = rng.normal(size=(N, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    I = rng.uniform(0.5, 2, (N, 3))
    I[1, 0] = 0.0
    p = 2 * quat_mul(q, np.c_[np.zeros(N), rng.normal(size=(N, 3))])
    f.particles.orientation[:] = q
    f.particles.moment_inertia[:] = I
    f.particles.angmom[:] = p
    sim = hoomd.Simulation(device=hoomd.device.CPU(), seed=1)
    sim.create_state_from_snapshot(f)
    sim.operations.integrator = hoomd.md.Integrator(
        dt=0.005, methods=[hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All())], integrate_rotational_dof=True
    )
    sim.run(200)
    ref = sim.state.get_snapshot().particles
    zero = np.zeros((N, 3))
    for _ in range(200):
        q, p = _core._testing.rotation_step(q, p, zero, I, 0.005, 1)
        q, p = _core._testing.rotation_step(q, p, zero, I, 0.005, 2)
    assert np.array_equal(ref.orientation, q) and np.array_equal(ref.angmom, p)
