"""Rigid packings of 7 Morse spheres: contact graphs, their label-free keys, handedness, and the
states that quenches from random starts reach."""

import collections

import numpy as np
import pytest

from hoomd_adjoint.apps.clusters import Cluster
from hoomd_adjoint.apps.clusters.packings import CONTACT, canonical, contact_graph, find_states, handedness


@pytest.fixture(scope="module")
def states():
    c = Cluster(np.full(21, 5.0))
    return c, find_states(c, 80, np.random.default_rng(5), contacts=15)


def test_quenches_find_several_packings_with_15_contacts(states):
    c, found = states
    packings = collections.defaultdict(list)
    for s in found:
        assert len(s.graph) == 15 and s.hand in (-1, 1)
        assert np.abs(c.forces(s.x)).max() < 1e-9
        packings[s.packing].append(s)
    assert len(packings) >= 3
    degrees = {tuple(sorted(np.bincount(np.ravel(v[0].graph), minlength=7), reverse=True)) for v in packings.values()}
    assert (5, 5, 4, 4, 4, 4, 4) in degrees  # the pentagonal bipyramid
    assert sum(s.hits for s in found) <= 80


def test_keys_ignore_labels_and_handedness_sees_mirrors(states):
    c, found = states
    s = found[0]
    perm = np.random.default_rng(0).permutation(7)
    y = s.x[perm]  # relabelled: particle k of y is particle perm[k] of x
    assert canonical(contact_graph(y), 7) == s.packing
    assert contact_graph(y) != s.graph or np.array_equal(perm, np.arange(7))
    mirror = s.x * np.array([-1.0, 1.0, 1.0])
    assert contact_graph(mirror) == s.graph and handedness(mirror) == -s.hand
    Q = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    Q[:, 0] *= np.sign(np.linalg.det(Q))  # a proper rotation
    assert handedness(s.x @ Q) == s.hand
    # two different packings have different keys
    keys = {st.packing for st in found}
    assert len(keys) >= 2


def test_quenches_at_short_range_are_counted_never_raised():
    """At alpha = 40 without hops most quenches end floppy or on a saddle: find_states counts each
    failure by cause instead of raising (at alpha = 20 it used to crash)."""
    c = Cluster(np.full(21, 5.0), alpha=40.0, r_cut=1.375)
    found = find_states(c, 12, np.random.default_rng(0), contacts=15, hops=0)
    assert found.quenches == 12
    assert sum(s.hits for s in found) + sum(found.failed.values()) == 12
    assert found.failed.get("not rigid", 0) >= 6 and set(found.failed) <= {"not rigid", "not a minimum"}
    assert f"from {12 - sum(found.failed.values())} of 12 quenches" in found.describe()
    for s in found:
        assert np.abs(c.forces(s.x)).max() < 1e-8


def test_states_are_named_by_their_short_range_contacts():
    """At alpha = 10 and 20 the bipyramid's apex pair sits inside any threshold that keeps the
    contacts (1.015-1.017 against 1.007): read off the distances, the lowest state has 16
    contacts and is left out. Named by the contact graph at alpha = 40 (state_contacts), every
    quench counts and all four packings of these ranges are found, the bipyramid lowest."""
    from hoomd_adjoint.apps.clusters.packings import state_contacts

    for alpha in (10.0, 20.0):
        c = Cluster(np.full(21, 5.0), alpha=alpha, r_cut=1 + 15 / alpha)
        found = find_states(c, 40, np.random.default_rng(0), contacts=15)
        assert not found.failed and len({s.packing for s in found}) == 4
        low = min(found, key=lambda s: s.energy)
        assert len(contact_graph(low.x)) == 16 and len(state_contacts(c, low.x)) == 15
        # the old reading, a distance threshold at the cluster's own range, loses it
        by_distance = find_states(c, 40, np.random.default_rng(0), contacts=15, threshold=CONTACT)
        assert by_distance.failed.get("16 contacts", 0) > 0
        assert min(s.energy for s in by_distance) > low.energy + 1


def test_states_keep_the_count_of_quenches(states):
    _, found = states
    assert found.quenches == 80 and sum(s.hits for s in found) + sum(found.failed.values()) == 80


def test_the_command_line_runs_the_tutorials_smooth_cutoff(tmp_path, capsys):
    """clusters states --model tutorial (alpha 5, --r-on 2 --r-cut 2.5: the authors' tutorial): the same four packings as the
    hard cut at 4 (energies within 0.01 kT: the tail beyond 2 is -0.013 B), the failures counted
    in the output and in states.json with the model."""
    import json

    from hoomd_adjoint import cli

    out = tmp_path / "s"
    assert cli.main(["clusters", "states", "--quenches", "20", "--model", "tutorial", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4 packings (N = 7, 15 contacts): " in text and "from 20 of 20 quenches" in text
    saved = json.loads((out / "states.json").read_text())
    assert saved["model"] == dict(alpha=5.0, r_cut=2.5, r_on=2.0) and saved["failed"] == {}
    energies = sorted({round(s["energy"], 1) for s in saved["states"]})
    assert energies == [-82.1, -79.4, -77.4, -77.1]


def test_all_five_arkus_packings_at_short_range():
    """At alpha = 40 (the short range of the paper's text) every rigid packing of 7 sticky spheres
    is a minimum with 15 contacts: the pentagonal bipyramid (its ring stretched to close the
    7.4-degree gap), Arkus's fifth (four tetrahedra on one edge, a minimum only from alpha = 40)
    and three unstrained packings at -15 B. Compact starts and hops along the soft modes find all
    five from 40 starts; without hops 35 of 40 quenches end floppy."""
    c = Cluster(np.full(21, 5.0), alpha=40.0, r_cut=1.375)
    found = find_states(c, 40, np.random.default_rng(0), contacts=15, radius=1.15)
    by = collections.defaultdict(list)
    for s in found:
        assert len(s.graph) == 15 and np.abs(c.forces(s.x)).max() < 1e-8
        by[s.packing].append(s.energy)
    energies = sorted(round(min(v), 2) for v in by.values())
    assert energies == [-76.48, -75.35, -75.0, -75.0, -75.0]
    assert sum(found.failed.values()) <= 5
    no_hops = find_states(c, 40, np.random.default_rng(0), contacts=15, radius=1.15, hops=0)
    assert no_hops.failed.get("not rigid", 0) >= 25
    # Arkus's fifth (-75.35) is not a minimum at alpha = 35: it falls into the bipyramid
    fifth = next(s for s in found if round(s.energy, 2) == -75.35)
    c35 = Cluster(np.full(21, 5.0), alpha=35.0, r_cut=1 + 15 / 35)
    y = c35.minimize(fifth.x)
    assert canonical(contact_graph(y), 7) != fifth.packing
    assert sorted(np.bincount(np.ravel(contact_graph(y)), minlength=7), reverse=True) == [5, 5, 4, 4, 4, 4, 4]
