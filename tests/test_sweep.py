"""Sweeps: slices, resume after an interruption, merge, CSV and the command line (real files)."""

import csv
import json
import math
import os
import shutil
import struct
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import subprocess_env
from hoomd_adjoint import cli
from hoomd_adjoint.sweep import JobError, Sweep, _write_json_atomic, parse_part

JOBS = [dict(seed=s, start=t) for s in range(4) for t in ("a", "b", "c")]  # 12 jobs


def physics(job):
    x = job["seed"] * 1.1 + len(job["start"]) * 0.3
    return {"value": math.sin(x), "trace": [math.cos(x), x / 3], "scale": np.float64(x) / 7}


class Counter:
    """``physics`` that records which jobs it ran, and can fail on chosen ones."""

    def __init__(self, fail_on=()):
        self.calls, self.fail_on = [], set(fail_on)

    def __call__(self, job):
        index = JOBS.index(job)
        self.calls.append(index)
        if index in self.fail_on:
            raise RuntimeError(f"simulated failure {index}")
        return physics(job)


def bits(rows):
    """Rows with every float replaced by its bit pattern: equality means bit for bit."""

    def exact(v):
        if isinstance(v, float):
            return struct.pack("<d", v)
        if isinstance(v, list):
            return [exact(w) for w in v]
        return v

    return [{k: exact(v) for k, v in row.items()} for row in rows]


def files(directory):
    return sorted(
        os.path.relpath(os.path.join(root, f), directory) for root, _, names in os.walk(directory) for f in names
    )


@pytest.fixture
def full(tmp_path):
    """Merge of one uninterrupted run of all jobs."""
    Sweep(physics, JOBS, tmp_path / "full").run()
    return Sweep.open(tmp_path / "full").merge()


@pytest.mark.parametrize("text,expected", [("0/1", (0, 1)), ("2/3", (2, 3)), (" 1/ 4", (1, 4))])
def test_parse_part(text, expected):
    assert parse_part(text) == expected


@pytest.mark.parametrize("text", ["3/3", "-1/2", "a/b", "1", "1/0", "1/2/3", ""])
def test_parse_part_rejects(text):
    with pytest.raises(ValueError, match=repr(text).replace("/", ".")):
        parse_part(text)


def test_slices_cover_all_jobs_once(tmp_path, full):
    f = Counter()
    directory = tmp_path / "sliced"
    returned = {}
    for k in range(3):
        results = Sweep(f, JOBS, directory).run(part=f"{k}/3")
        returned.update(zip(range(k, len(JOBS), 3), results))
    assert sorted(f.calls) == list(range(len(JOBS)))
    merged = Sweep.open(directory).merge()
    assert bits(merged) == bits(full)
    assert [row["job"] for row in merged] == list(range(len(JOBS)))
    assert merged[4]["seed"] == 1 and merged[4]["start"] == "b"
    # run() returns what merge() reads back: numpy converted, float bits unchanged
    assert all(type(r["scale"]) is float for r in returned.values())
    assert bits([returned[i] for i in range(len(JOBS))]) == bits(
        [{k: row[k] for k in ("value", "trace", "scale")} for row in full]
    )
    assert Sweep.open(directory).status() == {"total": 12, "done": 12, "failed": 0, "missing": []}


def test_interrupted_run_resumes(tmp_path, full):
    directory = tmp_path / "resumed"
    first = Counter(fail_on={5})
    with pytest.raises(JobError, match="job 5") as info:
        Sweep(first, JOBS, directory).run()
    assert info.value.index == 5 and isinstance(info.value.__cause__, RuntimeError)
    assert first.calls == [0, 1, 2, 3, 4, 5]
    status = Sweep.open(directory).status()
    assert status["done"] == 5 and status["missing"] == list(range(5, 12))

    second = Counter()
    results = Sweep(second, JOBS, directory).run()
    assert second.calls == list(range(5, 12))  # jobs 0..4 were not recomputed
    merged = Sweep.open(directory).merge()
    assert bits(merged) == bits(full)
    # the values returned by the resumed run, read back from disk, equal the uninterrupted run's
    assert bits(results) == bits([{k: row[k] for k in ("value", "trace", "scale")} for row in full])

    third = Counter()
    Sweep(third, JOBS, directory).run()
    assert third.calls == []


def test_floats_round_trip_exactly(tmp_path):
    values = [0.1, 1 / 3, math.pi * 1e-300, 5e-324, 1.7976931348623157e308, -0.0, math.sin(1.1)]
    sweep = Sweep(lambda job: {"x": values[job["i"]]}, [{"i": i} for i in range(len(values))], tmp_path)
    returned = [r["x"] for r in sweep.run()]
    stored = [row["x"] for row in Sweep.open(tmp_path).merge()]
    assert bits([{"v": values}]) == bits([{"v": returned}]) == bits([{"v": stored}])


def test_changed_job_list_is_refused(tmp_path):
    Sweep(physics, JOBS, tmp_path).run(part="0/2")
    before = {f: (tmp_path / f).read_bytes() for f in files(tmp_path)}
    changed = [dict(job) for job in JOBS]
    changed[7]["seed"] = 99
    with pytest.raises(ValueError, match="job 7"):
        Sweep(physics, changed, tmp_path)
    with pytest.raises(ValueError, match="job 12"):
        Sweep(physics, JOBS + [dict(seed=9, start="a")], tmp_path)
    # 1 == 1.0 in Python, but they are different parameters
    floats = [dict(job, seed=float(job["seed"])) for job in JOBS]
    with pytest.raises(ValueError, match="job 0 differs"):
        Sweep(physics, floats, tmp_path)
    assert {f: (tmp_path / f).read_bytes() for f in files(tmp_path)} == before


def test_non_json_job_is_refused(tmp_path):
    directory = tmp_path / "sweep"
    with pytest.raises(ValueError, match="job 1 is not JSON"):
        Sweep(physics, [dict(seed=0), dict(seed=object())], directory)
    with pytest.raises(ValueError, match="job 2"):
        Sweep(physics, [dict(seed=0), dict(seed=1), 3], directory)
    with pytest.raises(ValueError, match="job 0.*reserved"):
        Sweep(physics, [dict(job=0)], directory)
    assert not directory.exists()


def test_numpy_and_tuples_in_jobs(tmp_path):
    jobs = [dict(seed=s, subset=(1, 2)) for s in np.arange(3)]
    seen = []
    Sweep(lambda job: seen.append(job) or {"y": 1.0}, jobs, tmp_path).run()
    assert seen[2] == {"seed": 2, "subset": [1, 2]} and type(seen[2]["seed"]) is int
    assert json.loads((tmp_path / "jobs.json").read_text()) == seen
    Sweep(None, [dict(seed=int(s), subset=[1, 2]) for s in range(3)], tmp_path)  # same jobs: accepted


def test_record_errors_then_retry(tmp_path, full):
    first = Counter(fail_on={2, 9})
    results = Sweep(first, JOBS, tmp_path).run(on_error="record")
    assert first.calls == list(range(12))
    assert results[2] is None and results[3] is not None
    assert Sweep.open(tmp_path).status() == {"total": 12, "done": 10, "failed": 2, "missing": []}
    record = json.loads((tmp_path / "results" / "000009.json").read_text())
    assert record == {"job": 9, "params": JOBS[9], "error": "RuntimeError: simulated failure 9"}
    merged = Sweep.open(tmp_path).merge()
    assert merged[2]["error"] == "RuntimeError: simulated failure 2" and "value" not in merged[2]
    assert merged[3]["error"] is None and merged[3]["value"] == full[3]["value"]

    second = Counter()
    Sweep(second, JOBS, tmp_path).run(on_error="record")
    assert second.calls == [2, 9]  # only the failed jobs are retried
    assert bits(Sweep.open(tmp_path).merge()) == bits(full)


def test_bad_results_are_job_errors(tmp_path):
    jobs = [dict(seed=0), dict(seed=1), dict(seed=2)]
    outputs = [{"seed": 1.0}, [1.0], {"x": {1, 2}}]  # clashes with a parameter; not a dict; not JSON
    Sweep(lambda job: outputs[job["seed"]], jobs, tmp_path).run(on_error="record")
    errors = [row["error"] for row in Sweep.open(tmp_path).merge()]
    assert errors[0].startswith("ValueError") and "seed" in errors[0]
    assert errors[1].startswith("TypeError") and errors[2].startswith("TypeError")


def test_merge_missing(tmp_path):
    Sweep(physics, JOBS, tmp_path).run(part=(1, 4))
    assert Sweep.open(tmp_path).status()["missing"] == [0, 2, 3, 4, 6, 7, 8, 10, 11]
    with pytest.raises(ValueError, match="9 of 12 jobs have no result"):
        Sweep.open(tmp_path).merge()
    assert [row["job"] for row in Sweep.open(tmp_path).merge(allow_missing=True)] == [1, 5, 9]
    with pytest.raises(ValueError, match="without a function"):
        Sweep.open(tmp_path).run()
    with pytest.raises(FileNotFoundError):
        Sweep.open(tmp_path / "nothing")


def test_comm_like_object_runs_its_slice(tmp_path):
    f = Counter()
    results = Sweep(f, JOBS, tmp_path).run(comm=SimpleNamespace(rank=1, size=2))
    assert f.calls == [1, 3, 5, 7, 9, 11] and len(results) == 6
    mpi_style = SimpleNamespace(Get_rank=lambda: 0, Get_size=lambda: 2)
    Sweep(f, JOBS, tmp_path).run(comm=mpi_style, progress=True)
    assert sorted(f.calls) == list(range(12))
    with pytest.raises(ValueError, match="not both"):
        Sweep(f, JOBS, tmp_path).run(part="0/2", comm=mpi_style)


def test_csv_round_trip(tmp_path, full):
    Sweep(physics, JOBS, tmp_path / "s").run()
    path = tmp_path / "table.csv"
    Sweep.open(tmp_path / "s").write_csv(path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["job", "seed", "start", "value", "trace", "scale"]
    assert len(rows) == len(full)
    for row, ref in zip(rows, full):
        assert int(row["job"]) == ref["job"] and int(row["seed"]) == ref["seed"] and row["start"] == ref["start"]
        assert float(row["value"]) == ref["value"] and float(row["scale"]) == ref["scale"]  # exact
        assert json.loads(row["trace"]) == ref["trace"]


def test_atomic_write_leaves_no_temp_files(tmp_path):
    Sweep(physics, JOBS, tmp_path).run()
    assert files(tmp_path) == ["jobs.json"] + [f"results/{i:06d}.json" for i in range(12)]
    path = tmp_path / "x.json"
    _write_json_atomic(path, {"a": 1})
    with pytest.raises(TypeError):  # not serialisable: nothing written, old file intact
        _write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert files(tmp_path) == ["jobs.json"] + [f"results/{i:06d}.json" for i in range(12)] + ["x.json"]


def test_cli(tmp_path, capsys, full):
    directory = tmp_path / "s"
    Sweep(physics, JOBS, directory).run(part="0/2")
    assert cli.main(["sweep", "status", str(directory)]) == 0
    assert "12 jobs, 6 done, 0 failed, 6 missing (jobs 1, 3, 5, 7, 9, 11)" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert cli.main(["sweep", "merge", str(directory), "--csv", str(out)]) == 1
    assert "6 of 12 jobs have no result" in capsys.readouterr().err and not out.exists()
    assert cli.main(["sweep", "merge", str(directory), "--csv", str(out), "--allow-missing"]) == 0
    with open(out, newline="") as f:
        assert [int(row["job"]) for row in csv.DictReader(f)] == [0, 2, 4, 6, 8, 10]

    Sweep(physics, JOBS, directory).run(part="1/2")
    capsys.readouterr()
    assert cli.main(["sweep", "merge", str(directory), "--csv", str(out)]) == 0
    assert "12 done" in capsys.readouterr().out
    with open(out, newline="") as f:
        assert [float(row["value"]) for row in csv.DictReader(f)] == [row["value"] for row in full]
    assert cli.main(["sweep", "merge", str(directory)]) == 0  # table on stdout, status on stderr
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "job,seed,start,value,trace,scale" and "12 done" in captured.err
    assert cli.main(["sweep", "status", str(tmp_path / "nothing")]) == 2


def _write_job_module(tmp_path):
    mod = tmp_path / "sweepjob.py"
    mod.write_text("import math\n\ndef job(p):\n    return {'value': math.sin(1.1 * p['seed'])}\n")
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps([{"seed": s} for s in range(7)]))
    return mod, jobs


def test_cli_run_slices_then_merge(tmp_path, capsys):
    mod, jobs = _write_job_module(tmp_path)
    d = tmp_path / "sw"
    for k in range(3):
        assert (
            cli.main(
                ["sweep", "run", str(d), "--function", f"{mod}:job", "--jobs", str(jobs), "--part", f"{k}/3", "--quiet"]
            )
            == 0
        )
    assert cli.main(["sweep", "merge", str(d), "--csv", str(tmp_path / "out.csv")]) == 0
    with open(tmp_path / "out.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["value"]) for r in rows] == [math.sin(1.1 * s) for s in range(7)]
    # a bad function spec is a clear error, and nothing runs
    assert cli.main(["sweep", "run", str(d), "--function", f"{mod}:nope", "--quiet"]) == 2
    assert "has no function 'nope'" in capsys.readouterr().err


def test_cli_run_under_mpi(tmp_path):
    pytest.importorskip("mpi4py")
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        pytest.skip("no mpirun")
    mod, jobs = _write_job_module(tmp_path)
    d = tmp_path / "sw"
    proc = subprocess.run(
        [
            mpirun,
            "-n",
            "2",
            sys.executable,
            "-m",
            "hoomd_adjoint.cli",
            "sweep",
            "run",
            str(d),
            "--function",
            f"{mod}:job",
            "--jobs",
            str(jobs),
            "--mpi",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=subprocess_env(),
    )
    assert proc.returncode == 0, proc.stderr
    rows = Sweep.open(d).merge()
    assert [r["value"] for r in rows] == [math.sin(1.1 * s) for s in range(7)]
