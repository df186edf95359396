"""Which sets of transitions can be controlled at once (PNAS 2021, Fig. 5).

From one state a and K adjacent states b_1..b_K, a subset S of the K pathways gives 2|S|
barrier constraints. With the targets at the current barriers, the loss
L = sum_c (dE_c - dE*_c)^2 has Hessian 2 J_S^T J_S in B, where J_S stacks the rows
dE_c/dB = phi(ts_c) - phi(start_c) (envelope theorem). The prediction: S is controllable iff
J_S has full row rank 2|S| (as many nonzero Hessian modes as constraints). The rank uses the
singular values of J_S (no squaring of the condition number): sigma_i > rtol * sigma_max, with
rtol = 1e-2 by default: the finite Morse range turns the exact dependencies of sticky spheres
into singular values near 1e-3 sigma_max, which no bounded change of B can exploit.
"""

import itertools

import numpy as np

from . import paths as _paths

__all__ = ["neighbourhood", "jacobian", "subsets", "predict"]


def neighbourhood(cluster, a, geometries, progress=False):
    """Paths from state a to every adjacent state found among the one-swap relabellings of the
    packing ``geometries`` (see :func:`~hoomd_adjoint.apps.clusters.paths.swap_candidates`)."""
    from tqdm.auto import tqdm

    from .packings import at_label_range, contact_graph, state_contacts

    # candidates from a's contacts at the labelling range (at a soft range and uneven B no
    # distance threshold reads them off a itself)
    short = at_label_range(cluster, a)
    n = len(contact_graph(short))
    found = []
    for y in tqdm(_paths.swap_candidates(short, geometries), disable=not progress, desc="neighbours"):
        y = cluster.minimize(y)
        if len(state_contacts(cluster, y)) != n:
            continue
        p = _paths.connect(cluster, a, y)
        if p is not None:
            found.append(p)
    return found


def jacobian(cluster, a, b, ts):
    """J (2K, P): rows dE_fwd/dB and dE_bwd/dB of the K transitions a <-> b_k over saddles ts_k
    (all stationary points), interleaved: forward k at row 2k, backward at 2k + 1."""
    phi_a = cluster.energy_gradient_B(a)
    rows = []
    for y, t in zip(b, ts):
        phi_t = cluster.energy_gradient_B(t)
        rows += [phi_t - phi_a, phi_t - cluster.energy_gradient_B(y)]
    return np.array(rows)


def subsets(K):
    """All 2^K - 1 non-empty subsets of range(K), smallest first."""
    return [s for n in range(1, K + 1) for s in itertools.combinations(range(K), n)]


def predict(J, subset, rtol=1e-2):
    """(controllable, singular values) for the pathways in ``subset``: controllable iff the
    2|S| rows of J for them have full rank at relative tolerance ``rtol``."""
    rows = [r for c in subset for r in (2 * c, 2 * c + 1)]
    s = np.linalg.svd(J[rows], compute_uv=False)
    return bool(np.sum(s > rtol * s[0]) == len(rows)), s
