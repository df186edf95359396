"""Which Morse range makes all five rigid packings of 7 sticky spheres minima (issue 32)?

Finds the five packings at alpha = 40 (compact starts, hops along soft modes), then for each alpha
re-minimises each of them and quenches fresh starts. Prints, per alpha and packing: whether the
re-minimised point is a rigid minimum of the same contact graph, its energy per unit B, the 15th
and 16th smallest pair distances (the widest contact and the closest non-contact); then what the
quenches found. B = 5 on all pairs, r_cut = 1 + 15/alpha (V(r_cut)/B = -6e-7).

    python examples/cluster_range.py [--alphas 5 10 20 40] [--starts 40]

Prints only; writes nothing. About 20 s for the default alphas on one core.
"""

import argparse

import numpy as np

from hoomd_adjoint.apps.clusters import Cluster
from hoomd_adjoint.apps.clusters.packings import _outcome, canonical, contact_graph, find_states


def distances(x):
    """The 21 pair distances, sorted."""
    return np.sort(np.linalg.norm(x[:, None] - x[None], axis=-1)[np.triu_indices(len(x), 1)])


def reference_packings(starts):
    """One state of each packing found at alpha = 40, lowest energy first."""
    c = Cluster(np.full(21, 5.0), alpha=40.0, r_cut=1.375)
    ref = {}
    for s in find_states(c, starts, np.random.default_rng(0), contacts=15, radius=1.15):
        ref.setdefault(s.packing, s)
    return sorted(ref.values(), key=lambda s: s.energy)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--alphas", type=float, nargs="+", default=[5, 8, 10, 15, 20, 25, 30, 35, 40, 50])
    p.add_argument("--starts", type=int, default=40, help="quenches per alpha (default 40)")
    args = p.parse_args()
    ref = reference_packings(args.starts)
    print(f"{len(ref)} packings at alpha = 40: E/B = {', '.join(f'{s.energy / 5:.3f}' for s in ref)}")
    print(f"{'alpha':>5} {'packing':>7} {'kept':>5} {'E/B':>8} {'d15':>7} {'d16':>7}")
    for a in args.alphas:
        c = Cluster(np.full(21, 5.0), alpha=a, r_cut=1 + 15 / a)
        for k, s in enumerate(ref):
            x = c.minimize(s.x)
            d = distances(x)
            rigid = _outcome(np.linalg.eigvalsh(c.hessian(x))) is None
            same = canonical(contact_graph(x, (d[14] + d[15]) / 2), 7) == s.packing
            kept = "yes" if rigid and same else ("other" if rigid else "no")
            print(f"{a:5g} {k:7d} {kept:>5} {c.energy(x) / 5:8.3f} {d[14]:7.4f} {d[15]:7.4f}")
        found = find_states(c, args.starts, np.random.default_rng(0), radius=1.15)
        packings = {s.packing for s in found}
        print(f"{a:5g} quenches: {len(packings)} packings; {found.describe()}")


if __name__ == "__main__":
    main()
