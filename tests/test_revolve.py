"""The backward pass's checkpoint schedule (hoomd_adjoint._revolve.Revolve) on its own: it needs the
fewest forward steps there are (a dynamic-programming minimum over all checkpoint placements), it
sweeps every step exactly once, latest first, from a state it actually holds, it never holds more
than its slots, and with room for every state it stores them all; gradient() runs it as it says."""

import functools
import math

import numpy as np
import pytest
from conftest import make_frame

import hoomd_adjoint as ha
from hoomd_adjoint import _revolve
from hoomd_adjoint._revolve import Revolve


@functools.lru_cache(maxsize=None)
def fewest_steps(n, s):
    """The fewest steps advanced to reverse n steps from a stored first state with s more free
    slots, over every placement: with no slot, advance from the first state to each step in turn;
    otherwise keep a checkpoint m steps on, reverse the rest with one slot less, then the first m."""
    if n <= 1:
        return 0
    if s == 0:
        return n * (n - 1) // 2
    return min(m + fewest_steps(n - m, s - 1) + fewest_steps(m, s) for m in range(1, n))


def griewank_walther(n, s):
    """Their closed form: r n - beta(s + 1, r - 1), r the fewest sweeps with beta(s, r) >= n."""
    r = 0
    while math.comb(s + r, s) < n:
        r += 1
    return r * n - math.comb(s + r, s + 1) if r > 0 else 0


def play(schedule):
    """Carry out a schedule on a model that holds states by step number; return the steps swept
    (in order) and the most states held at once. Every action must find what it reads."""
    cps = set() if schedule.full else set(schedule.checkpoints())
    block = (0, schedule.n) if schedule.full else None  # store-all: the forward run's states, one block
    here, held, swept = None, [], []
    held.append(len(cps) + (block[1] if block else 0))
    for act, t, k in schedule.backward():
        if act in (_revolve.ADVANCE, _revolve.RECORD):
            assert t in cps, f"{act} from state {t}, which is not stored"
            assert k >= 1
            here = t + k
            if act == _revolve.RECORD:
                assert block is None
                block = (t + 1, k)
        elif act == _revolve.STORE:
            assert here == t and t not in cps
            cps.add(t)
        elif act == _revolve.DROP:
            cps.remove(t)
        elif act in (_revolve.SWEEP_BLOCK, _revolve.SWEEP_FORWARD):
            assert block == (t, k), f"{act} {t}..{t + k - 1} but the block holds {block}"
            swept += range(t + k - 1, t - 1, -1)
            block = None
        elif act == _revolve.SWEEP_CHECKPOINT:
            assert t in cps and k == 1
            swept.append(t)
        elif act == _revolve.SWEEP_CURRENT:
            assert here == t and k == 1
            swept.append(t)
            here = None
        else:
            raise AssertionError(f"unknown action {act!r}")
        held.append(len(cps) + (block[1] if block else 0))
    assert cps == (set() if schedule.full else {0}), f"checkpoints left at the end: {sorted(cps)}"
    return swept, max(held)


@functools.lru_cache(maxsize=None)
def fewest_recomputed(n, s):
    """The fewest steps recomputed after a forward run that may keep s + 1 states on its way (its
    own steps are paid anyway): keep the next state m steps on, or none and reverse from here."""
    if n <= s + 1:
        return 0
    if s == 0:
        return fewest_steps(n, 0)
    return min([fewest_steps(n, s)] + [fewest_recomputed(n - m, s - 1) + fewest_steps(m, s) for m in range(1, n)])


def test_the_minima_are_griewank_and_walthers():
    """The brute-force minima agree with the published closed form (this checks the checkers):
    reversing n steps, and a forward run of n steps with its recomputation, which is their
    problem for n + 1 steps (the last step leads to the loss, which no sweep reads)."""
    for n in range(1, 31):
        for slots in range(1, 6):
            assert fewest_steps(n, slots - 1) == griewank_walther(n, slots), (n, slots)
            assert n + fewest_recomputed(n, slots - 1) == griewank_walther(n + 1, slots), (n, slots)


@pytest.mark.parametrize("slots", [1, 2, 3, 4])
def test_griewank_and_walthers_split_recomputes_the_fewest_steps(slots):
    for n in range(1, 31):
        r = Revolve(n, slots, "fewest_steps")
        assert r.recomputed_steps() == fewest_recomputed(n, slots - 1), (n, slots)
        assert r.forward_steps() == griewank_walther(n + 1, slots)


def test_a_midpoint_split_is_not_the_fewest(monkeypatch):
    """The check above can fail: bisecting instead of the binomial split costs more steps."""
    monkeypatch.setattr(_revolve, "split", lambda n, s: max(1, n // 2))
    worse = [
        (n, s)
        for n in range(1, 31)
        for s in range(1, 5)
        if Revolve(n, s, "fewest_steps").recomputed_steps() > fewest_recomputed(n, s - 1)
    ]
    assert worse


def test_long_schedules_with_little_room_run():
    """Long windows with little room: the schedule is a loop, not nested calls (a 2-state budget
    over 1200 steps once overflowed Python's recursion limit)."""
    assert Revolve(20000, 2, "fewest_steps").forward_steps() == griewank_walther(20001, 2)
    assert Revolve(20000, 2).rule == "fewest_steps"
    assert sum(1 for _ in Revolve(3000, 2, "spare_slot").backward()) > 3000


def test_the_cheaper_rule_is_taken():
    """A load (a checkpoint's forces) costs about a step: the schedule taken costs the less of
    the two rules, never more than the spare slot's (the one gradient() ran before)."""
    for n in range(1, 61):
        for slots in range(1, 9):
            costs = {rule: sum(Revolve(n, slots, rule).cost()) for rule in _revolve.RULES}
            assert sum(Revolve(n, slots).cost()) == min(costs.values()) <= costs["spare_slot"], (n, slots)
    assert Revolve(60, 2).cost() == (330, 58)  # the spare slot's: (1711, 58)
    assert Revolve(1000, 750).cost() == (250, 22)  # Griewank and Walther's split: (250, 232)
    with pytest.raises(ValueError, match="rule must be one of"):
        Revolve(10, 3, "bisect")


@pytest.mark.parametrize("rule", [None, *_revolve.RULES])
@pytest.mark.parametrize("slots", [1, 2, 3, 4, 7])
def test_every_step_is_swept_once_latest_first_within_the_slots(slots, rule):
    for n in range(1, 41):
        swept, held = play(Revolve(n, slots, rule))
        assert swept == list(range(n - 1, -1, -1)), (n, slots)
        assert held <= slots, f"n = {n}: held {held} states with room for {slots}"


def test_room_for_every_state_stores_them_all():
    for n in (1, 2, 5, 30):
        for slots in (n, n + 1, 10 * n):
            r = Revolve(n, slots)
            assert r.full and r.checkpoints() == list(range(n))
            assert list(r.backward()) == [(_revolve.SWEEP_FORWARD, 0, n)]
            assert r.recomputed_steps() == 0
    r = Revolve(5, 4)  # one state short: checkpoints and recomputation
    assert not r.full and r.recomputed_steps() > 0


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n = 0, slots = 3"):
        Revolve(0, 3)
    with pytest.raises(ValueError, match="n = 4, slots = 0"):
        Revolve(4, 0)


def _small_sim():
    rng = np.random.default_rng(2)
    sim = ha.Simulation(device=ha.device.CPU(1), seed=4)
    sim.create_state_from_snapshot(make_frame(rng.uniform(-3, 3, (20, 3)), [6, 6, 6, 0, 0, 0]))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=1.5, mode="shift")
    lj.params[("A", "A")] = dict(epsilon=0.1, sigma=0.8)
    sim.operations.integrator = ha.md.Integrator(
        dt=1e-4, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)], forces=[lj]
    )
    return sim, lj


def test_the_adjoint_runs_the_schedule():
    """gradient()'s diagnostics are the schedule's: its recomputed steps and the states it holds."""
    sim, lj = _small_sim()
    steps, slots = 37, 4
    res = ha.adjoint.gradient(sim, steps, ha.loss.PotentialEnergy(lj), wrt=["positions"], memory=slots * 20 * 24)
    schedule = Revolve(steps, slots)
    assert res.diagnostics["recomputed_steps"] == schedule.recomputed_steps() > 0
    assert res.diagnostics["stored_states_peak"] == play(schedule)[1] <= slots


def test_frames_are_read_once():
    """The plan resolves frames once: an iterator gives what the list gives (it was read twice,
    and the second read found it empty: no loss at all)."""
    out = []
    for frames in ([5, 12], iter([12, 5])):
        sim, lj = _small_sim()
        res = ha.adjoint.gradient(sim, 12, ha.loss.PotentialEnergy(lj), wrt=["positions"], frames=frames)
        out.append(res)
    assert out[1].loss == out[0].loss != 0.0
    assert np.array_equal(out[1].positions, out[0].positions)
