"""Pair potentials: energies against closed forms, forces = -grad E by central differences,
virials, in 2D, 3D and triclinic boxes, with two particle types."""

import numpy as np
import pytest

import hoomd_adjoint as ha
import reference as ref
from conftest import make_frame, make_sim, random_positions

# potential class, params for (A,A), reference function, r_cut, modes
POTENTIALS = {
    "LJ": (ha.md.pair.LJ, dict(epsilon=1.3, sigma=0.9), ref.lj, 2.5, ("none", "shift", "xplor")),
    "Morse": (ha.md.pair.Morse, dict(D0=1.2, alpha=3.0, r0=1.1), ref.morse, 2.5, ("none", "shift", "xplor")),
    "Yukawa": (ha.md.pair.Yukawa, dict(epsilon=2.0, kappa=1.5), ref.yukawa, 2.5, ("none", "shift", "xplor")),
    "Gaussian": (ha.md.pair.Gaussian, dict(epsilon=1.5, sigma=0.8), ref.gaussian, 2.5, ("none", "shift", "xplor")),
    "DPDConservative": (ha.md.pair.DPDConservative, dict(A=25.0), None, 1.3, ("none",)),
    "Rechtsman": (
        ha.md.pair.Rechtsman,
        dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823),
        ref.rechtsman,
        2.5,
        ("none", "shift"),
    ),
    "ExpandedLJ": (
        ha.md.pair.ExpandedLJ,
        dict(epsilon=1.1, sigma=0.8, delta=0.15),
        ref.expanded_lj,
        2.5,
        ("none", "shift", "xplor"),
    ),
    "ForceShiftedLJ": (ha.md.pair.ForceShiftedLJ, dict(epsilon=1.3, sigma=0.9), ref.force_shifted_lj, 2.5, ("none",)),
    "Mie": (ha.md.pair.Mie, dict(epsilon=1.2, sigma=0.9, n=11.0, m=5.5), ref.mie, 2.5, ("none", "shift", "xplor")),
    "Buckingham": (
        ha.md.pair.Buckingham,
        dict(A=300.0, rho=0.25, C=0.5),
        ref.buckingham,
        2.5,
        ("none", "shift", "xplor"),
    ),
}
REFERENCE_TAKES_R_CUT = (ref.dpd_conservative, ref.force_shifted_lj)
# mode="xplor": r_on per type pair as fractions of r_cut: A-A and B-B smoothed, A-B beyond r_cut
# (which HOOMD-blue turns into a shift)
XPLOR_R_ON = {("A", "A"): 0.8, ("A", "B"): 1.1, ("B", "B"): 0.5}
BOXES = {
    "2d": [8.0, 7.5, 0, 0, 0, 0],
    "2d-tilted": [8.0, 7.5, 0, 0.25, 0, 0],
    "3d": [7.0, 7.2, 6.8, 0, 0, 0],
    "triclinic": [7.5, 7.0, 7.2, 0.3, -0.2, 0.15],
}


def scaled(params, s):
    """(A,B) and (B,B) get different parameters, so that type-pair indexing is exercised."""
    return {k: v * s for k, v in params.items()}


def setup(name, boxname, mode, rng, N=28):
    cls, params, _, rcut, _ = POTENTIALS[name]
    box = BOXES[boxname]
    pos = random_positions(rng, N, box, min_dist=0.85)
    typeid = rng.integers(0, 2, N)
    frame = make_frame(pos, box, typeid=typeid, types=("A", "B"))
    nl = ha.md.nlist.Cell(buffer=0.3)
    pot = cls(nlist=nl, default_r_cut=rcut, mode=mode)
    pot.params[("A", "A")] = params
    pot.params[("A", "B")] = scaled(params, 1.1)
    pot.params[("B", "B")] = scaled(params, 0.95)
    pot.r_cut[("B", "B")] = rcut * 0.9
    for key, frac in XPLOR_R_ON.items():
        pot.r_on[key] = frac * rcut
    sim = make_sim(frame, forces=[pot])
    return sim, pot, pos, typeid


def evaluate(sim, pot, pos):
    snap = sim.state.get_snapshot()
    snap.particles.position = pos
    snap.particles.image[:] = 0
    sim.state.set_snapshot(snap)
    sim.run(0)
    return pot.energy, pot.forces, pot.energies, pot.virials


CASES = [(n, b, m) for n in POTENTIALS for b in BOXES for m in POTENTIALS[n][4]]


@pytest.mark.parametrize("name,boxname,mode", CASES)
def test_forces_are_minus_gradient(name, boxname, mode, rng):
    sim, pot, pos, _ = setup(name, boxname, mode, rng)
    E, F, _, _ = evaluate(sim, pot, pos)
    assert np.abs(F).max() > 1e-3, "test configuration has no interacting pairs"
    h = 1e-6
    for _ in range(4):
        v = rng.normal(size=pos.shape)
        if BOXES[boxname][2] == 0:
            v[:, 2] = 0
        Ep = evaluate(sim, pot, pos + h * v)[0]
        Em = evaluate(sim, pot, pos - h * v)[0]
        dE = (Ep - Em) / (2 * h)
        np.testing.assert_allclose(dE, -np.sum(F * v), rtol=1e-6, atol=1e-6 * np.abs(F).sum())


@pytest.mark.parametrize("name,boxname,mode", CASES)
def test_energy_and_virial_closed_form(name, boxname, mode, rng):
    sim, pot, pos, typeid = setup(name, boxname, mode, rng)
    E, F, energies, virials = evaluate(sim, pot, pos)
    cls, params, fn, rcut, _ = POTENTIALS[name]
    box = BOXES[boxname]
    i, j, r = ref.pair_distances(pos, box)
    d = ref.min_image(pos[i] - pos[j], box)
    pair_params = {
        (0, 0): params,
        (0, 1): scaled(params, 1.1),
        (1, 0): scaled(params, 1.1),
        (1, 1): scaled(params, 0.95),
    }
    Eref = 0.0
    Wref = np.zeros(6)
    for k in range(len(r)):
        tp = (typeid[i[k]], typeid[j[k]])
        rc = rcut * 0.9 if tp == (1, 1) else rcut
        if r[k] >= rc:
            continue
        p = pair_params[tp]
        fn = fn or ref.dpd_conservative
        V = (lambda x: fn(x, **p, r_cut=rc)) if fn in REFERENCE_TAKES_R_CUT else (lambda x: fn(x, **p))
        Vx = V
        if mode == "xplor":
            r_on = XPLOR_R_ON[tuple("AB"[t] for t in sorted(tp))] * rcut
            Vx = (
                (lambda x, V=V, ron=r_on: V(x) - V(rc))
                if r_on > rc
                else (lambda x, V=V, ron=r_on: V(x) * ref.xplor(x, ron, rc))
            )
        V = Vx
        Eref += V(r[k]) - (V(rc) if mode == "shift" else 0.0)
        # virial from the numerical radial derivative of the closed form
        h = 1e-6 * r[k]
        fr = -(V(r[k] + h) - V(r[k] - h)) / (2 * h) / r[k]
        dd = d[k]
        Wref += fr * np.array(
            [dd[0] * dd[0], dd[0] * dd[1], dd[0] * dd[2], dd[1] * dd[1], dd[1] * dd[2], dd[2] * dd[2]]
        )
    assert Eref != 0
    np.testing.assert_allclose(E, Eref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(energies.sum(), E, rtol=1e-12)
    np.testing.assert_allclose(virials.sum(axis=0), Wref, rtol=1e-6, atol=1e-8 * np.abs(Wref).max())
    # Newton's third law
    np.testing.assert_allclose(F.sum(axis=0), 0, atol=1e-10 * np.abs(F).max())


def test_dpd_conservative_is_harmonic_soft_sphere():
    r = np.linspace(0.1, 1.29, 50)
    A, rc = 25.0, 1.3
    closed = A * (rc - r) - 0.5 * A / rc * (rc**2 - r**2)
    np.testing.assert_allclose(ref.dpd_conservative(r, A, rc), closed, rtol=1e-12)


def test_shift_mode_makes_energy_continuous(rng):
    """Two particles just inside and just outside r_cut: the shifted energy -> 0 at the cutoff."""
    for cls, params, _, rcut, modes in POTENTIALS.values():
        if "shift" not in modes:
            continue
        for dr, expect_zero in ((-1e-9, False), (1e-9, True)):
            pos = np.array([[0, 0, 0], [rcut + dr, 0, 0]])
            frame = make_frame(pos, [8, 8, 8, 0, 0, 0])
            pot = cls(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=rcut, mode="shift")
            pot.params[("A", "A")] = params
            sim = make_sim(frame, forces=[pot])
            sim.run(0)
            if expect_zero:
                assert pot.energy == 0.0
            else:
                assert abs(pot.energy) < 1e-6


def test_rechtsman_defaults_match_paper():
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    pot.params[("A", "A")] = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)
    assert pot.params[("A", "A")] == dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823, b0=5.0, b1=0.4, b2=40.0)


def test_force_shifted_lj_goes_to_zero_force_at_r_cut():
    """Its force is continuous at r_cut; its energy keeps V_LJ(r_cut) there (as HOOMD-blue's: mode
    'none', no energy shift)."""
    rc = 2.5
    for dr in (-1e-7, 1e-7):
        frame = make_frame(np.array([[0, 0, 0], [rc + dr, 0, 0]]), [8, 8, 8, 0, 0, 0])
        pot = ha.md.pair.ForceShiftedLJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=rc)
        pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
        sim = make_sim(frame, forces=[pot])
        sim.run(0)
        assert np.abs(pot.forces).max() < 1e-6  # LJ alone: 0.039
        assert pot.energy == pytest.approx(ref.lj(rc, 1.0, 1.0) if dr < 0 else 0.0, abs=1e-6)
    with pytest.raises(ValueError, match="mode"):
        ha.md.pair.ForceShiftedLJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=rc, mode="shift")


def test_r_cut_zero_removes_pair(rng):
    pos = np.array([[0, 0, 0], [1.1, 0, 0], [0, 1.2, 0]])
    frame = make_frame(pos, [8, 8, 8, 0, 0, 0], typeid=[0, 1, 1], types=("A", "B"))
    pot = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    pot.params[("A", ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    pot.params[("B", "B")] = dict(epsilon=1.0, sigma=1.0)
    pot.r_cut[("B", "B")] = 0.0
    sim = make_sim(frame, forces=[pot])
    sim.run(0)
    np.testing.assert_allclose(pot.energy, ref.lj(1.1, 1.0, 1.0) + ref.lj(1.2, 1.0, 1.0), rtol=1e-13)


def test_parameter_names_come_from_the_evaluators():
    """Each evaluator declares its parameters' names (cpp/engine/evaluators); the Python classes,
    the HOOMD-blue bridge and (with HOOMD-blue) HOOMD-blue's own classes and the component agree
    with them, name for name and in order."""
    from hoomd_adjoint import _core, bridge

    declared = _core.pair_parameters()
    classes = {
        c._name: c
        for c in vars(ha.md.pair).values()
        if isinstance(c, type) and issubclass(c, ha.md.pair.Pair) and c._name is not None
    }
    assert classes.pop("Table") is ha.md.pair.Table  # (its parameters are arrays: engine/TableForce.h)
    plain = sorted(n for n in declared if not n.endswith("/xplor"))
    assert sorted(classes) == plain  # every evaluator has its Python class, and no other
    for name, cls in classes.items():
        assert list(cls._param_spec) == declared[name], name
        # the xplor forms: exactly those whose class accepts mode="xplor", with r_on last
        xplor = f"{name}/xplor"
        assert (xplor in declared) == ("xplor" in cls._accepted_modes), name
        if xplor in declared:
            assert declared[xplor] == declared[name] + ["r_on"], name
    for hoomd_name, (name, names) in bridge.PAIRS.items():
        assert names == declared[name], hoomd_name
    with pytest.raises(TypeError, match=r"defaults for \['gamma'\], which the evaluator 'LJ' does not have"):
        type("Wrong", (ha.md.pair.Pair,), dict(_name="LJ", _defaults={"gamma": 1.0}))
    hoomd = pytest.importorskip("hoomd")
    nlist = hoomd.md.nlist.Cell(buffer=0.4)
    for hoomd_name, (name, names) in bridge.PAIRS.items():
        module = hoomd.md.pair
        if not hasattr(module, hoomd_name):
            module = pytest.importorskip("hoomd.adjoint").pair  # the component's potentials
        spec = getattr(module, hoomd_name)(nlist=nlist).params.default
        keys = list(spec.keys()) if hasattr(spec, "keys") else list(spec)
        assert sorted(keys) == sorted(names), (hoomd_name, keys)
