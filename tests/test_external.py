"""md.external.field.Electric: HOOMD-blue 4.8.2's forces, energies and virials and its trajectory
(where HOOMD-blue is importable), and the field's gradient against central differences."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import make_frame, random_positions

FIELDS = {"A": (0.3, -0.2, 0.5), "B": (-0.4, 0.1, 0.0)}


def frame_for(dim, seed=12, N=60):
    rng = np.random.default_rng(seed)
    box = [12, 12, 0, 0.1, 0, 0] if dim == 2 else [8, 8.5, 9, 0.1, 0.05, -0.1]
    vel = rng.normal(0, 1, (N, 3))
    if dim == 2:
        vel[:, 2] = 0
    frame = make_frame(
        random_positions(rng, N, box, min_dist=1.0), box, typeid=rng.integers(0, 2, N), types=("A", "B"), velocity=vel
    )
    frame.particles.charge = rng.uniform(-1.5, 1.5, N)
    return frame


def build(lib, frame, dim, fields=FIELDS, method="langevin"):
    sim = lib.Simulation(device=lib.device.CPU(), seed=4)
    if lib.__name__ == "hoomd":
        sim.create_state_from_snapshot(lib.Snapshot.from_gsd_frame(frame, sim.device.communicator))
    else:
        sim.create_state_from_snapshot(frame)
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
