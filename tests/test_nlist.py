"""The cell neighbour list equals brute force (and freud's neighbour query) on random boxes."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import hoomd_adjoint as ha
import reference as ref
from conftest import make_frame, make_sim


def nlist_pairs(pos, box, rcut, buffer, typeid=None, types=("A",)):
    frame = make_frame(pos, box, typeid=typeid, types=types)
    nl = ha.md.nlist.Cell(buffer=buffer)
    pot = ha.md.pair.Gaussian(nlist=nl, default_r_cut=rcut)
    pot.params[(types, types)] = dict(epsilon=1.0, sigma=1.0)
    sim = make_sim(frame, forces=[pot])
    sim.run(0)
    return {tuple(p) for p in nl._cpp.pairs().tolist()}, sim


def brute_pairs(pos, box, rlist):
    i, j, r = ref.pair_distances(pos, box)
    return {(int(a), int(b)) for a, b, d in zip(i, j, r) if d <= rlist}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    N=st.integers(2, 300),
    dim=st.sampled_from([2, 3]),
    tilt=st.booleans(),
    rcut=st.floats(0.5, 2.0),
    buffer=st.floats(0.0, 0.6),
)
def test_nlist_equals_brute_force(seed, N, dim, tilt, rcut, buffer):
    rng = np.random.default_rng(seed)
    rl = rcut + buffer
    L = rng.uniform(2.05 * rl / (0.8 if tilt else 1.0) + 0.1, 4 * rl + 1)
    Ls = L * rng.uniform(1.0, 1.3, 3)
    if dim == 2:
        box = [Ls[0], Ls[1], 0, rng.uniform(-0.4, 0.4) if tilt else 0, 0, 0]
    else:
        t = rng.uniform(-0.4, 0.4, 3) if tilt else np.zeros(3)
        box = [Ls[0], Ls[1], Ls[2], t[0], t[1], t[2]]
    M = ha.Box.from_box(box).to_matrix()
    f = rng.uniform(-0.5, 0.5, (N, 3))
    if dim == 2:
        f[:, 2] = 0
    pos = f @ M.T
    try:
        got, _ = nlist_pairs(pos, box, rcut, buffer)
    except ValueError as e:  # box too small for r_cut + buffer after tilting
        assert "too large for the box" in str(e)
        return
    assert got == brute_pairs(pos, box, rl)
    assert sim_nlist_symmetric(pos, box, rcut, buffer)


def sim_nlist_symmetric(pos, box, rcut, buffer):
    """Each pair is listed from both sides (the pair-once loops depend on it)."""
    frame = make_frame(pos, box)
    nl = ha.md.nlist.Cell(buffer=buffer)
    pot = ha.md.pair.Gaussian(nlist=nl, default_r_cut=rcut)
    pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    make_sim(frame, forces=[pot]).run(0)
    return nl._cpp.is_symmetric()


def test_nlist_matches_freud(rng):
    freud = pytest.importorskip("freud")
    box = [9.0, 8.0, 7.5, 0.2, 0.1, -0.15]
    M = ha.Box.from_box(box).to_matrix()
    pos = rng.uniform(-0.5, 0.5, (400, 3)) @ M.T
    got, _ = nlist_pairs(pos, box, 1.8, 0.4)
    fbox = freud.box.Box(*box)
    nl = freud.locality.AABBQuery(fbox, pos).query(pos, dict(r_max=2.2 + 1e-12, exclude_ii=True)).toNeighborList()
    expect = {(int(a), int(b)) for a, b in zip(nl.query_point_indices, nl.point_indices) if a < b}
    assert got == expect


def test_per_type_pair_cutoffs(rng):
    box = [10, 10, 10, 0, 0, 0]
    pos = rng.uniform(-5, 5, (300, 3))
    typeid = rng.integers(0, 2, 300)
    frame = make_frame(pos, box, typeid=typeid, types=("A", "B"))
    nl = ha.md.nlist.Cell(buffer=0.2)
    pot = ha.md.pair.Gaussian(nlist=nl, default_r_cut=1.0)
    pot.params[("A", ["A", "B"])] = dict(epsilon=1.0, sigma=1.0)
    pot.params[("B", "B")] = dict(epsilon=1.0, sigma=1.0)
    pot.r_cut[("B", "B")] = 2.0
    make_sim(frame, forces=[pot]).run(0)
    i, j, r = ref.pair_distances(pos, box)
    rl = np.where((typeid[i] == 1) & (typeid[j] == 1), 2.2, 1.2)
    expect = {(int(a), int(b)) for a, b, d, c in zip(i, j, r, rl) if d <= c}
    assert {tuple(p) for p in nl._cpp.pairs().tolist()} == expect


def test_rebuilds_only_when_needed(rng):
    """With a buffer, the list is rebuilt far less often than every step, and forces do not
    depend on the buffer (the same trajectory up to summation order: neighbour order differs)."""
    from conftest import random_positions

    box = [9, 9, 9, 0, 0, 0]
    pos = random_positions(rng, 200, box, min_dist=0.95)
    out = {}
    for buffer in (0.0, 0.4):
        nl = ha.md.nlist.Cell(buffer=buffer)
        lj = ha.md.pair.LJ(nlist=nl, default_r_cut=2.5)
        lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
        bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)
        sim = make_sim(make_frame(pos, box), forces=[lj], methods=[bd], dt=1e-3)
        sim.run(300)
        out[buffer] = (sim.state.get_snapshot().particles.position, nl.num_builds)
    np.testing.assert_allclose(out[0.0][0], out[0.4][0], rtol=0, atol=1e-10)
    assert out[0.0][1] >= 300 and out[0.4][1] < out[0.0][1] / 2
