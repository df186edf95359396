"""Transition paths between cluster states: which states are adjacent (one barrier apart), the
band between them, and the refined transition state.

Two rigid states are *candidates* when their labelled contact graphs share all but one contact
(one bond breaks, another forms: the sticky-sphere rule of Holmes-Cerfon and co-workers);
:func:`swap_candidates` makes them by relabelling the packings. A candidate pair is *adjacent*
when a maximum of its relaxed band refines (Newton) to a saddle with exactly one negative
internal Hessian eigenvalue from which quenches, displaced by +-0.05 sigma along the unstable
mode, end in the two states (steepest descent joins them through it alone).
"""

import dataclasses

import numpy as np

from ...transitions import geometry, neb, stationary

__all__ = ["Path", "connect", "descend", "joins", "saddles", "swap_candidates", "BAND"]

# DNEB settings for these clusters: FIRE from dt 1e-3 up to dt_max = 0.5 / sqrt(lambda_max) of
# the start state's Hessian (about 0.015 at B = 5; a fixed 2e-2 oscillated at some designed B,
# and the authors' 4e-3 with a 0.01 step cap took 20x more steps: 3300 against 174 for R1 -> R2
# cold, and 34 warm), a band converged to 1e-2 (the saddle itself is then refined by Newton's
# method to rounding, which the envelope theorem needs).
BAND = dict(k=1.0, ftol=1e-2, dt=1e-3, dt_max="auto", max_step=0.05, climb=False, max_iter=20000)
# A fresh band that does not converge is tried again with springs this much stiffer: at B designed
# to barriers of 6 and 6 kT (alpha = 5, smooth cut) k = 1 oscillated for 60000 steps (3 of 3
# designs; k = 0.3 too), k = 3 converged in 1.3 s to the same saddle.
RETRY_K = 3.0


@dataclasses.dataclass
class Path:
    """States ``a`` and ``b`` (positions, (N, 3)), the relaxed ``band`` (images, 3N) and the
    refined transition state ``ts`` (N, 3), with the forward and backward barriers."""

    a: np.ndarray
    b: np.ndarray
    band: object
    ts: np.ndarray
    barrier_ab: float
    barrier_ba: float


def _same(x, ref, tol=1e-3):
    return geometry.rmsd(np.reshape(x, (-1, 3)), np.reshape(ref, (-1, 3))) < tol


def _band(cluster, a, b, images, band, settings):
    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = geometry.align(np.asarray(b, dtype=np.float64).reshape(-1, 3), a)
    opts = dict(BAND, **settings)
    if opts["dt_max"] == "auto":
        opts["dt_max"] = 0.5 / np.sqrt(np.linalg.eigvalsh(cluster.hessian(a))[-1])
    try:
        return neb(None, a, b, images=images, batch=cluster.batch, rigid=True, band=band, **opts)
    except RuntimeError:
        return None


def descend(cluster, ts):
    """The two minima reached by quenches from saddle ``ts`` displaced by +-0.05 sigma along its
    unstable mode."""
    U = geometry.internal_basis(ts)
    w, V = np.linalg.eigh(U.T @ cluster.hessian(ts) @ U)
    u = (U @ V[:, 0]).reshape(-1, 3)
    return [cluster.minimize(ts + s * 0.05 * u / np.abs(u).max()) for s in (-1, 1)]


def saddles(cluster, band):
    """Every prominent maximum of a relaxed band, refined to an index-one saddle and followed
    downhill both ways: a list of :class:`Path` (the two minima it joins, its band segment
    unset)."""
    E0 = band.energies
    out = []
    for m in band.maxima(prominence=2e-2 * max(np.ptp(E0), 1e-3)):
        try:
            ts = stationary(cluster, band.images[m].reshape(-1, 3), index=1)
        except (ValueError, RuntimeError):
            continue
        a, b = descend(cluster, ts)
        if _same(a, b):
            continue
        E = cluster.energy(ts)
        out.append(Path(a, b, None, ts, E - cluster.energy(a), E - cluster.energy(b)))
    return out


def connect(cluster, a, b, images=100, band=None, check=True, **settings):
    """The path from state a to state b (positions), or None when they are not adjacent (the band
    does not converge, or none of its saddles leads down to a and b).

    Args:
        images: interior images of the band (default 100, as in the paper).
        band: a starting band (images + 2, 3N) (a warm start after a small change of B).
        check: refine the band's maxima and quench from both sides of each saddle; keep the
            lowest that reaches a and b (the adjacency test); False refines the band's highest
            image (a warm re-search after a small change of B).
        settings: overrides of :data:`BAND`.
    """
    rel = _band(cluster, a, b, images, band, settings)
    if rel is None and band is None and "k" not in settings:
        rel = _band(cluster, a, b, images, None, dict(settings, k=RETRY_K * BAND["k"]))
    if rel is None or rel.barrier <= 0:
        return None
    if not check:  # the highest image, refined
        try:
            ts = stationary(cluster, rel.transition_state.reshape(-1, 3), index=1)
        except (ValueError, RuntimeError):
            return None
        E = cluster.energy(ts)
        return Path(
            rel.images[0].reshape(-1, 3),
            rel.images[-1].reshape(-1, 3),
            rel,
            ts,
            E - cluster.energy(a),
            E - cluster.energy(b),
        )
    a, b = rel.images[0].reshape(-1, 3), rel.images[-1].reshape(-1, 3)
    # Adjacent: a saddle of the band leads down to a and b. Not "the band has one maximum": from
    # the straight line a band can pass b, detour over a second barrier to a third state and come
    # back (seen at the (3, 5) kT barrier design), which adds maxima whose saddles join other
    # states. Of several saddles joining a and b, the lowest.
    found = [p for p in saddles(cluster, rel) if joins((p.a, p.b), a, b)]
    if not found:
        return None
    p = min(found, key=lambda p: cluster.energy(p.ts))
    ab, ba = (p.barrier_ab, p.barrier_ba) if _same(p.a, a) else (p.barrier_ba, p.barrier_ab)
    return Path(a, b, rel, p.ts, ab, ba)


def joins(ends, a, b):
    """Whether the two minima ``ends`` (e.g. of :func:`descend`) are the states a and b, in either
    order: the saddle they came from joins a and b by steepest descent (the adjacency test)."""
    return (_same(ends[0], a) and _same(ends[1], b)) or (_same(ends[1], a) and _same(ends[0], b))


def swap_candidates(x, geometries):
    """Positions of every labelled state one contact swap from state x (its contact graph shares
    all but one contact), made by relabelling and mirroring the packing ``geometries`` (a list
    of (N, 3) arrays, one per packing; e.g. the distinct packings of
    :func:`~hoomd_adjoint.apps.clusters.packings.find_states`). One configuration per labelled graph
    and handedness, not yet minimised."""
    import itertools

    from .packings import contact_graph, handedness

    x = np.asarray(x, dtype=np.float64)
    N = len(x)
    ga = set(contact_graph(x))
    hand_a = handedness(x)
    seen, out = {(tuple(sorted(ga)), hand_a)}, []
    perms = np.array(list(itertools.permutations(range(N))))
    for y in geometries:
        y = np.asarray(y, dtype=np.float64)
        edges = np.array(contact_graph(y))
        if len(edges) != len(ga):
            continue
        for p in perms:  # particle k of y gets label p[k]
            e = np.sort(p[edges], axis=1)
            g = set(map(tuple, e.tolist()))
            if len(g & ga) != len(ga) - 1:
                continue
            z = np.empty_like(y)
            z[p] = y
            for m in (z, z * [1.0, 1.0, -1.0]):
                key = (tuple(sorted(g)), handedness(m))
                if key not in seen:
                    seen.add(key)
                    out.append(m)
    return out
