"""md.external.field.Electric: HOOMD-blue 4.8.2's forces, energies and virials and its trajectory
(where HOOMD-blue is importable), and the field's gradient against central differences."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import sim_from_frame, two_type_gas

FIELDS = {"A": (0.3, -0.2, 0.5), "B": (-0.4, 0.1, 0.0)}


def frame_for(dim, seed=12, N=60):
    rng = np.random.default_rng(seed)
    frame = two_type_gas(rng, N, [12, 12, 0, 0.1, 0, 0] if dim == 2 else [8, 8.5, 9, 0.1, 0.05, -0.1])
    frame.particles.charge = rng.uniform(-1.5, 1.5, N)
    return frame


def build(lib, frame, dim, fields=FIELDS, method="langevin"):
    sim = sim_from_frame(lib, frame, 4)
    lj = lib.md.pair.LJ(nlist=lib.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=1.0, sigma=1.0)
    field = lib.md.external.field.Electric()
    for t, E in fields.items():
        field.E[t] = tuple(E[:2]) + (0.0,) if dim == 2 else E
    m = (
        lib.md.methods.Langevin(filter=lib.filter.All(), kT=1.0)
        if method == "langevin"
        else lib.md.methods.ConstantVolume(filter=lib.filter.All())
    )
    sim.operations.integrator = lib.md.Integrator(dt=0.004, methods=[m], forces=[lj, field])
    return sim, field


@pytest.mark.parametrize("dim", [2, 3])
def test_same_as_hoomd(dim):
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_for(dim)
    out = {}
    for lib in (ha, hoomd):
        sim, field = build(lib, frame, dim)
        if lib is hoomd:
            sim.always_compute_pressure = True
        sim.run(0)
        first = (np.asarray(field.forces), np.asarray(field.energies), np.asarray(field.virials))
        sim.run(200)
        out[lib.__name__] = first + (np.asarray(sim.state.get_snapshot().particles.position),)
    a, b = out["hoomd_adjoint"], out["hoomd"]
    np.testing.assert_array_equal(a[0], b[0])  # q E: the same bits
    np.testing.assert_allclose(a[1], b[1], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(a[3], b[3], rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["langevin", "nve"])
def test_gradient_matches_finite_differences(method):
    dim = 3
    W = np.random.default_rng(5).normal(size=(60, 3))

    def loss(f):
        return float(np.sum(W * f.positions)), W

    def value(fields):
        sim, _ = build(ha, frame_for(dim), dim, fields, method)
        sim.run(40)
        return loss(ha.adjoint._frame(sim))[0]

    sim, field = build(ha, frame_for(dim), dim, FIELDS, method)
    g = ha.adjoint.gradient(sim, 40, loss, [field]).grad(field)
    assert set(g) == {"A", "B"} and all(set(v) == {"Ex", "Ey", "Ez"} for v in g.values())
    for t in ("A", "B"):
        for c, name in enumerate(("Ex", "Ey", "Ez")):
            for h in (1e-5, 2e-6):
                up = {k: tuple(v[j] + (h if (k, j) == (t, c) else 0) for j in range(3)) for k, v in FIELDS.items()}
                dn = {k: tuple(v[j] - (h if (k, j) == (t, c) else 0) for j in range(3)) for k, v in FIELDS.items()}
                fd = (value(up) - value(dn)) / (2 * h)
                assert abs(fd - g[t][name]) < 1e-6 * abs(fd) + 1e-13 / h, (t, name, h, fd, g[t][name])


def test_refusals():
    field = ha.md.external.field.Electric()
    with pytest.raises(ValueError, match=r"Electric.E\['A'\] must be three numbers"):
        field.E["A"] = (1.0, 2.0)
    with pytest.raises(ValueError, match="must be finite"):
        field.E["A"] = (1.0, float("nan"), 0.0)
    sim, field = build(ha, frame_for(3), 3)
    with pytest.raises(ValueError, match="mode='forward' does not differentiate external fields yet"):
        ha.adjoint.gradient(sim, 5, lambda f: (0.0, np.zeros_like(f.positions)), [field], mode="forward")


PERIODIC = {"A": dict(A=1.5, i=0, w=0.3, p=2), "B": dict(A=-0.8, i=2, w=0.5, p=1)}


def build_periodic(lib, frame, params=PERIODIC, method="langevin"):
    sim = sim_from_frame(lib, frame, 4)
    lj = lib.md.pair.LJ(nlist=lib.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=1.0, sigma=1.0)
    field = lib.md.external.field.Periodic()
    for t, p in params.items():
        field.params[t] = p
    m = (
        lib.md.methods.Langevin(filter=lib.filter.All(), kT=1.0)
        if method == "langevin"
        else lib.md.methods.ConstantVolume(filter=lib.filter.All())
    )
    sim.operations.integrator = lib.md.Integrator(dt=0.004, methods=[m], forces=[lj, field])
    return sim, field


def test_periodic_same_as_hoomd():
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_for(3)
    out = {}
    for lib in (ha, hoomd):
        sim, field = build_periodic(lib, frame)
        sim.run(0)
        first = (np.asarray(field.forces), np.asarray(field.energies))
        sim.run(200)
        out[lib.__name__] = first + (np.asarray(sim.state.get_snapshot().particles.position),)
    a, b = out["hoomd_adjoint"], out["hoomd"]
    assert np.abs(b[0]).max() > 0.1
    np.testing.assert_allclose(a[0], b[0], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(a[2], b[2], rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["langevin", "nve"])
def test_periodic_gradient_matches_finite_differences(method):
    W = np.random.default_rng(6).normal(size=(60, 3))

    def loss(f):
        return float(np.sum(W * f.positions)), W

    def run(params, pos=None):
        fr = frame_for(3)
        if pos is not None:
            fr.particles.position = pos
        sim, _ = build_periodic(ha, fr, params, method)
        sim.run(40)
        return loss(ha.adjoint._frame(sim))[0]

    sim, field = build_periodic(ha, frame_for(3), PERIODIC, method)
    res = ha.adjoint.gradient(sim, 40, loss, [field, "positions"])
    g = res.grad(field)
    for t in ("A", "B"):
        for name in ("A", "w"):
            assert g[t][name] != 0
            for h in (1e-5, 2e-6):
                up = {k: dict(v, **({name: v[name] + h} if k == t else {})) for k, v in PERIODIC.items()}
                dn = {k: dict(v, **({name: v[name] - h} if k == t else {})) for k, v in PERIODIC.items()}
                fd = (run(up) - run(dn)) / (2 * h)
                assert abs(fd - g[t][name]) < 1e-6 * abs(fd) + 1e-13 / h, (t, name, h, fd, g[t][name])
    v = np.random.default_rng(2).normal(size=(60, 3))
    p0 = np.asarray(frame_for(3).particles.position, dtype=float)
    ad = float(np.sum(res.positions * v))
    for h in (1e-6, 2e-7):  # through the Jacobian of the field's force
        fd = (run(PERIODIC, p0 + h * v) - run(PERIODIC, p0 - h * v)) / (2 * h)
        assert abs(fd - ad) < 1e-6 * abs(ad) + 1e-13 / h, (h, fd, ad)


def test_periodic_refusals():
    field = ha.md.external.field.Periodic()
    with pytest.raises(ValueError, match=r"Periodic.params\['A'\]\['i'\] must be 0, 1 or 2"):
        field.params["A"] = dict(A=1.0, i=3, w=0.1, p=1)
    with pytest.raises(ValueError, match=r"\['w'\] must be > 0"):
        field.params["A"] = dict(A=1.0, i=0, w=0.0, p=1)
    with pytest.raises(ValueError, match="needs a 3D box"):
        sim, _ = build_periodic(ha, frame_for(2))
        sim.run(1)
