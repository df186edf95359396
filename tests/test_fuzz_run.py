"""Hostile inputs to gradient(), losses, ensembles and the engine's integer ranges.

Classes (cases, parametrized ones counted individually):
  gradient arguments ............ GRADIENT_CASES
  wrt entries ................... WRT_CASES
  loss return values ............ LOSS_RETURN_CASES
  built-in losses ............... LOSS_OBJECT_CASES
  ensemble arguments ............ test_ensemble.py::test_bad_arguments and the cases here
  integer overflow (subprocess) . OVERFLOW_CASES
Every case asserts the exception type and a fragment of its message that names the cause, and
that a rejected gradient leaves the simulation exactly where it was and still runnable.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import TESTS, make_frame, make_sim, random_positions, subprocess_env


@pytest.fixture
def setup(rng):
    box = [8, 8, 8, 0, 0, 0]
    frame = make_frame(random_positions(rng, 40, box, min_dist=1.0), box)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim = make_sim(frame, [lj], methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
    return sim, lj, frame


def ok_loss(frame):
    return float(np.sum(frame.positions[:, 0])), np.tile([1.0, 0.0, 0.0], (len(frame.positions), 1))


def unchanged_and_runnable(sim, frame, lj):
    """A rejected call changed nothing: same timestep and positions, and the next 5 steps are
    bitwise those of an untouched twin."""
    assert sim.timestep == 0
    assert np.array_equal(sim.state.get_snapshot().particles.position, frame.particles.position)
    twin_lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    twin_lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    twin = make_sim(frame, [twin_lj], methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
    sim.run(5)
    twin.run(5)
    assert np.array_equal(sim.state.get_snapshot().particles.position, twin.state.get_snapshot().particles.position)


GRADIENT_CASES = [
    (dict(steps=2.5), TypeError, "steps must be an integer, got 2.5"),
    (dict(steps=float("nan")), TypeError, "steps must be an integer, got nan"),
    (dict(steps="10"), TypeError, "steps must be an integer, got '10'"),
    (dict(steps=True), TypeError, "steps must be an integer, got True"),
    (dict(steps=0), ValueError, "steps must be >= 1, got 0"),
    (dict(steps=-3), ValueError, "steps must be >= 1, got -3"),
    (dict(steps=10**30), ValueError, "would pass the largest timestep"),
    (dict(steps=2**64), ValueError, "would pass the largest timestep"),
    (dict(frames=[0, 11]), ValueError, "frames entry must be <= 10, got 11"),
    (dict(frames=[-1]), ValueError, "frames entry must be >= 0, got -1"),
    (dict(frames=[1.5]), TypeError, "frames entry must be an integer, got 1.5"),
    (dict(frames=3), TypeError, "frames: expected a list, got 3"),
    (dict(memory=-5), ValueError, "memory (bytes) must be >= 1, got -5"),
    (dict(memory=0), ValueError, "memory (bytes) must be >= 1, got 0"),
    (dict(memory=1e6), TypeError, "memory (bytes) must be an integer"),
    (dict(memory=float("inf")), TypeError, "memory (bytes) must be an integer, got inf"),
    (dict(truncate=0), ValueError, "truncate must be >= 1, got 0"),
    (dict(truncate=11), ValueError, "truncate must be <= 10, got 11"),
    (dict(truncate=2.0), TypeError, "truncate must be an integer"),
    (dict(mode="backward"), ValueError, "mode must be 'reverse' or 'forward', got 'backward'"),
    (dict(mode=None), ValueError, "mode must be 'reverse' or 'forward', got None"),
    (dict(clip=float("nan")), ValueError, "clip must be finite, got nan"),
    (dict(clip=-1.0), ValueError, "clip must be > 0, got -1.0"),
    (dict(clip=0), ValueError, "clip must be > 0, got 0.0"),
    (dict(clip="big"), TypeError, "clip must be a number, got 'big'"),
    (dict(loss=None), TypeError, "loss must be callable"),
    (dict(loss=np.zeros(3)), TypeError, "loss must be callable"),
    (dict(sim="sim"), TypeError, "sim must be a hoomd_adjoint.Simulation, got 'sim'"),
]


@pytest.mark.parametrize("bad, error, message", GRADIENT_CASES, ids=[repr(c[0])[:40] for c in GRADIENT_CASES])
def test_gradient_arguments(setup, bad, error, message):
    sim, lj, frame = setup
    args = dict(sim=sim, steps=10, loss=ok_loss, wrt=[lj])
    args.update(bad)
    with pytest.raises(error, match=_re(message)):
        ha.adjoint.gradient(**args)
    unchanged_and_runnable(sim, frame, lj)


def _re(text):
    import re

    return re.escape(text)


def _wrt_cases(lj):
    other = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    return [
        ("temperature", ValueError, "unknown wrt entry 'temperature'"),
        (["kt"], ValueError, "unknown wrt entry 'kt'"),
        ([], ValueError, "wrt is empty"),
        (3, TypeError, "wrt must be a list"),
        ([3], TypeError, "wrt entry 3 (int) is not a pair force"),
        ([None], TypeError, "wrt entry None (NoneType) is not a pair force"),
        ([lj.nlist], TypeError, "is not a pair force"),
        ([other], ValueError, "is not a pair force of this simulation's integrator"),
        ([(lj, ["epsilon", "alpha"])], ValueError, "LJ has no parameter 'alpha'"),
        ([(lj, [])], ValueError, "names no parameter"),
        ([(lj, [1])], TypeError, "parameter names must be strings"),
        ([(lj,)], ValueError, "use (pair force, [parameter names])"),
        ([("epsilon", lj)], ValueError, "use (pair force, [parameter names])"),
        (["gamma", "positions", "kT", "T"], ValueError, "unknown wrt entry 'T'"),
    ]


WRT_CASES = 14


@pytest.mark.parametrize("k", range(WRT_CASES))
def test_wrt_entries(setup, k):
    sim, lj, frame = setup
    wrt, error, message = _wrt_cases(lj)[k]
    with pytest.raises(error, match=_re(message)):
        ha.adjoint.gradient(sim, 10, ok_loss, wrt)
    unchanged_and_runnable(sim, frame, lj)


def test_single_wrt_entries_are_accepted(setup):
    """A bare "kT", a force or a (force, names) tuple is one entry, not a sequence to iterate."""
    sim, lj, frame = setup
    a = ha.adjoint.gradient(sim, 5, ok_loss, "kT").grad("kT")
    lj2 = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj2.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim2 = make_sim(frame, [lj2], methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
    assert ha.adjoint.gradient(sim2, 5, ok_loss, ["kT"]).grad("kT") == a


LOSS_RETURN_CASES = [
    (lambda f: np.zeros((len(f.positions), 3)), TypeError, "the loss returned an array of shape"),
    (lambda f: 1.0, TypeError, "the loss returned float 1.0"),
    (lambda f: None, TypeError, "the loss returned NoneType"),
    (lambda f: (1.0,), TypeError, "a loss must return (value, d value / d positions)"),
    (lambda f: (1.0, 2.0, 3.0, 4.0), TypeError, "a loss must return"),
    (lambda f: ("one", np.zeros_like(f.positions)), TypeError, "must return a number and an (N, 3) array"),
    (lambda f: (1.0, np.zeros((3, 3))), ValueError, "loss gradient has shape (3, 3), expected (40, 3)"),
    (lambda f: (1.0, np.zeros(len(f.positions) * 3)), ValueError, "loss gradient has shape (120,)"),
    (lambda f: (float("nan"), np.zeros_like(f.positions)), FloatingPointError, "the loss is not finite at step 10"),
    (lambda f: (float("inf"), np.zeros_like(f.positions)), FloatingPointError, "the loss is not finite"),
    (
        lambda f: (1.0, np.where(np.arange(40)[:, None] == 7, np.inf, 0.0) * np.ones((1, 3))),
        FloatingPointError,
        "particle tags [7]",
    ),
    (lambda f: (1.0, np.zeros_like(f.positions), [1, 2]), TypeError, "third element must be {force:"),
    (lambda f: (1.0, np.zeros_like(f.positions), {"lj": np.zeros(1)}), ValueError, "is not a force of this"),
]


@pytest.mark.parametrize("k", range(len(LOSS_RETURN_CASES)))
def test_loss_return_values(setup, k):
    sim, lj, frame = setup
    loss, error, message = LOSS_RETURN_CASES[k]
    with pytest.raises(error, match=_re(message)):
        ha.adjoint.gradient(sim, 10, loss, [lj])


def test_loss_parameter_derivative_not_finite(setup):
    sim, lj, frame = setup
    with pytest.raises(FloatingPointError, match="derivative with respect to LJ parameters is not finite"):
        ha.adjoint.gradient(sim, 10, lambda f: (1.0, np.zeros_like(f.positions), {lj: np.full(2, np.nan)}), [lj])


LOSS_OBJECT_CASES = [
    (lambda lj: ha.loss.PotentialEnergy("lj"), TypeError, "PotentialEnergy needs a pair force, got 'lj'"),
    (lambda lj: ha.loss.MeanSquaredDisplacement(np.zeros((40, 2))), ValueError, "reference must be an (N, 3) array"),
    (lambda lj: ha.loss.MeanSquaredDisplacement([]), ValueError, "got shape (0,)"),
    (
        lambda lj: ha.loss.MeanSquaredDisplacement(np.full((40, 3), np.nan)),
        ValueError,
        "reference positions of tags [0, 1, 2",
    ),
    (lambda lj: ha.loss.GroupDistance([], [1]), ValueError, "group_a must be a non-empty list of particle tags"),
    (lambda lj: ha.loss.GroupDistance([0], [[1, 2]]), ValueError, "group_b must be a non-empty list"),
    (lambda lj: ha.loss.GroupDistance([0.5], [1]), TypeError, "group_a must hold integer tags, got float64"),
    (lambda lj: ha.loss.GroupDistance([True], [1]), TypeError, "group_a must hold integer tags, got bool"),
    (lambda lj: ha.loss.GroupDistance([0], [-1]), ValueError, "group_b holds negative tags [-1]"),
]


@pytest.mark.parametrize("k", range(len(LOSS_OBJECT_CASES)))
def test_loss_objects_rejected_at_construction(setup, k):
    sim, lj, frame = setup
    make, error, message = LOSS_OBJECT_CASES[k]
    with pytest.raises(error, match=_re(message)):
        make(lj)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda lj: ha.loss.PotentialEnergy(ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)),
            ValueError,
            "is not a force of this simulation's integrator",
        ),
        (
            lambda lj: ha.loss.MeanSquaredDisplacement(np.zeros((41, 3))),
            ValueError,
            "the reference holds 41 particles, the simulation 40",
        ),
        (lambda lj: ha.loss.GroupDistance([0], [40]), ValueError, "group_b holds tags [40], but there are only 40"),
        (lambda lj: ha.loss.GroupDistance([0, 1], [1, 0]), FloatingPointError, "centres coincide at step 10"),
    ],
)
def test_loss_objects_rejected_on_use(setup, make, error, message):
    sim, lj, frame = setup
    with pytest.raises(error, match=_re(message)):
        ha.adjoint.gradient(sim, 10, make(lj), [lj])


def _run_snippet(code):
    """Run code that could crash the process (a segfault is exit code -11) in a subprocess."""
    prelude = textwrap.dedent("""
        import numpy as np, hoomd_adjoint as ha, gsd.hoomd
        def sim_in_box(L, N=50, seed=0, r_cut=2.5):
            f = gsd.hoomd.Frame()
            f.configuration.box = [L, L, L, 0, 0, 0]
            f.particles.N = N
            f.particles.types = ["A"]
            f.particles.typeid = np.zeros(N, np.uint32)
            f.particles.position = np.random.default_rng(seed).uniform(-L / 2, L / 2, (N, 3))
            sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
            sim.create_state_from_snapshot(f)
            lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=r_cut)
            lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
            sim.operations.integrator = ha.md.Integrator(
                dt=1e-3, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)], forces=[lj])
            return sim, lj
    """)
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(),
        cwd=TESTS,
    )
    return proc.returncode, proc.stdout + proc.stderr


OVERFLOW_CASES = [
    # a box of edge 1e12: the cell count overflowed int (segfault); cells are now capped
    ("sim, lj = sim_in_box(1e12)\nsim.run(10)\nprint('energy', lj.energy)", 0, "energy 0.0"),
    ("sim, lj = sim_in_box(1e300, N=3)\nsim.run(3)", 1, "box lengths must be positive and small enough"),
    ("sim, lj = sim_in_box(1e6, N=2000)\nsim.run(2)\nprint('ran', sim.timestep)", 0, "ran 2"),
    # a cutoff far larger than anything else: the nlist must still refuse a box too small for it
    ("sim, lj = sim_in_box(10, r_cut=1e9)\nsim.run(1)", 1, "too large for the box"),
    # timesteps near 2^64
    (
        "sim, lj = sim_in_box(20)\nsim.state._cpp.timestep = 2**64 - 5\nsim.run(4)\nprint('at', sim.timestep)",
        0,
        "at 18446744073709551615",
    ),
    ("sim, lj = sim_in_box(20)\nsim.state._cpp.timestep = 2**64 - 5\nsim.run(10)", 1, "2^64 - 1"),
    (
        "sim, lj = sim_in_box(20)\nsim.state._cpp.timestep = 2**64 - 5\n"
        "ha.adjoint.gradient(sim, 10, ha.loss.PotentialEnergy(lj), [lj])",
        1,
        "would pass the largest timestep",
    ),
]


@pytest.mark.parametrize("code, rc, message", OVERFLOW_CASES, ids=[f"overflow{k}" for k in range(len(OVERFLOW_CASES))])
def test_integer_ranges_in_a_subprocess(code, rc, message):
    got_rc, out = _run_snippet(code)
    assert got_rc == rc, out  # never a signal (negative return code)
    assert message in out, out


def test_ensemble_options_are_checked_before_any_replica_runs():
    from test_ensemble import build, energy_loss, wrt

    ens = ha.Ensemble(build, replicas=2, threads=2)
    with pytest.raises(TypeError, match="steps must be an integer, got 2.5"):
        ens.gradient(2.5, energy_loss, wrt)
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward'"):
        ens.gradient(10, energy_loss, wrt, mode="sideways")
    assert all(ens.simulation(i).timestep == 0 for i in range(2)) and not ens.failures


def test_image_counter_limit_during_a_run():
    """A particle whose image counter reaches the int32 limit stops the run with its tag, not a
    silent wrap-around to -2^31."""
    code = """
sim, lj = sim_in_box(20, N=2)
snap = sim.state.get_snapshot()
snap.particles.image[0] = [2**31 - 2, 0, 0]
snap.particles.position[0] = [9.9999, 0, 0]
snap.particles.velocity[0] = [50.0, 0, 0]
sim2 = ha.Simulation(device=ha.device.CPU(1), seed=1)
sim2.create_state_from_snapshot(snap)
sim2.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())])
sim2.run(10)
"""
    rc, out = _run_snippet(code)
    assert rc == 1, out
    assert "particle tag 0's image counter along x reached the int32 limit 2147483647 at step" in out, out
