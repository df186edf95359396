"""The colloidal-cluster model of the PNAS 2021 seed (second section): N distinguishable spheres
(one type each) with HOOMD's Morse pair potential, r0 = 1, and one binding energy B_ab per pair,
the design parameters.

    V_ab(r) = B_ab [exp(-2 alpha (r - 1)) - 2 exp(-alpha (r - 1))],   minimum -B_ab at r = 1.

Energies, forces, Hessians, third derivatives and parameter derivatives all come from the
engine's one Morse evaluator (the same code that runs the MD), evaluated on Taylor jets in r^2 by
``_core.cluster_derivatives``: there is no second implementation of the physics.

Choices (the paper's SI is not public): alpha = 5 (the authors' JAX MD tutorial), r_cut = 4
with no shift (V(4) / B is -6e-7, so the jump does not matter). ``r_on=`` switches to the
tutorial's smooth cutoff (the engine's MorseSwitched: r_on = 2, r_cut = 2.5 there).
MD (:meth:`Cluster.simulation`) emulates free space by a periodic box of side 40.
"""

import itertools

import numpy as np

from ... import _checks, _core

__all__ = ["Cluster", "MODELS", "pairs", "random_start"]

# The Morse models the paper's results are reproduced at: the keyword arguments of Cluster, and
# the settings MD needs (Brownian dt: about 0.1 / lambda_max of the bipyramid's Hessian at
# B = 6 kT; the contact distance that triggers a quench in first-exit runs).
MODELS = {
    # alpha = 5 (the tutorial's range) with a hard cut where V / B = -6e-7: the first reproduction
    "soft": dict(cluster=dict(alpha=5.0, r_cut=4.0), md=dict(dt=1e-4, trigger=1.3)),
    # the authors' JAX MD tutorial: alpha = 5 with the smooth multiplicative cutoff 2.0-2.5
    "tutorial": dict(cluster=dict(alpha=5.0, r_on=2.0, r_cut=2.5), md=dict(dt=1e-4, trigger=1.3)),
    # short range (the paper's text): the smallest alpha (of 5 ... 60) at which all five Arkus
    # packings are rigid minima with 15 contacts; r_cut = 1 + 15 / alpha keeps V(r_cut) / B = -6e-7
    "short": dict(cluster=dict(alpha=40.0, r_cut=1.375), md=dict(dt=1.5e-6, trigger=1.06)),
}
DEFAULT_MODEL = "short"  # the model that reproduces the paper's figures (docs/clusters.md)


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
        r_on: None (default): a hard cut at ``r_cut``. A number: the Morse energy times the XPLOR
            switch S(r), 1 below ``r_on`` and 0 at ``r_cut`` with smooth first and second
            derivatives (the engine's ``MorseSwitched``; JAX MD's ``multiplicative_isotropic_cutoff``,
            which the authors' tutorial uses with r_on = 2, r_cut = 2.5).

    Positions are (N, 3) arrays (or flat 3N vectors) in free space. Every derivative comes from
    the engine's Morse evaluator evaluated on Taylor jets in r^2 (``_core.cluster_derivatives``):
    exact to rounding up to third order, and for a batch of configurations in one call.
    """

    def __init__(self, B, N=7, alpha=5.0, r_cut=4.0, r_on=None):
        self.N = _checks.integer("N", N, lo=2)
        self.pairs = pairs(self.N)
        self.alpha = _checks.real("alpha", alpha, lo=0.0, lo_open=True)
        self.r_cut = _checks.real("r_cut", r_cut, lo=0.0, lo_open=True)
        self.r_on = None if r_on is None else _checks.real("r_on", r_on, lo=0.0)
        if self.r_on is not None and self.r_on >= self.r_cut:
            raise ValueError(f"r_on must be below r_cut = {self.r_cut}, got {r_on}")
        self._potential = "Morse" if self.r_on is None else "MorseSwitched"
        self._pi, self._pj = np.array(self.pairs).T
        self._type = np.arange(self.N, dtype=np.uint32)
        self._rcut = np.full((self.N, self.N), self.r_cut)
        self.B = self._check_B(B)
        self._set_params()

    # -- parameters -------------------------------------------------------------------------------
    def _check_B(self, B):
        B = np.asarray(B, dtype=np.float64).reshape(-1)
        if B.shape != (len(self.pairs),):
            raise ValueError(f"B must have N(N-1)/2 = {len(self.pairs)} entries (one per pair), got {B.size}")
        bad = np.flatnonzero(~np.isfinite(B) | (B <= 0))
        if bad.size:
            raise ValueError(
                f"binding energies must be positive and finite: B[{bad[0]}] (pair {self.pairs[bad[0]]}) = {B[bad[0]]}"
            )
        return B

    def _set_params(self):
        P = np.zeros((self.N, self.N, 3 if self.r_on is None else 5))
        P[..., 1], P[..., 2] = self.alpha, 1.0  # D0, alpha, r0; D0 = 0 on the diagonal (unused)
        if self.r_on is not None:
            P[..., 3], P[..., 4] = self.r_on, self.r_cut  # r_on, r_off
        P[self._pi, self._pj, 0] = P[self._pj, self._pi, 0] = self.B
        self._params = P

    def set_B(self, B):
        """New binding energies (checked first; a rejected B changes nothing)."""
        self.B = self._check_B(B)
        self._set_params()

    @classmethod
    def model(cls, name, B, N=7):
        """A cluster of the named :data:`MODELS` entry ("soft", "tutorial" or "short"); ``B`` a
        number (the same on every pair) or one value per pair."""
        if name not in MODELS:
            raise ValueError(f"model must be one of {sorted(MODELS)}, got {name!r}")
        B = np.full(N * (N - 1) // 2, B) if np.ndim(B) == 0 else B
        return cls(B, N=N, **MODELS[name]["cluster"])

    def at_range(self, alpha):
        """This cluster (same N and B) at Morse range ``alpha``, with a hard cut at
        1 + 15 / alpha (where V / B = -6e-7, as at alpha = 5, r_cut = 4)."""
        return Cluster(self.B, N=self.N, alpha=alpha, r_cut=1.0 + 15.0 / alpha)

    def morse_params(self):
        """``{(type_a, type_b): dict(D0, alpha, r0)}`` for ``hoomd.md.pair.Morse`` (types P0..);
        with ``r_on``, also ``r_on`` and ``r_off`` (the engine's ``md.pair.MorseSwitched``)."""
        types = [f"P{i}" for i in range(self.N)]
        switch = {} if self.r_on is None else dict(r_on=self.r_on, r_off=self.r_cut)
        return {
            (types[a], types[b]): dict(D0=float(self._params[a, b, 0]), alpha=self.alpha, r0=1.0, **switch)
            for a, b in itertools.combinations_with_replacement(range(self.N), 2)
        }

    # -- evaluation -------------------------------------------------------------------------------
    def derivatives(self, X, order=1, wrt_B=False):
        """Batch evaluation at configurations X (..., N, 3): a dict with ``energy`` (...),
        ``gradient`` (..., 3N), and with ``order`` 2 and 3 ``hessian`` (..., 3N, 3N) and ``third``
        (..., 3N, 3N, 3N); with ``wrt_B``, ``dE`` (..., pairs), ``dG`` (..., pairs, 3N) and
        (order >= 2) ``dH`` (..., pairs, 3N, 3N), the derivatives with respect to B."""
        X = np.asarray(X, dtype=np.float64)
        lead = X.shape[:-1] if X.shape[-1] == 3 * self.N else X.shape[:-2]
        X = X.reshape(-1, self.N, 3)
        if not np.all(np.isfinite(X)):
            raise ValueError("positions are not finite")
        out = _core.cluster_derivatives(
            self._potential, X, self._type, self._params, self._rcut, False, order, 0 if wrt_B else -1
        )
        res = {}
        for k, v in out.items():
            if k in ("dE", "dG", "dH"):
                v = v[:, self._pi, self._pj]  # type pair (a, b), a < b: one per parameter
            res[k] = v.reshape(lead + v.shape[1:])
        return res

    def energy(self, x):
        """Potential energy (kT)."""
        return float(self.derivatives(x)["energy"])

    def forces(self, x):
        """Forces (N, 3) = -dU/dx."""
        return -self.derivatives(x)["gradient"].reshape(self.N, 3)

    def energy_and_gradient(self, x):
        """(U, dU/dx flattened): what scipy.optimize.minimize wants with ``jac=True``."""
        d = self.derivatives(x)
        return float(d["energy"]), d["gradient"].ravel()

    def batch(self, X):
        """(energies, gradients) of a batch X (m, 3N): what :func:`~hoomd_adjoint.transitions.neb`
        takes as ``batch``."""
        d = self.derivatives(X)
        return d["energy"], d["gradient"]

    def hessian(self, x):
        """The (3N, 3N) Hessian d^2 U / dx^2."""
        return self.derivatives(x, order=2)["hessian"]

    def energy_gradient_B(self, x):
        """dU/dB (one entry per pair): the pair's phi(r_ab) = V_ab / B_ab."""
        return self.derivatives(x, wrt_B=True)["dE"]

    def mixed(self, x):
        """d^2 U / dx dB, shape (3N, pairs): column k is the gradient of phi_k."""
        return self.derivatives(x, wrt_B=True)["dG"].T

    def simulation(self, x, kT=1.0, dt=1e-4, gamma=1.0, seed=0, box=40.0, threads=1):
        """An engine :class:`~hoomd_adjoint.Simulation` (Brownian, HOOMD semantics) of this
        cluster at positions x, in a periodic box of side ``box`` that emulates free space."""
        import gsd.hoomd

        import hoomd_adjoint as ha

        box = _checks.real("box", box, lo=0.0, lo_open=True)
        x = np.asarray(x, dtype=np.float64).reshape(self.N, 3)
        if box < 2 * (self.r_cut + 0.4) + 2 * np.abs(x - x.mean(axis=0)).max() + 2:
            raise ValueError(
                f"box = {box} is too small to emulate free space for this cluster and r_cut = {self.r_cut}"
            )
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [box] * 3 + [0, 0, 0]
        frame.particles.N = self.N
        frame.particles.types = [f"P{i}" for i in range(self.N)]
        frame.particles.typeid = np.arange(self.N, dtype=np.uint32)
        frame.particles.position = x - x.mean(axis=0)
        sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=threads), seed=seed)
        sim.create_state_from_snapshot(frame)
        nlist = ha.md.nlist.Cell(buffer=0.4)
        if self.r_on is None:
            morse = ha.md.pair.Morse(nlist=nlist, default_r_cut=self.r_cut, mode="none")
        else:
            morse = ha.md.pair.MorseSwitched(nlist=nlist)
        for key, v in self.morse_params().items():
            morse.params[key] = v
        bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=kT, default_gamma=gamma)
        sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[bd], forces=[morse])
        return sim

    # -- structure --------------------------------------------------------------------------------
    def relax(self, x, ftol=1e-3):
        """FIRE from ``x`` until the largest force is below ``ftol`` (kT/sigma): the first stage of
        :meth:`minimize`, and enough to tell which basin a configuration lies in. (N, 3), centred
        (FIRE's moves sum to zero)."""
        from ...optim import fire

        x = np.asarray(x, dtype=np.float64).reshape(self.N, 3)
        # FIRE's largest step: 0.05 is stable at alpha = 5; curvatures grow as alpha^2, so shorter
        # ranges take 0.25 / alpha (at alpha = 40, 0.05 and 0.01 leave 9 of 15 starts unconverged
        # after 10^4 steps; 0.00625 converges all 15 in 400-3700)
        dt_max = min(0.05, 0.25 / self.alpha)
        x, _, _ = fire(
            self.energy_and_gradient, (x - x.mean(axis=0)).ravel(), ftol=ftol, dt=min(0.01, dt_max), dt_max=dt_max
        )
        return x.reshape(self.N, 3)

    def minimize(self, x, gtol=1e-10, maxiter=10000):
        """A local minimum from ``x``: FIRE (robust from rough starts; the Morse core is finite,
        so a quasi-Newton line search could jump particles onto each other), L-BFGS-B, then
        Newton steps until the largest force is below ``gtol``. Returns centred positions (N, 3)."""
        from scipy.optimize import minimize

        from ...transitions import stationary

        res = minimize(
            self.energy_and_gradient,
            self.relax(x).ravel(),
            jac=True,
            method="L-BFGS-B",
            options=dict(gtol=gtol, ftol=0.0, maxiter=maxiter, maxcor=30),
        )
        # L-BFGS stalls near 1e-6 (energy changes fall below rounding); Newton steps in the
        # internal coordinates (rigid-body modes left out) bring the forces to rounding level
        try:
            x = stationary(self, res.x, gtol=gtol, max_iter=8)
        except RuntimeError:  # floppy (e.g. a particle broke off): keep L-BFGS's point
            x = res.x
        x = x.reshape(self.N, 3)
        return x - x.mean(axis=0)
