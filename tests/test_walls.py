"""md.external.wall potentials on hoomd.wall planes, spheres and cylinders: HOOMD-blue 4.8.2's forces and
trajectories (where HOOMD-blue is importable) and gradients against central differences."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import make_frame, sim_from_frame


def frame_for(dim, N=40, seed=3):
    rng = np.random.default_rng(seed)
    L = 20.0
    m = int(np.ceil(N ** (1 / dim)))
    g = (np.arange(m) - m / 2 + 0.5) * 1.3
    pts = np.array(np.meshgrid(*[g] * dim, indexing="ij")).reshape(dim, -1).T[:N]
    pos = np.zeros((N, 3))
    pos[:, :dim] = pts + rng.uniform(-0.1, 0.1, pts.shape)
    vel = rng.normal(0, 1, (N, 3))
    if dim == 2:
        vel[:, 2] = 0
    box = [L, L, 0 if dim == 2 else L, 0, 0, 0]
    return make_frame(pos, box, typeid=rng.integers(0, 2, N), types=("A", "B"), velocity=vel)


def walls(lib, dim):
    planes = [
        lib.wall.Plane(origin=(0, 5.3, 0), normal=(0, -1, 0)),
        lib.wall.Plane(origin=(0, -5.3, 0), normal=(0, 1, 0)),
        lib.wall.Plane(origin=(-5.8, 0, 0), normal=(1, 0.1, 0)),
    ]
    if dim == 2:
        return planes
    return planes + [
        lib.wall.Sphere(radius=5.0, origin=(0.2, 0, 0), inside=True),
        lib.wall.Cylinder(radius=4.4, axis=(0.1, 0.2, 1.0), origin=(0, 0.1, 0), inside=True),
    ]


PARAMS = {"A": dict(epsilon=1.0, sigma=1.0, r_cut=2.5), "B": dict(epsilon=0.7, sigma=0.8, r_cut=2.2)}


def tight_walls(lib, dim):
    """Walls through the lattice: some particles start past them, some within r_extrap."""
    planes = [
        lib.wall.Plane(origin=(0, 1.6, 0), normal=(0, -1, 0)),
        lib.wall.Plane(origin=(0, -1.6, 0), normal=(0, 1, 0.05 if dim == 3 else 0)),
        lib.wall.Plane(origin=(-1.7, 0, 0), normal=(1, 0.1, 0)),
    ]
    if dim == 2:
        return planes
    return planes + [
        lib.wall.Sphere(radius=2.9, origin=(0.2, 0, 0), inside=True),
        lib.wall.Cylinder(radius=2.3, axis=(0.1, 0.2, 1.0), origin=(0, 0.1, 0), inside=True),
    ]


EXTRAP = {
    "A": dict(epsilon=1.0, sigma=1.0, r_cut=2.5, r_extrap=0.9),
    "B": dict(epsilon=0.7, sigma=0.8, r_cut=2.2, r_extrap=0.75),
}


def build(lib, frame, dim, params=PARAMS, geometry=walls):
    sim = sim_from_frame(lib, frame, 8)
    lj = lib.md.pair.LJ(nlist=lib.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[(("A", "B"), ("A", "B"))] = dict(epsilon=0.5, sigma=1.0)
    wall = lib.md.external.wall.LJ(walls=geometry(lib, dim))
    for t, p in params.items():
        wall.params[t] = p
    m = lib.md.methods.Langevin(filter=lib.filter.All(), kT=1.0)
    sim.operations.integrator = lib.md.Integrator(dt=0.002, methods=[m], forces=[lj, wall])
    return sim, wall


@pytest.mark.parametrize("dim", [2, 3])
def test_same_as_hoomd(dim):
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_for(dim)
    out = {}
    for lib in (ha, hoomd):
        sim, wall = build(lib, frame, dim)
        sim.run(0)
        first = (np.asarray(wall.forces), np.asarray(wall.energies))
        sim.run(300)
        out[lib.__name__] = first + (np.asarray(sim.state.get_snapshot().particles.position), float(wall.energy))
    a, b = out["hoomd_adjoint"], out["hoomd"]
    assert np.abs(b[0]).max() > 0.01 and b[3] != 0
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(a[2], b[2], rtol=0, atol=1e-12)


@pytest.mark.parametrize("dim", [2, 3])
def test_extrapolated_mode_same_as_hoomd(dim):
    """r_extrap > 0: particles past a wall, or within r_extrap of it, feel the potential continued
    linearly from r_extrap (HOOMD-blue's extrapolated mode)."""
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_for(dim)
    out = {}
    for lib in (ha, hoomd):
        sim, wall = build(lib, frame, dim, EXTRAP, tight_walls)
        sim.run(0)
        first = (np.asarray(wall.forces), np.asarray(wall.energies))
        sim.run(200)
        out[lib.__name__] = first + (np.asarray(sim.state.get_snapshot().particles.position), float(wall.energy))
    a, b = out["hoomd_adjoint"], out["hoomd"]
    # some particles start past a wall: without extrapolation they would feel nothing from it
    sim, wall = build(ha, frame, dim, PARAMS, tight_walls)
    sim.run(0)
    assert np.abs(a[0] - np.asarray(wall.forces)).max() > 1.0
    np.testing.assert_allclose(a[0], b[0], rtol=1e-15, atol=1e-13)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-15, atol=1e-13)
    np.testing.assert_allclose(a[2], b[2], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "params,geometry,steps",
    [(PARAMS, walls, (1e-5, 2e-6)), (EXTRAP, tight_walls, (1e-6, 2e-7))],
    ids=["normal", "extrapolated"],
)
def test_gradient_matches_finite_differences(params, geometry, steps):
    """Pair parameters and initial positions through 60 steps. (The tight walls keep many
    particles near r_cut, where the wall force jumps: a difference of step 1e-5 crosses it there,
    1% off; from 1e-6 down the differences converge to the gradient, 2e-9 relative.)"""
    dim = 3
    W = np.random.default_rng(9).normal(size=(40, 3))

    def loss(f):
        return float(np.sum(W * f.positions)), W

    def run(prm, pos=None):
        fr = frame_for(dim)
        if pos is not None:
            fr.particles.position = pos
        sim, _ = build(ha, fr, dim, prm, geometry)
        sim.run(60)
        return loss(ha.adjoint._frame(sim))[0]

    sim, wall = build(ha, frame_for(dim), dim, params, geometry)
    res = ha.adjoint.gradient(sim, 60, loss, [wall, "positions"])
    g = res.grad(wall)
    for t in ("A", "B"):
        for name in ("epsilon", "sigma"):
            assert g[t][name] != 0
            for h in steps:
                up = {k: dict(v, **({name: v[name] + h} if k == t else {})) for k, v in params.items()}
                dn = {k: dict(v, **({name: v[name] - h} if k == t else {})) for k, v in params.items()}
                fd = (run(up) - run(dn)) / (2 * h)
                assert abs(fd - g[t][name]) < 1e-6 * abs(fd) + 1e-13 / h, (t, name, h, fd, g[t][name])
    v = np.random.default_rng(4).normal(size=(40, 3))
    p0 = np.asarray(frame_for(dim).particles.position, dtype=float)
    ad = float(np.sum(res.positions * v))
    for h in (1e-6, 2e-7):
        fd = (run(params, p0 + h * v) - run(params, p0 - h * v)) / (2 * h)
        assert abs(fd - ad) < 1e-6 * abs(ad) + 1e-13 / h, (h, fd, ad)


def test_refusals():
    with pytest.raises(ValueError, match="Plane normal must not be zero"):
        ha.wall.Plane(origin=(0, 0, 0), normal=(0, 0, 0))
    w = ha.md.external.wall.LJ(walls=[ha.wall.Plane(origin=(0, 0, 0), normal=(0, 0, 1))])
    with pytest.raises(ValueError, match=r"\['r_extrap'\] must be >= 0, got -0.5"):
        w.params["A"] = dict(epsilon=1.0, sigma=1.0, r_cut=2.5, r_extrap=-0.5)
    with pytest.raises(TypeError, match="walls must be hoomd_adjoint.wall geometries"):
        ha.md.external.wall.LJ(walls=["plane"])
    cyl = ha.md.external.wall.LJ(walls=[ha.wall.Cylinder(radius=3.0, axis=(0, 0, 0))])
    cyl.params[["A", "B"]] = dict(epsilon=1.0, sigma=1.0, r_cut=2.5)
    sim = ha.Simulation(device=ha.device.CPU(), seed=1)
    sim.create_state_from_snapshot(frame_for(3))
    sim.operations.integrator = ha.md.Integrator(
        dt=0.002, methods=[ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)], forces=[cyl]
    )
    with pytest.raises(ValueError, match="Cylinder axis must not be zero"):
        sim.run(1)
