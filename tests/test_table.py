"""md.pair.Table: the tabulated potential's forces and energies against an interpolation written
here, HOOMD-blue 4.8.2's trajectory (where HOOMD-blue is importable), and the gradient with
respect to r_min and the table values against central differences."""

import copy

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import sim_from_frame, two_type_gas

N = 50


def lj_table(eps, sigma, r_min, r_cut, width):
    """An LJ potential tabulated as HOOMD-blue's documentation shows it (np.linspace, endpoint=False)."""
    r = np.linspace(r_min, r_cut, width, endpoint=False)
    U = 4 * eps * ((sigma / r) ** 12 - (sigma / r) ** 6)
    F = 4 * eps * (12 * sigma**12 / r**13 - 6 * sigma**6 / r**7)
    return dict(r_min=r_min, U=U, F=F)


# three lengths: the adjoint lays out the longest and reports each pair's own
TABLES = {
    ("A", "A"): lj_table(1.0, 1.0, 0.8, 2.5, 40),
    ("A", "B"): lj_table(0.7, 1.1, 0.85, 2.5, 25),
    ("B", "B"): lj_table(1.2, 0.9, 0.7, 2.5, 60),
}


def frame_for(dim, seed=3):
    box = [11, 11.5, 0, 0.1, 0, 0] if dim == 2 else [9, 9.5, 10, 0.1, 0.05, -0.1]
    return two_type_gas(np.random.default_rng(seed), N, box)


def build(lib, frame, tables=TABLES, method="langevin"):
    sim = sim_from_frame(lib, frame, 4)
    table = lib.md.pair.Table(nlist=lib.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    for key, value in tables.items():
        table.params[key] = value
    m = (
        lib.md.methods.Langevin(filter=lib.filter.All(), kT=1.0)
        if method == "langevin"
        else lib.md.methods.ConstantVolume(filter=lib.filter.All())
    )
    sim.operations.integrator = lib.md.Integrator(dt=0.004, methods=[m], forces=[table])
    return sim, table


def reference_forces(frame, tables=TABLES, r_cut=2.5):
    """Forces and per-particle energies by the documented interpolation, pair by pair."""
    from hoomd_adjoint.box import Box

    pos, types = frame.particles.position, [frame.particles.types[t] for t in frame.particles.typeid]
    M = Box.from_box(frame.configuration.box).to_matrix()
    if frame.configuration.box[2] == 0:
        M[2, 2] = 1.0  # (2D: z differences are zero)
    Minv = np.linalg.inv(M)
    F, E = np.zeros((len(pos), 3)), np.zeros(len(pos))
    for i in range(len(pos)):
        for j in range(len(pos)):
            if i == j:
                continue
            s = Minv @ (pos[i] - pos[j])
            d = M @ (s - np.round(s))  # minimum image (small tilts)
            r = np.sqrt(d @ d)
            t = tables[tuple(sorted((types[i], types[j])))]
            if r >= r_cut or r < t["r_min"]:
                continue
            w = t["U"].size
            x = (r - t["r_min"]) / ((r_cut - t["r_min"]) / w)
            k = int(np.floor(x))
            frac = x - k
            U1, F1 = (t["U"][k + 1], t["F"][k + 1]) if k + 1 < w else (0.0, 0.0)
            F[i] += d / r * (t["F"][k] + frac * (F1 - t["F"][k]))
            E[i] += 0.5 * (t["U"][k] + frac * (U1 - t["U"][k]))
    return F, E


@pytest.mark.parametrize("dim", [2, 3])
def test_forces_are_the_interpolated_table(dim):
    frame = frame_for(dim)
    sim, table = build(ha, frame)
    sim.run(0)
    F, E = reference_forces(frame)
    assert np.abs(F).max() > 1.0
    np.testing.assert_allclose(table.forces, F, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table.energies, E, rtol=0, atol=1e-13)


@pytest.mark.parametrize("dim", [2, 3])
def test_same_as_hoomd(dim):
    hoomd = pytest.importorskip("hoomd")
    import hoomd.md  # noqa: F401,F811  (the md submodule)

    frame = frame_for(dim)
    out = {}
    for lib in (ha, hoomd):
        sim, table = build(lib, frame)
        if lib is hoomd:
            sim.always_compute_pressure = True
        sim.run(0)
        first = (np.asarray(table.forces), np.asarray(table.energies), np.asarray(table.virials))
        sim.run(200)
        snap = sim.state.get_snapshot()
        out[lib.__name__] = first + (np.asarray(snap.particles.position), np.asarray(snap.particles.velocity))
    a, b = out["hoomd_adjoint"], out["hoomd"]
    # the same arithmetic per pair; the sums in another order (HOOMD-blue's lists are in cell order)
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-14)
    np.testing.assert_allclose(a[2], b[2], rtol=0, atol=1e-14)
    np.testing.assert_allclose(a[3], b[3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(a[4], b[4], rtol=0, atol=1e-12)


W = np.random.default_rng(5).normal(size=(N, 3))


def positions_loss(f):
    return float(np.sum(W * f.positions)), W


def shifted(tables, key, name, index, h):
    out = copy.deepcopy(tables)
    if index is None:
        out[key][name] = out[key][name] + h
    else:
        out[key][name] = out[key][name].copy()
        out[key][name][index] += h
    return out


@pytest.mark.parametrize("method", ["langevin", "nve"])
def test_gradient_matches_finite_differences(method):
    """d(loss)/d(r_min, F[k]) through 30 steps: the entries the run uses most, every type pair.
    Small steps: the interpolation is piecewise linear in r, and moving r_min moves the kinks at
    the grid points past pairs (a step of 1e-5 meets one in the NVE run: its difference is off by
    1e-5 relative, and converges to the gradient as h shrinks)."""
    steps = 30

    def value(tables):
        sim, _ = build(ha, frame_for(3), tables, method)
        sim.run(steps)
        return positions_loss(ha.adjoint._frame(sim))[0]

    sim, table = build(ha, frame_for(3), TABLES, method)
    g = ha.adjoint.gradient(sim, steps, positions_loss, [table]).grad(table)
    assert set(g) == set(TABLES)
    for key, t in TABLES.items():
        assert g[key]["U"].shape == g[key]["F"].shape == t["U"].shape
        assert not g[key]["U"].any()  # U moves nothing: only a loss of the energy sees it
        k = int(np.argmax(np.abs(g[key]["F"])))
        assert g[key]["F"][k] != 0
        for name, index, got in (("r_min", None, g[key]["r_min"]), ("F", k, g[key]["F"][k])):
            for h in (1e-6, 3e-7):
                fd = (value(shifted(TABLES, key, name, index, h)) - value(shifted(TABLES, key, name, index, -h))) / (
                    2 * h
                )
                assert abs(fd - got) < 1e-6 * abs(fd) + 2e-13 / h, (key, name, index, h, fd, got)


def test_energy_gradient_matches_finite_differences():
    """A loss of the table's energy sees U (and r_min, F through the positions)."""
    steps = 20

    def value(tables):
        sim, table = build(ha, frame_for(3), tables)
        sim.run(steps)
        return ha.loss.PotentialEnergy(table)(ha.adjoint._frame(sim))[0]

    sim, table = build(ha, frame_for(3))
    g = ha.adjoint.gradient(sim, steps, lambda f: ha.loss.PotentialEnergy(table)(f), [table]).grad(table)
    for key in (("A", "A"), ("A", "B")):
        k = int(np.argmax(np.abs(g[key]["U"])))
        for name, index, got in (("U", k, g[key]["U"][k]), ("r_min", None, g[key]["r_min"])):
            for h in (1e-5, 1e-6):
                fd = (value(shifted(TABLES, key, name, index, h)) - value(shifted(TABLES, key, name, index, -h))) / (
                    2 * h
                )
                assert abs(fd - got) < 1e-6 * abs(fd) + 1e-13 / h, (key, name, index, h, fd, got)


def test_selected_entries_are_the_same_numbers():
    sim, table = build(ha, frame_for(3))
    full = ha.adjoint.gradient(sim, 10, positions_loss, [table]).grad(table)
    sim, table = build(ha, frame_for(3))
    part = ha.adjoint.gradient(sim, 10, positions_loss, [(table, ["F"])]).grad(table)
    for key in TABLES:
        assert set(part[key]) == {"F"}
        np.testing.assert_array_equal(part[key]["F"], full[key]["F"])


def test_refusals():
    table = ha.md.pair.Table(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    with pytest.raises(
        ValueError, match=r"Table.params\[\('A', 'A'\)\]: U and F must have the same length, got 3 and 2"
    ):
        table.params[("A", "A")] = dict(r_min=0.5, U=[1, 2, 3], F=[1, 2])
    with pytest.raises(ValueError, match=r"Table.params\[\('A', 'A'\)\]\['U'\] must be a non-empty 1-D array"):
        table.params[("A", "A")] = dict(r_min=0.5, U=[], F=[])
    with pytest.raises(ValueError, match=r"\['U'\]\[1\] must be finite, got nan"):
        table.params[("A", "A")] = dict(r_min=0.5, U=[1, np.nan], F=[1, 2])
    with pytest.raises(ValueError, match="missing parameter 'r_min'"):
        table.params[("A", "A")] = dict(U=[1], F=[1])
    with pytest.raises(TypeError, match="mode"):
        ha.md.pair.Table(nlist=ha.md.nlist.Cell(buffer=0.4), mode="shift")
    assert "A" not in str(table.params.keys())  # nothing stored by the refusals
    sim, table = build(ha, frame_for(3))
    with pytest.raises(ValueError, match=r"mode='forward' does not differentiate pair.Table"):
        ha.adjoint.gradient(sim, 5, positions_loss, [table], mode="forward")
    assert sim.timestep == 0


def test_device_refuses_by_name():
    """The device path has no Table yet: a run says so before anything moves."""
    frame = frame_for(3)
    sim = ha.Simulation(device=ha.device._HostBackendGPU(), seed=4)
    sim.create_state_from_snapshot(frame)
    table = ha.md.pair.Table(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    for key, value in TABLES.items():
        table.params[key] = value
    method = ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=0.004, methods=[method], forces=[table])
    with pytest.raises(RuntimeError, match=r"device.GPU: pair.Table forces run on the CPU only"):
        sim.run(5)
    assert sim.timestep == 0
    np.testing.assert_array_equal(sim.state.get_snapshot().particles.position, frame.particles.position)
