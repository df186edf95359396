"""The spider's design loop: Adam, resumable bit-identically; validation runs and the CLI smoke."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import subprocess_env
from hoomd_adjoint.optim import Adam
from hoomd_adjoint.apps.spider import Optimization, Params, validate

TESTS = os.path.dirname(__file__)


def test_adam_is_kingma_and_ba():
    opt = Adam(lr=0.1)
    x = np.array([1.0, -2.0])
    g1, g2 = np.array([0.5, -1.0]), np.array([0.2, 0.3])
    x1 = opt.step(x, g1)
    np.testing.assert_allclose(x1, x - 0.1 * np.sign(g1), rtol=1e-7)  # first step: lr sign(g)
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    x2 = opt.step(x1, g2)
    np.testing.assert_allclose(x2, x1 - 0.1 * (m / (1 - 0.81)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8), rtol=1e-12)
    again = Adam.from_state(json.loads(json.dumps(opt.state())))
    assert np.array_equal(again.step(x2, g1), opt.step(x2, g1))
    with pytest.raises(FloatingPointError, match="not finite"):
        opt.step(x2, np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match="b1"):
        Adam(b1=1.0)


def test_interrupted_optimisation_resumes_bit_identically(tmp_path):
    kw = dict(shell="octahedron", start="strong", replicas=2, steps=40)
    whole = Optimization(tmp_path / "whole", **kw)
    whole.run(3, progress=False)
    part = Optimization(tmp_path / "part", **kw)
    part.run(1, progress=False)
    resumed = Optimization(tmp_path / "part", resume=True, **kw)
    assert resumed.iteration == 1
    resumed.run(3, progress=False)
    a = json.loads((tmp_path / "whole" / "state.json").read_text())
    b = json.loads((tmp_path / "part" / "state.json").read_text())
    for h in a["history"] + b["history"]:
        h.pop("wall")
    assert a == b
    assert a["history"][-1]["loss"] < a["history"][0]["loss"]  # the strong start's L_remain falls
    with pytest.raises(FileExistsError, match="resume"):
        Optimization(tmp_path / "whole", **kw)
    with pytest.raises(ValueError, match="other settings"):
        Optimization(tmp_path / "whole", resume=True, **{**kw, "replicas": 3})


def test_perturbed_start_moves_only_log_eps():
    o = Optimization("/nonexistent/never-written", start="weak", seed=3, perturb=0.1)
    p0 = Params.start("octahedron", "weak").array()
    d = np.array(o.config["params0"]) - p0
    assert d[4] != 0 and not np.delete(d, 4).any()


def test_validation_classifies_runs_and_writes_a_trajectory(tmp_path):
    summary = validate.validate(
        tmp_path, Params.start("octahedron", "weak"), seeds=2, steps=300, trajectory_period=100, progress=False
    )
    assert summary["seeds"] == 2 and summary["intact_fraction"] == 1.0 and summary["success_fraction"] == 0.0
    assert summary["success_se"] == 0.0 and summary["failed_seeds"]["extracted"] == [60000, 60001]
    import gsd.hoomd

    with gsd.hoomd.open(tmp_path / "trajectory.gsd") as traj:
        assert len(traj) == 3 and traj[0].particles.N == 36
    assert (tmp_path / "trajectory.png").exists()
    with pytest.raises(ValueError, match="8 finite"):
        validate.load_params("1,2,3")


def test_validation_resumes_only_with_the_same_inputs(tmp_path):
    """resume=True returns the saved summary when every input matches (no run: the trajectory is
    not rewritten), and runs again, overwriting, when one differs."""
    p = Params.start("octahedron", "strong")
    first = validate.validate(tmp_path, p, seeds=2, steps=200, progress=False)
    stamp = os.stat(tmp_path / "trajectory.gsd").st_mtime_ns
    again = validate.validate(tmp_path, p, seeds=2, steps=200, progress=False, resume=True)
    assert again.pop("reused") is True and again == first
    assert os.stat(tmp_path / "trajectory.gsd").st_mtime_ns == stamp
    other = validate.validate(tmp_path, p, seeds=2, steps=200, first_seed=61000, progress=False, resume=True)
    assert "reused" not in other and other["failed_seeds"]["extracted"] != first["failed_seeds"]["extracted"]
    assert os.stat(tmp_path / "trajectory.gsd").st_mtime_ns != stamp
    fresh = validate.validate(tmp_path, p, seeds=2, steps=200, first_seed=61000, progress=False)  # resume=False
    assert "reused" not in fresh and fresh == other


def _moved(cx, x, bodies, shift):
    """x with the bodies (and their sites) in ``bodies`` moved by ``shift``."""
    body = np.asarray(cx.sim.state._cpp.body)
    x = np.array(x)
    x[np.isin(body, bodies)] += shift
    return x


def test_strict_outcome_of_built_states():
    from hoomd_adjoint.apps.spider.model import Complex

    cx = Complex("octahedron", Params.start("octahedron", "weak"), seed=1)
    x = np.array(cx.sim.state._cpp.position)
    o = validate.outcome(cx, x)  # as built: bonded and bound
    assert not o["extracted"] and o["intact"] and not o["detached"] and not o["success"]
    assert o["loosest_edge"] < 1e-9 and not o["carried"]  # the weak start: the head 5 out, its minimum at 2.5
    t, s = cx.target, cx.spider_tag
    far = _moved(cx, x, [t, s], 20 * cx.outward)  # target and spider carried far out
    o = validate.outcome(cx, far)
    assert o["extracted"] and o["intact"] and o["detached"] and o["success"]
    # the remaining shell must be whole: one remaining vertex pulled off breaks its edges
    other = next(i for i in range(cx.n_vertices) if i != t)
    broken = _moved(cx, far, [other], np.array([0.0, 0.0, 1.5]) + 1.5 * (x[other] - x[:6].mean(axis=0)))
    assert not validate.outcome(cx, broken)["intact"]
    # clear of contact but by less than 1 is not detached: the target must be 1 beyond the vertex contact
    near = [validate.outcome(cx, _moved(cx, x, [t, s], d * cx.outward)) for d in np.linspace(0, 6, 121)]
    near = [o for o in near if o["extracted"] and 0.2 < o["target_gap"] < 0.9]
    assert near and not any(o["detached"] for o in near)


def test_success_must_hold_over_the_last_tenth(tmp_path):
    authors = "4.103,4.295,1.299,1.197,5.459,1.904,8.710,9.799"  # the authors' octahedron set
    out = validate.validate(tmp_path, authors, seeds=4, steps=2000, check_every=50, progress=False)
    runs = json.loads((tmp_path / "outcomes.json").read_text())["runs"]
    assert out["seeds"] == len(runs) == 4
    for r in runs:
        for k in validate.CRITERIA:
            settled = r["settled_step"][k]  # the first check from which k held to the end
            assert r[k] == (settled is not None and settled <= 1800), (r["seed"], k, settled)
            assert r[f"{k}_final"] == (settled is not None)


def test_spider_command_line(tmp_path):
    out = tmp_path / "opt"
    cmd = [
        sys.executable,
        "-m",
        "hoomd_adjoint.cli",
        "spider",
        "optimize",
        "--iterations",
        "2",
        "--replicas",
        "2",
        "--steps",
        "30",
        "--out",
        str(out),
        "--quiet",
    ]
    r = subprocess.run(cmd, cwd=TESTS, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["iterations"] == 2
    r = subprocess.run(
        [sys.executable, "-m", "hoomd_adjoint.cli", "spider", "plot", str(out), "--output", str(tmp_path / "l.png")],
        cwd=TESTS,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr and (tmp_path / "l.png").exists()


def test_reproduction_script_smoke():
    script = os.path.join(os.path.dirname(TESTS), "examples", "reproduce_spider.py")
    r = subprocess.run(
        [sys.executable, script, "--smoke"],
        cwd=TESTS,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "fig2" in r.stdout and "fig4" in r.stdout and "strong: seeds" in r.stdout
    assert "design ico-strong, end loss, 1 it. (legs 2.25) + cargo: success" in r.stdout
    assert "design ico-strong, reach loss, 1 it. (legs 2.25) + cargo: success" in r.stdout
    assert "design ico-weak, reach loss, 2 it. (legs 2.25) + cargo: success" in r.stdout  # continued
    assert "design oct-weak, reach loss" not in r.stdout  # it passes without the reach stage
    assert "design octahedron, forward search, 2 candidates (legs 2.25): success" in r.stdout
    assert "the bare hole (target and spider taken away at step 0) + cargo, 900 steps: success" in r.stdout


def test_replicas_across_mpi_ranks_give_the_same_run(tmp_path):
    import shutil

    pytest.importorskip("mpi4py")
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None:
        pytest.skip("no mpirun on the PATH")
    single = Optimization(tmp_path / "one", shell="octahedron", start="strong", replicas=3, steps=30)
    single.run(2, progress=False)
    r = subprocess.run(
        [mpirun, "-n", "2", sys.executable, os.path.join(TESTS, "mpi_spider.py"), str(tmp_path / "two")],
        cwd=TESTS,
        env=subprocess_env(TESTS),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    a = json.loads((tmp_path / "one" / "state.json").read_text())
    b = json.loads((tmp_path / "two" / "state.json").read_text())
    for h in a["history"] + b["history"]:
        h.pop("wall")
    assert a == b


@pytest.mark.parametrize(
    "kw, msg", [(dict(seeds=0), "seeds must be >= 1, got 0"), (dict(steps=-5), "steps must be >= 1")]
)
def test_validate_refuses_empty_runs_before_writing(tmp_path, kw, msg):
    from hoomd_adjoint.apps.spider.validate import validate

    with pytest.raises(ValueError, match=msg):
        validate(tmp_path / "v", None, **kw)
    assert not (tmp_path / "v").exists()


def test_end_loss_optimisation_with_cargo_resumes_bit_identically(tmp_path):
    from hoomd_adjoint.apps.spider.design import End

    kw = dict(
        shell="icosahedron",
        start="weak",
        replicas=2,
        steps=40,
        loss="end",
        end=End(horizon=200, window=100, every=50, paper_steps=40),
        cargo=True,
        leg_sigma=2.25,
    )
    Optimization(tmp_path / "whole", **kw).run(2, progress=False)
    Optimization(tmp_path / "part", **kw).run(1, progress=False)
    Optimization(tmp_path / "part", resume=True, **kw).run(2, progress=False)
    a, b = (json.loads((tmp_path / n / "state.json").read_text()) for n in ("whole", "part"))
    for h in a["history"] + b["history"]:
        h.pop("wall")
    assert a == b and a["config"]["loss"] == "end" and a["config"]["cargo"] is True
    assert all(h["end"] > 0 for h in a["history"])  # the cargo starts inside: its term is on
    with pytest.raises(ValueError, match="other settings"):
        Optimization(tmp_path / "whole", resume=True, **{**kw, "cargo": False})


def test_a_failed_replica_is_named_and_left_out_of_the_mean(tmp_path, monkeypatch):
    from hoomd_adjoint import ReplicaWarning
    from hoomd_adjoint.apps.spider import optimize

    real = optimize.evaluate

    def second_fails(cx, **kw):  # replica 1's run blows up after 7 steps (the real run, then a real error)
        if cx.sim.seed == optimize.replica_seed(0, 0, 1, 3):
            cx.sim.run(7)
            raise RuntimeError("particle tag 3 is outside the box at step 7")
        return real(cx, **kw)

    monkeypatch.setattr(optimize, "evaluate", second_fails)
    opt = Optimization(tmp_path / "o", replicas=3, steps=20)
    with pytest.warns(ReplicaWarning, match=r"2 of 3 replicas used; failed: replica 1 \(seed 1\) at timestep 7"):
        opt.run(1, progress=False)
    h = opt.history[0]
    assert h["failures"] == 1 and h["failed"] == [
        "replica 1 (seed 1) at timestep 7: particle tag 3 is outside the box at step 7"
    ]
    kw = dict(steps=20, stable=optimize.STABLE_SHELL["octahedron"])
    ok = [real(optimize.Complex("octahedron", Params.start("octahedron", "weak"), seed=s), **kw) for s in (0, 2)]
    assert h["loss"] == pytest.approx(np.mean([e.loss for e in ok]), rel=1e-12)


def test_search_samples_the_box_scores_by_the_strict_test_and_resumes(tmp_path):
    from hoomd_adjoint.apps.spider import search

    p = [search.sample(k, seed=3).array() for k in range(50)]
    assert np.array_equal(search.sample(7, seed=3).array(), p[7])  # candidate k alone: rng([seed, k])
    for name, (lo, hi) in search.BOX.items():
        x = np.array([q[validate.PARAM_NAMES.index(name)] for q in p])
        assert lo <= x.min() and x.max() <= hi
    h, on, cut = (np.array([q[validate.PARAM_NAMES.index(n)] for q in p]) for n in ("head_height", "r_on", "r_cut"))
    assert (cut > h + 0.5).all() and (cut <= search.R_CUT_MAX).all() and (on < cut).all()
    kw = dict(seeds=1, top=2, rescore=1, steps=300, progress=False)
    whole = search.search(tmp_path / "whole", "octahedron", candidates=3, **kw)
    search.search(tmp_path / "part", "octahedron", candidates=2, **kw)  # interrupted after two
    again = search.search(tmp_path / "part", "octahedron", candidates=3, **kw)  # resumed: only the third is new
    assert (tmp_path / "whole/candidates.jsonl").read_text() == (tmp_path / "part/candidates.jsonl").read_text()
    assert again == whole and whole["runs"] == 2 and len(whole["leaders"]) == 2
    cut = tmp_path / "part/candidates.jsonl"  # killed while writing its last line: that candidate runs again
    text = cut.read_text()
    cut.write_text(text[: text.rindex("{") + 20])
    assert search.search(tmp_path / "part", "octahedron", candidates=3, **kw) == whole
    assert cut.read_text() == text
    with pytest.raises(ValueError, match="other settings: steps 300 .now 200."):
        search.search(tmp_path / "part", "octahedron", candidates=3, **{**kw, "steps": 200})
    lines = [json.loads(s) for s in (tmp_path / "whole/candidates.jsonl").read_text().splitlines()]
    assert [c["k"] for c in lines] == [0, 1, 2]
    # a candidate's score is the strict test's fraction over its training seeds (55000 onwards)
    r = validate.classify(lines[1]["params"], "octahedron", seed=55000, steps=300, leg_sigma=2.25)
    assert lines[1]["success"] == float(r["success"]) and lines[1]["extracted"] == float(r["extracted"])
    lead = whole["leaders"][0]  # its fractions: over the first seed and the rescore's one (55001)
    r2 = validate.classify(lead["params"], "octahedron", seed=55001, steps=300, leg_sigma=2.25)
    assert whole["fractions"]["extracted"] == (lead["extracted"] + r2["extracted"]) / 2 == lead["rescored"]["extracted"]
    pool = search.pooled(dict(success=0.5, released=1.0), 6, dict(success=0.25, released=0.0, blew_up=[]), 20)
    assert pool == dict(success=(3 + 5) / 26, released=6 / 26)
    best = validate.load_params(str(tmp_path / "whole/best.json"))  # what --start-from and validate read
    assert np.array_equal(best.array(), whole["params"])


def test_the_bare_hole_reference_takes_target_and_spider_away(tmp_path):
    from hoomd_adjoint.apps.spider.model import Complex

    cx = Complex("icosahedron", Params.start("icosahedron", "weak"), seed=2, cargo=True, leg_sigma=2.25)
    validate.clear_hole(cx)
    cx.sim.run(100)
    o = validate.outcome(cx, np.array(cx.sim.state._cpp.position))
    assert o["extracted"] and o["intact"] and o["detached"] and o["target_gap"] > 20 and not o["released"]
    s = validate.validate(tmp_path, cx.params, "icosahedron", seeds=1, steps=200, cargo=True, bare=True, progress=False)
    assert s["bare"] and s["success_fraction"] == 1.0


def test_the_examples_validation_rows_come_from_runs_or_the_committed_table(tmp_path, monkeypatch):
    """A design stage or a forward search that this --out lacks (a search's folder is not
    committed) is validated with the parameters its committed row recorded; a stage's own run,
    where there is one, wins; a continued stage's row says its iterations."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "reproduce_spider", os.path.join(os.path.dirname(TESTS), "examples", "reproduce_spider.py")
    )
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    monkeypatch.setattr(ex, "COMMITTED", str(tmp_path / "figures"))
    (tmp_path / "figures").mkdir()
    p = dict(zip(validate.PARAM_NAMES, [4.0, 5.0, 1.0, 0.5, 6.0, 1.5, 9.0, 10.0]))
    table = {
        "design icosahedron, forward search, 150 candidates (legs 2.25)": dict(params=p),
        "design ico-strong, end loss, 150 it. (legs 2.25)": dict(params=p),
    }
    (tmp_path / "figures" / "spider-validation.json").write_text(json.dumps(table))
    reach = tmp_path / "out" / "design" / "ico-weak-reach-600"
    reach.mkdir(parents=True)
    (reach / "state.json").write_text(json.dumps(dict(params=list(p.values()), history=[{}] * 600)))
    rows = {r[0]: r for r in ex.validation_rows(str(tmp_path / "out"), {}, ex.DESIGNS, ex.SEARCHES, 30000, {})}
    search = rows["design icosahedron, forward search, 150 candidates (legs 2.25)"]
    assert search[2].array().tolist() == list(p.values()) and search[1] == "icosahedron"
    assert "design ico-strong, end loss, 150 it. (legs 2.25) + cargo" in rows
    assert "design ico-weak, reach loss, 600 it. (legs 2.25)" in rows
    assert rows["the bare hole (target and spider taken away at step 0) + cargo, 30,000 steps"][6] == 30000
    assert not any("octahedron, forward search" in n for n in rows)  # no run, no committed row


def test_the_example_carries_on_a_committed_partial_run(tmp_path, monkeypatch):
    import gzip
    import importlib.util

    from hoomd_adjoint.communicator import Communicator

    spec = importlib.util.spec_from_file_location(
        "reproduce_spider", os.path.join(os.path.dirname(TESTS), "examples", "reproduce_spider.py")
    )
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    monkeypatch.setattr(ex, "COMMITTED", str(tmp_path / "figures"))
    kw, common = dict(shell="octahedron", start="strong"), dict(replicas=2, steps=40)
    Optimization(tmp_path / "part", **kw, **common).run(1, progress=False)  # a session's part, committed gzipped
    (tmp_path / "figures/spider-runs/oct-strong").mkdir(parents=True)
    for f in ("state.json", "history.csv"):
        (tmp_path / f"figures/spider-runs/oct-strong/{f}.gz").write_bytes(
            gzip.compress((tmp_path / "part" / f).read_bytes())
        )
    umask = os.umask(0o077)
    try:
        ex.optimise(str(tmp_path / "out"), "oct-strong", kw, 2, common, Communicator())  # the next session goes on
    finally:
        os.umask(umask)
    ex.optimise(str(tmp_path / "whole"), "other", kw, 2, common, Communicator())  # nothing committed: from the start
    a = json.loads((tmp_path / "out/oct-strong/state.json").read_text())
    b = json.loads((tmp_path / "whole/other/state.json").read_text())
    part = json.loads((tmp_path / "part/state.json").read_text())
    assert a["history"][0]["wall"] == part["history"][0]["wall"]  # carried on, not run again
    for h in a["history"] + b["history"]:
        h.pop("wall")
    assert a == b and len(a["history"]) == 2
    assert os.stat(tmp_path / "out/oct-strong/history.csv").st_mode & 0o077 == 0  # the umask, not the copy's modes


def test_local_search_about_a_design(tmp_path):
    """search(around=..., spread=...): candidate 0 is the design, the others within spread x
    max(|x|, 1) of it (buildable: projected), the setting kept in config.json so a folder of
    another search is refused; the result is the same when resumed."""
    from hoomd_adjoint.apps.spider import search

    x0 = [4.83, 5.77, 5.30, 0.11, 9.58, 1.00, 6.42, 8.63]
    assert np.array_equal(search.sample(0, 3, around=x0).array(), x0)
    for k in range(1, 40):
        x = search.sample(k, 3, around=x0, spread=0.1).array()
        assert np.all(np.abs(x - x0) <= 0.1 * np.maximum(np.abs(x0), 1.0) + 1e-12) or x[6] <= x[7] - 0.1
        Params.from_array(x).check()
    kw = dict(candidates=3, seeds=1, top=2, rescore=1, steps=300, around=x0, spread=0.05, seed=3, progress=False)
    best = search.search(str(tmp_path / "s"), **kw)
    again = search.search(str(tmp_path / "s"), **kw)  # (resumed: nothing scored again)
    assert best == again
    assert json.loads((tmp_path / "s" / "config.json").read_text())["around"] == x0
    with pytest.raises(ValueError, match="other settings"):
        search.search(str(tmp_path / "s"), **dict(kw, spread=0.2))
