"""The command line under ``mpiexec -n 2``: every subcommand either shares its work over the ranks
(one copy of each file, intact, output printed once, results bitwise those of one process) or
refuses in one line with exit status 2 before writing anything. Needs mpi4py and an mpiexec (the
"mpi" extra)."""

import json
import os
import shutil
import subprocess
import sys

import gsd.hoomd
import pytest

from conftest import subprocess_env

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec") or shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec on the PATH")
CLI = [sys.executable, "-m", "hoomd_adjoint.cli"]


def run(args, cwd, ranks=2, env=None):
    """``hoomd-adjoint args`` on ``ranks`` MPI ranks (1: without mpiexec), in ``cwd``."""
    cmd = ([MPIEXEC, "-n", str(ranks)] if ranks > 1 else []) + CLI + [str(a) for a in args]
    return subprocess.run(cmd, cwd=cwd, env=env or subprocess_env(), capture_output=True, text=True, timeout=60)


def refused(r, text):
    """The run stopped with status 2 and said ``text`` in one line, once."""
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout == "", r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], r.stderr


REFUSED = [
    (
        ["demo", "--N", 60, "--steps", 20, "--out", "out"],
        "hoomd-adjoint demo runs on one process; run it without mpirun (2 ranks found)",
    ),
    (["clusters", "states", "--quenches", 2, "--out", "out"], "hoomd-adjoint clusters states runs on one process"),
    (["clusters", "path", "--out", "out"], "hoomd-adjoint clusters path runs on one process"),
    (["clusters", "design", "--iterations", 1, "--out", "out"], "hoomd-adjoint clusters design runs on one process"),
    (["clusters", "reproduce", "fig3b", "--out", "out"], "hoomd-adjoint clusters reproduce fig3b runs on one process"),
    (["clusters", "reproduce", "fig3c", "--out", "out"], "hoomd-adjoint clusters reproduce fig3c runs on one process"),
    (["clusters", "reproduce", "plots", "--out", "out"], "hoomd-adjoint clusters reproduce plots runs on one process"),
    (
        ["clusters", "reproduce", "fig4a", "--part", "0/2", "--out", "out"],
        "--part 0/2 under mpirun would run that slice on each of the 2 ranks",
    ),
    (["spider", "plot", "out", "--out", "out/losses.png"], "hoomd-adjoint spider plot runs on one process"),
    (["sweep", "status", "out"], "hoomd-adjoint sweep status runs on one process"),
    (["sweep", "merge", "out", "--out", "out/merged.csv"], "hoomd-adjoint sweep merge runs on one process"),
    (
        ["sweep", "run", "out", "--function", "json:loads", "--part", "1/2"],
        "--part 1/2 under mpirun would run that slice on each of the 2 ranks",
    ),
]


@pytest.mark.parametrize(
    "args, text",
    REFUSED,
    ids=[" ".join(map(str, a[:2])) + ("" if "--part" not in a else " --part") for a, _ in REFUSED],
)
def test_refused_before_anything_runs(tmp_path, args, text):
    r = run(args, tmp_path)
    refused(r, text)
    assert os.listdir(tmp_path) == []  # nothing written


def test_without_mpi4py_sharing_commands_refuse(tmp_path):
    """mpiexec starts two processes that mpi4py cannot connect: each would run the whole job."""
    fake = tmp_path / "nompi" / "mpi4py"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no mpi4py here')\n")
    env = subprocess_env(str(tmp_path / "nompi"))
    work = tmp_path / "work"
    work.mkdir()
    r = run(
        ["spider", "optimize", "--iterations", 1, "--replicas", 2, "--steps", 5, "--quiet", "--out", "so"],
        work,
        env=env,
    )
    refused(r, "hoomd-adjoint spider optimize: mpirun started 2 processes but mpi4py is not installed")
    assert os.listdir(work) == []


def _one_process_and_two_ranks(tmp_path, args):
    """Run ``args`` on one process (in tmp/1) and on two ranks (in tmp/2); both must succeed."""
    out = {}
    for ranks in (1, 2):
        d = tmp_path / str(ranks)
        d.mkdir()
        r = run(args, d, ranks=ranks)
        assert r.returncode == 0, r.stdout + r.stderr[-3000:]
        out[ranks] = (d, r)
    return out


def test_spider_search_shares_the_candidates(tmp_path):
    args = ["spider", "search", "--candidates", 3, "--seeds", 1, "--top", 2, "--rescore", 1, "--steps", 100]
    runs = _one_process_and_two_ranks(tmp_path, args + ["--quiet", "--out", "ss"])
    (d1, r1), (d2, r2) = runs[1], runs[2]
    assert r2.stdout == r1.stdout and json.loads(r2.stdout)["runs"] == 2  # printed once, the same numbers
    for name in ("candidates.jsonl", "best.json", "config.json"):  # one copy of each file, bitwise one process's
        assert (d2 / "ss" / name).read_bytes() == (d1 / "ss" / name).read_bytes()
    assert sorted(os.listdir(d2 / "ss")) == ["best.json", "candidates.jsonl", "config.json"]


def test_spider_optimize_and_validate_share_the_replicas(tmp_path):
    opt = ["spider", "optimize", "--iterations", 2, "--replicas", 3, "--steps", 5, "--quiet", "--out", "so"]
    runs = _one_process_and_two_ranks(tmp_path, opt)
    (d1, r1), (d2, r2) = runs[1], runs[2]
    assert r2.stdout == r1.stdout  # printed once, the same numbers
    json.loads(r2.stdout)
    s1, s2 = (json.loads((d / "so" / "state.json").read_text()) for d in (d1, d2))
    for s in (s1, s2):
        for h in s["history"]:
            h.pop("wall")
    assert s2 == s1
    assert sorted(os.listdir(d2 / "so")) == ["history.csv", "state.json"]

    val = [
        "spider",
        "validate",
        os.path.join("so", "state.json"),
        "--seeds",
        3,
        "--steps",
        100,
        "--quiet",
        "--out",
        "sv",
    ]
    for d, ranks in ((d1, 1), (d2, 2)):
        r = run(val, d, ranks=ranks)
        assert r.returncode == 0, r.stderr[-3000:]
        runs[ranks] = r
    assert runs[2].stdout == runs[1].stdout and json.loads(runs[2].stdout)["seeds"] == 3
    assert (d2 / "sv" / "outcomes.json").read_bytes() == (d1 / "sv" / "outcomes.json").read_bytes()
    assert (d2 / "sv" / "trajectory.gsd").read_bytes() == (d1 / "sv" / "trajectory.gsd").read_bytes()
    with gsd.hoomd.open(d2 / "sv" / "trajectory.gsd") as t:
        assert len(t) == 1  # frames at multiples of 100 steps, the first run's


def test_honeycomb_design_and_measure_share_the_replicas(tmp_path):
    small = ["--N", 36, "--quiet"]
    design = [
        "honeycomb",
        "design",
        "--iterations",
        1,
        "--replicas",
        3,
        "--steps",
        20,
        "--truncate",
        10,
        "--check-replicas",
        3,
        "--check-steps",
        20,
        "--out",
        "hd",
    ] + small
    runs = _one_process_and_two_ranks(tmp_path, design)
    (d1, r1), (d2, r2) = runs[1], runs[2]
    table = lambda text: [ln for ln in text.splitlines() if not ln.startswith("design: ")]  # noqa: E731  (wall times)
    assert table(r2.stdout) == table(r1.stdout)  # printed once
    assert r2.stdout.count("fresh replicas per lattice") == 1
    for f in ("curves.csv", "honeycomb.gsd", "triangular.gsd"):
        assert (d2 / "hd" / f).read_bytes() == (d1 / "hd" / f).read_bytes(), f
    assert (
        json.loads((d2 / "hd" / "state.json").read_text())["params"]
        == json.loads((d1 / "hd" / "state.json").read_text())["params"]
    )

    measure = ["honeycomb", "measure", "--replicas", 3, "--steps", 20, "--every", 10, "--out", "hm"] + small
    for d, ranks in ((d1, 1), (d2, 2)):
        r = run(measure, d, ranks=ranks)
        assert r.returncode == 0, r.stderr[-3000:]
        runs[ranks] = r
    table = lambda text: [ln for ln in text.splitlines() if not ln.startswith("measured ")]  # noqa: E731  (wall time)
    assert table(runs[2].stdout) == table(runs[1].stdout) and runs[2].stdout.count("wrote ") == 1
    assert (d2 / "hm" / "curves.csv").read_bytes() == (d1 / "hm" / "curves.csv").read_bytes()


FUNCTIONS = """
import os


def square(job):
    with open(os.environ["SWEEP_LOG"], "a") as f:  # one line per call, whichever rank makes it
        f.write(f"{job['x']}\\n")
    return dict(y=job["x"] ** 2)


def fails_at_3(job):
    if job["x"] == 3:
        raise ValueError("x is 3")
    return dict(y=job["x"])
"""


@pytest.mark.parametrize("mpi", [False, True], ids=["plain", "--mpi"])
def test_sweep_run_shares_the_jobs(tmp_path, mpi):
    (tmp_path / "fn.py").write_text(FUNCTIONS)
    (tmp_path / "jobs.json").write_text(json.dumps([dict(x=i) for i in range(7)]))
    env = dict(subprocess_env(), SWEEP_LOG=str(tmp_path / "calls.log"))
    cmd = (
        [MPIEXEC, "-n", "2"]
        + CLI
        + ["sweep", "run", "sw", "--function", "fn.py:square", "--jobs", "jobs.json", "--quiet"]
        + (["--mpi"] if mpi else [])
    )
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # reported once, after both ranks finished their slices
    assert r.stdout == "sw: 7 jobs, 7 done, 0 failed, 0 missing\n"
    assert sorted(int(x) for x in (tmp_path / "calls.log").read_text().split()) == list(range(7))  # each job once
    merged = subprocess.run(CLI + ["sweep", "merge", "sw"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert merged.returncode == 0 and merged.stdout.splitlines()[1:] == [f"{i},{i},{i * i}" for i in range(7)]

    cmd = (
        [MPIEXEC, "-n", "2"]
        + CLI
        + ["sweep", "run", "bad", "--function", "fn.py:fails_at_3", "--jobs", "jobs.json", "--quiet"]
        + (["--mpi"] if mpi else [])
    )
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == ["hoomd-adjoint sweep run: job 3 {'x': 3} failed: ValueError: x is 3"]


GSD_RACE = """
import sys
import numpy as np
from mpi4py import MPI
import hoomd_adjoint as ha
from hoomd_adjoint.lattice import random_packing

comm = MPI.COMM_WORLD
sim = ha.Simulation(device=ha.device.CPU(1), seed=comm.rank)
sim.create_state_from_snapshot(random_packing(16, 0.3, dimensions=2, min_dist=1.0, seed=1))
sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)])
if comm.rank == 0:
    sim.operations.writers.append(ha.write.GSD(trigger=1, filename=sys.argv[1], mode="wb"))
    sim.run(5)  # rank 0 holds the file from here on
comm.Barrier()
if comm.rank == 1:
    try:
        sim.operations.writers.append(ha.write.GSD(trigger=1, filename=sys.argv[1], mode="wb"))
        sim.run(3)
        print("rank 1 wrote")
    except OSError as e:
        print("rank 1:", e)
comm.Barrier()
"""


def test_gsd_writer_one_writer_per_file(tmp_path):
    """Two ranks writing the same GSD file: the second stops before touching it."""
    (tmp_path / "race.py").write_text(GSD_RACE)
    r = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, "race.py", "t.gsd"],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "rank 1: GSD file 't.gsd' is open for writing by another writer" in r.stdout, r.stdout
    with gsd.hoomd.open(tmp_path / "t.gsd") as t:
        assert [f.configuration.step for f in t] == [1, 2, 3, 4, 5]  # rank 0's frames only, intact


def test_ctrl_c_under_mpirun_says_how_to_resume_once(tmp_path):
    """mpiexec forwards Ctrl-C to every rank: one line with the --resume command, no traceback, and
    no rank left waiting."""
    import signal
    import time

    args = [
        "honeycomb",
        "design",
        "--out",
        "d",
        "--N",
        36,
        "--iterations",
        1000,
        "--replicas",
        2,
        "--truncate",
        10,
        "--steps",
        40,
        "--quiet",
    ]
    p = subprocess.Popen(
        [MPIEXEC, "-n", "2"] + CLI + [str(a) for a in args],
        cwd=tmp_path,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while not (tmp_path / "d" / "state.json").exists() and time.time() < deadline:
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert "Traceback" not in err, err
    hints = [line for line in err.splitlines() if "interrupted" in line]
    assert len(hints) == 1 and hints[0].endswith("--resume"), err
