"""The rate-ratio line search (hoomd_adjoint.apps.assembly.ratio_line): the direction keeps the
kept rate to first order, the weighted fit and its solution on known points, a real point's
measurement (seeds, failures, half-times against hc.half_time of the same curves), saved after
every point and resumed bit-identically, other settings refused by name."""

import json
import math

import numpy as np
import pytest

from hoomd_adjoint.apps.assembly import honeycomb as hc
from hoomd_adjoint.apps.assembly import ratio_line as rl

QUICK = hc.Protocol(melt_steps=200)  # N = 100: the honeycomb forms within a few thousand steps


def test_direction_removes_the_kept_gradient():
    g = np.array([1.6, 0.0, -0.12, 11.8])
    d = rl.direction(hc.RECHTSMAN, [6.2, 20.3, 2.0, 1.8], g)
    assert abs(g @ d) < 1e-12 * np.linalg.norm(g) * np.linalg.norm(d)
    # the part of toward - start already orthogonal to g is kept whole
    e = np.array([0.0, 1.0, 0.0, 0.0])
    assert np.allclose(rl.direction(np.zeros(4), e, g), e - (g @ e) / (g @ g) * g)
    assert np.array_equal(rl.direction(np.zeros(4), e, [1.0, 0, 0, 0]), e)


def _synthetic(tmp_path, ys, s=(-0.5, -0.25, 0.0, 0.25, 0.5), se=0.05):
    line = rl.RatioLine(tmp_path / "line", hc.RECHTSMAN, [0.3, 2.4, -0.5, -0.05], replicas=4)
    line.points = [dict(s=x, y=y, se_y=se) for x, y in zip(s, ys)]
    return line


def test_fit_and_solve_recover_a_known_line(tmp_path):
    a, b = -2.9, 1.3
    line = _synthetic(tmp_path, [a + b * x for x in (-0.5, -0.25, 0.0, 0.25, 0.5)])
    coef, cov = line.fit(1)
    assert np.allclose(coef, [b, a], atol=1e-12)
    s, se = line.solve(math.exp(a + b * 0.2), degree=1)
    assert abs(s - 0.2) < 1e-12
    # the fitted value's error at s from the coefficients' covariance (weights 1/0.05^2, 5 points)
    x = np.array([0.2, 1.0])
    assert se == pytest.approx(math.sqrt(x @ cov @ x)) and 0 < se < 0.05
    assert line.solve(math.exp(a + b * 0.7), degree=1) == (None, None)  # beyond the measured range
    # a quadratic: the root inside the range, not the other one
    line = _synthetic(tmp_path, [a + b * x + 3.0 * x * x for x in (-0.5, -0.25, 0.0, 0.25, 0.5)])
    s, _ = line.solve(math.exp(a + b * -0.1 + 3.0 * 0.01), degree=2)
    assert abs(s + 0.1) < 1e-10
    # points without a ratio stay out; too few left is an error that says how many there are
    line = _synthetic(tmp_path, [a, None, None, None, a + b * 0.5])
    with pytest.raises(ValueError, match="needs 3 points with both half-times; the line has 2"):
        line.fit(2)


def test_log_half_time_se():
    steps = np.arange(0, 100, 10.0)
    falling = np.clip(1.0 - steps / 60.0, 0, 1)
    assert rl.log_half_time_se(steps, np.tile(falling, (5, 1))) < 1e-12  # identical replicas (the means round)
    flat = np.ones_like(steps)
    assert rl.log_half_time_se(steps, np.vstack([falling, flat, flat])) == math.inf  # some resamples never fall
    se = rl.log_half_time_se(steps, np.vstack([falling, np.clip(1.0 - steps / 80.0, 0, 1)] * 3))
    assert 0 < se < 0.2 and se == rl.log_half_time_se(
        steps, np.vstack([falling, np.clip(1.0 - steps / 80.0, 0, 1)] * 3)
    )


def test_points_are_measured_saved_and_resumed(tmp_path):
    kw = dict(
        replicas=3,
        every=dict(honeycomb=50, triangular=10),
        max_steps=dict(honeycomb=400, triangular=800),
        protocol=QUICK,
        threads=2,
    )
    d = [0.3, 2.4, -0.5, -0.05]
    line = rl.RatioLine(tmp_path / "line", hc.RECHTSMAN, d, **kw)
    p0 = line.point(0.0)
    p1 = line.point(0.1)
    assert p0["first_seed"] == rl.LINE_SEED and p1["first_seed"] == rl.LINE_SEED + 3  # fresh seeds per point
    assert np.allclose(p1["a"], np.array(hc.RECHTSMAN) + 0.1 * np.array(d))
    assert p0["used"] == {"honeycomb": 3, "triangular": 3} and p0["failed"] == {}
    # the triangular half-time: hc.half_time of the same replicas' mean curve, run to 800 steps
    s, v = hc.curves(hc.RECHTSMAN, "triangular", 3, 800, 10, first_seed=rl.LINE_SEED, protocol=QUICK)
    t = hc.half_time(s, v.mean(axis=0))
    assert math.isfinite(p0["t_T"]) and p0["t_T"] == t
    assert p0["t_H"] == math.inf and p0["y"] is None  # the honeycomb needs thousands of steps
    saved = json.loads((tmp_path / "line" / "line.json").read_text())
    assert [p["s"] for p in saved["points"]] == [0.0, 0.1] and saved["points"][0]["t_H"] is None  # (JSON: null)
    # a larger (or smaller) point takes the next seeds; the seeds after it go on from its last
    p2 = line.point(0.2, replicas=2)
    p3 = line.point(0.3)
    assert (p2["first_seed"], p2["replicas"], p2["used"]["triangular"]) == (rl.LINE_SEED + 6, 2, 2)
    assert (p3["first_seed"], p3["replicas"]) == (rl.LINE_SEED + 8, 3)
    again = rl.RatioLine(tmp_path / "line", hc.RECHTSMAN, d, **kw)
    assert again.point(0.1) is again.points[1] and again.points[1]["t_T"] == p1["t_T"]  # resumed, not rerun
    assert again.point(0.2, replicas=2) is again.points[2]
    with pytest.raises(ValueError, match=r"other settings \(replicas 3, not 4\)"):
        rl.RatioLine(tmp_path / "line", hc.RECHTSMAN, d, **dict(kw, replicas=4))


def test_command_line_runs_resumes_and_refuses(tmp_path, capsys):
    """``hoomd-adjoint honeycomb line``: a tiny line and its files; a second call resumes it (no
    new point); other settings, a scan too short for the fit's degree and a missing state are
    refused in one line with status 2 before anything runs."""
    from hoomd_adjoint import cli

    out = tmp_path / "l"
    argv = ["honeycomb", "line", "--out", str(out), "--replicas", "3", "--direction-replicas", "3", "--s", "0", "0.2"]
    argv += ["--degree", "1", "--rounds", "0", "--check-replicas", "0", "--target-ratio", "0.05", "--quiet"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "line: 2 points of 3 replicas per lattice" in printed and "wrote " in printed
    saved = json.loads((out / "line.json").read_text())
    assert [p["s"] for p in saved["points"]] == [0.0, 0.2] and (out / "line.png").stat().st_size > 0
    (check,) = json.loads((out / "checks.json").read_text())
    assert check["ratio"] == 0.05
    stamp = (out / "line.json").stat().st_mtime_ns
    assert cli.main(argv + ["--resume"]) == 0  # every point saved: nothing runs again
    assert (out / "line.json").stat().st_mtime_ns == stamp
    capsys.readouterr()
    for more, said in (
        ([], "holds a saved state"),
        (["--resume", "--replicas", "4"], "other settings (replicas 3, not 4)"),
        (["--resume", "--degree", "2"], "a degree-2 fit needs at least 3 different points"),
    ):
        assert cli.main(argv + more) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0], err
    assert cli.main(["honeycomb", "line", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_search_resumes_by_replaying_its_refinements(tmp_path):
    """ratio_line.search: a second call reuses every saved point in order and measures none;
    each refinement point's s is the solution of the fit through the points before it, the last
    round's on ``last_round_replicas``; a saved line that the replay contradicts is refused."""
    kw = dict(
        s=[-0.2, 0.0, 0.2],
        rounds=2,
        degree=1,
        replicas=6,
        last_round_replicas=8,
        direction_replicas=4,
        every=dict(honeycomb=100, triangular=10),
        max_steps=dict(honeycomb=12000, triangular=1600),
        protocol=QUICK,
        threads=2,
    )
    toward = [6.2, 20.1, 2.0, 1.79]
    with pytest.raises(ValueError, match="last_round_replicas"):  # refused before anything runs
        rl.search(tmp_path / "l", [0.06], toward, **dict(kw, last_round_replicas=1))
    assert not (tmp_path / "l").exists()
    line, found = rl.search(tmp_path / "l", [0.06], toward, **kw)
    n = len(line.points)
    rounds = [p["round"] for p in line.points]
    assert rounds[:3] == [0, 0, 0] and set(rounds[3:]) <= {1, 2} and rounds == sorted(rounds)
    for j in range(3, n):  # each refinement point solves the fit of the points before it
        assert line.points[j]["s"] == round(line.solve(0.06, 1, points=j)[0], 4)
        assert line.points[j]["replicas"] == (8 if rounds[j] == 2 else 6)
        before = line.points[j - 1]
        assert line.points[j]["first_seed"] == before["first_seed"] + before["replicas"]  # seeds never reused
    saved = (tmp_path / "l" / "line.json").read_bytes()
    again, found_again = rl.search(tmp_path / "l", [0.06], toward, **kw)
    assert (tmp_path / "l" / "line.json").read_bytes() == saved and found_again == found
    g = json.loads((tmp_path / "l" / "direction.json").read_text())
    assert abs(np.dot(g["grad_ln_t"], line.config["direction"])) < 1e-9 * np.linalg.norm(g["grad_ln_t"])
    if n > 3:  # a saved refinement point that the replay does not ask for
        d = json.loads(saved)
        d["points"][3]["s"] += 0.01
        (tmp_path / "l" / "line.json").write_text(json.dumps(d))
        with pytest.raises(ValueError, match="point 3 is at s"):
            rl.search(tmp_path / "l", [0.06], toward, **kw)
    if rounds[-1] == 2:  # the last round's point, measured on other batches than asked for
        d = json.loads(saved)
        d["points"][-1]["replicas"] = 7
        (tmp_path / "l" / "line.json").write_text(json.dumps(d))
        with pytest.raises(ValueError, match=f"point {n - 1} is at s = .* on 7 replicas, where .* on 8"):
            rl.search(tmp_path / "l", [0.06], toward, **kw)
