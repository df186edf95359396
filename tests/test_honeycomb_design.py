"""The honeycomb/triangular design workflow: RMSProp, half-times, Ensemble.observe, the design
loop's gradient against finite differences of the same replica-averaged objective, atomic
state and bit-identical resume, bad input, and the command line."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint.apps.assembly import honeycomb as hc
from hoomd_adjoint.optim import GaussNewton, RMSProp

from conftest import TESTS, subprocess_env

SMALL = hc.Protocol(N=36, melt_steps=200)  # a quick system: the same code paths as N = 100


def test_rmsprop_update_and_state_round_trip():
    opt = RMSProp(lr=[0.1, 0.2], decay=0.9, eps=1e-8)
    p = np.array([1.0, 2.0])
    g1, g2 = np.array([0.5, -2.0]), np.array([0.1, 3.0])
    p1 = opt.step(p, g1)
    v = (1 - 0.9) * g1**2
    assert np.array_equal(p1, p - np.array([0.1, 0.2]) * g1 / (np.sqrt(v) + 1e-8))
    again = RMSProp.from_state(json.loads(json.dumps(opt.state())))
    assert np.array_equal(opt.step(p1, g2, 0.5), again.step(p1, g2, 0.5))  # bitwise, through JSON
    v = 0.9 * v + (1 - 0.9) * g2**2
    assert np.array_equal(again.v, v)
    with pytest.raises(ValueError, match="decay"):
        RMSProp(decay=1.0)
    with pytest.raises(ValueError, match="lr"):
        RMSProp(lr=0.0)
    with pytest.raises(FloatingPointError, match="not finite"):
        opt.step(p, [np.nan, 0.0])
    with pytest.raises(ValueError, match="shape"):
        opt.step(p, [1.0])


def test_half_time_interpolates_the_first_crossing():
    s = np.array([0, 10, 20, 30])
    assert hc.half_time(s, [0.9, 0.7, 0.3, 0.6]) == pytest.approx(15.0)
    assert hc.half_time(s, [0.4, 0.7, 0.3, 0.6]) == 0.0
    assert math.isinf(hc.half_time(s, [0.9, 0.8, 0.7, 0.6]))


def test_observe_matches_a_loop_of_runs():
    loss = hc.order_loss("honeycomb")
    ens = ha.Ensemble(lambda i: hc.simulation(hc.RECHTSMAN, "honeycomb", i, SMALL), replicas=3, threads=2)
    offsets, values = ens.observe(25, 10, loss)
    assert offsets.tolist() == [0, 10, 20, 25]
    from hoomd_adjoint.adjoint import _frame

    for i in range(3):
        sim = hc.simulation(hc.RECHTSMAN, "honeycomb", i, SMALL)
        row = [loss(_frame(sim))[0]]
        for n in (10, 10, 5):
            sim.run(n)
            row.append(loss(_frame(sim))[0])
        assert values[i].tolist() == row
    with pytest.raises(ValueError, match="every"):
        ens.observe(10, 0, loss)


def test_observe_takes_a_losss_value_alone():
    """A loss with a value method is observed through it (its gradient is not computed)."""

    class ValueOnly:
        def __call__(self, frame):
            raise AssertionError("observe computed the gradient")

        def value(self, frame):
            return float(frame.positions[0, 0])

    ens = ha.Ensemble(lambda i: hc.simulation(hc.RECHTSMAN, "honeycomb", i, SMALL), replicas=2, threads=2)
    offsets, values = ens.observe(10, 5, ValueOnly())
    assert offsets.tolist() == [0, 5, 10] and np.isfinite(values).all()


def test_simulation_start_does_not_depend_on_the_design():
    a = hc.simulation(hc.RECHTSMAN, "triangular", 5, SMALL)
    b = hc.simulation([6.5, 17.0, 2.3, 1.8], "triangular", 5, SMALL)
    assert np.array_equal(a.state.get_snapshot().particles.position, b.state.get_snapshot().particles.position)
    assert a.state.box.Lx == pytest.approx(math.sqrt(36 / SMALL.rho_T))
    h = hc.simulation(hc.RECHTSMAN, "honeycomb", 5, SMALL)
    assert h.state.box.Lx == pytest.approx(math.sqrt(36 / (2 / 3 * SMALL.rho_T)))


@pytest.mark.parametrize("variant", ["reverse", "forward"])
def test_design_gradient_matches_finite_differences(tmp_path, variant):
    """dL/da of L = sum over lattices (mean L(t*) - 1/2)^2 against central differences of the
    same objective with the same replicas (seeds), at two step sizes."""
    d = hc.Design(tmp_path, k_T=1 / 30, k_H=1 / 40, variant=variant, replicas=2, protocol=SMALL, threads=2)
    a = np.array(hc.RECHTSMAN)
    L, g, values, failures = d.evaluate(a, 0)
    assert failures == {} and set(values) == {"honeycomb", "triangular"}
    assert L == pytest.approx(sum((v - 0.5) ** 2 for v in values.values()), rel=1e-15)
    for k in range(4):
        fd = []
        for h in (1e-5, 2e-5):
            e = np.zeros(4)
            e[k] = h * abs(a[k])
            fd.append((d.evaluate(a + e, 0)[0] - d.evaluate(a - e, 0)[0]) / (2 * e[k]))
        assert g[k] == pytest.approx(fd[0], rel=1e-6, abs=1e-9), (k, g[k], fd)
        assert fd[0] == pytest.approx(fd[1], rel=1e-5, abs=1e-9)  # no cutoff crossed


def test_half_time_fit_and_its_weights():
    """A straight line's half-time is exact; the weights are d t1/2 / d mean at each sample of the
    window (central differences of the fit itself); a curve that never falls has no weights."""
    steps = np.arange(0, 1001, 50.0)
    line = 1.0 - steps / 1000.0  # crosses 1/2 at 500
    t, window, w = hc.half_time_fit(steps, line)
    assert t == pytest.approx(500.0, rel=1e-12) and steps[window].tolist() == [400, 450, 500, 550]  # 2 each side
    rng = np.random.default_rng(1)
    noisy = line + 0.01 * rng.standard_normal(steps.size)
    t, window, w = hc.half_time_fit(steps, noisy)
    for j, k in enumerate(window):
        e = np.zeros(steps.size)
        e[k] = 1e-6
        fd = (hc.half_time_fit(steps, noisy + e)[0] - hc.half_time_fit(steps, noisy - e)[0]) / 2e-6
        assert w[j] == pytest.approx(fd, rel=1e-6)
    shifted = (hc.half_time_fit(steps, noisy + 1e-6)[0] - hc.half_time_fit(steps, noisy - 1e-6)[0]) / 2e-6
    assert sum(w) == pytest.approx(shifted, rel=1e-6)  # the whole curve 1e-6 higher
    t, window, w = hc.half_time_fit(steps, 0.9 - steps / 20000.0)  # never reaches 1/2: extrapolated
    assert t == pytest.approx(8000.0, rel=1e-9) and window[-1] == steps.size - 1 and w is not None
    t, window, w = hc.half_time_fit(steps, 0.9 + 0 * steps)  # flat: nothing to move
    assert t == math.inf and w is None
    t, window, w = hc.half_time_fit(steps, 0.4 - steps / 1e4)  # below 1/2 from the start
    assert t == 0.0 and w is None


def test_half_time_objective_gradient_matches_finite_differences(tmp_path, monkeypatch):
    """The half-time form: L = sum over lattices (ln t1/2 - ln t*)^2, t1/2 fitted to the batch's
    mean curve; its reverse-mode gradient against central differences of the objective computed
    independently (the replicas' curves and the fit), same seeds, at two step sizes. Runs short
    enough for differences to converge (a few hundred steps cross the cutoff) do not reach 1/2:
    the line through the whole run (width 0.5) is extrapolated."""
    monkeypatch.setattr(hc, "HALF_TIME", dict(hc.HALF_TIME, width=0.5))
    kw = dict(k_T=1 / 30, k_H=1 / 40, replicas=3, protocol=SMALL, threads=2, rate_loss="half_time")
    d = hc.Design(tmp_path, variant="reverse", **kw)
    a = np.array(hc.RECHTSMAN)
    L, g, values, failures = d.evaluate(a, 0)
    assert failures == {} and all(isinstance(t, float) for t in d.batch_half_times.values())

    def objective(x):
        total = 0.0
        for lattice, t_star in (("triangular", 30), ("honeycomb", 40)):
            every = max(1, t_star // hc.HALF_TIME["samples"])
            steps, v = hc.curves(x, lattice, replicas=3, steps=2 * t_star, every=every, first_seed=0, protocol=SMALL)
            t = hc.half_time_fit(steps, v.mean(axis=0), width=0.5)[0]
            total += (math.log(t) - math.log(t_star)) ** 2
        return total

    assert objective(a) == pytest.approx(L, rel=1e-13)
    for k in range(4):
        fd = []
        for h in (1e-6, 2e-6):
            e = np.zeros(4)
            e[k] = h * abs(a[k])
            fd.append((objective(a + e) - objective(a - e)) / (2 * e[k]))
        assert g[k] == pytest.approx(fd[0], rel=1e-6, abs=1e-9), (k, g[k], fd)
        assert fd[0] == pytest.approx(fd[1], rel=1e-4, abs=1e-9)  # no cutoff crossed, the same window
    # the truncated variant through a window as long as the run is this gradient, bitwise
    whole = hc.Design(tmp_path / "t", variant="truncated", truncate=10000, **kw)
    assert whole.evaluate(a, 0)[1].tolist() == g.tolist()
    # common random numbers: every iteration the same replicas, so the same objective
    common = hc.Design(tmp_path / "c", variant="reverse", common_seeds=True, **kw)
    assert common.evaluate(a, 5)[0] == L and d.evaluate(a, 5)[0] != L
    with pytest.raises(ValueError, match="rate_loss='half_time' needs objective='rates'"):
        hc.Design(tmp_path / "x", objective="assemble", rate_loss="half_time")
    with pytest.raises(ValueError, match="rate_loss must be"):
        hc.Design(tmp_path / "x", k_T=0.01, k_H=0.001, rate_loss="halftime")


def test_gauss_newton_solves_residuals_and_rejects_a_worse_point():
    """Trust-region Gauss-Newton: two residuals, four parameters of different scales; it reaches
    the root, a step that does not lower |r| is rejected (the next proposal starts again from the
    best point with half the radius), and its state round-trips through JSON bitwise."""

    def f(p):
        r = np.array([math.log(p[0] * p[1] / 20.0), p[2] ** 2 - 3.0])
        return r, np.array([[1 / p[0], 1 / p[1], 0, 0], [0, 0, 2 * p[2], 0]])

    opt = GaussNewton([1.0, 10.0, 1.0, 5.0], radius=0.05, max_radius=0.5, tol=1e-12)
    p, first = np.array([1.0, 10.0, 1.0, 5.0]), None
    for _ in range(40):
        p, accepted = opt.update(p, *f(p))
        first = p if first is None else first
        if opt.converged:
            break
    assert opt.converged and np.allclose(f(np.array(opt.best["params"]))[0], 0, atol=1e-12)
    assert np.linalg.norm((first - [1.0, 10.0, 1.0, 5.0]) / opt.scale) == pytest.approx(0.05)  # the first radius
    assert opt.best["params"][3] == 5.0  # the minimum-norm step leaves an idle parameter alone
    # a worse point is rejected: the best stays, the radius halves
    opt = GaussNewton([1.0] * 4, radius=0.1, tol=0.0)
    nxt, ok = opt.update([1.0, 10.0, 1.0, 5.0], *f(np.array([1.0, 10.0, 1.0, 5.0])))
    assert ok
    again = GaussNewton.from_state(json.loads(json.dumps(opt.state())))
    worse, accepted = opt.update(nxt, [10.0, 10.0], np.eye(2, 4))
    assert not accepted and opt.radius == 0.05 and opt.best["params"] == [1.0, 10.0, 1.0, 5.0]
    assert np.array_equal(again.update(nxt, [10.0, 10.0], np.eye(2, 4))[0], worse)  # bitwise through JSON
    assert not opt.update(nxt, [math.nan, 0.0], np.eye(2, 4))[1]  # no value there: rejected
    with pytest.raises(FloatingPointError, match="first point"):
        GaussNewton([1.0] * 4).update([1.0] * 4, [math.nan, 0.0], np.eye(2, 4))
    with pytest.raises(ValueError, match="scale"):
        GaussNewton([1.0, 0.0])


def test_gauss_newton_design_resumes_bit_identically_and_needs_a_deterministic_objective(tmp_path, monkeypatch):
    monkeypatch.setattr(hc, "HALF_TIME", dict(hc.HALF_TIME, width=0.5))
    kw = dict(
        k_T=1 / 30,
        k_H=1 / 40,
        replicas=2,
        protocol=SMALL,
        threads=2,
        truncate=20,
        rate_loss="half_time",
        common_seeds=True,
        optimizer="gauss_newton",
    )
    straight = hc.Design(tmp_path / "straight", **kw)
    straight.run(3, progress=False)
    h = straight.history
    assert [x["params"] for x in h[:1]] == [list(hc.RECHTSMAN)] and h[0]["accepted"]
    best = min(h, key=lambda x: x["loss"])  # params: the best point evaluated
    assert straight.params.tolist() == best["params"] and all("radius" in x for x in h)
    split = hc.Design(tmp_path / "split", **kw)
    split.run(2, progress=False)
    resumed = hc.Design(tmp_path / "split", resume=True, **kw)
    resumed.run(3, progress=False)
    strip = lambda hist: [{k: v for k, v in x.items() if k != "wall"} for x in hist]  # noqa: E731
    assert strip(resumed.history) == strip(h) and resumed.params.tolist() == straight.params.tolist()
    for bad in (dict(common_seeds=False), dict(rate_loss="value")):
        with pytest.raises(ValueError, match="deterministic"):
            hc.Design(tmp_path / "x", **dict(kw, **bad))
    with pytest.raises(ValueError, match="optimizer must be"):
        hc.Design(tmp_path / "x", **dict(kw, optimizer="newton"))
    assert not os.path.exists(tmp_path / "x")


def test_truncated_window_longer_than_the_run_is_the_reverse_gradient(tmp_path):
    full = hc.Design(tmp_path / "a", k_T=1 / 30, k_H=1 / 40, variant="reverse", replicas=2, protocol=SMALL)
    whole = hc.Design(
        tmp_path / "b", k_T=1 / 30, k_H=1 / 40, variant="truncated", truncate=1000, replicas=2, protocol=SMALL
    )
    cut = hc.Design(
        tmp_path / "c", k_T=1 / 30, k_H=1 / 40, variant="truncated", truncate=30, replicas=2, protocol=SMALL
    )
    a = np.array(hc.RECHTSMAN)
    L1, g1, _, _ = full.evaluate(a, 1)
    L2, g2, _, _ = whole.evaluate(a, 1)
    L3, g3, _, _ = cut.evaluate(a, 1)
    assert L1 == L2 == L3 and g1.tolist() == g2.tolist()
    # with a 30-step window the triangular run (30 steps) is whole, the honeycomb run (40) is cut
    assert not np.array_equal(g1, g3)


def test_resume_is_bit_identical(tmp_path):
    kw = dict(
        k_T=1 / 30, k_H=1 / 60, variant="truncated", truncate=20, replicas=2, anneal=1.5, protocol=SMALL, threads=2
    )
    straight = hc.Design(tmp_path / "straight", **kw)
    straight.run(3, progress=False)
    first = hc.Design(tmp_path / "split", **kw)
    first.run(2, progress=False)
    resumed = hc.Design(tmp_path / "split", resume=True, **kw)
    assert resumed.iteration == 2
    resumed.run(3, progress=False)
    assert resumed.params.tolist() == straight.params.tolist()
    strip = lambda hist: [{k: v for k, v in h.items() if k != "wall"} for h in hist]  # noqa: E731
    assert strip(resumed.history) == strip(straight.history)
    state = json.load(open(tmp_path / "split" / "state.json"))
    assert len(state["history"]) == 3 and state["params"] == straight.params.tolist()
    rows = open(tmp_path / "split" / "design.csv").read().splitlines()
    assert len(rows) == 4 and rows[0].startswith("iteration,loss,L_T,L_H,a0")


def test_bad_settings_are_refused_and_change_nothing(tmp_path):
    with pytest.raises(ValueError, match="objective"):
        hc.Design(tmp_path, objective="fast")
    with pytest.raises(ValueError, match="variant"):
        hc.Design(tmp_path, k_T=0.01, k_H=0.01, variant="sideways")
    with pytest.raises(ValueError, match="k_T and k_H"):
        hc.Design(tmp_path, k_T=0.01)
    with pytest.raises(ValueError, match="k_H"):
        hc.Design(tmp_path, k_T=0.01, k_H=-1.0)
    with pytest.raises(ValueError, match="four finite numbers"):
        hc.Design(tmp_path, k_T=0.001, k_H=0.001, start=[1, 2, 3])
    with pytest.raises(ValueError, match="decay"):
        hc.Design(tmp_path, k_T=0.001, k_H=0.001, decay=1.0)
    with pytest.raises(ValueError, match="lr"):
        hc.Design(tmp_path, k_T=0.001, k_H=0.001, lr=0.0)
    with pytest.raises(ValueError, match="lattice"):
        hc.simulation(hc.RECHTSMAN, "square", 0, SMALL)
    assert os.listdir(tmp_path) == []
    d = hc.Design(tmp_path, k_T=1 / 30, k_H=1 / 40, replicas=1, truncate=10, protocol=SMALL)
    d.run(1, progress=False)
    before = open(tmp_path / "state.json").read()
    with pytest.raises(FileExistsError, match="resume"):
        hc.Design(tmp_path, k_T=1 / 30, k_H=1 / 40, replicas=1, truncate=10, protocol=SMALL)
    with pytest.raises(ValueError, match="replicas"):
        hc.Design(tmp_path, k_T=1 / 30, k_H=1 / 40, replicas=2, truncate=10, protocol=SMALL, resume=True)
    assert open(tmp_path / "state.json").read() == before


def test_measure_and_report_write_their_files(tmp_path):
    d = hc.Design(
        tmp_path, objective="assemble", steps=40, variant="truncated", truncate=20, replicas=2, protocol=SMALL
    )
    d.run(2, progress=False)
    s = d.report(replicas=2, steps=60, every=20, progress=False)
    for f in (
        "design.png",
        "curves.csv",
        "summary.json",
        "design.csv",
        "state.json",
        "honeycomb.gsd",
        "triangular.gsd",
    ):
        assert (tmp_path / f).stat().st_size > 0, f
    assert s["designed"]["params"] == d.params.tolist()
    import gsd.hoomd

    with gsd.hoomd.open(tmp_path / "honeycomb.gsd") as t:
        assert len(t) >= 2 and t[-1].particles.N == 36 and t[-1].configuration.step > t[0].configuration.step
    header = open(tmp_path / "curves.csv").readline().strip().split(",")
    assert header[:3] == ["steps", "L_H start", "sem L_H start"]


def test_command_line_design_and_measure(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "hoomd_adjoint.cli",
        "honeycomb",
        "design",
        "--out",
        str(out),
        "--N",
        "36",
        "--iterations",
        "1",
        "--replicas",
        "2",
        "--objective",
        "rates",
        "--target-k-T",
        str(1 / 30),
        "--target-ratio",
        "0.5",
        "--truncate",
        "20",
        "--check-replicas",
        "2",
        "--check-steps",
        "40",
        "--quiet",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=TESTS, env=subprocess_env())
    assert r.returncode == 0, r.stderr
    assert "designed" in r.stdout and (out / "design.png").exists()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=TESTS, env=subprocess_env())
    assert r.returncode == 2 and "--resume" in r.stderr
    r = subprocess.run(
        cmd[:-1] + ["--resume", "--iterations", "2", "--quiet"],
        capture_output=True,
        text=True,
        cwd=TESTS,
        env=subprocess_env(),
    )
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout and len(json.load(open(out / "state.json"))["history"]) == 2
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "hoomd_adjoint.cli",
            "honeycomb",
            "measure",
            "--N",
            "36",
            "--replicas",
            "2",
            "--steps",
            "40",
            "--every",
            "20",
            "--out",
            str(tmp_path / "m"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=TESTS,
        env=subprocess_env(),
    )
    assert r.returncode == 0, r.stderr
    assert "k_H" in r.stdout and (tmp_path / "m" / "curves.png").exists()


def test_one_loss_shared_by_replica_threads_is_bitwise_the_serial_result(tmp_path):
    """The order losses keep no per-call state: two replicas on two threads share one loss."""
    kw = dict(k_T=1 / 30, k_H=1 / 40, variant="reverse", replicas=4, protocol=SMALL)
    serial = hc.Design(tmp_path / "1", threads=1, **kw).evaluate(np.array(hc.RECHTSMAN), 0)
    threaded = hc.Design(tmp_path / "2", threads=2, **kw)
    for _ in range(3):
        L, g, _, _ = threaded.evaluate(np.array(hc.RECHTSMAN), 0)
        assert L == serial[0] and g.tolist() == serial[1].tolist()


def test_reproduction_script_smoke(tmp_path):
    """examples/reproduce_honeycomb.py --smoke: the whole Figs. 1-2 pipeline at tiny sizes, first
    in two slices (--part 1/2, 2/2: the jobs, no figures), then the call that makes the figures
    resumes every design and reuses every measurement."""
    script = os.path.join(os.path.dirname(TESTS), "examples", "reproduce_honeycomb.py")
    argv = [sys.executable, script, "--smoke", "--figures", str(tmp_path / "fig"), "--work", str(tmp_path / "work")]

    def run(*more):
        r = subprocess.run(argv + list(more), capture_output=True, text=True, cwd=TESTS, env=subprocess_env())
        assert r.returncode == 0, r.stderr[-3000:]
        return r

    for k in (1, 2):
        assert f"part {k}/2: done" in run("--part", f"{k}/2").stdout
    assert not (tmp_path / "fig" / "honeycomb_table.md").exists()
    work = tmp_path / "work" / "smoke"
    designs = sorted(p.name for p in work.iterdir() if p.name.startswith(("fig2-", "compare-")))
    # 3 x 2 targets, the comparison's 3, and C (half-time-fresh) at the other target
    assert len(designs) == 10 and all((work / d / "measure.json").exists() for d in designs)
    stamps = {d: (work / d / "state.json").stat().st_mtime_ns for d in designs}
    run()
    assert {d: (work / d / "state.json").stat().st_mtime_ns for d in designs} == stamps  # resumed: nothing to run
    # (the whole run measures the comparison's designs also on the line checks' replicas)
    assert all((work / d / "measure-other.json").exists() for d in designs if d.startswith("compare-"))
    for f in ("honeycomb_fig1.png", "honeycomb_fig1_progress.png", "honeycomb_fig2.png", "honeycomb_estimators.png"):
        assert (tmp_path / "fig" / f).stat().st_size > 0, f
    table = (tmp_path / "fig" / "honeycomb_table.md").read_text()
    assert all(f"Fig. 2 {v}" in table for v in ("forward", "truncated", "gauss_newton", "half-time-common"))
    assert table.count("| Fig. 2 half-time-fresh: target") == 2  # C at both targets
    assert "Fig. 1 stage 3" in table and (tmp_path / "fig" / "honeycomb_lead.png").stat().st_size > 0


def test_measurements_say_which_replicas_they_left_out():
    """Without the settle stage, triangular seed MEASURE_SEED + 10 blows up in its 6th step (the
    Quick start's 64 replicas had three such): the result names it, a larger share than
    max_failed stops the measurement, and the default protocol runs every replica."""
    old = hc.Protocol(settle_steps=0)
    kw = dict(replicas=11, steps=20, every=10, threads=2)
    with pytest.raises(ha.ReplicaError, match=r"1 of 11 replicas failed, more than max_failed = 0.05 allows"):
        hc.measure(hc.RECHTSMAN, protocol=old, **kw)
    with pytest.warns(ha.ReplicaWarning, match="10 of 11 replicas used"):
        m = hc.measure(hc.RECHTSMAN, protocol=old, max_failed=0.1, **kw)
    assert m["used"] == {"honeycomb": 11, "triangular": 10}
    ((seed, failure),) = m["failures"]["triangular"].items()
    assert seed == hc.MEASURE_SEED + 10 and failure.step == 1006 and "outside the box" in failure.cause
    lines = hc.describe_replicas(m, 11)
    assert lines["honeycomb"] == "11 of 11 replicas used"
    assert lines["triangular"].startswith(
        f"10 of 11 replicas used; failed seeds: {hc.MEASURE_SEED + 10} (stopped at timestep 1006"
    )
    m = hc.measure(hc.RECHTSMAN, **kw)  # the settled protocol: no failures
    assert m["used"] == {"honeycomb": 11, "triangular": 11} and m["failures"] == {"honeycomb": {}, "triangular": {}}
