"""Hostile inputs to the public parameters of pair potentials, methods, variants, filters,
triggers, neighbour lists, the integrator and the CPU device.

Every case asserts the exception type (TypeError for a wrong kind of value, ValueError for a bad
value, KeyError for an unknown type name or a malformed type key) and a fragment of the message
that names the argument and the offending value; assignments also check that the previous value
stays, and the "reject, then run" cases that an attached simulation stays bitwise on the track of
an untouched twin.

Classes (cases; parametrized and hypothesis-driven tests counted individually):
  pair constructors (and setters) ........... PAIR_CTOR_CASES            28
  pair params[...] assignment ............... PARAMS_CASES               36
  pair r_cut[...] / r_on[...] assignment .... RCUT_CASES                 11
  random bad parameters (hypothesis) ........ test_random_bad_parameters  6
  unknown types at attach / after attach .... test_unknown_type_*         6
  integration methods ....................... METHOD_CASES               32
  variants .................................. VARIANT_CASES              21
  filters ................................... FILTER_CASES               20
  triggers .................................. TRIGGER_CASES              15
  neighbour lists ........................... NLIST_CASES                22
  integrator ................................ INTEGRATOR_CASES           27
  integrator at run time .................... test_run_time_*             5
  CPU device (and OMP_NUM_THREADS fallback) . DEVICE_CASES               13
  reject, then run bitwise with a twin ...... TWIN_CASES                 18
  total ..................................................................... 260
plus one test that the edges of the legal ranges (kT = 0, buffer = 0, r_cut = 0, ...) still pass.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hoomd_adjoint as ha
from conftest import make_frame, make_sim, random_positions
from hoomd_adjoint.typeparam import UnknownTypeError

NAN, INF = float("nan"), float("inf")
BOX = [8, 8, 8, 0, 0, 0]


def _re(text):
    import re

    return re.escape(text)


def raises(error, fragment):
    return pytest.raises(error, match=_re(fragment))


def cell():
    return ha.md.nlist.Cell(buffer=0.4)


def lj(**kw):
    kw.setdefault("default_r_cut", 2.5)
    return ha.md.pair.LJ(nlist=kw.pop("nlist", None) or cell(), **kw)


def two_type_frame(seed=7, N=40):
    rng = np.random.default_rng(seed)
    pos = random_positions(rng, N, BOX, min_dist=1.0)
    return make_frame(pos, BOX, typeid=np.arange(N) % 2, types=("A", "B"), velocity=rng.normal(0, 0.5, (N, 3)))


# ---------------------------------------------------------------------------------------------
# pair constructors
PAIR_CTOR_CASES = [
    (
        lambda: ha.md.pair.LJ(nlist=None, default_r_cut=2.5),
        TypeError,
        "nlist must be a hoomd_adjoint.md.nlist.Cell, got None",
    ),
    (
        lambda: ha.md.pair.LJ(nlist=ha.md.nlist.Cell, default_r_cut=2.5),
        TypeError,
        "nlist must be a hoomd_adjoint.md.nlist.Cell, got <class",
    ),
    (lambda: ha.md.pair.LJ(nlist=lj(), default_r_cut=2.5), TypeError, "got <hoomd_adjoint.md.pair.LJ"),
    (
        lambda: ha.md.pair.LJ(nlist="cell", default_r_cut=2.5),
        TypeError,
        "nlist must be a hoomd_adjoint.md.nlist.Cell, got 'cell'",
    ),
    (lambda: ha.md.pair.LJ(nlist=0.4, default_r_cut=2.5), TypeError, "got 0.4 (float)"),
    (lambda: lj(default_r_cut=NAN), ValueError, "LJ default_r_cut must be finite, got nan"),
    (lambda: lj(default_r_cut=INF), ValueError, "LJ default_r_cut must be finite, got inf"),
    (lambda: lj(default_r_cut=-INF), ValueError, "LJ default_r_cut must be finite, got -inf"),
    (lambda: lj(default_r_cut=-1.0), ValueError, "LJ default_r_cut must be >= 0, got -1.0"),
    (lambda: lj(default_r_cut=10**400), ValueError, "LJ default_r_cut must be finite"),
    (lambda: lj(default_r_cut="2.5"), TypeError, "LJ default_r_cut must be a number, got '2.5' (str)"),
    (lambda: lj(default_r_cut=True), TypeError, "LJ default_r_cut must be a number, got True (bool)"),
    (
        lambda: lj(default_r_cut=np.array([2.5, 3.0])),
        TypeError,
        "default_r_cut must be a number, got array([2.5, 3. ]) (array of shape (2,))",
    ),
    (lambda: lj(default_r_cut=np.array([2.5])), TypeError, "(array of shape (1,))"),
    (lambda: lj(default_r_cut=2.5 + 0j), TypeError, "LJ default_r_cut must be a number, got (2.5+0j) (complex)"),
    (
        lambda: ha.md.pair.Morse(nlist=cell(), default_r_cut=[2.5]),
        TypeError,
        "Morse default_r_cut must be a number, got [2.5] (list)",
    ),
    (lambda: lj(default_r_on=NAN), ValueError, "LJ default_r_on must be finite, got nan"),
    (lambda: lj(default_r_on=-0.5), ValueError, "LJ default_r_on must be >= 0, got -0.5"),
    (lambda: lj(default_r_on="0"), TypeError, "LJ default_r_on must be a number, got '0'"),
    (lambda: lj(mode=None), TypeError, "LJ: mode must be a string, one of ('none', 'shift', 'xplor'), got None"),
    (lambda: lj(mode=1), TypeError, "mode must be a string, one of ('none', 'shift', 'xplor'), got 1 (int)"),
    (
        lambda: ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), mode="xplor"),
        ValueError,
        "Rechtsman: mode must be one of ('none', 'shift'), got 'xplor'",
    ),
    (lambda: lj(mode="Shift"), ValueError, "LJ: mode must be one of ('none', 'shift', 'xplor'), got 'Shift'"),
    (lambda: lj(mode=""), ValueError, "mode must be one of ('none', 'shift', 'xplor'), got ''"),
    (
        lambda: ha.md.pair.DPDConservative(nlist=cell(), default_r_cut=1.0, mode="shift"),
        ValueError,
        "DPDConservative: mode must be one of ('none',), got 'shift'",
    ),
    (lambda: ha.md.pair.Pair(nlist=cell(), default_r_cut=2.5), TypeError, "Pair is a base class"),
    (
        lambda: ha.md.pair.Gaussian(cell(), 2.5, "shift"),
        TypeError,
        "Gaussian default_r_on must be a number, got 'shift'",
    ),
]


@pytest.mark.parametrize("make, error, fragment", PAIR_CTOR_CASES, ids=[c[2][:50] for c in PAIR_CTOR_CASES])
def test_pair_constructor(make, error, fragment):
    with raises(error, fragment):
        make()


def test_mode_and_nlist_setters_keep_the_old_value():
    pot = lj(mode="shift")
    nl = pot.nlist
    with raises(ValueError, "mode must be one of ('none', 'shift', 'xplor'), got 'bogus'"):
        pot.mode = "bogus"
    with raises(TypeError, "nlist must be a hoomd_adjoint.md.nlist.Cell, got None"):
        pot.nlist = None
    assert pot.mode == "shift" and pot.nlist is nl


# ---------------------------------------------------------------------------------------------
# params[...] assignment: (potential, key, value, error, fragment)
LJP = dict(epsilon=1.0, sigma=1.0)
PARAMS_CASES = [
    # malformed keys
    ("LJ", ("A",), LJP, KeyError, "LJ.params: keys are type pairs such as ('A', 'B'), got ('A',)"),
    ("LJ", "A", LJP, KeyError, "keys are type pairs such as ('A', 'B'), got 'A'"),
    ("LJ", ("A", "B", "C"), LJP, KeyError, "keys are type pairs such as ('A', 'B'), got ('A', 'B', 'C')"),
    ("LJ", None, LJP, KeyError, "keys are type pairs such as ('A', 'B'), got None"),
    ("LJ", 3, LJP, KeyError, "got 3"),
    ("LJ", ("A", 1), LJP, TypeError, "LJ.params: a type name must be a string (or a list of them), got 1 (int)"),
    ("LJ", ("A", ["B", None]), LJP, TypeError, "LJ.params: type names must be strings, got None"),
    ("LJ", ("A", []), LJP, KeyError, "LJ.params: empty list of types in key"),
    ("LJ", (("A",), b"B"), LJP, TypeError, "a type name must be a string (or a list of them), got b'B' (bytes)"),
    # values of the wrong shape
    (
        "LJ",
        ("A", "A"),
        None,
        TypeError,
        "LJ.params[('A', 'A')] must be a dict with keys ['epsilon', 'sigma'], got None",
    ),
    ("LJ", ("A", "A"), [1.0, 1.0], TypeError, "must be a dict with keys ['epsilon', 'sigma'], got [1.0, 1.0] (list)"),
    ("LJ", ("A", "A"), 1.0, TypeError, "must be a dict with keys ['epsilon', 'sigma'], got 1.0"),
    ("LJ", ("A", "A"), np.array([1.0, 1.0]), TypeError, "must be a dict with keys"),
    ("LJ", ("B", "B"), dict(epsilon=1.0), ValueError, "LJ.params[('B', 'B')]: missing parameter 'sigma'"),
    (
        "LJ",
        ("A", "A"),
        dict(epsilon=1.0, sigma=1.0, delta=0.1),
        ValueError,
        "unknown parameter(s) ['delta']; expected ['epsilon', 'sigma']",
    ),
    ("LJ", ("A", "A"), {1: 2.0, "epsilon": 1.0}, ValueError, "unknown parameter(s) ['1']"),
    ("Morse", ("A", "B"), dict(D0=1.0, alpha=3.0), ValueError, "Morse.params[('A', 'B')]: missing parameter 'r0'"),
    # non-numeric values
    (
        "LJ",
        ("A", "A"),
        dict(epsilon="1.0", sigma=1.0),
        TypeError,
        "LJ.params[('A', 'A')]['epsilon'] must be a number, got '1.0' (str)",
    ),
    ("LJ", ("A", "A"), dict(epsilon=True, sigma=1.0), TypeError, "['epsilon'] must be a number, got True (bool)"),
    ("LJ", ("A", "A"), dict(epsilon=None, sigma=1.0), TypeError, "['epsilon'] must be a number, got None (NoneType)"),
    (
        "LJ",
        ("A", "A"),
        dict(epsilon=1.0, sigma=np.array([1.0, 2.0])),
        TypeError,
        "['sigma'] must be a number, got array([1., 2.]) (array of shape (2,))",
    ),
    ("LJ", ("A", "A"), dict(epsilon=1.0, sigma=np.zeros(0)), TypeError, "(array of shape (0,))"),
    ("LJ", ("A", "A"), dict(epsilon=1j, sigma=1.0), TypeError, "['epsilon'] must be a number, got 1j (complex)"),
    (
        "Yukawa",
        ("B", "B"),
        dict(epsilon=[1.0], kappa=1.0),
        TypeError,
        "Yukawa.params[('B', 'B')]['epsilon'] must be a number, got [1.0] (list)",
    ),
    # non-finite
    (
        "LJ",
        ("A", "A"),
        dict(epsilon=NAN, sigma=1.0),
        ValueError,
        "LJ.params[('A', 'A')]['epsilon'] must be finite, got nan",
    ),
    ("LJ", ("A", "A"), dict(epsilon=1.0, sigma=INF), ValueError, "['sigma'] must be finite, got inf"),
    (
        "Rechtsman",
        ("A", "A"),
        dict(a0=1, a1=1, a2=1, a3=1, b2=-INF),
        ValueError,
        "Rechtsman.params[('A', 'A')]['b2'] must be finite, got -inf",
    ),
    (
        "DPDConservative",
        ("A", "A"),
        dict(A=10**400),
        ValueError,
        "DPDConservative.params[('A', 'A')]['A'] must be finite",
    ),
    # physically meaningless
    ("LJ", ("A", "A"), dict(epsilon=1.0, sigma=0.0), ValueError, "LJ.params[('A', 'A')]['sigma'] must be > 0, got 0.0"),
    (
        "LJ",
        ("A", "B"),
        dict(epsilon=1.0, sigma=-1.0),
        ValueError,
        "LJ.params[('A', 'B')]['sigma'] must be > 0, got -1.0",
    ),
    (
        "Gaussian",
        ("A", "A"),
        dict(epsilon=1.0, sigma=0.0),
        ValueError,
        "Gaussian.params[('A', 'A')]['sigma'] must be > 0, got 0.0",
    ),
    (
        "Morse",
        ("A", "A"),
        dict(D0=1.0, alpha=0.0, r0=1.0),
        ValueError,
        "Morse.params[('A', 'A')]['alpha'] must be > 0, got 0.0",
    ),
    ("Morse", ("A", "A"), dict(D0=1.0, alpha=-3.0, r0=1.0), ValueError, "['alpha'] must be > 0, got -3.0"),
    (
        "Morse",
        ("A", "A"),
        dict(D0=1.0, alpha=3.0, r0=-0.5),
        ValueError,
        "Morse.params[('A', 'A')]['r0'] must be >= 0, got -0.5",
    ),
    (
        "Yukawa",
        ("A", "A"),
        dict(epsilon=1.0, kappa=-1.0),
        ValueError,
        "Yukawa.params[('A', 'A')]['kappa'] must be >= 0 (0 is Coulomb), got -1.0",
    ),
    # a list key applies one value to several pairs: none is stored when it is rejected
    ("LJ", ("A", ["A", "B"]), dict(epsilon=1.0, sigma=-2.0), ValueError, "['sigma'] must be > 0, got -2.0"),
]

GOOD = {
    "LJ": dict(epsilon=1.0, sigma=1.0),
    "Morse": dict(D0=1.0, alpha=3.0, r0=1.0),
    "Yukawa": dict(epsilon=1.0, kappa=1.0),
    "Gaussian": dict(epsilon=1.0, sigma=1.0),
    "DPDConservative": dict(A=25.0),
    "Rechtsman": dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823),
    "ExpandedLJ": dict(epsilon=1.0, sigma=1.0, delta=0.2),
    "ForceShiftedLJ": dict(epsilon=1.0, sigma=1.0),
    "Buckingham": dict(A=300.0, rho=0.25, C=0.5),
    "Mie": dict(epsilon=1.0, sigma=1.0, n=12.0, m=6.0),
}


def potential(name, **kw):
    kw.setdefault("default_r_cut", 2.5)
    return getattr(ha.md.pair, name)(nlist=cell(), **kw)


@pytest.mark.parametrize("name, key, value, error, fragment", PARAMS_CASES, ids=[c[4][:50] for c in PARAMS_CASES])
def test_params_assignment(name, key, value, error, fragment):
    pot = potential(name)
    pot.params[("A", "A")] = GOOD[name]
    before = pot.params.to_dict()
    with raises(error, fragment):
        pot.params[key] = value
    assert pot.params.to_dict() == before


# r_cut[...] and r_on[...]: (attribute, value, error, fragment)
RCUT_CASES = [
    ("r_cut", NAN, ValueError, "LJ.r_cut[('A', 'B')] must be finite, got nan"),
    ("r_cut", INF, ValueError, "LJ.r_cut[('A', 'B')] must be finite, got inf"),
    ("r_cut", -1.0, ValueError, "LJ.r_cut[('A', 'B')] must be >= 0, got -1.0"),
    ("r_cut", -1e-300, ValueError, "must be >= 0, got -1e-300"),
    ("r_cut", "2.5", TypeError, "LJ.r_cut[('A', 'B')] must be a number, got '2.5' (str)"),
    ("r_cut", True, TypeError, "LJ.r_cut[('A', 'B')] must be a number, got True (bool)"),
    ("r_cut", None, TypeError, "LJ.r_cut[('A', 'B')] must be a number, got None"),
    ("r_cut", np.array([2.0, 3.0]), TypeError, "(array of shape (2,))"),
    ("r_cut", dict(r_cut=2.5), TypeError, "LJ.r_cut[('A', 'B')] must be a number, got {'r_cut': 2.5} (dict)"),
    ("r_on", NAN, ValueError, "LJ.r_on[('A', 'B')] must be finite, got nan"),
    ("r_on", -0.1, ValueError, "LJ.r_on[('A', 'B')] must be >= 0, got -0.1"),
]


@pytest.mark.parametrize("attr, value, error, fragment", RCUT_CASES, ids=[c[3][:50] for c in RCUT_CASES])
def test_rcut_assignment(attr, value, error, fragment):
    pot = lj()
    getattr(pot, attr)[("A", "B")] = 2.0
    with raises(error, fragment):
        getattr(pot, attr)[("B", "A")] = value
    assert getattr(pot, attr)[("A", "B")] == 2.0


# random bad values into random parameters (hypothesis): non-finite values anywhere, negative
# (or zero) values where the potential forbids them
CONSTRAINED = {  # parameter: smallest legal value, open (True: > lo) or closed (False: >= lo)
    "LJ": {"sigma": True},
    "Gaussian": {"sigma": True},
    "Morse": {"alpha": True, "r0": False},
    "Yukawa": {"kappa": False},
    "DPDConservative": {},
    "Rechtsman": {},
    "ExpandedLJ": {"sigma": True},
    "ForceShiftedLJ": {"sigma": True},
    "Buckingham": {"rho": True},
    "Mie": {"sigma": True, "m": True},
}


@pytest.mark.parametrize("name", sorted(GOOD))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_bad_parameters(name, data):
    pot = potential(name)
    pot.params[("A", "B")] = GOOD[name]
    before = pot.params.to_dict()
    names = list(pot._param_spec)
    pname = data.draw(st.sampled_from(names), label="parameter")
    candidates = [st.sampled_from([NAN, INF, -INF])]
    if pname in CONSTRAINED[name]:
        open_ = CONSTRAINED[name][pname]
        candidates.append(st.floats(max_value=0.0 if open_ else -1e-300, allow_nan=False, allow_infinity=False))
    bad = data.draw(st.one_of(candidates), label="value")
    value = dict(GOOD[name], **{pname: bad})
    key = data.draw(st.sampled_from([("A", "B"), ("B", "A"), ("A", ["A", "B"]), (["B"], "A")]), label="key")
    with pytest.raises(ValueError) as err:
        pot.params[key] = value
    msg = str(err.value)
    assert f"{name}.params[" in msg and f"[{pname!r}]" in msg
    assert ("finite" in msg) if not math.isfinite(bad) else (" must be >" in msg)
    assert pot.params.to_dict() == before


# ---------------------------------------------------------------------------------------------
# unknown types: at attach time (the first run) and, once attached, on assignment
def attached_sim():
    pot = lj()
    pot.params[(["A", "B"], ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)
    sim = make_sim(two_type_frame(), forces=[pot], methods=[bd])
    sim.run(1)
    return sim, pot, bd


def test_unknown_type_in_params_at_attach():
    pot = lj()
    pot.params[(["A", "B"], ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    pot.params[("A", "C")] = dict(epsilon=1.0, sigma=1.0)
    sim = make_sim(two_type_frame(), forces=[pot])
    with pytest.raises(KeyError) as err:
        sim.run(1)
    assert "LJ.params: unknown type 'C' in key ('A', 'C'); the state's types are ['A', 'B']" in str(err.value)
    assert isinstance(err.value, ValueError) and sim.timestep == 0


def test_unknown_type_in_filter_at_attach():
    sim = make_sim(two_type_frame(), methods=[ha.md.methods.Brownian(filter=ha.filter.Type(["A", "Q"]), kT=1.0)])
    with raises(KeyError, "filter.Type: unknown type 'Q'; the state's types are ['A', 'B']"):
        sim.run(1)
    assert sim.timestep == 0


def test_unknown_type_in_gamma_at_attach():
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)
    bd.gamma["Z"] = 2.0
    sim = make_sim(two_type_frame(), methods=[bd])
    with raises(UnknownTypeError, "Brownian.gamma: unknown type 'Z' in key 'Z'; the state's types are ['A', 'B']"):
        sim.run(1)


def test_unknown_type_in_params_after_attach():
    sim, pot, bd = attached_sim()
    before = pot.params.to_dict()
    with raises(KeyError, "LJ.params[('A', 'C')]: unknown type 'C'; the state's types are ['A', 'B']"):
        pot.params[(["A", "B"], "C")] = dict(epsilon=1.0, sigma=1.0)
    assert pot.params.to_dict() == before  # not even ('A', 'B') was touched
    sim.run(1)


def test_unknown_type_in_r_cut_after_attach():
    sim, pot, bd = attached_sim()
    with raises(KeyError, "LJ.r_cut[('C', 'C')]: unknown type 'C'"):
        pot.r_cut[("C", "C")] = 2.0
    assert pot.r_cut.keys() == []


def test_unknown_type_in_gamma_after_attach():
    sim, pot, bd = attached_sim()
    with raises(KeyError, "Brownian.gamma['C']: unknown type 'C'; the state's types are ['A', 'B']"):
        bd.gamma[["A", "C"]] = 2.0
    assert bd.gamma.keys() == []


# ---------------------------------------------------------------------------------------------
# integration methods
def All():
    return ha.filter.All()


def BD(**kw):
    kw.setdefault("kT", 1.0)
    return ha.md.methods.Brownian(filter=kw.pop("filter", All()), **kw)


def LV(**kw):
    kw.setdefault("kT", 1.0)
    return ha.md.methods.Langevin(filter=kw.pop("filter", All()), **kw)


def set_gamma(value):
    def go():
        BD().gamma["A"] = value

    return go


def set_gamma_r(value):
    def go():
        LV().gamma_r["A"] = value

    return go


def set_kT(value):
    def go():
        m = LV()
        try:
            m.kT = value
        finally:
            assert m.kT.value == 1.0

    return go


METHOD_CASES = [
    (
        lambda: BD(filter=None),
        TypeError,
        "Brownian: filter must be a hoomd_adjoint.filter filter such as filter.All(), got None",
    ),
    (
        lambda: BD(filter="all"),
        TypeError,
        "filter must be a hoomd_adjoint.filter filter such as filter.All(), got 'all' (str)",
    ),
    (lambda: BD(filter=ha.filter.All), TypeError, "got <class 'hoomd_adjoint.filter.All'>"),
    (
        lambda: LV(filter=[0, 1]),
        TypeError,
        "Langevin: filter must be a hoomd_adjoint.filter filter such as filter.All(), got [0, 1] (list)",
    ),
    (lambda: ha.md.methods.ConstantVolume(filter=ha.filter.Tags), TypeError, "ConstantVolume: filter must be"),
    (lambda: BD(kT=NAN), ValueError, "kT must be finite, got nan"),
    (lambda: BD(kT=INF), ValueError, "kT must be finite, got inf"),
    (lambda: BD(kT=-1.0), ValueError, "kT must be finite and >= 0, got -1.0"),
    (lambda: BD(kT="1.0"), TypeError, "kT must be a number, got '1.0' (str)"),
    (lambda: BD(kT=None), TypeError, "kT must be a number, got None (NoneType)"),
    (lambda: BD(kT=True), TypeError, "kT must be a number, got True (bool)"),
    (lambda: BD(kT=[1.0]), TypeError, "kT must be a number, got [1.0] (list)"),
    (
        lambda: LV(kT=ha.variant.Ramp(1.0, -0.5, 0, 10)),
        ValueError,
        "kT must be finite and >= 0, got -0.5 in Ramp(1.0, -0.5, 0, 10)",
    ),
    (
        lambda: LV(kT=type("V", (ha.variant.Variant,), {})()),
        TypeError,
        "kT: only Constant and Ramp variants are supported",
    ),
    (set_kT(NAN), ValueError, "kT must be finite, got nan"),
    (lambda: BD(default_gamma=NAN), ValueError, "Brownian default_gamma must be finite, got nan"),
    (lambda: BD(default_gamma=INF), ValueError, "Brownian default_gamma must be finite, got inf"),
    (lambda: LV(default_gamma=-INF), ValueError, "Langevin default_gamma must be finite, got -inf"),
    (lambda: LV(default_gamma=0.0), ValueError, "Langevin default_gamma must be > 0, got 0.0"),
    (lambda: BD(default_gamma=-1.0), ValueError, "Brownian default_gamma must be > 0, got -1.0"),
    (lambda: BD(default_gamma="1"), TypeError, "Brownian default_gamma must be a number, got '1' (str)"),
    (lambda: BD(default_gamma=None), TypeError, "Brownian default_gamma must be a number, got None"),
    (set_gamma(INF), ValueError, "Brownian.gamma['A'] must be finite, got inf"),
    (set_gamma(0.0), ValueError, "Brownian.gamma['A'] must be > 0, got 0.0"),
    (set_gamma(False), TypeError, "Brownian.gamma['A'] must be a number, got False (bool)"),
    (lambda: BD(default_gamma_r=(1.0, NAN, 1.0)), ValueError, "Brownian default_gamma_r[1] must be finite, got nan"),
    (lambda: BD(default_gamma_r=(1.0, 1.0)), ValueError, "Brownian default_gamma_r must be 3 numbers (x, y, z), got 2"),
    (lambda: BD(default_gamma_r="abc"), TypeError, "default_gamma_r must be 3 numbers (x, y, z), got 'abc' (str)"),
    (set_gamma_r(-1.0), TypeError, "Langevin.gamma_r['A'] must be 3 numbers (x, y, z), got -1.0 (float)"),
    (set_gamma_r((1.0, -1.0, 1.0)), ValueError, "Langevin.gamma_r['A'][1] must be >= 0, got -1.0"),
    (
        lambda: LV(tally_reservoir_energy="no"),
        TypeError,
        "Langevin tally_reservoir_energy must be True or False, got 'no'",
    ),
    (
        lambda: ha.md.methods.ConstantVolume(filter=All(), thermostat="MTTK"),
        TypeError,
        "ConstantVolume: thermostat must be a hoomd_adjoint.md.methods.thermostats Bussi, Berendsen or MTTK, "
        "or None, got 'MTTK' (str)",
    ),
]


@pytest.mark.parametrize("make, error, fragment", METHOD_CASES, ids=[c[2][:50] for c in METHOD_CASES])
def test_method_arguments(make, error, fragment):
    with raises(error, fragment):
        make()


# ---------------------------------------------------------------------------------------------
# variants
def ramp_set(attr, value):
    def go():
        r = ha.variant.Ramp(0.0, 1.0, 10, 100)
        try:
            setattr(r, attr, value)
        finally:
            assert (r.A, r.B, r.t_start, r.t_ramp) == (0.0, 1.0, 10, 100)

    return go


VARIANT_CASES = [
    (lambda: ha.variant.Constant(NAN), ValueError, "Constant value must be finite, got nan"),
    (lambda: ha.variant.Constant("1"), TypeError, "Constant value must be a number, got '1' (str)"),
    (lambda: ha.variant.Ramp(NAN, 1.0, 0, 10), ValueError, "Ramp A must be finite, got nan"),
    (lambda: ha.variant.Ramp(0.0, INF, 0, 10), ValueError, "Ramp B must be finite, got inf"),
    (lambda: ha.variant.Ramp(0.0, None, 0, 10), TypeError, "Ramp B must be a number, got None"),
    (lambda: ha.variant.Ramp(0.0, 1.0, -1, 10), ValueError, "Ramp t_start must be >= 0, got -1"),
    (lambda: ha.variant.Ramp(0.0, 1.0, 2**64, 10), ValueError, f"Ramp t_start must be <= 2^64 - 2, got {2**64}"),
    (lambda: ha.variant.Ramp(0.0, 1.0, 1.5, 10), TypeError, "Ramp t_start must be an integer, got 1.5 (float)"),
    (lambda: ha.variant.Ramp(0.0, 1.0, NAN, 10), TypeError, "Ramp t_start must be an integer, got nan"),
    (lambda: ha.variant.Ramp(0.0, 1.0, "0", 10), TypeError, "Ramp t_start must be an integer, got '0' (str)"),
    (lambda: ha.variant.Ramp(0.0, 1.0, True, 10), TypeError, "Ramp t_start must be an integer, got True (bool)"),
    (lambda: ha.variant.Ramp(0.0, 1.0, 0, 0), ValueError, "Ramp t_ramp must be >= 1, got 0"),
    (lambda: ha.variant.Ramp(0.0, 1.0, 0, -5), ValueError, "Ramp t_ramp must be >= 1, got -5"),
    (lambda: ha.variant.Ramp(0.0, 1.0, 0, 2.5), TypeError, "Ramp t_ramp must be an integer, got 2.5"),
    (lambda: ha.variant.Ramp(0.0, 1.0, 0, 2**65), ValueError, f"Ramp t_ramp must be <= 2^64 - 1, got {2**65}"),
    (
        lambda: ha.variant.Ramp(0.0, 1.0, 2**63, 2**63),
        ValueError,
        f"Ramp t_start + t_ramp = {2**63} + {2**63} is past the last timestep, 2^64 - 1",
    ),
    (ramp_set("t_ramp", 0), ValueError, "Ramp t_ramp must be >= 1, got 0"),
    (ramp_set("t_start", -3), ValueError, "Ramp t_start must be >= 0, got -3"),
    (ramp_set("t_start", 2**64 - 50), ValueError, "is past the last timestep"),
    (ramp_set("A", NAN), ValueError, "Ramp A must be finite, got nan"),
    (ramp_set("B", "hot"), TypeError, "Ramp B must be a number, got 'hot'"),
]


@pytest.mark.parametrize("make, error, fragment", VARIANT_CASES, ids=[c[2][:50] for c in VARIANT_CASES])
def test_variant_arguments(make, error, fragment):
    with raises(error, fragment):
        make()


# ---------------------------------------------------------------------------------------------
# filters
def apply(filt, N=10):
    frame = make_frame(
        np.stack([np.arange(N) - 4.5, np.zeros(N), np.zeros(N)], axis=1),
        [20, 20, 20, 0, 0, 0],
        typeid=np.arange(N) % 2,
        types=("A", "B"),
    )
    sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
    sim.create_state_from_snapshot(frame)
    return filt(sim.state)


FILTER_CASES = [
    (lambda: ha.filter.Tags([0, -1]), ValueError, "filter.Tags: tags must be in 0..2^32 - 1, got [-1]"),
    (
        lambda: ha.filter.Tags(np.array([3, 2**32])),
        ValueError,
        "filter.Tags: tags must be in 0..2^32 - 1, got [4294967296]",
    ),
    (lambda: ha.filter.Tags([2**70]), ValueError, f"tags must be in 0..2^32 - 1, got [{2**70}]"),
    (lambda: ha.filter.Tags(np.array([2**63], dtype=np.uint64)), ValueError, f"got [{2**63}]"),
    (lambda: ha.filter.Tags([0, 1.5]), TypeError, "filter.Tags: tags must be integers, got [1.5]"),
    (lambda: ha.filter.Tags([1.0, 2.0]), TypeError, "filter.Tags: tags must be integers, got [1.0, 2.0]"),
    (lambda: ha.filter.Tags([0, NAN]), TypeError, "tags must be integers, got [nan]"),
    (lambda: ha.filter.Tags(["0", "1"]), TypeError, "filter.Tags: tags must be integers, got ['0', '1']"),
    (lambda: ha.filter.Tags([True, False]), TypeError, "tags must be integers, got [True, False] (dtype bool)"),
    (lambda: ha.filter.Tags([1, None]), TypeError, "filter.Tags: tags must be integers, got None (NoneType)"),
    (
        lambda: ha.filter.Tags([[0, 1], [2]]),
        ValueError,
        "filter.Tags: tags must be a flat list of integers, got [[0, 1], [2]]",
    ),
    (lambda: ha.filter.Tags(np.zeros((2, 2), int)), ValueError, "got an array of shape (2, 2)"),
    (lambda: ha.filter.Tags(3), TypeError, "filter.Tags: tags must be a list of integers, got 3 (int)"),
    (lambda: ha.filter.Tags(None), TypeError, "tags must be a list of integers, got None"),
    (lambda: ha.filter.Tags("012"), TypeError, "tags must be a list of integers, got '012' (str)"),
    (lambda: apply(ha.filter.Tags([3, 10, 11])), ValueError, "filter.Tags: tags [10, 11] do not exist (N = 10)"),
    (lambda: ha.filter.Type(1), TypeError, "filter.Type: types must be a type name or a list of them, got 1 (int)"),
    (lambda: ha.filter.Type(None), TypeError, "types must be a type name or a list of them, got None"),
    (lambda: ha.filter.Type(["A", None]), TypeError, "filter.Type: type names must be strings, got None"),
    (
        lambda: apply(ha.filter.Type(["B", "a"])),
        KeyError,
        "filter.Type: unknown type 'a'; the state's types are ['A', 'B']",
    ),
]


@pytest.mark.parametrize("make, error, fragment", FILTER_CASES, ids=[c[2][:50] for c in FILTER_CASES])
def test_filter_arguments(make, error, fragment):
    with raises(error, fragment):
        make()


# ---------------------------------------------------------------------------------------------
# triggers
TRIGGER_CASES = [
    (lambda: ha.trigger.Periodic(0), ValueError, "Periodic trigger period must be >= 1, got 0"),
    (lambda: ha.trigger.Periodic(-10), ValueError, "Periodic trigger period must be >= 1, got -10"),
    (lambda: ha.trigger.Periodic(2.5), TypeError, "Periodic trigger period must be an integer, got 2.5 (float)"),
    (lambda: ha.trigger.Periodic(10.0), TypeError, "Periodic trigger period must be an integer, got 10.0"),
    (lambda: ha.trigger.Periodic(NAN), TypeError, "period must be an integer, got nan"),
    (lambda: ha.trigger.Periodic("10"), TypeError, "Periodic trigger period must be an integer, got '10' (str)"),
    (lambda: ha.trigger.Periodic(True), TypeError, "period must be an integer, got True (bool)"),
    (lambda: ha.trigger.Periodic(2**64), ValueError, f"Periodic trigger period must be <= 2^64 - 1, got {2**64}"),
    (lambda: ha.trigger.Periodic(10, phase=-1), ValueError, "Periodic trigger phase must be >= 0, got -1"),
    (lambda: ha.trigger.Periodic(10, phase=0.5), TypeError, "Periodic trigger phase must be an integer, got 0.5"),
    (lambda: ha.trigger.On(-1), ValueError, "On trigger timestep must be >= 0, got -1"),
    (lambda: ha.trigger.On(None), TypeError, "On trigger timestep must be an integer, got None"),
    (
        lambda: ha.trigger.as_trigger("5"),
        TypeError,
        "trigger must be a hoomd_adjoint.trigger Trigger or an integer period, got '5' (str)",
    ),
    (lambda: ha.trigger.as_trigger(0), ValueError, "Periodic trigger period must be >= 1, got 0"),
    (lambda: ha.trigger.as_trigger(ha.trigger.Periodic), TypeError, "got <class 'hoomd_adjoint.trigger.Periodic'>"),
]


@pytest.mark.parametrize("make, error, fragment", TRIGGER_CASES, ids=[c[2][:50] for c in TRIGGER_CASES])
def test_trigger_arguments(make, error, fragment):
    with raises(error, fragment):
        make()


# ---------------------------------------------------------------------------------------------
# neighbour lists
def nl_set(attr, value):
    def go():
        nl = ha.md.nlist.Cell(buffer=0.3, rebuild_check_delay=2, check_dist=False)
        try:
            setattr(nl, attr, value)
        finally:
            assert (nl.buffer, nl.rebuild_check_delay, nl.check_dist) == (0.3, 2, False)

    return go


NLIST_CASES = [
    (lambda: ha.md.nlist.Cell(buffer=NAN), ValueError, "nlist buffer must be finite, got nan"),
    (lambda: ha.md.nlist.Cell(buffer=INF), ValueError, "nlist buffer must be finite, got inf"),
    (lambda: ha.md.nlist.Cell(buffer=-0.1), ValueError, "nlist buffer must be >= 0, got -0.1"),
    (lambda: ha.md.nlist.Cell(buffer="0.4"), TypeError, "nlist buffer must be a number, got '0.4' (str)"),
    (lambda: ha.md.nlist.Cell(buffer=None), TypeError, "nlist buffer must be a number, got None"),
    (lambda: ha.md.nlist.Cell(buffer=True), TypeError, "nlist buffer must be a number, got True (bool)"),
    (
        lambda: ha.md.nlist.Cell(buffer=0.4, exclusions="bond"),
        TypeError,
        "nlist exclusions must be a list of names such as ['bond'], got the string 'bond'",
    ),
    (lambda: ha.md.nlist.Cell(buffer=0.4, exclusions=["bond", "bonds"]), ValueError, "unknown nlist exclusion 'bonds'"),
    (lambda: ha.md.nlist.Cell(buffer=0.4, exclusions=[None]), TypeError, "nlist exclusions must be strings, got None"),
    (
        lambda: ha.md.nlist.Cell(buffer=0.4, exclusions=None),
        TypeError,
        "nlist exclusions must be a list of names such as ['bond'], got None",
    ),
    (
        lambda: ha.md.nlist.Cell(buffer=0.4, rebuild_check_delay=-1),
        ValueError,
        "nlist rebuild_check_delay must be >= 0, got -1",
    ),
    (
        lambda: ha.md.nlist.Cell(buffer=0.4, rebuild_check_delay=1.5),
        TypeError,
        "nlist rebuild_check_delay must be an integer, got 1.5",
    ),
    (
        lambda: ha.md.nlist.Cell(buffer=0.4, rebuild_check_delay=2**31),
        ValueError,
        f"nlist rebuild_check_delay must be <= 2^31 - 1, got {2**31}",
    ),
    (lambda: ha.md.nlist.Cell(buffer=0.4, rebuild_check_delay=10**30), ValueError, "must be <= 2^31 - 1"),
    (
        lambda: ha.md.nlist.Cell(buffer=0.4, rebuild_check_delay=NAN),
        TypeError,
        "rebuild_check_delay must be an integer, got nan",
    ),
    (
        lambda: ha.md.nlist.Cell(buffer=0.4, check_dist="no"),
        TypeError,
        "nlist check_dist must be True or False, got 'no'",
    ),
    (lambda: ha.md.nlist.Cell(buffer=0.4, check_dist=2), TypeError, "nlist check_dist must be True or False, got 2"),
    (nl_set("buffer", NAN), ValueError, "nlist buffer must be finite, got nan"),
    (nl_set("buffer", -1.0), ValueError, "nlist buffer must be >= 0, got -1.0"),
    (nl_set("rebuild_check_delay", -3), ValueError, "nlist rebuild_check_delay must be >= 0, got -3"),
    (nl_set("rebuild_check_delay", "5"), TypeError, "nlist rebuild_check_delay must be an integer, got '5'"),
    (nl_set("check_dist", None), TypeError, "nlist check_dist must be True or False, got None"),
]


@pytest.mark.parametrize("make, error, fragment", NLIST_CASES, ids=[c[2][:50] for c in NLIST_CASES])
def test_nlist_arguments(make, error, fragment):
    with raises(error, fragment):
        make()


# ---------------------------------------------------------------------------------------------
# integrator (construction and assignment)
def integ_set(attr, value):
    def go():
        m, f = BD(), lj()
        integ = ha.md.Integrator(dt=0.005, methods=[m], forces=[f])
        try:
            setattr(integ, attr, value)
        finally:
            assert integ.dt == 0.005 and integ.methods == [m] and integ.forces == [f]

    return go


def Integ(**kw):
    kw.setdefault("dt", 1e-3)
    return ha.md.Integrator(**kw)


INTEGRATOR_CASES = [
    (lambda: Integ(dt=NAN), ValueError, "dt must be positive and finite, got nan"),
    (lambda: Integ(dt=INF), ValueError, "dt must be positive and finite, got inf"),
    (lambda: Integ(dt=0), ValueError, "dt must be positive and finite, got 0.0"),
    (lambda: Integ(dt=-1e-3), ValueError, "dt must be positive and finite, got -0.001"),
    (lambda: Integ(dt="0.001"), TypeError, "dt must be a number, got '0.001' (str)"),
    (lambda: Integ(dt=None), TypeError, "dt must be a number, got None"),
    (lambda: Integ(dt=True), TypeError, "dt must be a number, got True (bool)"),
    (lambda: Integ(dt=np.array([1e-3, 2e-3])), TypeError, "dt must be a number, got array"),
    (integ_set("dt", NAN), ValueError, "dt must be positive and finite, got nan"),
    (
        lambda: Integ(forces=[cell()]),
        TypeError,
        "Integrator forces[0] is not a force: it is a neighbour list (nlist.Cell): pass it to a pair potential as nlist=",
    ),
    (
        lambda: Integ(forces=[lj(), BD()]),
        TypeError,
        "Integrator forces[1] is not a force: it is an integration method (Brownian): put it in methods=",
    ),
    (lambda: Integ(forces=[None]), TypeError, "Integrator forces[0] is not a force: it is None (NoneType)"),
    (
        lambda: Integ(forces=[ha.md.pair.LJ]),
        TypeError,
        "forces[0] is not a force: it is the class LJ, not an instance of it",
    ),
    (
        lambda: Integ(forces=lj()),
        TypeError,
        "Integrator forces must be a list of forces, got a force (LJ): put it in forces=",
    ),
    (lambda: Integ(forces="LJ"), TypeError, "Integrator forces must be a list of forces, got 'LJ' (str)"),
    (lambda: Integ(forces=5), TypeError, "Integrator forces must be a list of forces, got 5 (int)"),
    (
        lambda: Integ(methods=[lj()]),
        TypeError,
        "Integrator methods[0] is not an integration method: it is a force (LJ): put it in forces=",
    ),
    (
        lambda: Integ(methods=[All()]),
        TypeError,
        "Integrator methods[0] is not an integration method: it is All() (All)",
    ),
    (
        lambda: Integ(methods=BD()),
        TypeError,
        "Integrator methods must be a list of integration methods, got an integration method (Brownian)",
    ),
    (
        lambda: Integ(methods={"bd": BD()}),
        TypeError,
        "Integrator methods must be a list of integration methods, got {'bd':",
    ),
    (integ_set("forces", [cell()]), TypeError, "Integrator forces[0] is not a force: it is a neighbour list"),
    (
        integ_set("methods", [BD(), 1.0]),
        TypeError,
        "Integrator methods[1] is not an integration method: it is 1.0 (float)",
    ),
    (
        lambda: (lambda f: Integ(forces=[f, f]))(lj()),
        ValueError,
        "Integrator forces[1] is the same LJ object as forces[0]; each force may appear once",
    ),
    (
        lambda: (lambda m: Integ(methods=[m, m]))(BD()),
        ValueError,
        "Integrator methods[1] is the same Brownian object as methods[0]",
    ),
    (
        lambda: Integ(rigid="rigid"),
        TypeError,
        "Integrator rigid must be a hoomd_adjoint.md.constrain.Rigid or None, got 'rigid'",
    ),
    (
        lambda: Integ(integrate_rotational_dof="no"),
        TypeError,
        "integrate_rotational_dof must be True or False, got 'no'",
    ),
    (
        lambda: Integ(integrate_rotational_dof=None),
        TypeError,
        "integrate_rotational_dof must be True or False, got None",
    ),
]


@pytest.mark.parametrize("make, error, fragment", INTEGRATOR_CASES, ids=[c[2][:50] for c in INTEGRATOR_CASES])
def test_integrator_arguments(make, error, fragment):
    with raises(error, fragment):
        make()


# integrator problems that show only at run time: the run is rejected before anything changes
def test_run_time_nlist_appended_as_force():
    sim, pot, bd = attached_sim()
    sim.operations.integrator.forces.append(pot.nlist)
    with raises(TypeError, "Integrator forces[1] is not a force: it is a neighbour list (nlist.Cell)"):
        sim.run(1)
    sim.operations.integrator.forces.pop()
    sim.run(1)
    assert sim.timestep == 2


def test_run_time_overlapping_methods():
    bd = BD(filter=ha.filter.Type("A"))
    nve = ha.md.methods.ConstantVolume(filter=ha.filter.Tags([1, 2, 3]))
    sim = make_sim(two_type_frame(), methods=[bd, nve])
    with raises(
        ValueError,
        "particle tag 2 is in more than one integration method: methods[0] "
        "Brownian(filter=Type(['A']), kT=Constant(1.0)) and methods[1] "
        "ConstantVolume(filter=Tags([1, 2, 3])) (1 shared particle(s))",
    ):
        sim.run(1)
    assert sim.timestep == 0


def test_run_time_force_in_two_simulations():
    """Sharing a force gave the second simulation the first one's neighbour list: a silently wrong
    energy (-2.1 instead of -15.9 for these frames)."""
    shared = lj()
    shared.params[(["A", "B"], ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    first = make_sim(two_type_frame(1), forces=[shared])
    first.run(0)
    second = make_sim(two_type_frame(2), forces=[shared])
    with raises(
        ValueError, "this LJ is already a force of another Simulation's integrator: a force belongs to one simulation"
    ):
        second.run(0)
    first.operations.integrator = None  # released: now it may move, and its list is rebuilt
    second.run(0)
    fresh = lj()
    fresh.params[(["A", "B"], ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    twin = make_sim(two_type_frame(2), forces=[fresh])
    twin.run(0)
    assert shared.energy == fresh.energy


def test_run_time_nlist_in_two_simulations():
    nl = cell()
    a, b = lj(nlist=nl), lj(nlist=nl)
    for p in (a, b):
        p.params[(["A", "B"], ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    make_sim(two_type_frame(1), forces=[a]).run(0)
    sim = make_sim(two_type_frame(2), forces=[b])
    with raises(ValueError, "LJ.nlist is already used by a force of another Simulation's integrator"):
        sim.run(0)


def test_run_time_integrator_in_two_simulations():
    sim, pot, bd = attached_sim()
    other = ha.Simulation(device=ha.device.CPU(1), seed=2)
    other.create_state_from_snapshot(two_type_frame(3))
    with raises(ValueError, "this Integrator is already the integrator of another Simulation"):
        other.operations.integrator = sim.operations.integrator


# ---------------------------------------------------------------------------------------------
# CPU device
DEVICE_CASES = [
    (lambda: ha.device.CPU(0), ValueError, "num_cpu_threads must be >= 1, got 0"),
    (lambda: ha.device.CPU(-4), ValueError, "num_cpu_threads must be >= 1, got -4"),
    (lambda: ha.device.CPU(2.5), TypeError, "num_cpu_threads must be an integer, got 2.5 (float)"),
    (lambda: ha.device.CPU(2.0), TypeError, "num_cpu_threads must be an integer, got 2.0 (float)"),
    (lambda: ha.device.CPU("2"), TypeError, "num_cpu_threads must be an integer, got '2' (str)"),
    (lambda: ha.device.CPU(True), TypeError, "num_cpu_threads must be an integer, got True (bool)"),
    (lambda: ha.device.CPU(NAN), TypeError, "num_cpu_threads must be an integer, got nan"),
    (
        lambda: ha.device.CPU(10**9),
        ValueError,
        f"num_cpu_threads must be <= {ha.device.MAX_THREADS} (the larger of 1024",
    ),
    (lambda: ha.device.CPU(2**70), ValueError, f"got {2**70}"),
    (
        lambda: ha.device.CPU(1, adaptive_threads="yes"),
        TypeError,
        "CPU adaptive_threads must be True or False, got 'yes'",
    ),
    (
        lambda: ha.device.CPU(1, adaptive_threads=None),
        TypeError,
        "CPU adaptive_threads must be True or False, got None",
    ),
    (lambda: setattr(ha.device.CPU(1), "num_cpu_threads", 0), ValueError, "num_cpu_threads must be >= 1, got 0"),
]


@pytest.mark.parametrize("make, error, fragment", DEVICE_CASES, ids=[c[2][:50] for c in DEVICE_CASES])
def test_device_arguments(make, error, fragment):
    with raises(error, fragment):
        make()


def test_bad_omp_num_threads_falls_back(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4,2")
    assert ha.device.CPU().num_cpu_threads == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert 1 <= ha.device.CPU().num_cpu_threads <= ha.device.MAX_THREADS


# ---------------------------------------------------------------------------------------------
# reject, then run: a rejected change leaves an attached simulation bitwise on the track of an
# untouched twin. Each case: (action on (sim, pot, method), error, fragment)
def build_twin_pair():
    def one():
        pot = ha.md.pair.Morse(
            nlist=ha.md.nlist.Cell(buffer=0.4, rebuild_check_delay=1), default_r_cut=2.5, mode="shift"
        )
        pot.params[("A", ["A", "B"])] = dict(D0=1.0, alpha=3.0, r0=1.1)
        pot.params[("B", "B")] = dict(D0=0.8, alpha=2.5, r0=1.2)
        m = ha.md.methods.Langevin(filter=ha.filter.All(), kT=ha.variant.Ramp(0.5, 1.0, 0, 20), default_gamma=0.8)
        m.gamma["B"] = 1.3
        sim = make_sim(two_type_frame(), forces=[pot], methods=[m], dt=2e-3, seed=9)
        sim.run(5)
        return sim, pot, m

    return one(), one()


def _ramp_B_negative(s, p, m):
    m.kT.B = -1.0  # a legal Ramp, an illegal kT: refused when the run starts
    try:
        s.run(1)
    finally:
        m.kT.B = 1.0


TWIN_CASES = [
    (
        lambda s, p, m: p.params.__setitem__(("A", "B"), dict(D0=NAN, alpha=3.0, r0=1.1)),
        ValueError,
        "Morse.params[('A', 'B')]['D0'] must be finite, got nan",
    ),
    (
        lambda s, p, m: p.params.__setitem__((["A", "B"], "B"), dict(D0=1.0, alpha=-3.0, r0=1.1)),
        ValueError,
        "['alpha'] must be > 0, got -3.0",
    ),
    (
        lambda s, p, m: p.params.__setitem__(("A", "B"), dict(D0=1.0, alpha="3", r0=1.1)),
        TypeError,
        "['alpha'] must be a number, got '3'",
    ),
    (lambda s, p, m: p.params.__setitem__(("A", "Q"), dict(D0=1.0, alpha=3.0, r0=1.1)), KeyError, "unknown type 'Q'"),
    (
        lambda s, p, m: p.r_cut.__setitem__(("A", "A"), INF),
        ValueError,
        "Morse.r_cut[('A', 'A')] must be finite, got inf",
    ),
    (
        lambda s, p, m: p.r_cut.__setitem__(("B", "B"), -2.5),
        ValueError,
        "Morse.r_cut[('B', 'B')] must be >= 0, got -2.5",
    ),
    (
        lambda s, p, m: setattr(p, "mode", "XPLOR"),
        ValueError,
        "mode must be one of ('none', 'shift', 'xplor'), got 'XPLOR'",
    ),
    (lambda s, p, m: setattr(p, "nlist", None), TypeError, "nlist must be a hoomd_adjoint.md.nlist.Cell, got None"),
    (lambda s, p, m: setattr(p.nlist, "buffer", NAN), ValueError, "nlist buffer must be finite, got nan"),
    (
        lambda s, p, m: setattr(p.nlist, "rebuild_check_delay", -1),
        ValueError,
        "rebuild_check_delay must be >= 0, got -1",
    ),
    (lambda s, p, m: m.gamma.__setitem__("B", 0.0), ValueError, "Langevin.gamma['B'] must be > 0, got 0.0"),
    (lambda s, p, m: m.gamma.__setitem__(["A", "B"], INF), ValueError, "Langevin.gamma['A'] must be finite, got inf"),
    (lambda s, p, m: setattr(m, "kT", -0.1), ValueError, "kT must be finite and >= 0, got -0.1"),
    (lambda s, p, m: setattr(m, "filter", None), TypeError, "Langevin: filter must be a hoomd_adjoint.filter filter"),
    (
        lambda s, p, m: setattr(s.operations.integrator, "dt", 0.0),
        ValueError,
        "dt must be positive and finite, got 0.0",
    ),
    (
        lambda s, p, m: setattr(s.operations.integrator, "forces", [p, p.nlist]),
        TypeError,
        "Integrator forces[1] is not a force: it is a neighbour list",
    ),
    (_ramp_B_negative, ValueError, "kT must be finite and >= 0, got -1.0 in Ramp(0.5, -1.0, 0, 20)"),
    (
        lambda s, p, m: (
            s.operations.integrator.methods.append(ha.md.methods.Brownian(filter=ha.filter.Tags([0]), kT=1.0)),
            s.run(1),
        ),
        ValueError,
        "particle tag 0 is in more than one integration method",
    ),
]


@pytest.mark.parametrize("action, error, fragment", TWIN_CASES, ids=[c[2][:50] for c in TWIN_CASES])
def test_reject_then_run_matches_twin(action, error, fragment):
    (sim, pot, m), (twin, _, _) = build_twin_pair()
    with raises(error, fragment):
        action(sim, pot, m)
    methods = sim.operations.integrator.methods
    del methods[1:]  # undo the appended overlapping method (its run was refused)
    assert sim.timestep == twin.timestep == 5
    sim.run(10)
    twin.run(10)
    a, b = sim.state.get_snapshot().particles, twin.state.get_snapshot().particles
    for field in ("position", "velocity", "image"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert pot.energy == twin.operations.integrator.forces[0].energy


# ---------------------------------------------------------------------------------------------
# not a hostile input: the edges of the legal ranges (HOOMD-blue's) are still accepted
def test_legal_edge_values_are_accepted():
    nl = ha.md.nlist.Cell(buffer=0, exclusions=[], rebuild_check_delay=0, check_dist=np.bool_(True))
    pot = ha.md.pair.Yukawa(nlist=nl, default_r_cut=np.float32(2.5), default_r_on=0, mode="shift")
    pot.params[("A", ["A", "B"])] = dict(epsilon=np.float64(-1.0), kappa=0)  # attractive Coulomb
    pot.params[("B", "B")] = dict(epsilon=1, kappa=np.array(0.5))  # ints and 0-d arrays are numbers
    pot.r_cut[("B", "B")] = 0  # switches the pair off
    morse = ha.md.pair.Morse(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    morse.params[(["A", "B"], ["A", "B"])] = dict(D0=-1.0, alpha=1e-9, r0=0.0)
    bd = ha.md.methods.Brownian(
        filter=ha.filter.Tags(np.array([0, 2, 2, 4], dtype=np.uint8)),
        kT=0,
        default_gamma=0.5,
        default_gamma_r=[0, 0, 0],
    )
    nve = ha.md.methods.ConstantVolume(filter=ha.filter.Type(("B",)))
    integ = ha.md.Integrator(dt=np.float64(1e-12), methods=(m for m in [bd, nve]), forces=None)
    integ.forces = [pot, morse]
    sim = ha.Simulation(device=ha.device.CPU(np.int64(1), adaptive_threads=0), seed=1)
    sim.create_state_from_snapshot(two_type_frame())
    sim.operations.integrator = integ
    sim.run(3)
    assert sim.timestep == 3 and integ.methods == [bd, nve]
    assert ha.variant.Ramp(0, 1, 2**64 - 2, 1)(2**64 - 1) == 1.0
    assert ha.trigger.Periodic(2**64 - 1, phase=2**64 - 1)(2**64 - 1)
    assert ha.device.CPU(ha.device.MAX_THREADS).num_cpu_threads == ha.device.MAX_THREADS
