"""Fuzz: hostile input to Simulation, the State, create_state_from_snapshot/_gsd, Simulation.run,
write.GSD, Box and the lattice helpers.

CLASSES (test cases per class, parametrized cases counted one by one, a hypothesis test once;
kept current by test_classes_docstring_is_current):
  overflow ..... 36
  partial ...... 5
  nonfinite .... 36
  malformed .... 93
  files ........ 19
  writers ...... 23
  lattice ...... 16
  empty ........ 3

Every case asserts the exception type and a fragment of its message that names the cause (the
argument, the offending value and, for per-particle data, the particle tag). Snapshot cases run
through both entry points: create_state_from_snapshot (a rejected snapshot leaves no state, and
a valid one afterwards gives the same run as an untouched simulation) and State.set_snapshot (a
rejected snapshot leaves the state bit for bit as it was, and the next 10 steps are bit for bit
those of an untouched twin). Inputs that could crash the process run in a subprocess, which
must exit normally with the expected message.
"""

# Classes:
#   overflow  - integer overflow: image counters (int32), timesteps (uint64), N (uint32), boxes
#               whose products overflow; run(10**30); checked without crashing (subprocesses)
#   partial   - partial updates: a rejected input changes nothing; writers checked before any
#               opens (and truncates) its file; a killed run leaves its frames readable
#   nonfinite - NaN/inf (and non-integral numbers where integers belong) in every field, the box,
#               run(steps), the seed, the trigger
#   malformed - wrong types, shapes, dtypes, lengths, names and ranges in snapshots, boxes,
#               Simulation(device, seed), run(steps, write_at_start)
#   files     - create_state_from_gsd: missing file, directory, not GSD, truncated, frame index
#               out of range or not an integer, a frame without positions
#   writers   - write.GSD: trigger, filename, mode, truncate, dynamic, filter
#   lattice   - cubic/random_packing: N <= 0, impossible densities, bad arguments
#   empty     - N = 0: a working empty simulation (runs, writes and reads back)
import os
import re
import signal
import subprocess
import sys
import textwrap

import gsd.hoomd
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import cubic, random_packing
from conftest import TESTS, make_frame, make_sim, random_positions, subprocess_env

N = 12
BOX = [8.0, 7.5, 7.0, 0.1, 0.0, 0.2]
FIELDS = [
    "position",
    "velocity",
    "image",
    "typeid",
    "mass",
    "charge",
    "diameter",
    "body",
    "orientation",
    "angmom",
    "moment_inertia",
]
FLOAT_FIELDS = ["position", "velocity", "mass", "charge", "diameter", "orientation", "angmom", "moment_inertia"]
WIDTH = {"position": 3, "velocity": 3, "image": 3, "orientation": 4, "angmom": 4, "moment_inertia": 3}
nan, inf = float("nan"), float("inf")
UINT64_MAX = 2**64 - 1
FAST = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


# -- helpers --------------------------------------------------------------------------------------
def base_frame(seed=5):
    rng = np.random.default_rng(seed)
    pos = random_positions(rng, N, BOX, min_dist=1.1)
    return make_frame(
        pos,
        BOX,
        typeid=np.arange(N) % 2,
        types=("A", "B"),
        velocity=rng.normal(size=(N, 3)),
        mass=rng.uniform(1, 2, N),
        charge=rng.normal(size=N),
        image=rng.integers(-2, 3, (N, 3)).astype(np.int32),
    )


def lj():
    m = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    m.params[(["A", "B"], ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    return m


def simulation(frame=None, steps=5):
    sim = make_sim(
        base_frame() if frame is None else frame,
        forces=[lj()],
        methods=[ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)],
        dt=1e-3,
    )
    if steps:
        sim.run(steps)
    return sim


def fingerprint(sim):
    """Everything a user can see of the state, as bytes (NaN-safe, bit for bit)."""
    s = sim.state.get_snapshot()
    out = {
        name: (
            np.asarray(getattr(s.particles, name)).dtype.str,
            np.asarray(getattr(s.particles, name)).shape,
            np.asarray(getattr(s.particles, name)).tobytes(),
        )
        for name in FIELDS
    }
    out.update(
        box=tuple(sim.state.box.to_list()),
        types=tuple(sim.state.particle_types),
        N=sim.state.N_particles,
        timestep=sim.timestep,
    )
    return out


def assert_runs_like(sim, twin, steps=10):
    """sim and its untouched twin agree now and after ``steps`` more steps, bit for bit."""
    assert fingerprint(sim) == fingerprint(twin)
    sim.run(steps)
    twin.run(steps)
    assert fingerprint(sim) == fingerprint(twin)


def setp(f, **fields):
    for k, v in fields.items():
        setattr(f.particles, k, v)
    return f


DEFAULTS = {"body": -1, "diameter": 1.0, "orientation": [1.0, 0, 0, 0], "angmom": 0.0, "moment_inertia": 0.0}


def with_row(name, tag, value):
    """A mutation: particles.<name>[tag] = value (the whole row for vector fields), in a copy whose
    dtype holds the value (float, object, uint64 or int64)."""

    def m(f):
        v = np.asarray(value)
        cur = getattr(f.particles, name)
        if cur is None:
            cur = np.tile(np.asarray(DEFAULTS[name]), (N, 1) if name in WIDTH else N)
        dtype = v.dtype if v.dtype.kind in "fO" else (np.uint64 if v.dtype.kind == "u" else np.int64)
        a = np.array(cur, dtype=dtype)
        a[tag] = value
        setattr(f.particles, name, a)

    return m


def zero_z(f):
    p = np.array(f.particles.position)
    p[:, 2] = 0
    f.particles.position = p


def with_box(box):
    def m(f):
        f.configuration._box = box  # past gsd's setter, as a HOOMD Snapshot or any object would

    return m


def run_snippet(code, timeout=120):
    """Run ``code`` in a fresh interpreter (a crash is a negative return code); return (rc, output)."""
    prelude = textwrap.dedent("""
        import os, signal, sys, numpy as np, gsd.hoomd, hoomd_adjoint as ha
        def frame(pos, box, N=None):
            f = gsd.hoomd.Frame()
            f.configuration.box = box
            f.particles.N = len(pos) if N is None else N
            f.particles.types = ["A"]
            f.particles.position = np.asarray(pos, dtype=np.float64)
            return f
        def sim_of(f, forces=True, method="langevin"):
            sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
            sim.create_state_from_snapshot(f)
            fs = []
            if forces:
                lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
                lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
                fs = [lj]
            m = {"langevin": ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0),
                 "brownian": ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0),
                 "nve": ha.md.methods.ConstantVolume(filter=ha.filter.All())}[method]
            sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[m], forces=fs)
            return sim
    """)
    env = dict(subprocess_env(), OMP_NUM_THREADS="1")  # the package under test, never the source tree's
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=TESTS,
        env=env,
    )
    return proc.returncode, proc.stdout + proc.stderr


def fresh():
    return ha.Simulation(device=ha.device.CPU(1), seed=1)


# -- snapshot cases: (id, class, mutation, error, message fragment, entry points) ------------------
# entry points: "both" (create_state_from_snapshot and set_snapshot) or "create" (step: set_snapshot
# ignores configuration.step, as HOOMD does)
SNAPSHOT_CASES = [
    # non-finite and non-integral values
    (
        "position-nan",
        "nonfinite",
        with_row("position", 3, [0, nan, 0]),
        ValueError,
        r"particles.position: particle tag 3 has non-finite position \[0.0, nan, 0.0\]",
        "both",
    ),
    (
        "position-inf",
        "nonfinite",
        with_row("position", 7, [inf, 0, 0]),
        ValueError,
        r"particles.position: particle tag 7 has non-finite position",
        "both",
    ),
    (
        "position--inf",
        "nonfinite",
        with_row("position", 0, [0, 0, -inf]),
        ValueError,
        r"particle tag 0 has non-finite position \[0.0, 0.0, -inf\]",
        "both",
    ),
    (
        "velocity-nan",
        "nonfinite",
        with_row("velocity", 5, [nan, 0, 0]),
        ValueError,
        r"particles.velocity: particle tag 5 has non-finite velocity",
        "both",
    ),
    (
        "mass-inf",
        "nonfinite",
        with_row("mass", 2, inf),
        ValueError,
        r"particles.mass: particle tag 2 has non-finite mass",
        "both",
    ),
    (
        "charge-nan",
        "nonfinite",
        with_row("charge", 11, nan),
        ValueError,
        r"particle tag 11 has non-finite charge",
        "both",
    ),
    (
        "image-float-nan",
        "nonfinite",
        with_row("image", 4, [nan, 0, 0]),
        ValueError,
        r"particles.image: particle tag 4 has non-finite image",
        "both",
    ),
    (
        "image-half",
        "nonfinite",
        with_row("image", 4, [1.5, 0, 0]),
        ValueError,
        r"particles.image: particle tag 4 has non-integer image \[1.5, 0.0, 0.0\]",
        "both",
    ),
    (
        "typeid-half",
        "nonfinite",
        with_row("typeid", 6, 0.5),
        ValueError,
        r"particles.typeid: particle tag 6 has non-integer typeid 0.5",
        "both",
    ),
    (
        "box-Lx-nan",
        "nonfinite",
        with_box([nan, 7.5, 7, 0, 0, 0]),
        ValueError,
        r"configuration.box: box Lx must be "
        r"finite, got nan",
        "both",
    ),
    (
        "box-Lz-inf",
        "nonfinite",
        with_box([8, 7.5, inf, 0, 0, 0]),
        ValueError,
        r"box Lz must be finite, got inf",
        "both",
    ),
    (
        "box-xy-nan",
        "nonfinite",
        with_box([8, 7.5, 7, nan, 0, 0]),
        ValueError,
        r"box xy must be finite, got nan",
        "both",
    ),
    (
        "box-yz--inf",
        "nonfinite",
        with_box([8, 7.5, 7, 0, 0, -inf]),
        ValueError,
        r"box yz must be finite, got -inf",
        "both",
    ),
    (
        "step-float",
        "nonfinite",
        lambda f: setattr(f.configuration, "step", 10.5),
        TypeError,
        r"configuration.step must be an integer, got 10.5",
        "create",
    ),
    (
        "step-nan",
        "nonfinite",
        lambda f: setattr(f.configuration, "step", nan),
        TypeError,
        r"configuration.step must be an integer, got nan",
        "create",
    ),
    # integer overflow and ranges
    (
        "image-beyond-int32",
        "overflow",
        with_row("image", 9, np.array([2**31, 0, 0], np.int64)),
        ValueError,
        r"particles.image: particle tag 9 has image \[2147483648, 0, 0\], outside the int32 range",
        "both",
    ),
    (
        "image-python-2**70",
        "overflow",
        with_row("image", 1, np.array([0, -(2**70), 0], dtype=object)),
        ValueError,
        r"particles.image: particle tag 1 has image .*outside the int32 range",
        "both",
    ),
    (
        "position-far-out",
        "overflow",
        with_row("position", 2, [1e11, 0, 0]),
        ValueError,
        r"particle tag 2 at position \[100000000000.0, 0.0, 0.0\] lies 1.25e\+10 box lengths outside the box .* "
        r"beyond the int32 range",
        "both",
    ),
    (
        "position-far-plus-image",
        "overflow",
        lambda f: (with_row("position", 8, [0, 0, 7.0 * 2**30])(f), with_row("image", 8, [0, 0, 2**30])(f)),
        ValueError,
        r"particle tag 8 .*image counter would be 2.14748e\+09, beyond the int32 range",
        "both",
    ),
    (
        "body-beyond-int32",
        "overflow",
        with_row("body", 0, 2**40),
        ValueError,
        r"particles.body: particle tag 0 has body 1099511627776, outside the int32 range",
        "both",
    ),
    (
        "typeid-uint64-max",
        "overflow",
        with_row("typeid", 3, np.uint64(UINT64_MAX)),
        ValueError,
        r"particle tag 3 has typeid 18446744073709551615, but there are only 2 types",
        "both",
    ),
    (
        "N-beyond-uint32",
        "overflow",
        lambda f: setp(f, N=2**32),
        ValueError,
        r"particles.N must be <= 4294967295, got "
        r"4294967296",
        "both",
    ),
    (
        "step-2**64",
        "overflow",
        lambda f: setattr(f.configuration, "step", 2**64),
        ValueError,
        r"configuration.step must be <= 18446744073709551615, got 18446744073709551616",
        "create",
    ),
    (
        "step-negative",
        "overflow",
        lambda f: setattr(f.configuration, "step", -1),
        ValueError,
        r"configuration.step must be >= 0, got -1",
        "create",
    ),
    (
        "box-huge",
        "overflow",
        with_box([1e200, 7.5, 7, 0, 0, 0]),
        ValueError,
        r"box Lx = 1e\+200 is outside the supported range",
        "both",
    ),
    (
        "box-tiny",
        "overflow",
        with_box([8, 1e-300, 7, 0, 0, 0]),
        ValueError,
        r"box Ly = 1e-300 is outside the supported range",
        "both",
    ),
    (
        "box-skewed",
        "overflow",
        with_box([8, 7.5, 7, 1e9, 0, 0]),
        ValueError,
        r"box tilt factor xy = 1000000000.0 is too large",
        "both",
    ),
    # wrong types, shapes, dtypes, lengths, names, ranges
    (
        "typeid-out-of-range",
        "malformed",
        with_row("typeid", 4, 2),
        ValueError,
        r"particle tag 4 has typeid 2, but there are only 2 types \['A', 'B'\]",
        "both",
    ),
    ("typeid-negative", "malformed", with_row("typeid", 10, -1), ValueError, r"particle tag 10 has typeid -1", "both"),
    (
        "mass-negative",
        "malformed",
        with_row("mass", 7, -1.0),
        ValueError,
        r"particles.mass: particle tag 7 has mass -1.0; masses must be >= 0",
        "both",
    ),
    (
        "position-2-columns",
        "malformed",
        lambda f: setp(f, position=np.zeros((N, 2))),
        ValueError,
        r"particles.position has shape \(12, 2\), expected \(12, 3\)",
        "both",
    ),
    (
        "position-short",
        "malformed",
        lambda f: setp(f, position=np.asarray(f.particles.position)[:-1]),
        ValueError,
        r"particles.position has shape \(11, 3\), expected \(12, 3\) \(particles.N = 12\)",
        "both",
    ),
    (
        "position-flat",
        "malformed",
        lambda f: setp(f, position=np.asarray(f.particles.position).ravel()),
        ValueError,
        r"particles.position has shape \(36,\), expected \(12, 3\)",
        "both",
    ),
    (
        "position-ragged",
        "malformed",
        lambda f: setp(f, position=[[0, 0, 0]] * (N - 1) + [[1, 2]]),
        ValueError,
        r"particles.position is not a rectangular numeric array",
        "both",
    ),
    (
        "position-strings",
        "malformed",
        lambda f: setp(f, position=np.full((N, 3), "1.0")),
        TypeError,
        r"particles.position has dtype <U3; it needs real numbers",
        "both",
    ),
    (
        "velocity-complex",
        "malformed",
        lambda f: setp(f, velocity=np.zeros((N, 3), complex)),
        TypeError,
        r"particles.velocity has dtype complex128",
        "both",
    ),
    (
        "mass-bool",
        "malformed",
        lambda f: setp(f, mass=np.ones(N, bool)),
        TypeError,
        r"particles.mass has dtype bool",
        "both",
    ),
    (
        "mass-column",
        "malformed",
        lambda f: setp(f, mass=np.ones((N, 1))),
        ValueError,
        r"particles.mass has shape \(12, 1\), expected \(12,\)",
        "both",
    ),
    (
        "image-none-entries",
        "malformed",
        lambda f: setp(f, image=[[None, 0, 0]] * N),
        TypeError,
        r"particles.image has dtype object",
        "both",
    ),
    (
        "typeid-strings",
        "malformed",
        lambda f: setp(f, typeid=["A"] * N),
        TypeError,
        r"particles.typeid has dtype <U1",
        "both",
    ),
    (
        "N-too-large",
        "malformed",
        lambda f: setp(f, N=N + 1),
        ValueError,
        r"particles.position has shape \(12, 3\), expected \(13, 3\) \(particles.N = 13\)",
        "both",
    ),
    ("N-negative", "malformed", lambda f: setp(f, N=-1), ValueError, r"particles.N must be >= 0, got -1", "both"),
    ("N-float", "malformed", lambda f: setp(f, N=12.0), TypeError, r"particles.N must be an integer, got 12.0", "both"),
    (
        "N-string",
        "malformed",
        lambda f: setp(f, N="12"),
        TypeError,
        r"particles.N must be an integer, got '12'",
        "both",
    ),
    (
        "types-string",
        "malformed",
        lambda f: setp(f, types="AB"),
        TypeError,
        r"particles.types must be a list of type names, got the string 'AB'",
        "both",
    ),
    ("types-empty", "malformed", lambda f: setp(f, types=[]), ValueError, r"particles.types is empty", "both"),
    (
        "types-empty-name",
        "malformed",
        lambda f: setp(f, types=["A", ""]),
        ValueError,
        r"particles.types\[1\] is an empty type name",
        "both",
    ),
    (
        "types-duplicate",
        "malformed",
        lambda f: setp(f, types=["A", "A"]),
        ValueError,
        r"particles.types has duplicate names \['A'\]",
        "both",
    ),
    (
        "types-not-str",
        "malformed",
        lambda f: setp(f, types=["A", 2]),
        TypeError,
        r"particles.types\[1\] must be a str, got 2 \(int\)",
        "both",
    ),
    (
        "positions-missing",
        "malformed",
        lambda f: setp(f, position=None),
        ValueError,
        r"has no particles.position for its N = 12 particles",
        "both",
    ),
    (
        "2D-box-nonzero-z",
        "malformed",
        lambda f: (with_box([8, 7.5, 0, 0.1, 0, 0])(f), zero_z(f), with_row("position", 5, [0, 0, 0.5])(f)),
        ValueError,
        r"2D box \(Lz = 0\) but particle tag 5 has z = 0.5",
        "both",
    ),
    (
        "2D-box-tilted-z",
        "malformed",
        with_box([8, 7.5, 0, 0, 0.3, 0]),
        ValueError,
        r"a 2D box \(Lz = 0\) must have xz = yz = 0, got xz=0.3",
        "both",
    ),
    ("box-missing", "malformed", with_box(None), ValueError, r"has no configuration.box", "both"),
    (
        "box-zero",
        "malformed",
        with_box([0, 7.5, 7, 0, 0, 0]),
        ValueError,
        r"box Lx and Ly must be positive, got Lx=0.0",
        "both",
    ),
    (
        "box-negative",
        "malformed",
        with_box([8, -7.5, 7, 0, 0, 0]),
        ValueError,
        r"box Lx and Ly must be positive, got Lx=8.0, Ly=-7.5",
        "both",
    ),
    ("box-Lz-negative", "malformed", with_box([8, 7.5, -7, 0, 0, 0]), ValueError, r"box Lz must be >= 0", "both"),
    ("box-one-value", "malformed", with_box([8.0]), ValueError, r"a box needs 2 to 6 values", "both"),
    ("box-seven-values", "malformed", with_box([8.0] * 7), ValueError, r"a box needs 2 to 6 values", "both"),
    (
        "box-nested",
        "malformed",
        with_box([[8, 7.5, 7], [0, 0, 0]]),
        TypeError,
        r"flat sequence of 2 to 6 numbers",
        "both",
    ),
    ("box-string", "malformed", with_box("8 7.5 7"), TypeError, r"a box must be a Box or a sequence", "both"),
    (
        "box-bool-entry",
        "malformed",
        with_box([8, 7.5, True, 0, 0, 0]),
        TypeError,
        r"box Lz must be a number, got True",
        "both",
    ),
    (
        "dimensions-4",
        "malformed",
        lambda f: setattr(f.configuration, "dimensions", 4),
        ValueError,
        r"configuration.dimensions must be 2 or 3, got 4",
        "both",
    ),
    (
        "step-string",
        "malformed",
        lambda f: setattr(f.configuration, "step", "10"),
        TypeError,
        r"configuration.step must be an integer, got '10'",
        "create",
    ),
]


def _cases(entry):
    return [
        pytest.param(m, e, msg, id=f"{cls}-{i}")
        for i, cls, m, e, msg, where in SNAPSHOT_CASES
        if where == "both" or where == entry
    ]


@pytest.mark.parametrize("mutate, error, message", _cases("create"))
def test_snapshot_create(mutate, error, message):
    """create_state_from_snapshot: the cause is named, no state is left behind, and a valid
    snapshot afterwards runs exactly like a simulation that never saw the bad one."""
    f = base_frame()
    mutate(f)
    sim = fresh()
    with pytest.raises(error, match=message):
        sim.create_state_from_snapshot(f)
    with pytest.raises(RuntimeError, match="has no state"):
        sim.state
    sim.create_state_from_snapshot(base_frame())
    sim.operations.integrator = ha.md.Integrator(
        dt=1e-3, forces=[lj()], methods=[ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0)]
    )
    assert_runs_like(sim, simulation(steps=0))


@pytest.mark.parametrize("mutate, error, message", _cases("set"))
def test_snapshot_set(mutate, error, message):
    """State.set_snapshot: all or nothing; the simulation runs on bit for bit like its twin."""
    sim, twin = simulation(), simulation()
    before = fingerprint(sim)
    snap = sim.state.get_snapshot()
    mutate(snap)
    with pytest.raises(error, match=message):
        sim.state.set_snapshot(snap)
    assert fingerprint(sim) == before
    assert_runs_like(sim, twin)


# -- the classes' case tables for the counts ------------------------------------------------------
def _n_snapshot(cls):
    return sum(2 if where == "both" else 1 for _, c, *_, where in SNAPSHOT_CASES if c == cls)


# -- partial updates -------------------------------------------------------------------------------
def test_partial_types_renamed_in_set_snapshot():
    sim, twin = simulation(), simulation()
    before = fingerprint(sim)
    snap = sim.state.get_snapshot()
    snap.particles.types = ["A", "C"]
    snap.particles.position[0] = [nan, 0, 0]  # the first problem found is reported; nothing changes
    with pytest.raises(ValueError, match=r"particle tag 0 has non-finite position"):
        sim.state.set_snapshot(snap)
    snap.particles.position[0] = 0.0
    with pytest.raises(ValueError, match=r"type names \['A', 'C'\] differ from the state's \['A', 'B'\]"):
        sim.state.set_snapshot(snap)
    assert fingerprint(sim) == before
    assert_runs_like(sim, twin)


def test_partial_nan_velocity_does_not_replace_positions():
    """The issue's case: the NaN velocity is in the last field read; positions must not move."""
    sim, twin = simulation(), simulation()
    before = fingerprint(sim)
    snap = sim.state.get_snapshot()
    snap.particles.position[:] = 0.25 * np.asarray(snap.particles.position)
    snap.particles.mass[:] = 3.0
    snap.particles.moment_inertia[N - 1] = [0, 0, nan]
    with pytest.raises(ValueError, match=r"particles.moment_inertia: particle tag 11 has non-finite"):
        sim.state.set_snapshot(snap)
    assert fingerprint(sim) == before
    assert_runs_like(sim, twin)


def test_partial_valid_set_snapshot_after_rejections_applies_fully():
    sim = simulation()
    good = sim.state.get_snapshot()
    good.particles.velocity[:] = 0.0
    bad = sim.state.get_snapshot()
    bad.particles.velocity[:] = 0.0
    bad.particles.typeid[0] = 7
    with pytest.raises(ValueError, match="particle tag 0 has typeid 7"):
        sim.state.set_snapshot(bad)
    sim.state.set_snapshot(good)
    np.testing.assert_array_equal(sim.state.get_snapshot().particles.velocity, 0.0)
    sim.run(3)


@FAST
@given(
    field=st.sampled_from(FLOAT_FIELDS),
    tag=st.integers(0, N - 1),
    comp=st.integers(0, 3),
    value=st.sampled_from([nan, inf, -inf]),
    entry=st.sampled_from(["create", "set"]),
)
def test_nonfinite_injection_hypothesis(field, tag, comp, value, entry):
    """A NaN/inf in any float field at any tag: ValueError naming field and tag, nothing changed."""
    sim = _SHARED["sim"]
    before = _SHARED["before"]
    snap = base_frame() if entry == "create" else sim.state.get_snapshot()
    if field not in ("position", "velocity", "mass", "charge"):
        setattr(snap.particles, field, np.asarray(getattr(sim.state.get_snapshot().particles, field)))
    a = np.array(getattr(snap.particles, field), dtype=np.float64)
    a.reshape(N, -1)[tag, comp % WIDTH.get(field, 1)] = value
    setattr(snap.particles, field, a)
    with pytest.raises(ValueError, match=rf"particles\.{field}: particle tag {tag} has non-finite {field}"):
        if entry == "create":
            fresh().create_state_from_snapshot(snap)
        else:
            sim.state.set_snapshot(snap)
    assert fingerprint(sim) == before


@FAST
@given(k=st.integers(0, 5), value=st.sampled_from([nan, inf, -inf]))
def test_nonfinite_box_hypothesis(k, value):
    sim, before = _SHARED["sim"], _SHARED["before"]
    snap = sim.state.get_snapshot()
    box = list(snap.configuration.box)
    box[k] = value
    snap.configuration.box = box
    name = ["Lx", "Ly", "Lz", "xy", "xz", "yz"][k]
    with pytest.raises(ValueError, match=rf"box {name} must be finite, got {value}"):
        sim.state.set_snapshot(snap)
    assert fingerprint(sim) == before


_SHARED = {}


@pytest.fixture(autouse=True, scope="module")
def _shared_sim():
    """One simulation that every hypothesis example attacks (checked against a twin at the end)."""
    sim, twin = simulation(), simulation()
    _SHARED.update(sim=sim, before=fingerprint(sim))
    yield
    assert fingerprint(sim) == _SHARED["before"]
    assert_runs_like(sim, twin)


@FAST
@given(
    field=st.sampled_from(["image", "body", "typeid"]),
    tag=st.integers(0, N - 1),
    value=st.one_of(st.integers(2**31, 2**80), st.integers(-(2**80), -(2**31) - 1)),
)
def test_overflow_integer_fields_hypothesis(field, tag, value):
    """Integers beyond what the engine stores (int32 images and bodies, uint32 typeids)."""
    sim, before = _SHARED["sim"], _SHARED["before"]
    snap = sim.state.get_snapshot()
    a = np.asarray(getattr(snap.particles, field)).astype(object)
    a.reshape(N, -1)[tag, 0] = value
    setattr(snap.particles, field, a)
    with pytest.raises(ValueError, match=rf"particles\.{field}: particle tag {tag} has {field}"):
        sim.state.set_snapshot(snap)
    assert fingerprint(sim) == before


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    L=st.tuples(*[st.floats(0.05, 50.0)] * 3),
    tilt=st.tuples(*[st.floats(-1.0, 1.0)] * 3),
    frac=st.lists(st.tuples(*[st.floats(-0.5, 0.5)] * 3), min_size=4, max_size=4),
    shift=st.lists(st.tuples(*[st.integers(-(2**30), 2**30)] * 3), min_size=4, max_size=4),
    d2=st.booleans(),
)
def test_overflow_far_positions_keep_unwrapped_exact_hypothesis(L, tilt, frac, shift, d2):
    """Points up to 2^30 box lengths outside: wrapped into the box (the engine accepts them) with
    image counters that keep the unwrapped position to rounding of its own magnitude."""
    Lz = 0.0 if d2 else L[2]
    # boxes the engine accepts: no lattice vector leans more than 100 times the length along it
    assume(abs(tilt[0]) * L[1] <= 100 * L[0])
    assume(d2 or (abs(tilt[1]) * L[2] <= 100 * L[0] and abs(tilt[2]) * L[2] <= 100 * L[1]))
    box = ha.Box(L[0], L[1], Lz, tilt[0], 0 if d2 else tilt[1], 0 if d2 else tilt[2])
    M = box.to_matrix()
    f3 = np.array(frac, dtype=np.float64) + np.array(shift, dtype=np.float64)
    if d2:
        f3[:, 2] = 0
    pos = f3 @ M.T
    frame = make_frame(pos, box.to_list())
    sim = make_sim(frame, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())])
    sim.run(1)  # the engine checks every particle is inside the box
    s = sim.state.get_snapshot().particles
    unwrapped = s.position + s.image @ M.T
    scale = np.abs(pos).max() + np.abs(M).max()
    assert np.abs(unwrapped - pos).max() <= 8 * np.finfo(float).eps * scale
    assert np.abs(s.image - np.array(shift) * [1, 1, 0 if d2 else 1]).max() <= 1


@FAST
@given(tag=st.integers(0, 3), axis=st.integers(0, 2), n=st.floats(2.2e9, 1e300), sign=st.sampled_from([-1, 1]))
def test_overflow_far_positions_rejected_hypothesis(tag, axis, n, sign):
    box = [10.0, 10.0, 10.0, 0, 0, 0]
    pos = np.zeros((4, 3))
    pos[:, 0] = [-3, -1, 1, 3]
    pos[tag, axis] = sign * n * 10.0
    with pytest.raises(
        ValueError,
        match=rf"particle tag {tag} at position .* box lengths outside the box along "
        rf"lattice vector a{axis + 1}: its image counter would be",
    ):
        fresh().create_state_from_snapshot(make_frame(pos, box))


# -- crash-prone cases, each in its own interpreter -------------------------------------------------
SUBPROCESS_CASES = [
    # (id, class, code, expected return code, message)
    (
        "image-overflow",
        "overflow",
        "sim_of(frame([[1e300, 0, 0], [0, 0, 0]], [10, 10, 10, 0, 0, 0]))",
        1,
        "particle tag 0 at position [1e+300, 0.0, 0.0] lies 1e+299 box lengths outside",
    ),
    (
        "image-overflow-unchecked-before",
        "overflow",
        "sim_of(frame([[0, 0, 0], [2.5e10, 0, 0]], [10, 10, 10, 0, 0, 0]))",
        1,
        "particle tag 1 at position [25000000000.0, 0.0, 0.0] lies 2.5e+09 box lengths",
    ),
    (
        "box-1e300",
        "overflow",
        "sim_of(frame([[0, 0, 0]], [1e300, 1e300, 1e300, 0, 0, 0]))",
        1,
        "box Lx = 1e+300 is outside the supported range",
    ),
    (
        "box-1e50-runs",
        "overflow",
        "L = 1e50\nf = frame(np.random.default_rng(0).uniform(-L / 2, L / 2, (20, 3)), [L, L, L, 0, 0, 0])\n"
        "sim = sim_of(f)\nsim.run(10)\nprint('ran', sim.timestep)",
        0,
        "ran 10",
    ),
    (
        "run-10**30",
        "overflow",
        "sim = sim_of(frame([[0, 0, 0]], [10, 10, 10, 0, 0, 0]))\nsim.run(10**30)",
        1,
        "run(steps=1000000000000000000000000000000): timestep 0 + steps 1000000000000000000000000000000",
    ),
    (
        "run-past-2**64",
        "overflow",
        "f = frame([[0, 0, 0]], [10, 10, 10, 0, 0, 0])\nf.configuration.step = 2**64 - 5\nsim = sim_of(f)\n"
        "sim.run(4)\nprint('at', sim.timestep)\nsim.run(1)",
        1,
        "at 18446744073709551615\n",
    ),
    (
        "N-2**32-no-allocation",
        "overflow",
        "f = frame([[0, 0, 0]], [10, 10, 10, 0, 0, 0], N=2**32 + 5)\nf.particles.position = None\nsim_of(f)",
        1,
        "particles.N must be <= 4294967295, got 4294967301",
    ),
    (
        "empty-runs-writes-reads",
        "empty",
        "import tempfile\nd = tempfile.mkdtemp()\nf = frame(np.zeros((0, 3)), [10, 10, 10, 0, 0, 0])\n"
        "for m in ('langevin', 'brownian', 'nve'):\n"
        "    sim = sim_of(f, method=m)\n"
        "    sim.operations.writers.append(ha.write.GSD(trigger=5, filename=d + '/e.gsd', mode='wb'))\n"
        "    sim.run(10)\n"
        "    s2 = ha.Simulation(device=ha.device.CPU(1), seed=1)\n"
        "    s2.create_state_from_gsd(d + '/e.gsd')\n"
        "    print(m, sim.timestep, s2.state.N_particles, s2.timestep, sim.state.get_snapshot().particles.position.shape)",
        0,
        "nve 10 0 10 (0, 3)",
    ),
    (
        "killed-run-keeps-frames",
        "partial",
        "import tempfile\nd = tempfile.mkdtemp()\nprint('dir', d, flush=True)\n"
        "class Kill(ha.write.Writer):\n"
        "    trigger = ha.trigger.Periodic(1)\n"
        "    def _write(self):\n"
        "        if self._simulation.timestep == 27:\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n"
        "pos = np.array([[-3.0, 0, 0], [0, 0, 0], [3.0, 0, 0]])\n"
        "sim = sim_of(frame(pos, [10, 10, 10, 0, 0, 0]))\n"
        "sim.operations.writers.append(ha.write.GSD(trigger=10, filename=d + '/k.gsd', mode='wb'))\n"
        "sim.operations.writers.append(Kill())\nsim.run(100)",
        -signal.SIGKILL,
        "dir ",
    ),
]


@pytest.mark.parametrize(
    "code, rc, message", [pytest.param(c, r, m, id=f"{cls}-{i}") for i, cls, c, r, m in SUBPROCESS_CASES]
)
def test_subprocess(code, rc, message):
    got_rc, out = run_snippet(code)
    assert got_rc == rc, out  # a crash would be a negative return code other than a SIGKILL we sent
    assert message in out, out
    if rc == 1:
        assert re.search(r"^(ValueError|TypeError|IndexError): ", out, re.M), out
    if "dir " in message:
        d = re.search(r"dir (\S+)", out).group(1)
        with gsd.hoomd.open(os.path.join(d, "k.gsd"), "r") as t:
            assert [int(f.configuration.step) for f in t] == [10, 20]


# -- run(steps), Simulation(device, seed) ---------------------------------------------------------
RUN_CASES = [
    # (id, class, steps, kwargs, error, message)
    ("2.5", "nonfinite", 2.5, {}, TypeError, r"run steps must be an integer, got 2.5 \(float\)"),
    ("nan", "nonfinite", nan, {}, TypeError, r"run steps must be an integer, got nan"),
    ("inf", "nonfinite", inf, {}, TypeError, r"run steps must be an integer, got inf"),
    ("1e40", "overflow", 1e40, {}, ValueError, r"would pass the largest timestep"),
    ("np-float", "nonfinite", np.float64(3.5), {}, TypeError, r"run steps must be an integer, got np.float64\(3.5\)"),
    ("True", "malformed", True, {}, TypeError, r"run steps must be an integer, got True \(bool\)"),
    ("np-True", "malformed", np.True_, {}, TypeError, r"run steps must be an integer, got np.True_"),
    ("str", "malformed", "10", {}, TypeError, r"run steps must be an integer, got '10' \(str\)"),
    ("None", "malformed", None, {}, TypeError, r"run steps must be an integer, got None"),
    ("list", "malformed", [10], {}, TypeError, r"run steps must be an integer, got \[10\]"),
    ("negative", "malformed", -1, {}, ValueError, r"run steps must be >= 0, got -1"),
    ("np-negative", "malformed", np.int64(-5), {}, ValueError, r"run steps must be >= 0, got -5"),
    (
        "2**64",
        "overflow",
        2**64,
        {},
        ValueError,
        r"timestep 5 \+ steps 18446744073709551616 = 18446744073709551621 would pass the largest timestep "
        r"2\^64 - 1 = 18446744073709551615",
    ),
    ("2**64-5", "overflow", 2**64 - 5, {}, ValueError, r"timestep 5 \+ steps 18446744073709551611 = "),
    (
        "write_at_start-str",
        "malformed",
        1,
        {"write_at_start": "yes"},
        TypeError,
        r"run write_at_start must be True or False, got 'yes'",
    ),
    (
        "write_at_start-int",
        "malformed",
        1,
        {"write_at_start": 2},
        TypeError,
        r"run write_at_start must be True or False, got 2 \(int\)",
    ),
]


@pytest.mark.parametrize(
    "steps, kwargs, error, message", [pytest.param(s, k, e, m, id=f"{cls}-{i}") for i, cls, s, k, e, m in RUN_CASES]
)
def test_run(steps, kwargs, error, message):
    sim, twin = simulation(), simulation()
    with pytest.raises(error, match=message):
        sim.run(steps, **kwargs)
    assert_runs_like(sim, twin)


def test_malformed_run_accepts_numpy_integers():
    sim, twin = simulation(), simulation()
    sim.run(np.int64(3))
    sim.run(np.uint64(2))
    sim.run(np.array(5))
    twin.run(10)
    assert fingerprint(sim) == fingerprint(twin)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    steps=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not float(x).is_integer()),
        st.text(max_size=5),
        st.booleans(),
        st.none(),
        st.integers(max_value=-1),
        st.integers(min_value=2**64),
    )
)
def test_malformed_run_hypothesis(steps):
    sim, before = _SHARED["sim"], _SHARED["before"]
    if isinstance(steps, int) and not isinstance(steps, bool):
        msg = "must be >= 0" if steps < 0 else "would pass the largest timestep"
        with pytest.raises(ValueError, match=msg):
            sim.run(steps)
    else:
        with pytest.raises(TypeError, match="run steps must be an integer"):
            sim.run(steps)
    assert fingerprint(sim) == before


def test_overflow_timestep_max_round_trip(tmp_path):
    """The largest timestep survives a snapshot, a run of 0 steps, a GSD frame and a reload."""
    f = base_frame()
    f.configuration.step = np.uint64(UINT64_MAX)
    sim = simulation(f, steps=0)
    sim.operations.writers.append(ha.write.GSD(trigger=ha.trigger.Periodic(1), filename=tmp_path / "m.gsd", mode="wb"))
    sim.run(0, write_at_start=True)
    with pytest.raises(
        ValueError,
        match=r"timestep 18446744073709551615 \+ steps 1 = 18446744073709551616 would "
        r"pass the largest timestep",
    ):
        sim.run(1)
    assert sim.timestep == UINT64_MAX and sim.state.get_snapshot().configuration.step == UINT64_MAX
    s2 = fresh()
    s2.create_state_from_gsd(tmp_path / "m.gsd")
    assert s2.timestep == UINT64_MAX


SIM_CASES = [
    (
        "device-str",
        "malformed",
        dict(device="cpu", seed=1),
        TypeError,
        r"Simulation device must be a hoomd_adjoint.device.CPU or GPU, got 'cpu'",
    ),
    ("device-class", "malformed", dict(device=ha.device.CPU, seed=1), TypeError, r"Simulation device must be"),
    ("seed-float", "nonfinite", dict(seed=2.5), TypeError, r"Simulation seed must be an integer, got 2.5"),
    ("seed-nan", "nonfinite", dict(seed=nan), TypeError, r"Simulation seed must be an integer, got nan"),
    ("seed-str", "malformed", dict(seed="7"), TypeError, r"Simulation seed must be an integer, got '7'"),
    ("seed-bool", "malformed", dict(seed=True), TypeError, r"Simulation seed must be an integer, got True"),
]


@pytest.mark.parametrize(
    "kwargs, error, message", [pytest.param(k, e, m, id=f"{cls}-{i}") for i, cls, k, e, m in SIM_CASES]
)
def test_simulation(kwargs, error, message):
    kwargs.setdefault("device", ha.device.CPU(1))
    with pytest.raises(error, match=message):
        ha.Simulation(**kwargs)


def test_malformed_state_twice_and_run_without_state():
    sim = fresh()
    with pytest.raises(RuntimeError, match="has no state: call create_state_from_snapshot"):
        sim.run(1)
    sim.create_state_from_snapshot(base_frame())
    with pytest.raises(RuntimeError, match="already has a state"):
        sim.create_state_from_snapshot(base_frame())
    with pytest.raises(TypeError, match=r"snapshot must be a gsd.hoomd.Frame .* got NoneType"):
        sim.state.set_snapshot(None)
    with pytest.raises(TypeError, match=r"snapshot must be a gsd.hoomd.Frame .* got dict"):
        fresh().create_state_from_snapshot({"particles": {}})


# -- GSD files ---------------------------------------------------------------------------------------
def _write(path, frames):
    with gsd.hoomd.open(path, "w") as t:
        for f in frames:
            t.append(f)
    return path


def _gsd_frame(N=3, step=0, position=True, typeid=None):
    f = gsd.hoomd.Frame()
    f.configuration.box = [10, 10, 10, 0, 0, 0]
    f.configuration.step = step
    f.particles.N = N
    f.particles.types = ["A"]
    if position:
        f.particles.position = (np.arange(3 * N, dtype=np.float32).reshape(N, 3) % 7) - 3
    if typeid is not None:
        f.particles.typeid = np.asarray(typeid, np.uint32)
    return f


@pytest.fixture
def files(tmp_path):
    good = _write(tmp_path / "good.gsd", [_gsd_frame(step=0), _gsd_frame(step=10)])
    data = good.read_bytes()
    (tmp_path / "cut.gsd").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.gsd").write_bytes(b"not a gsd file\n" * 50)
    (tmp_path / "zero.gsd").write_bytes(b"")
    (tmp_path / "adir.gsd").mkdir()
    _write(tmp_path / "nopos.gsd", [_gsd_frame(position=False)])
    _write(tmp_path / "nopos1.gsd", [_gsd_frame(N=1, position=False)])
    _write(tmp_path / "inherit.gsd", [_gsd_frame(step=0), _gsd_frame(step=5, position=False)])
    _write(tmp_path / "grow.gsd", [_gsd_frame(step=0), _gsd_frame(N=4, step=5, position=False)])
    _write(tmp_path / "empty.gsd", [])
    _write(tmp_path / "badtype.gsd", [_gsd_frame(typeid=[0, 3, 0])])
    import gsd.fl

    with gsd.fl.open(tmp_path / "other.gsd", "w", application="x", schema="other", schema_version=[1, 0]) as g:
        g.write_chunk("a", np.zeros(3))
        g.end_frame()
    return tmp_path


GSD_CASES = [
    # (id, file, frame, error, message)
    ("missing", "nope.gsd", -1, FileNotFoundError, r"GSD file '.*nope.gsd' does not exist"),
    ("directory", "adir.gsd", -1, IsADirectoryError, r"GSD file '.*adir.gsd' is a directory, not a GSD file"),
    ("garbage", "garbage.gsd", -1, ValueError, r"cannot read GSD file '.*garbage.gsd': Not a GSD file"),
    ("zero-bytes", "zero.gsd", -1, ValueError, r"cannot read GSD file '.*zero.gsd'"),
    ("truncated", "cut.gsd", -1, ValueError, r"cannot read GSD file '.*cut.gsd': .*truncated"),
    ("other-schema", "other.gsd", -1, ValueError, r"cannot read GSD file '.*other.gsd': .*schema"),
    ("no-frames", "empty.gsd", 0, IndexError, r"GSD file '.*empty.gsd' holds no frames; frame 0 does not exist"),
    ("frame-out-of-range", "good.gsd", 2, IndexError, r"GSD file '.*good.gsd' has 2 frames; frame 2 does not exist"),
    ("frame-negative-out", "good.gsd", -3, IndexError, r"has 2 frames; frame -3 does not exist"),
    ("frame-float", "good.gsd", 0.5, TypeError, r"create_state_from_gsd frame must be an integer, got 0.5 \(float\)"),
    ("frame-whole-float", "good.gsd", 1.0, TypeError, r"frame must be an integer, got 1.0 \(float\); write 1"),
    ("frame-str", "good.gsd", "0", TypeError, r"frame must be an integer, got '0'"),
    ("frame-bool", "good.gsd", True, TypeError, r"frame must be an integer, got True \(bool\)"),
    (
        "no-positions",
        "nopos.gsd",
        0,
        ValueError,
        r"GSD file '.*nopos.gsd' frame 0 has no particles/position chunk .* N = 3 particles: all of them would sit",
    ),
    ("no-positions-N-changed", "grow.gsd", -1, ValueError, r"frame 1 has no particles/position chunk .* N = 4"),
    (
        "typeid-in-file",
        "badtype.gsd",
        0,
        ValueError,
        r"GSD file '.*badtype.gsd' frame 0 particles.typeid: particle tag 1 has typeid 3, but there are only 1 types",
    ),
    ("filename-empty", "", 0, FileNotFoundError, r"create_state_from_gsd: the filename is empty"),
    ("filename-none", None, 0, TypeError, r"create_state_from_gsd filename must be a str or os.PathLike, got None"),
]


@pytest.mark.parametrize(
    "name, frame, error, message", [pytest.param(n, f, e, m, id=f"files-{i}") for i, n, f, e, m in GSD_CASES]
)
def test_gsd_file(files, name, frame, error, message):
    sim = fresh()
    with pytest.raises(error, match=message):
        sim.create_state_from_gsd(name if not name else files / name, frame=frame)
    with pytest.raises(RuntimeError, match="has no state"):
        sim.state
    sim.create_state_from_gsd(files / "good.gsd", frame=np.int64(1))  # still usable
    assert sim.timestep == 10


def test_files_valid_variants(files):
    """What gsd legitimately omits: a lone particle at the origin, positions inherited from frame 0."""
    s = fresh()
    s.create_state_from_gsd(files / "nopos1.gsd")
    np.testing.assert_array_equal(s.state.get_snapshot().particles.position, [[0, 0, 0]])
    s = fresh()
    s.create_state_from_gsd(files / "inherit.gsd", frame=-1)
    assert s.timestep == 5
    np.testing.assert_array_equal(s.state.get_snapshot().particles.position, _gsd_frame().particles.position)


# -- writers ---------------------------------------------------------------------------------------
WRITER_CASES = [
    # (id, kwargs, error, message)
    ("trigger-0", dict(trigger=0), ValueError, r"GSD trigger \(a Trigger or an integer period\) must be >= 1, got 0"),
    ("trigger-negative", dict(trigger=-5), ValueError, r"GSD trigger .* must be >= 1, got -5"),
    ("trigger-float", dict(trigger=2.5), TypeError, r"GSD trigger .* must be an integer, got 2.5"),
    ("trigger-nan", dict(trigger=nan), TypeError, r"GSD trigger .* must be an integer, got nan"),
    ("trigger-str", dict(trigger="10"), TypeError, r"GSD trigger .* must be an integer, got '10'"),
    ("trigger-bool", dict(trigger=True), TypeError, r"GSD trigger .* must be an integer, got True"),
    ("trigger-none", dict(trigger=None), TypeError, r"GSD trigger .* must be an integer, got None"),
    ("filename-int", dict(filename=5), TypeError, r"GSD filename must be a str or os.PathLike, got 5 \(int\)"),
    ("filename-empty", dict(filename=""), ValueError, r"GSD filename is empty"),
    ("filename-directory", dict(filename="{tmp}"), IsADirectoryError, r"GSD filename '.*' is a directory"),
    (
        "filename-no-parent",
        dict(filename="{tmp}/no/such/dir/t.gsd"),
        FileNotFoundError,
        r"GSD filename '.*t.gsd': the directory '.*dir' does not exist",
    ),
    ("mode-r", dict(mode="r"), ValueError, r"GSD mode must be 'ab', 'wb' or 'xb', got 'r'"),
    ("mode-int", dict(mode=1), TypeError, r"GSD mode must be 'ab', 'wb' or 'xb', got 1 \(int\)"),
    (
        "mode-xb-exists",
        dict(mode="xb", filename="{tmp}/exists.gsd"),
        FileExistsError,
        r"GSD file '.*exists.gsd' exists and mode is 'xb'",
    ),
    (
        "mode-ab-not-gsd",
        dict(mode="ab", filename="{tmp}/text.gsd"),
        ValueError,
        r"GSD file '.*text.gsd' exists but cannot be appended to: Not a GSD file",
    ),
    ("truncate-str", dict(truncate="no"), TypeError, r"GSD truncate must be True or False, got 'no'"),
    (
        "dynamic-str",
        dict(dynamic="property"),
        TypeError,
        r"GSD dynamic must be a list of categories, got the string 'property' \(did you mean \['property'\]\?\)",
    ),
    ("dynamic-unknown", dict(dynamic=["properties"]), ValueError, r"GSD dynamic: unknown category 'properties'"),
    (
        "dynamic-unknown-field",
        dict(dynamic=["particles/positions"]),
        ValueError,
        r"unknown category 'particles/positions'",
    ),
    ("dynamic-entry-int", dict(dynamic=[1]), TypeError, r"GSD dynamic entries must be str, got 1"),
    ("dynamic-int", dict(dynamic=3), TypeError, r"GSD dynamic must be a list of categories, got 3"),
    ("filter-int", dict(filter=3), TypeError, r"GSD filter must be a particle filter"),
]


@pytest.mark.parametrize(
    "kwargs, error, message", [pytest.param(k, e, m, id=f"writers-{i}") for i, k, e, m in WRITER_CASES]
)
def test_writer(tmp_path, kwargs, error, message):
    (tmp_path / "exists.gsd").write_bytes(b"")
    (tmp_path / "text.gsd").write_text("hello\n" * 20)
    args = dict(trigger=1, filename=tmp_path / "out.gsd", mode="wb")
    args.update({k: (v.format(tmp=tmp_path) if isinstance(v, str) and "{tmp}" in v else v) for k, v in kwargs.items()})
    with pytest.raises(error, match=message):
        ha.write.GSD(**args)
    assert not (tmp_path / "out.gsd").exists()


def test_partial_writers_checked_before_any_file_is_opened(tmp_path):
    """A run refused for one writer's file must not have truncated another writer's file."""
    sim = simulation()
    keep = tmp_path / "keep.gsd"
    sim.operations.writers.append(ha.write.GSD(trigger=1, filename=keep, mode="wb"))
    sim.run(3)
    sim.operations.writers[0].close()
    sim2 = simulation()
    sim2.operations.writers.append(ha.write.GSD(trigger=1, filename=keep, mode="wb"))
    sub = tmp_path / "sub"
    sub.mkdir()
    sim2.operations.writers.append(ha.write.GSD(trigger=1, filename=sub / "t.gsd", mode="wb"))
    sub.rmdir()
    with pytest.raises(FileNotFoundError, match=r"the directory '.*sub' does not exist"):
        sim2.run(1)
    with gsd.hoomd.open(keep, "r") as t:
        assert len(t) == 3


def test_writers_trigger_reassigned_and_static_write(tmp_path):
    w = ha.write.GSD(trigger=1, filename=tmp_path / "w.gsd", mode="wb")
    with pytest.raises(TypeError, match=r"GSD trigger .* must be an integer, got 0.5"):
        w.trigger = 0.5
    assert w.trigger.period == 1
    sim = simulation()
    with pytest.raises(ValueError, match=r"GSD.write mode must be 'ab', 'wb' or 'xb', got 'w'"):
        ha.write.GSD.write(sim.state, tmp_path / "s.gsd", mode="w")
    with pytest.raises(TypeError, match=r"GSD.write state must be a hoomd_adjoint State"):
        ha.write.GSD.write(sim, tmp_path / "s.gsd")
    assert not (tmp_path / "s.gsd").exists()


# -- lattice -----------------------------------------------------------------------------------------
LATTICE_CASES = [
    # (id, function, args, kwargs, error, message)
    ("cubic-N-0", cubic, (0, 0.5), {}, ValueError, r"cubic N must be >= 1, got 0"),
    ("cubic-N-negative", cubic, (-3, 0.5), {}, ValueError, r"cubic N must be >= 1, got -3"),
    ("cubic-N-float", cubic, (8.0, 0.5), {}, TypeError, r"cubic N must be an integer, got 8.0"),
    ("cubic-density-0", cubic, (8, 0.0), {}, ValueError, r"cubic density must be > 0, got 0.0"),
    ("cubic-density-nan", cubic, (8, nan), {}, ValueError, r"cubic density must be finite, got nan"),
    ("cubic-dimensions-4", cubic, (8, 0.5, 4), {}, ValueError, r"cubic dimensions must be 2 or 3, got 4"),
    ("cubic-jitter-negative", cubic, (8, 0.5), dict(jitter=-0.1), ValueError, r"cubic jitter must be >= 0, got -0.1"),
    (
        "cubic-density-tiny",
        cubic,
        (8, 1e-300),
        {},
        ValueError,
        r"cubic: N = 8 at density 1e-300 gives a box side .* which is not a valid box",
    ),
    ("packing-N-0", random_packing, (0, 0.5), {}, ValueError, r"random_packing N must be >= 1, got 0"),
    ("packing-N-negative", random_packing, (-1, 0.5), {}, ValueError, r"random_packing N must be >= 1, got -1"),
    (
        "packing-impossible-2D",
        random_packing,
        (100, 5.0),
        {},
        ValueError,
        r"random_packing: density 5.0 with min_dist 0.9 is a packing fraction 3.181 of disks, beyond the 0.547",
    ),
    (
        "packing-impossible-3D",
        random_packing,
        (100, 1.5, 3),
        {},
        ValueError,
        r"packing fraction 0.5726 of spheres, beyond the 0.3841",
    ),
    ("packing-density-inf", random_packing, (10, inf), {}, ValueError, r"random_packing density must be finite"),
    (
        "packing-min_dist-negative",
        random_packing,
        (10, 0.5),
        dict(min_dist=-1),
        ValueError,
        r"random_packing min_dist must be >= 0, got -1.0",
    ),
    (
        "packing-max_tries-0",
        random_packing,
        (10, 0.5),
        dict(max_tries=0),
        ValueError,
        r"random_packing max_tries must be >= 1, got 0",
    ),
]


@pytest.mark.parametrize(
    "fn, args, kwargs, error, message",
    [pytest.param(f, a, k, e, m, id=f"lattice-{i}") for i, f, a, k, e, m in LATTICE_CASES],
)
def test_lattice(fn, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        fn(*args, **kwargs)


def test_lattice_stochastic_failure_and_single_particle():
    with pytest.raises(RuntimeError, match=r"random_packing: placed only \d+ of 60 particles .* in 50 tries"):
        random_packing(60, 0.5, min_dist=0.9, max_tries=50)
    f = random_packing(1, 100.0, min_dist=0.9)  # one particle packs at any density
    assert f.particles.N == 1


# -- N = 0 -------------------------------------------------------------------------------------------
def test_empty_state_in_process(tmp_path):
    """N = 0 is a working empty simulation: snapshots, runs, GSD frames."""
    f = make_frame(np.zeros((0, 3)), [10, 10, 10, 0, 0, 0], types=("A", "B"))
    sim = simulation(f, steps=0)
    sim.operations.writers.append(ha.write.GSD(trigger=2, filename=tmp_path / "e.gsd", mode="wb"))
    sim.run(4)
    snap = sim.state.get_snapshot()
    assert snap.particles.N == 0 and snap.particles.position.shape == (0, 3) and sim.timestep == 4
    with gsd.hoomd.open(tmp_path / "e.gsd", "r") as t:
        assert [int(fr.particles.N) for fr in t] == [0, 0]


def test_empty_set_snapshot_grows_and_shrinks():
    sim = simulation(steps=0)
    empty = sim.state.get_snapshot()
    empty.particles.N = 0
    for name in FIELDS:
        setattr(empty.particles, name, np.asarray(getattr(empty.particles, name))[:0])
    sim.state.set_snapshot(empty)
    assert sim.state.N_particles == 0
    sim.run(2)
    sim.state.set_snapshot(base_frame())
    assert sim.state.N_particles == N
    sim.run(2)


# -- box directly ------------------------------------------------------------------------------------
BOX_CASES = [
    ("str", ("10", 10), TypeError, r"box Lx must be a number, got '10'"),
    ("none", (10, None), TypeError, r"box Ly must be a number, got None"),
    ("nan-tilt", (10, 10, 10, 0, nan), ValueError, r"box xz must be finite, got nan"),
    ("inf", (inf, 10), ValueError, r"box Lx must be finite, got inf"),
    ("subnormal", (10, 10, 5e-324), ValueError, r"box Lz = 5e-324 is outside the supported range"),
    ("skew-2D", (10, 1000, 0, 5), ValueError, r"box tilt factor xy = 5.0 is too large: lattice vector a2 leans 5000"),
]


@pytest.mark.parametrize(
    "args, error, message", [pytest.param(a, e, m, id=f"malformed-box-{i}") for i, a, e, m in BOX_CASES]
)
def test_box(args, error, message):
    with pytest.raises(error, match=message):
        ha.Box(*args)


# -- the counts in the docstring ----------------------------------------------------------------------
def _counts():
    c = {}

    def add(cls, n=1):
        c[cls] = c.get(cls, 0) + n

    for cls in {case[1] for case in SNAPSHOT_CASES}:
        add(cls, _n_snapshot(cls))
    for _, cls, *_ in SUBPROCESS_CASES:
        add(cls)
    for _, cls, *_ in RUN_CASES:
        add(cls)
    for _, cls, *_ in SIM_CASES:
        add(cls)
    add("files", len(GSD_CASES))
    add("writers", len(WRITER_CASES))
    add("lattice", len(LATTICE_CASES))
    add("malformed", len(BOX_CASES))
    # single tests (a hypothesis test counts once), by name
    for name, fn in globals().items():
        if name.startswith("test_") and not hasattr(fn, "pytestmark") and callable(fn):
            for cls in ("partial", "nonfinite", "overflow", "malformed", "files", "writers", "lattice", "empty"):
                if name.startswith(f"test_{cls}_"):
                    add(cls)
    return c


def test_classes_docstring_is_current():
    doc = dict(re.findall(r"^  (\w+) \.+ (\d+)$", __doc__, re.M))
    assert {k: int(v) for k, v in doc.items()} == _counts()
    assert sum(_counts().values()) >= 60


def test_run_accepts_whole_floats_like_hoomd():
    """sim.run(1e6) is common in HOOMD-blue scripts: a whole float runs that many steps."""
    import hoomd_adjoint as ha
    from conftest import make_frame, make_sim

    sim = make_sim(
        make_frame([[0, 0, 0], [1.5, 0, 0]], [6, 6, 6, 0, 0, 0]),
        [],
        methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)],
    )
    sim.run(3.0)
    sim.run(np.float64(2))
    assert sim.timestep == 5
