"""Files: results are created with the modes the umask gives (colleagues on a shared cluster can
read them under umask 022), and the examples write into the repository's tracked files only
when told to; a smoke run never blocks a full run."""

import os
import re
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import random_packing
from hoomd_adjoint.sweep import Sweep, _write_json_atomic
from conftest import TESTS, subprocess_env

ROOT = os.path.dirname(TESTS)


@pytest.fixture(params=[0o022, 0o077, 0o002], ids=["022", "077", "002"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def square(job):
    return dict(y=job["x"] ** 2)


def test_results_honour_the_umask(tmp_path, umask):
    want = 0o666 & ~umask  # what open() gives: 0644 under 022, 0600 under 077
    _write_json_atomic(tmp_path / "r.json", dict(a=1))
    assert mode(tmp_path / "r.json") == want
    Sweep(square, [dict(x=1), dict(x=2)], tmp_path / "sweep").run()
    for f in ("jobs.json", "results/000000.json", "results/000001.json"):
        assert mode(tmp_path / "sweep" / f) == want, f
    # GSD trajectories too (the gsd library alone makes them 0640), and a single frame
    sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
    sim.create_state_from_snapshot(random_packing(8, 0.2, dimensions=2, min_dist=1.0, seed=1))
    sim.operations.integrator = ha.md.Integrator(
        dt=1e-3, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)]
    )
    sim.operations.writers.append(ha.write.GSD(trigger=1, filename=tmp_path / "t.gsd", mode="xb"))
    sim.run(2)
    ha.write.GSD.write(sim.state, tmp_path / "one.gsd")
    assert mode(tmp_path / "t.gsd") == want and mode(tmp_path / "one.gsd") == want


def test_a_replaced_result_gets_the_umask_mode(tmp_path, umask):
    path = tmp_path / "r.json"
    _write_json_atomic(path, 1)
    os.chmod(path, 0o640)
    _write_json_atomic(path, 2)  # a new file replaces it: the umask's mode, as for any new result
    assert mode(path) == 0o666 & ~umask


def test_gsd_one_writer_per_file(tmp_path):
    """A second writer of a file that is open for writing stops before touching it; a writer of
    a simulation that is gone does not hold the file."""

    def sim_writing(mode="wb"):
        sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
        sim.create_state_from_snapshot(random_packing(8, 0.2, dimensions=2, min_dist=1.0, seed=1))
        sim.operations.integrator = ha.md.Integrator(
            dt=1e-3, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)]
        )
        sim.operations.writers.append(ha.write.GSD(trigger=1, filename=tmp_path / "t.gsd", mode=mode))
        return sim

    first = sim_writing()
    first.run(3)
    with pytest.raises(OSError, match="GSD file '.*t.gsd' is open for writing by another writer"):
        sim_writing("ab").run(1)
    with pytest.raises(OSError, match="open for writing by another writer"):
        ha.write.GSD.write(first.state, tmp_path / "t.gsd")
    del first  # still referenced by its own writer (a cycle): the next writer collects it
    again = sim_writing()
    again.run(2)
    import gsd.hoomd

    with gsd.hoomd.open(tmp_path / "t.gsd") as t:
        assert [f.configuration.step for f in t] == [1, 2]


def test_reproduce_honeycomb_smoke_leaves_tracked_files_alone(tmp_path):
    """From a checkout's root, ``--smoke`` writes only under runs/honeycomb/smoke: the committed
    docs/figures stay as they are (git status clean), and a full run's state directories (which it
    would refuse to resume with the smoke settings) are not created."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("no git")
    figures = tmp_path / "docs" / "figures"
    figures.mkdir(parents=True)
    for f in ("honeycomb_fig1.png", "honeycomb_fig2.png", "honeycomb_lead.png", "honeycomb_table.md"):
        (figures / f).write_bytes(np.random.default_rng(1).bytes(64))
    env = dict(
        subprocess_env(), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"
    )
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "committed figures"]):
        subprocess.run([git, *cmd], cwd=tmp_path, env=env, check=True)
    script = os.path.join(ROOT, "examples", "reproduce_honeycomb.py")
    r = subprocess.run(
        [sys.executable, script, "--smoke"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    status = subprocess.run(
        [git, "status", "--porcelain", "--untracked-files=no"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""
    assert sorted(os.listdir(tmp_path / "runs" / "honeycomb")) == ["smoke"]
    for f in ("honeycomb_fig1.png", "honeycomb_table.md"):
        assert (tmp_path / "runs" / "honeycomb" / "smoke" / "figures" / f).stat().st_size > 0


SCRIPTS = sorted(
    os.path.join(d, f)
    for d in ("examples", "benchmarks")
    for f in os.listdir(os.path.join(ROOT, d))
    if f.endswith(".py")
)


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_do_not_default_to_tracked_files(script):
    """No example or benchmark writes into docs/ unless its command line says so: no default
    names a committed path."""
    text = open(os.path.join(ROOT, script)).read()
    assert not re.findall(r"""default=["'][^"']*docs/[^"']*["']""", text), script
