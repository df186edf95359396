"""The shell-and-spider complex and its eight-parameter gradient: the chain from the engine's
gradients (pair parameters, body geometry, principal moments, rotational drag, initial angular
momenta) to the paper's parameters, against central differences of whole runs."""

import numpy as np
import pytest

from hoomd_adjoint.apps.spider import design, model


def _loss(shell, x, steps, cargo=False):
    cx = model.Complex(shell, model.Params.from_array(x), seed=3, cargo=cargo)
    k, lo, hi = design.STABLE_SHELL[shell]
    return design.evaluate(cx, steps=steps, stable=(k, lo + 0.3, hi - 0.3))  # a band that some vertices leave


@pytest.mark.parametrize("shell,cargo", [("octahedron", False), ("icosahedron", True)])
def test_eight_parameter_gradient_matches_finite_differences(shell, cargo):
    p = model.Params.start(shell, "weak")
    p.r_on, p.r_cut = 4.5, 7.5  # the switch is engaged (the head starts 5.0 from the target)
    x0 = p.array()
    steps = 60
    ev = _loss(shell, x0, steps, cargo)
    assert np.all(np.isfinite(ev.grad)) and np.count_nonzero(ev.grad) >= 6 and ev.stable > 0
    for k, name in enumerate(model.PARAM_NAMES):
        for h in (1e-5, 2e-6):
            e = np.zeros(8)
            e[k] = h
            fd = (_loss(shell, x0 + e, steps, cargo).loss - _loss(shell, x0 - e, steps, cargo).loss) / (2 * h)
            assert abs(ev.grad[k] - fd) <= 1e-6 * abs(fd) + 1e-15 * 10 / h, (name, h, ev.grad[k], fd)


def test_complex_is_built_as_the_authors_describe():
    cx = model.Complex("octahedron", model.Params.start("octahedron", "strong"), seed=0)
    x = np.array(cx.sim.state._cpp.position)
    body = np.asarray(cx.sim.state._cpp.body)
    V = cx.n_vertices
    assert V == 6 and cx.sim.state.N_particles == 6 + 1 + 6 * 4 + 5
    # as the authors' code: the base ring's centre on the target vertex, the head h = 5 beyond it
    out = x[cx.target] / np.linalg.norm(x[cx.target])
    ring = x[(body == cx.spider_tag) & (np.arange(body.size) != cx.spider_tag)][:4].mean(axis=0)
    np.testing.assert_allclose(ring, x[cx.target], atol=1e-12)
    np.testing.assert_allclose(x[cx.head_tag] - x[cx.target], 5.0 * out, atol=1e-12)
    # neighbouring vertices' patches meet at the edge midpoints
    patches = x[(body >= 0) & (body < V) & (body != np.arange(body.size))]
    for i, j in cx.shell.edges:
        mid = (x[i] + x[j]) / 2
        assert np.sum(np.linalg.norm(patches - mid, axis=1) < 1e-9) == 2
    # the initial L_remain at the weak start is near the authors' logged 3.32e-4 (their shell is annealed)
    weak = model.Complex("octahedron", model.Params.start("octahedron", "weak"), seed=0)
    x_weak = np.array(weak.sim.state._cpp.position)
    assert design.remain(weak, x_weak, design.remain_coefficient("octahedron"))[0] == pytest.approx(3.32e-4, rel=0.15)
    assert design.extraction(cx, x)[0] == pytest.approx(
        -(4 * 4 + 4 * np.sqrt(2)) / 5
    )  # 4 edges and the opposite vertex


def test_remain_matches_the_engines_head_energy():
    p = model.Params.start("octahedron", "weak")
    p.r_on, p.r_cut = 4.5, 7.5
    cx = model.Complex("octahedron", p, seed=0)
    cx.sim.run(200)
    x = np.array(cx.sim.state._cpp.position)
    V, head = cx.n_vertices, cx.head_tag
    hp = cx.head_params(p)
    E = model.switched_morse(
        np.linalg.norm(x[head] - x[:V], axis=1), **{k: hp[k] for k in ("D0", "alpha", "r0", "r_on")}, r_off=hp["r_off"]
    )[0]
    # the engine's energy of the head-vertex pairs: half on the head, half on each vertex
    assert cx.morse.energies[head] == pytest.approx(E.sum() / 2, rel=1e-12)


def test_bad_spider_set_ups_are_refused():
    with pytest.raises(ValueError, match="r_on"):
        model.Params(r_on=12.0, r_cut=10.0).check()
    with pytest.raises(ValueError, match="base_radius"):
        model.Complex("octahedron", model.Params(base_radius=-1.0))
    with pytest.raises(ValueError, match="shell"):
        model.Complex("cube")
    with pytest.raises(ValueError, match="target"):
        model.Complex("octahedron", target=6)
    with pytest.raises(ValueError, match="finite"):
        model.Params.from_array([1.0] * 7 + [np.nan])
    with pytest.raises(ValueError, match="reach"):
        design.End(reach=-1.0).check()
    with pytest.raises(ValueError, match="intact"):
        design.End(intact=-1.0).check()


def test_projection_onto_buildable_parameters():
    p, moved = model.Params(r_on=9.97, r_cut=9.93, head_particle_radius=-2.5).project()
    assert (
        moved == ["head_particle_radius", "r_on"] and p.r_on == pytest.approx(9.83) and p.head_particle_radius == -1.9
    )
    p.check()
    q, moved = model.Params().project()
    assert moved == [] and q == model.Params()


def _window_value(shell, cargo, x, end, stable, before):
    """The end-of-run terms after ``before`` steps with the start's parameters, then the window
    with parameters x: the discrete map :func:`design.window` differentiates (its start given)."""
    cx = model.Complex(shell, model.Params.from_array(WINDOW_START[shell]), seed=3, cargo=cargo, leg_sigma=2.25)
    cx.sim.run(before)
    cx.set_params(model.Params.from_array(x))
    cx.sim.run(end.window)
    positions = np.array(cx.sim.state._cpp.position)
    return (
        design.end_terms(cx, positions, end.weight, end.margin, end.reach, end.intact)[0]
        + design.stable_shell(cx, positions, *stable)[0]
    )


WINDOW_START = {  # extracting spiders, so that every term is engaged in the window
    "octahedron": [4.103, 4.295, 1.299, 1.197, 5.459, 1.904, 6.5, 7.0],
    "icosahedron": [4.84, 4.626, 0.601, 0.778, 6.564, 1.872, 5.0, 6.5],
}


@pytest.mark.parametrize(
    "shell,cargo,reach,intact",
    [("octahedron", False, 0.0, 0.0), ("icosahedron", True, 0.0, 0.0), ("octahedron", False, 2.0, 5.0)],
)
def test_end_of_run_window_gradient_matches_finite_differences(shell, cargo, reach, intact):
    # one frame at the window's end: a second frame would need a run() boundary in the differences,
    # and a new run recomputes the Langevin torque (docs/spider.md), another map. (margin 3: every
    # term engaged, the intact term's on every remaining edge)
    end = design.End(horizon=400, window=100, every=100, paper_steps=100, margin=3.0, reach=reach, intact=intact)
    k, lo, hi = design.STABLE_SHELL[shell]
    stable = (k, lo + 0.3, hi - 0.3)
    x0 = np.array(WINDOW_START[shell])
    cx = model.Complex(shell, model.Params.from_array(x0), seed=3, cargo=cargo, leg_sigma=2.25)
    cx.sim.run(300)
    w = design.window(cx, end, stable=stable)
    assert w["end"] > 0 and w["stable"] > 0 and np.count_nonzero(w["grad"]) >= 6
    for j, name in enumerate(model.PARAM_NAMES):
        for h in (1e-5, 2e-6):
            e = np.zeros(8)
            e[j] = h
            fd = (
                _window_value(shell, cargo, x0 + e, end, stable, 300)
                - _window_value(shell, cargo, x0 - e, end, stable, 300)
            ) / (2 * h)
            assert abs(w["grad"][j] - fd) <= 1e-6 * abs(fd) + 1e-14 * 100 / h, (name, h, w["grad"][j], fd)


def test_end_loss_settings_are_checked():
    with pytest.raises(ValueError, match="horizon 1500 must hold"):
        design.End(horizon=1500, window=1000).check()
    with pytest.raises(ValueError, match="every 200 must be at most the window 100"):
        design.End(window=100, every=200).check()
    from hoomd_adjoint.apps.spider import Optimization

    with pytest.raises(ValueError, match="loss must be 'paper' or 'end', got 'long'"):
        Optimization("/nonexistent/never-written", loss="long")
    with pytest.raises(ValueError, match="end applies to loss 'end'"):
        Optimization("/nonexistent/never-written", end=design.End())
    with pytest.raises(ValueError, match="paper_steps 500 must equal steps 1000"):
        Optimization("/nonexistent/never-written", loss="end", end=design.End(paper_steps=500))
