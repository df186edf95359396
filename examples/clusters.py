"""Colloidal clusters with hoomd-adjoint, step by step: the states of 7 Morse spheres, the
doubly nudged elastic band between two of them, the Kramers rates with their exact gradients
with respect to the 21 binding energies, and a barrier design (PNAS 2021, Figs. 3-4)::

    python examples/clusters.py            # about half a minute
"""

import numpy as np

from hoomd_adjoint.apps.clusters import Cluster, packings, paths, reproduce
from hoomd_adjoint.apps.clusters.design import design
from hoomd_adjoint.transitions import kramers, stationary

# 1. the model: 21 pair binding energies (kT), Morse range alpha = 5, r0 = 1
c = Cluster(np.full(21, 5.0))

# 2. states: quench random starts; rigid packings of 7 spheres have 15 contacts
states = packings.find_states(c, 30, np.random.default_rng(0), contacts=15)
print(f"{len(states)} labelled states of {len({s.packing for s in states})} packings from 30 quenches")

# 3. the authors' pair of adjacent states, R1 (pentagonal bipyramid) and R2, and the band between
a, b = reproduce.reference_pair(c)
p = paths.connect(c, a, b, images=100)
print(
    f"R1 -> R2: barrier {p.barrier_ab:.4f} kT; R2 -> R1: {p.barrier_ba:.4f} kT; "
    f"band relaxed in {p.band.steps} FIRE steps"
)

# 4. Kramers rates (Eq. 4, rigid-body modes projected out) and their exact gradients in B
c.set_B(np.random.default_rng(1).uniform(4, 6, 21))
xa = stationary(c, p.a, index=0)  # the stationary points move with B: refine them
xs = stationary(c, p.ts, index=1)
r = kramers(c, xa, xs)
print(f"k(R1 -> R2) = {r.k:.4g} (prefactor {r.prefactor:.4g}); d log k / dB_01 = {r.d_log_k[0]:+.6f}")
h = 1e-5
B = c.B.copy()
vals = []
for s in (1, -1):
    Bp = B.copy()
    Bp[0] += s * h
    c.set_B(Bp)
    vals.append(kramers(c, stationary(c, xa, index=0), stationary(c, xs, index=1), gradient=False).log_k)
c.set_B(B)
print(f"  central difference with re-minimised points:  {(vals[0] - vals[1]) / (2 * h):+.6f}")

# 5. design: barriers of 3 and 5 kT (the paper's Fig. 3B example), 18 iterations of 50 RMSProp steps
c.set_B(np.full(21, 5.0))
res = design(c, a, b, (3.0, 5.0), progress=True)
print(f"designed barriers {res.values[0, 0]:.4f}, {res.values[0, 1]:.4f} kT in {res.seconds:.1f} s")
