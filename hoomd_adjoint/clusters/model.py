"""The colloidal-cluster model of the PNAS 2021 seed (second section): N distinguishable spheres
(one type each) with HOOMD's Morse pair potential, r0 = 1, and one binding energy B_ab per pair,
the design parameters.

    V_ab(r) = B_ab [exp(-2 alpha (r - 1)) - 2 exp(-alpha (r - 1))],   minimum -B_ab at r = 1.

Energies, forces, Hessians and parameter derivatives all come from the embedded engine's one
Morse evaluator (the same code that runs the MD), through its force Jacobian: the Hessian is
assembled from 3N Hessian-vector products, so there is no second implementation of the physics.

Choices (the paper's SI is not public): alpha = 5 (the authors' JAX MD tutorial), r_cut = 4
with no shift (the engine has no smooth cutoff; V(4) / B is -6e-7, so the jump does not matter),
free space emulated by a periodic box of side 40, far larger than the cluster plus r_cut.
"""
import itertools

import numpy as np

from .. import _checks, _core

__all__ = ["Cluster", "pairs", "random_start"]


def random_start(N, rng, min_dist=0.9, radius=None):
    """N points in a ball (default radius about N^(1/3) / 1.3), no two closer than ``min_dist``:
    a start for :meth:`Cluster.minimize` that cannot fall into the Morse potential's finite core."""
    radius = radius or max(1.0, N ** (1 / 3) / 1.3)
    pts = []
    for _ in range(100000):
        p = rng.uniform(-radius, radius, 3)
        if np.linalg.norm(p) > radius:
            continue
        if all(np.linalg.norm(p - q) >= min_dist for q in pts):
            pts.append(p)
            if len(pts) == N:
                return np.array(pts)
    raise RuntimeError(f"random_start: could not place {N} points {min_dist} apart in a ball of radius {radius}")


def pairs(N):
    """The (a, b), a < b, in the order of the parameter vector B (row-major): 21 for N = 7."""
    return [(a, b) for a in range(N) for b in range(a + 1, N)]


class Cluster:
    """N Morse spheres with pair binding energies ``B`` (length N(N-1)/2, order of :func:`pairs`).

    Args:
        B: binding energies (kT units), all positive.
        N: particles (default 7).
        alpha: Morse range parameter (1/sigma).
        r_cut: cutoff (sigma); energies are not shifted.
        box: side of the periodic box that emulates free space (sigma).

    Positions are (N, 3) arrays in any frame; they are centred in the box before evaluation.
    """

    def __init__(self, B, N=7, alpha=5.0, r_cut=4.0, box=40.0):
        import hoomd_adjoint as ha
        import gsd.hoomd

        self.N = _checks.integer("N", N, lo=2)
        self.pairs = pairs(self.N)
        self.alpha = _checks.real("alpha", alpha, lo=0.0, lo_open=True)
        self.r_cut = _checks.real("r_cut", r_cut, lo=0.0, lo_open=True)
        self.box = _checks.real("box", box, lo=0.0, lo_open=True)
        if self.box < 4 * (self.r_cut + 1.0) + 2 * self.N:
            raise ValueError(f"box = {box} is too small to emulate free space for N = {N}, r_cut = {r_cut}")
        self.types = [f"P{i}" for i in range(self.N)]
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [self.box] * 3 + [0, 0, 0]
        frame.particles.N = self.N
        frame.particles.types = self.types
        frame.particles.typeid = np.arange(self.N, dtype=np.uint32)
        frame.particles.position = np.c_[np.arange(self.N) * 1.0 - self.N / 2, np.zeros((self.N, 2))]
        self.sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=0)
        self.sim.create_state_from_snapshot(frame)
        self.morse = ha.md.pair.Morse(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=self.r_cut, mode="none")
        self.B = self._check_B(B)
        self._set_params()
        bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)
        self.sim.operations.integrator = ha.md.Integrator(dt=1e-4, methods=[bd], forces=[self.morse])
        self.sim.run(0)
        self._cpp = self.sim.state._cpp
        self._x = None

    # -- parameters -------------------------------------------------------------------------------
    def _check_B(self, B):
        B = np.asarray(B, dtype=np.float64).reshape(-1)
        if B.shape != (len(self.pairs),):
            raise ValueError(f"B must have N(N-1)/2 = {len(self.pairs)} entries (one per pair), got {B.size}")
        bad = np.flatnonzero(~np.isfinite(B) | (B <= 0))
        if bad.size:
            raise ValueError(f"binding energies must be positive and finite: B[{bad[0]}] (pair "
                             f"{self.pairs[bad[0]]}) = {B[bad[0]]}")
        return B

    def _set_params(self):
        D0 = np.zeros((self.N, self.N))
        for k, (a, b) in enumerate(self.pairs):
            D0[a, b] = D0[b, a] = self.B[k]
        for a, b in itertools.combinations_with_replacement(range(self.N), 2):
            self.morse.params[(self.types[a], self.types[b])] = dict(D0=float(D0[a, b]), alpha=self.alpha, r0=1.0)

    def set_B(self, B):
        """New binding energies (checked first; a rejected B changes nothing)."""
        self.B = self._check_B(B)
        self._set_params()
        self.sim.operations.integrator._sync(self.sim)
        self._x = None

    # -- evaluation -------------------------------------------------------------------------------
    def _at(self, x):
        x = np.asarray(x, dtype=np.float64).reshape(self.N, 3)
        if not np.all(np.isfinite(x)):
            raise ValueError("positions are not finite")
        c = x - x.mean(axis=0)
        if np.abs(c).max() > self.box / 2 - self.r_cut - 1:
            raise ValueError(f"the cluster spans more than the box can hold ({np.abs(c).max():.3g} from its centre)")
        if self._x is None or not np.array_equal(c, self._x):
            self._cpp.set_position(np.ascontiguousarray(c))
            self.morse.nlist._cpp.build(self._cpp)  # positions jump between calls: a fresh list
            self._cpp.prep_run()
            self._x = c
        return c

    def energy(self, x):
        """Potential energy (kT)."""
        self._at(x)
        return float(self.morse._cpp.energy)

    def forces(self, x):
        """Forces (N, 3) = -dU/dx."""
        self._at(x)
        return np.array(self.morse._cpp.forces)

    def energy_and_gradient(self, x):
        """(U, dU/dx flattened): what scipy.optimize.minimize wants with ``jac=True``."""
        self._at(x)
        return float(self.morse._cpp.energy), -np.array(self.morse._cpp.forces).ravel()

    def hessian_vector(self, x, v):
        """H v, H = d^2 U / dx^2 (the engine's force Jacobian: H v = -J_F v)."""
        self._at(x)
        out, _, _ = _core.force_jacobian(self._cpp, np.ascontiguousarray(np.reshape(v, (self.N, 3)), dtype=np.float64))
        return -out.ravel()

    def hessian(self, x):
        """The (3N, 3N) Hessian, column by column from Hessian-vector products."""
        n = 3 * self.N
        H = np.empty((n, n))
        for k in range(n):
            e = np.zeros(n)
            e[k] = 1.0
            H[:, k] = self.hessian_vector(x, e)
        return 0.5 * (H + H.T)  # symmetric up to rounding

    def _per_pair(self, flat):
        P = len(self.morse._param_spec)
        g = np.asarray(flat).reshape(self.N, self.N, P)[:, :, list(self.morse._param_spec).index("D0")]
        return np.array([g[a, b] + g[b, a] for a, b in self.pairs])

    def energy_gradient_B(self, x):
        """dU/dB (one entry per pair): the pair's phi(r_ab) = V_ab / B_ab."""
        self._at(x)
        _, _, e = _core.force_jacobian(self._cpp, np.zeros((self.N, 3)))
        return self._per_pair(e[0])

    def mixed(self, x):
        """d^2 U / dx dB, shape (3N, pairs): column k is the gradient of phi_k."""
        n = 3 * self.N
        M = np.empty((n, len(self.pairs)))
        self._at(x)
        for k in range(n):
            e = np.zeros((self.N, 3))
            e.flat[k] = 1.0
            _, gp, _ = _core.force_jacobian(self._cpp, e)
            M[k] = -self._per_pair(gp[0])  # w . dF/dB with w = e_k is -d2U/dx_k dB
        return M

    # -- structure --------------------------------------------------------------------------------
    def minimize(self, x, gtol=1e-10, maxiter=10000):
        """A local minimum from ``x``: FIRE (robust from rough starts; the Morse core is finite,
        so a quasi-Newton line search could jump particles onto each other), L-BFGS-B, then
        Newton steps until the largest force is below ``gtol``. Returns centred positions (N, 3)."""
        from scipy.optimize import minimize

        from ..optim import fire

        x = np.asarray(x, dtype=np.float64).reshape(self.N, 3)
        x, _, _ = fire(self.energy_and_gradient, (x - x.mean(axis=0)).ravel(), ftol=1e-3)
        # bounds keep the line search's trial steps inside the emulated free space
        reach = (self.box / 2 - self.r_cut - 1) / 2
        res = minimize(self.energy_and_gradient, x, jac=True, method="L-BFGS-B", bounds=[(-reach, reach)] * x.size,
                       options=dict(gtol=gtol, ftol=0.0, maxiter=maxiter, maxcor=30))
        x = res.x
        # L-BFGS stalls near 1e-6 (energy changes fall below rounding); Newton steps on the
        # stiff modes (the 6 rigid-body zero modes left out) bring the forces to rounding level
        for _ in range(8):
            _, g = self.energy_and_gradient(x)
            if np.abs(g).max() < gtol:
                break
            w, V = np.linalg.eigh(self.hessian(x))
            keep = w > 1e-8 * w[-1]
            x = x - V[:, keep] @ ((V[:, keep].T @ g) / w[keep])
        x = x.reshape(self.N, 3)
        return x - x.mean(axis=0)
