"""What the C++ adjoint is asked for travels with each call (AdjointRequest, cpp/adjoint/Adjoint.h):
the parameters a pass differentiates are named by the call's ``select``, nothing is set on the
forces, and a bad selection is refused, naming the force and index, before anything changes."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from test_adjoint import STEPS, System

P = 3  # Morse: D0, alpha, r0


def _prepared(rng):
    s = System("Morse", "brownian", 3, rng)
    sim, force = s.build()
    sim._prepare_run()
    return s, sim, force


def test_selection_is_named_by_each_call(rng):
    """A call with select=[[2]] differentiates r0 only (the same bits as all, the rest untouched);
    the next call without one differentiates everything again: the force kept nothing."""
    _, sim, _ = _prepared(rng)
    cpp = sim.state._cpp
    w = rng.normal(size=(cpp.N, 3))
    out_all, gp_all, ep_all = _core.force_jacobian(cpp, w)
    out_sub, gp_sub, ep_sub = _core.force_jacobian(cpp, w, select=[[2]])
    np.testing.assert_array_equal(out_sub, out_all)
    g_all, g_sub = gp_all[0].reshape(-1, P), gp_sub[0].reshape(-1, P)
    assert np.all(g_all != 0)
    np.testing.assert_array_equal(g_sub[:, 2], g_all[:, 2])
    assert not g_sub[:, :2].any()
    np.testing.assert_array_equal(ep_sub[0].reshape(-1, P)[:, 2], ep_all[0].reshape(-1, P)[:, 2])
    again = _core.force_jacobian(cpp, w)
    for a, b in zip(again[1] + again[2], gp_all + ep_all):
        np.testing.assert_array_equal(a, b)
    nothing = _core.force_jacobian(cpp, w, select=[[]])
    np.testing.assert_array_equal(nothing[0], out_all)
    assert not nothing[1][0].any()


@pytest.mark.parametrize(
    "select,message",
    [
        ([[0], [1]], r"parameter selection: 2 lists for 1 forces \(one per force, or none\)"),
        ([[0, 3]], r"parameter selection: force 0: index 3 is not in 0\.\.2"),
        ([[-1]], r"parameter selection: force 0: index -1 is not in 0\.\.2"),
        ([[1, 1]], r"parameter selection: force 0: index 1 twice"),
    ],
)
def test_bad_selection_is_refused_before_anything_changes(rng, select, message):
    _, sim, _ = _prepared(rng)
    cpp = sim.state._cpp
    N = cpp.N
    with pytest.raises((ValueError, IndexError), match=message):
        _core.force_jacobian(cpp, np.ones((N, 3)), select=select)
    pos = np.array(cpp.position)[None].copy()
    lr, lv, la = np.ones((N, 3)), np.zeros((N, 3)), np.zeros((N, 3))
    grads = _core.AdjointGrads()
    with pytest.raises((ValueError, IndexError), match=message):
        _core.adjoint_sweep(cpp, cpp.timestep, pos, None, None, lr, lv, la, grads, kT=True, select=select)
    assert np.all(lr == 1.0) and grads.kT == 0.0 and not grads.params


def test_a_failed_gradient_leaves_the_forces_as_they_were(rng):
    """A gradient of r0 alone that fails half way (its loss raises) leaves nothing on the force:
    a full gradient afterwards is bitwise a fresh simulation's."""
    s = System("Morse", "langevin", 3, rng)

    def failing(frame):
        raise RuntimeError("loss failed on purpose")

    sim, force = s.build()
    with pytest.raises(RuntimeError, match="on purpose"):
        ha.adjoint.gradient(sim, STEPS, failing, [(force, ["r0"])], frames=[STEPS // 2, STEPS])
    fresh_sim, fresh = s.build()
    fresh_sim.run(STEPS // 2)
    got = ha.adjoint.gradient(sim, STEPS, s.loss, [force])
    want = ha.adjoint.gradient(fresh_sim, STEPS, s.loss, [fresh])
    assert got.grad(force) == want.grad(fresh)
    assert all(set(v) == {"D0", "alpha", "r0"} for v in got.grad(force).values())
