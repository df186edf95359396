"""Rigid packings of N sticky spheres: found by quenches from random starts, identified by their
contact graphs.

A *packing* is a contact graph up to relabelling (Arkus, Manoharan and Brenner, PRL 103, 118303
(2009), enumerate them: every rigid packing of 7 spheres has 15 contacts). A *state* keeps the
labels, because the particles are distinguishable: the labelled contact graph, and the
handedness, because a chiral packing and its mirror image share their labelled graph but are
different minima.
"""

import dataclasses
import itertools

import numpy as np

__all__ = [
    "contact_graph",
    "at_label_range",
    "state_contacts",
    "canonical",
    "handedness",
    "State",
    "States",
    "find_states",
]

CONTACT = 1.02  # a pair closer than this (sigma) is in contact: contacts sit at 0.99-1.01 at alpha = 5
# The range at which states are named: the smallest alpha (of 5 ... 60) at which every rigid
# packing of 7 sticky spheres is a minimum with 15 contacts, and CONTACT separates the contacts
# (at most 1.0029) from the closest non-contact (1.0378, the bipyramid's apices).
LABEL_ALPHA = 40.0


def contact_graph(x, threshold=CONTACT):
    """The contacts as a sorted tuple of pairs (a, b), a < b."""
    x = np.asarray(x, dtype=np.float64)
    d = np.linalg.norm(x[:, None] - x[None], axis=-1)
    a, b = np.nonzero(np.triu(d < threshold, 1))
    return tuple(zip(a.tolist(), b.tolist()))


def at_label_range(cluster, x):
    """State x of ``cluster`` re-minimised at the short range LABEL_ALPHA (same B); x itself when
    the cluster's range is that short already."""
    return x if cluster.alpha >= LABEL_ALPHA else cluster.at_range(LABEL_ALPHA).minimize(x)


def state_contacts(cluster, x):
    """The contact graph that names state x of ``cluster`` at any range: the pairs closer than
    CONTACT in :func:`at_label_range` of x.

    No distance threshold does this at a soft range: at alpha = 5 the bipyramid's apex pair sits
    at 1.027, bound to 98 % of B, and at uneven B (3 ... 7 kT) the widest contact (1.026) lies
    beyond the closest non-contact (1.013). At alpha = 40 the wells are narrow enough for the
    sticky-sphere contact graph (the Arkus packing the state belongs to) to be read off.
    """
    return contact_graph(at_label_range(cluster, x))


_PERMS = {}


def canonical(graph, N):
    """A label-free key of ``graph``: the smallest upper-triangle bit string over all N!
    relabellings (5040 for N = 7), so two graphs have the same key exactly when they are
    isomorphic."""
    if N not in _PERMS:
        if N > 9:
            raise ValueError(f"canonical() enumerates N! relabellings; N = {N} is too many")
        _PERMS[N] = np.array(list(itertools.permutations(range(N))))
    P = _PERMS[N]
    A = np.zeros((N, N), dtype=bool)
    for a, b in graph:
        A[a, b] = A[b, a] = True
    iu = np.triu_indices(N, 1)
    relabelled = A[P[:, :, None], P[:, None, :]][:, iu[0], iu[1]]  # (N!, pairs)
    keys = np.packbits(relabelled, axis=1)
    best = min(map(bytes, keys))
    return best


def handedness(x):
    """+1 or -1: the sign of the first non-degenerate triple product (x1-x0, x2-x0, x3-x0)
    over particle quadruples in index order; a mirror image has the opposite sign."""
    x = np.asarray(x, dtype=np.float64)
    for q in itertools.combinations(range(len(x)), 4):
        v = np.linalg.det(np.array([x[q[1]] - x[q[0]], x[q[2]] - x[q[0]], x[q[3]] - x[q[0]]]))
        if abs(v) > 1e-3:
            return 1 if v > 0 else -1
    return 0  # planar


@dataclasses.dataclass
class State:
    """A labelled minimum: positions (centred), energy, contacts, handedness, the packing's
    label-free key, and how many quenches reached it."""

    x: np.ndarray
    energy: float
    graph: tuple
    hand: int
    packing: bytes
    hits: int = 1

    @property
    def key(self):
        return (self.graph, self.hand)


class States(list):
    """The distinct states a batch of quenches reached (a list of :class:`State`, most visited
    first), and what became of the rest: ``quenches`` (how many ran) and ``failed``, a dict from
    cause to count. Causes: ``"did not converge"`` (FIRE ran out of steps: the stiff wells of a
    short range), ``"not rigid"`` (more than the 6 rigid-body zero modes: a floppy cluster, or a
    particle broken off), ``"not a minimum"`` (a negative mode: stopped on a saddle) and
    ``"N contacts"`` (rigid, but not the contact count asked for)."""

    def __init__(self, states=(), quenches=0, failed=None):
        super().__init__(states)
        self.quenches = quenches
        self.failed = dict(failed or {})

    def describe(self):
        """One line: states, quenches used, and the failures by cause."""
        used = self.quenches - sum(self.failed.values())
        why = "; ".join(f"{n} {cause}" for cause, n in sorted(self.failed.items(), key=lambda kv: -kv[1]))
        return f"{len(self)} states from {used} of {self.quenches} quenches" + (f" (left out: {why})" if why else "")


def _outcome(ev):
    """Why a quench with Hessian eigenvalues ``ev`` (ascending) is not a rigid minimum (None when
    it is)."""
    if ev[0] < -1e-5 * ev[-1]:
        return "not a minimum"
    if not (np.abs(ev[:6]).max() < 1e-5 * ev[-1] and ev[6] > 1e-6 * ev[-1]):
        return "not rigid"
    return None


def _hop(x, ev, V, rng, amplitude=0.4):
    """A new start from a quench that ended floppy or on a saddle: x moved along a random mix of
    its soft and unstable modes (Hessian eigenpairs ev, V; largest move ``amplitude``), plus noise
    of 0.01."""
    soft = V[:, ev < 1e-4 * ev[-1]]
    d = (soft @ rng.normal(size=soft.shape[1])).reshape(x.shape)
    return x + amplitude * d / np.abs(d).max() + 0.01 * rng.normal(size=x.shape)


COMPACT = 1.15  # radius of the ball of random starts (sigma): compact for N = 7


def find_states(cluster, starts, rng, contacts=None, progress=False, radius=COMPACT, threshold=None, hops=10):
    """Quench ``starts`` random starts (points in a ball of ``radius``; None: that of
    :func:`~.model.random_start`, 1.46 for N = 7, wider than the default compact 1.15); return
    the distinct rigid states found, most visited first, as :class:`States`, which also counts the
    quenches that did not count and why. A quench counts when its Hessian has exactly the 6
    rigid-body zero modes and no negative mode, and (if given) exactly ``contacts`` contacts:
    those of :func:`state_contacts` (the short-range contact graph), or with ``threshold``, the
    pairs closer than that (sigma) at the cluster's own range.
    A quench that ends floppy or on a saddle is moved along its soft and unstable modes and
    quenched again, up to ``hops`` times (at short range most first quenches end floppy: at
    alpha = 40, 37 of 40 compact starts reach a rigid packing with 10 hops, 5 of 40 without). A quench that
    fails is counted, never raised."""
    from tqdm.auto import tqdm

    from .model import random_start

    def graph_of(x):
        return state_contacts(cluster, x) if threshold is None else contact_graph(x, threshold)

    found, failed = {}, {}
    for _ in tqdm(range(starts), disable=not progress, desc="quenches"):
        x = random_start(cluster.N, rng, radius=radius)
        for hop in range(hops + 1):
            try:
                x = cluster.minimize(x)
                ev, V = np.linalg.eigh(cluster.hessian(x))
                why = _outcome(ev)
                if why is None:
                    graph = graph_of(x)
                    why = None if contacts in (None, len(graph)) else f"{len(graph)} contacts"
            except RuntimeError:  # FIRE out of steps (here or at the labelling range)
                why = "did not converge"
            if why not in ("not rigid", "not a minimum") or hop == hops:
                break
            x = _hop(x, ev, V, rng)
        if why is not None:
            failed[why] = failed.get(why, 0) + 1
            continue
        key = (graph, handedness(x))
        if key in found:
            found[key].hits += 1
        else:
            found[key] = State(x, cluster.energy(x), graph, key[1], canonical(graph, cluster.N))
    return States(sorted(found.values(), key=lambda s: -s.hits), starts, failed)
