"""Bad input gets a clear error that names the offending value."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import make_frame, make_sim


def two_type_frame(N=10, box=(10, 10, 10, 0, 0, 0)):
    g = np.arange(N) * 0.99 - 4.5
    pos = np.stack([g, np.zeros(N), np.zeros(N)], axis=1)
    return make_frame(pos, list(box), typeid=np.arange(N) % 2, types=("A", "B"))


def morse(nl=None, rcut=2.5):
    m = ha.md.pair.Morse(nlist=nl or ha.md.nlist.Cell(buffer=0.4), default_r_cut=rcut)
    m.params[("A", ["A", "B"])] = dict(D0=1.0, alpha=3.0, r0=1.0)
    m.params[("B", "B")] = dict(D0=1.0, alpha=3.0, r0=1.0)
    return m


def test_nan_position_names_the_tag():
    f = two_type_frame()
    f.particles.position[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"particle tag 3 has non-finite position .*nan"):
        ha.Simulation(device=ha.device.CPU(1), seed=1).create_state_from_snapshot(f)


def test_inf_position_names_the_tag():
    f = two_type_frame()
    f.particles.position[7, 0] = np.inf
    with pytest.raises(ValueError, match="particle tag 7 has non-finite position"):
        ha.Simulation(device=ha.device.CPU(1), seed=1).create_state_from_snapshot(f)


def test_typeid_out_of_range():
    f = two_type_frame()
    f.particles.typeid[4] = 5
    with pytest.raises(ValueError, match="particle tag 4 has typeid 5"):
        ha.Simulation(device=ha.device.CPU(1), seed=1).create_state_from_snapshot(f)


def test_unknown_type_name_in_params():
    m = morse()
    m.params[("A", "C")] = dict(D0=1.0, alpha=3.0, r0=1.0)
    sim = make_sim(two_type_frame(), forces=[m])
    with pytest.raises(ValueError, match=r"unknown type 'C'.*\['A', 'B'\]"):
        sim.run(1)


def test_unknown_type_in_filter():
    sim = make_sim(two_type_frame(), methods=[ha.md.methods.Brownian(filter=ha.filter.Type("Q"), kT=1.0)])
    with pytest.raises(ValueError, match="unknown type 'Q'"):
        sim.run(1)


def test_missing_pair_parameters_name_the_pair():
    m = ha.md.pair.Morse(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    m.params[("A", "A")] = dict(D0=1.0, alpha=3.0, r0=1.0)
    m.params[("B", "B")] = dict(D0=1.0, alpha=3.0, r0=1.0)
    sim = make_sim(two_type_frame(), forces=[m])
    with pytest.raises(ha.IncompleteSpecificationError, match=r"params\[\('A', 'B'\)\] is not set"):
        sim.run(1)


def test_missing_r_cut_names_the_pair():
    m = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4))
    m.params[(["A", "B"], ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    m.r_cut[("A", "A")] = 2.5
    m.r_cut[("A", "B")] = 2.5
    sim = make_sim(two_type_frame(), forces=[m])
    with pytest.raises(ha.IncompleteSpecificationError, match=r"r_cut\[\('B', 'B'\)\]"):
        sim.run(1)


def test_missing_and_unknown_parameter_names():
    m = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    with pytest.raises(ValueError, match="missing parameter 'sigma'"):
        m.params[("A", "A")] = dict(epsilon=1.0)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['sigmaa'\]"):
        m.params[("A", "A")] = dict(epsilon=1.0, sigmaa=1.0)
    with pytest.raises(ValueError, match=r"\['epsilon'\] must be finite"):
        m.params[("A", "A")] = dict(epsilon=float("nan"), sigma=1.0)


def test_rcut_plus_buffer_too_large_for_box():
    sim = make_sim(two_type_frame(box=(5.7, 5.7, 5.7, 0, 0, 0)), forces=[morse()])
    with pytest.raises(ValueError, match=r"r_cut \+ buffer = 2.5 \+ 0.4 = 2.9 is too large for the box"):
        sim.run(1)


def test_rcut_too_large_for_2d_box():
    f = two_type_frame(box=(20, 5, 0, 0, 0, 0))
    sim = make_sim(f, forces=[morse()])
    with pytest.raises(ValueError, match="too large for the box.*along y"):
        sim.run(1)


@pytest.mark.parametrize("dt", [0.0, -1e-3, float("nan")])
def test_bad_dt(dt):
    with pytest.raises(ValueError, match="dt must be positive"):
        ha.md.Integrator(dt=dt)


def test_negative_kT():
    with pytest.raises(ValueError, match=r"kT must be finite and >= 0, got -0.5"):
        ha.md.methods.Brownian(filter=ha.filter.All(), kT=-0.5)
    with pytest.raises(ValueError, match="kT must be finite"):
        ha.md.methods.Langevin(filter=ha.filter.All(), kT=ha.variant.Ramp(1.0, -1.0, 0, 10))


@pytest.mark.parametrize("gamma", [0.0, -2.0])
def test_bad_gamma(gamma):
    with pytest.raises(ValueError, match=f"must be > 0, got {gamma}"):
        ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0, default_gamma=gamma)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)
    with pytest.raises(ValueError, match=rf"gamma\['A'\] must be > 0, got {gamma}"):
        bd.gamma["A"] = gamma


def test_non_finite_force_names_step_and_tags():
    """Two particles driven onto the same point at step 1: the force there is infinite."""
    pos = np.array([[0.5, 0, 0], [-0.5, 0, 0], [3, 3, 3]])
    f = make_frame(pos, [10, 10, 10, 0, 0, 0], velocity=np.array([[-1.0, 0, 0], [1.0, 0, 0], [0, 0, 0]]))
    y = ha.md.pair.Yukawa(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    y.params[("A", "A")] = dict(epsilon=1e-30, kappa=1.0)
    sim = make_sim(f, forces=[y], methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], dt=0.5)
    with pytest.raises(RuntimeError, match=r"non-finite force at step 1 on 2 particle\(s\), tags 0, 1"):
        sim.run(5)
    assert sim.timestep == 0


def test_particle_leaving_box_is_reported():
    f = make_frame(np.array([[0.0, 0, 0]]), [10, 10, 10, 0, 0, 0], velocity=np.array([[1e4, 0, 0]]), types=("A", "B"))
    sim = make_sim(f, forces=[morse()], methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())], dt=1.0)
    with pytest.raises(RuntimeError, match="particle tag 0 .* is outside the box"):
        sim.run(2)


def test_2d_box_needs_z_zero():
    f = make_frame(np.array([[0.0, 0, 0.5]]), [10, 10, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="particle tag 0 has z = 0.5"):
        ha.Simulation(device=ha.device.CPU(1), seed=1).create_state_from_snapshot(f)


def test_bad_boxes():
    with pytest.raises(ValueError, match="Lx and Ly must be positive"):
        ha.Box(0, 1, 1)
    with pytest.raises(ValueError, match="2D box .* xz = yz = 0"):
        ha.Box(5, 5, 0, 0, 0.1, 0)


def test_shift_mode_rejected_where_meaningless():
    with pytest.raises(ValueError, match="mode must be one of"):
        ha.md.pair.DPDConservative(nlist=ha.md.nlist.Cell(buffer=0.4), mode="shift")


def test_quantities_before_run():
    m = morse()
    with pytest.raises(ha.DataAccessError):
        m.energy


def test_seed_masked_with_warning():
    with pytest.warns(UserWarning, match="masked to 16 bits"):
        sim = ha.Simulation(device=ha.device.CPU(1), seed=70000)
    assert sim.seed == 70000 & 0xFFFF
