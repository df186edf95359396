"""Designing how fast a honeycomb crystal assembles, relative to a triangular one.

The first result of Goodrich, King, Schoenholz, Cubuk and Brenner, PNAS 118, e2024083118 (2021):
N = 100 identical particles in 2D with the isotropic potential of Rechtsman et al. (PNAS Eq. 1)

    V(r) = b0 / r^12 - a0 / r^10 + a1 exp(-a2 r) - b1 exp(-b2 (r - a3)^2),  b = (5, 0.4, 40) fixed,

crystallise by Brownian dynamics into a honeycomb at density rho_H = (2/3) rho_T and into a
triangular lattice at rho_T. The design parameters a = (a0, a1, a2, a3) are tuned by
differentiating the replica-averaged order losses L_H, L_T (:mod:`hoomd_adjoint.loss`) through
whole runs, with RMSProp:

- ``objective="assemble"`` (Fig. 1): minimise mean L_H after ``steps`` steps at rho_H;
- ``objective="rates"`` (Fig. 2): L = (mean L_T(t*_T) - 1/2)^2 + (mean L_H(t*_H) - 1/2)^2 with
  t* = 1/k*, so that the mean loss curves cross 1/2, which defines the half-time, at the targets.

Time is counted in steps, as in the paper (its "t simulation steps"); rates are in 1/step.
What the paper leaves out is chosen in :class:`Protocol` (docs/honeycomb.md says why).

Variants of the gradient (``variant``): ``"reverse"`` (the adjoint through every step),
``"forward"`` (tangent-linear, what the paper used for Fig. 2: memory independent of the run
length, one pass per parameter) and ``"truncated"`` (the adjoint through the last 300 steps
only, the paper's Fig. 2 inset; earlier steps are treated as given). Over thousands of steps of
Brownian dynamics the exact gradient is heavy-tailed across replicas (the dynamics is chaotic):
batch means of dozens of replicas do not point downhill, and a reverse-mode design went uphill.
The truncated one trades that variance for a bias and is the default (docs/honeycomb.md gives
the numbers).
"""

import dataclasses
import math
import os
import time

import numpy as np

from ... import _checks, _core

__all__ = [
    "RECHTSMAN",
    "NAMES",
    "Protocol",
    "simulation",
    "hoomd_simulation",
    "order_loss",
    "curves",
    "half_time",
    "half_time_fit",
    "half_time_gradient",
    "observe_past_half",
    "HALF_TIME",
    "Design",
    "potential",
]

RECHTSMAN = (5.89, 17.9, 2.49, 1.823)  # Rechtsman, Stillinger, Torquato PRE 73 (2006), via the seed's S6
NAMES = tuple(_core.pair_parameters()["Rechtsman"][:4])  # the designed a0..a3 (b0..b2 stay fixed)
LATTICES = ("honeycomb", "triangular")
VARIANTS = ("reverse", "forward", "truncated")
MEASURE_SEED = 1_000_000  # replicas that measure a design never took part in optimising it
MAX_FAILED = 0.05  # the share of a batch's replicas that may fail before a design or a measurement stops
NOT_REACHED = "not reached"  # a half-time (and its rate) never reached within the run, in tables and plots
# One convention for a half-time never reached (docs/honeycomb.md): in Python t = inf and k = 0.0,
# in JSON files null (summary.json says so under "half_times"), in tables, printed lines and plots "not reached".
HALF_TIME_NOTE = (
    "t_H, t_T: the first step at which the mean loss over the fresh replicas falls to 1/2; k_H, k_T = "
    "1/t in 1/step; null (and ratio null): not reached, the mean stayed above 1/2 through the run"
)


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The simulation protocol: what the paper does not give, chosen and documented here.

    Units: length sigma (the r^-12 core), energy epsilon, time tau = gamma sigma^2 / epsilon.

    Attributes:
        N: particles (the paper: 100).
        rho_T: triangular density (1/sigma^2); the honeycomb runs at (2/3) rho_T. 1.034 makes
            the honeycomb density 0.690, the area per particle 1.45 for which Rechtsman et al.
            designed their potential (nearest neighbours at 1.057 in both lattices).
        kT: temperature (epsilon). At 0.2 the Rechtsman potential does not assemble a honeycomb
            within 3300 steps (mean L_H stays near 0.6) while the triangular lattice at rho_T
            forms in a few hundred steps.
        dt: time step (tau). The r^-12 core is stiff: Brownian steps are stable up to about
            1e-3 at kT = 0.2 from these starts; 5e-4 leaves a margin at higher kT and for
            designed potentials.
        gamma: drag coefficient (epsilon tau / sigma^2).
        r_cut: pair cutoff (sigma), energy shifted to zero there (as in Rechtsman et al.).
        b: the fixed (b0, b1, b2).
        melt_kT, melt_dt, melt_steps, min_dist: every replica starts from a random packing
            (no two particles closer than ``min_dist``), relaxed for ``melt_steps`` Brownian steps
            of ``melt_dt`` at ``melt_kT`` with the Rechtsman parameters, whatever the design:
            a hot liquid that does not depend on a, so designs are compared on the same starts.
        settle_steps: after the melt, Brownian steps of ``melt_dt`` at the run's ``kT`` (still
            with the Rechtsman parameters) before the run's ``dt`` takes over. The hot melt
            leaves some pairs as close as 0.82, where the r^-12 core is too stiff for a step of
            ``dt`` (Euler is stable for V'' dt / gamma < 1; V'' ~ 1e4 at r = 0.82): without this
            stage 1.3% of triangular replicas blew up within the first 6 steps of the run (8 of
            600 seeds; 3 of the Quick start's 64 measuring replicas), with it none of 1200.
            Results made before it existed are those of ``settle_steps=0``.
    """

    N: int = 100
    rho_T: float = 1.034
    kT: float = 0.15
    dt: float = 5e-4
    gamma: float = 1.0
    r_cut: float = 2.5
    b: tuple = (5.0, 0.4, 40.0)
    melt_kT: float = 1.5
    melt_dt: float = 5e-5
    melt_steps: int = 1000
    min_dist: float = 0.78
    settle_steps: int = 100

    def density(self, lattice):
        _lattice(lattice)
        return self.rho_T * (2.0 / 3.0 if lattice == "honeycomb" else 1.0)

    def as_dict(self):
        d = dataclasses.asdict(self)
        d["b"] = list(d["b"])
        return d


def _lattice(lattice):
    if lattice not in LATTICES:
        raise ValueError(f"lattice must be 'honeycomb' or 'triangular', got {lattice!r}")
    return lattice


def _params(a):
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    if a.shape != (4,) or not np.all(np.isfinite(a)):
        raise ValueError(f"the design parameters are four finite numbers a0..a3, got {a.tolist()!r}")
    return a


def potential(a, r, protocol=None):
    """V(r) of PNAS Eq. 1 (not shifted), for plots."""
    b0, b1, b2 = (protocol or Protocol()).b
    a0, a1, a2, a3 = _params(a)
    r = np.asarray(r, dtype=np.float64)
    return b0 / r**12 - a0 / r**10 + a1 * np.exp(-a2 * r) - b1 * np.exp(-b2 * (r - a3) ** 2)


def simulation(a, lattice, seed, protocol=None):
    """One replica: a melted random start at the lattice's density, then Brownian dynamics with
    parameters ``a``; ``seed`` (any non-negative integer) picks the start and the noise."""
    import hoomd_adjoint as ha

    p, a, seed, frame = _replica_start(a, lattice, seed, protocol)
    return _melted(ha, ha.md.pair.Rechtsman, frame, a, p, seed)[0]


def hoomd_simulation(a, lattice, seed, protocol=None):
    """:func:`simulation`'s replica as a HOOMD-blue script: the same start, melt and parameters,
    integrated by HOOMD-blue with ``hoomd.adjoint.pair.Rechtsman`` (the component: HOOMD-blue has
    no such potential; it evaluates the embedded engine's evaluator). Returns
    ``(hoomd.Simulation, the potential)`` at step ``melt_steps + settle_steps``."""
    try:
        import hoomd
        from hoomd.adjoint.pair import Rechtsman
    except ImportError as e:
        raise ImportError(
            f"the HOOMD-blue engine needs HOOMD-blue and hoomd.adjoint, hoomd-adjoint's component "
            f"(build it from component/, docs/hoomd.md): {e}"
        ) from None
    p, a, seed, frame = _replica_start(a, lattice, seed, protocol)
    snap = hoomd.Snapshot()
    snap.configuration.box = frame.configuration.box
    snap.particles.N = frame.particles.N
    snap.particles.types = list(frame.particles.types)
    snap.particles.position[:] = frame.particles.position
    sim, pot = _melted(hoomd, Rechtsman, snap, a, p, seed)
    # HOOMD-blue would start the run from the forces it computed at this step with the melt's
    # parameters (it computes a force again only on a new timestep or after a sort); the embedded
    # engine starts every run from the current parameters' forces. set_snapshot sorts, so HOOMD-blue
    # computes them afresh and both follow the same map (docs/hoomd.md, "Forces at the start of a run").
    sim.state.set_snapshot(sim.state.get_snapshot())
    return sim, pot


def _replica_start(a, lattice, seed, protocol):
    """The checked arguments of a replica and its random start (a gsd frame)."""
    from ...lattice import random_packing

    p = protocol or Protocol()
    a = _params(a)
    seed = _checks.integer("seed", seed, lo=0)
    frame = random_packing(
        p.N, p.density(_lattice(lattice)), dimensions=2, min_dist=p.min_dist, seed=2 * seed + LATTICES.index(lattice)
    )
    return p, a, seed, frame


def _melted(api, Rechtsman, snapshot, a, p, seed):
    """The replica's script, the same text for either engine (``api``: hoomd_adjoint or hoomd):
    melt the start, then switch to the run's dt, kT and parameters ``a``. Returns
    ``(simulation, potential)`` at step ``melt_steps + settle_steps``; times count from there."""
    sim = api.Simulation(device=api.device.CPU(), seed=seed & 0xFFFF)
    sim.create_state_from_snapshot(snapshot)
    pot = Rechtsman(nlist=api.md.nlist.Cell(buffer=0.4), default_r_cut=p.r_cut, mode="shift")
    b0, b1, b2 = p.b
    pot.params[("A", "A")] = dict(zip(NAMES, RECHTSMAN), b0=b0, b1=b1, b2=b2)
    bd = api.md.methods.Brownian(filter=api.filter.All(), kT=p.melt_kT, default_gamma=p.gamma)
    sim.operations.integrator = api.md.Integrator(dt=p.melt_dt, methods=[bd], forces=[pot])
    sim.run(p.melt_steps)
    bd.kT = p.kT
    sim.run(p.settle_steps)  # close pairs of the hot melt relax before the longer step (Protocol)
    sim.operations.integrator.dt = p.dt
    pot.params[("A", "A")] = dict(zip(NAMES, map(float, a)), b0=b0, b1=b1, b2=b2)
    return sim, pot


def _hoomd_batch(a, lattice, seeds, steps, protocol, communicator, **options):
    """The embedded Ensemble.gradient's numbers with HOOMD-blue integrating every replica:
    ``(mean loss, mean d/da (4,), {replica: failure}, [loss of each replica that ran])``. Replicas
    are shared out over MPI partitions; the means are summed in replica order, so they do not
    depend on the ranks."""
    from ... import bridge
    from ...ensemble import Failure

    loss = order_loss(lattice)
    seeds = list(seeds)
    mine = {}
    for i in range(communicator.partition, len(seeds), communicator.num_partitions):
        sim = None
        try:
            sim, pot = hoomd_simulation(a, lattice, seeds[i], protocol)
            start = sim.timestep
            res = bridge.gradient(sim, steps, loss, wrt=[(pot, list(NAMES))], **options)
            g = res.grad(pot)[("A", "A")]
            mine[i] = (res.loss, [g[n] for n in NAMES])
        except (FloatingPointError, RuntimeError) as e:  # (a refusal, bridge.Unsupported, is not a failure)
            cause = f"{type(e).__name__}: {e}"
            # the step HOOMD-blue had reached, as the embedded engine's failures say
            mine[i] = Failure(sim.timestep, cause, start) if sim is not None else f"in the melt: {cause}"
    done = {}
    for part in communicator.allgather(mine):
        done.update(part)
    ok = [done[i] for i in sorted(done) if not isinstance(done[i], str)]
    failures = {i: m for i, m in done.items() if isinstance(m, str)}
    if not ok:
        return float("nan"), np.full(4, np.nan), failures, []
    return (
        float(np.mean([x[0] for x in ok])),
        np.mean(np.array([x[1] for x in ok]), axis=0),
        failures,
        [x[0] for x in ok],
    )


def order_loss(lattice):
    """L_H for the honeycomb runs, L_T for the triangular ones (default settings)."""
    from ... import loss

    return loss.Honeycomb() if _lattice(lattice) == "honeycomb" else loss.Triangular()


def _ensemble(a, lattice, seeds, protocol, threads, communicator, max_failed=None):
    import hoomd_adjoint as ha

    seeds = list(seeds)
    return ha.Ensemble(
        lambda i: simulation(a, lattice, seeds[i], protocol),
        replicas=len(seeds),
        threads=threads,
        communicator=communicator,
        on_failure="drop",
        max_failed=max_failed,
    )


def _by_seed(failures, seeds):
    """An ensemble's {replica index: Failure} as {seed: Failure}: the seed rebuilds the replica."""
    seeds = list(seeds)
    return {seeds[i]: f for i, f in sorted(failures.items())}


def curves(
    a,
    lattice,
    replicas=200,
    steps=3300,
    every=33,
    first_seed=MEASURE_SEED,
    protocol=None,
    threads=None,
    communicator=None,
    progress=False,
    max_failed=None,
    failures=None,
):
    """Order loss against time over fresh replicas (seeds ``first_seed`` ...): ``(steps (T,),
    values (R, T))``. A replica that fails is a NaN row (leave it out with ``np.nanmean``),
    reported by a :class:`~hoomd_adjoint.ReplicaWarning` and, if ``failures`` is a dict, added
    to it as {seed: :class:`~hoomd_adjoint.Failure`}; more than ``max_failed`` (a share of
    ``replicas``) raise :class:`~hoomd_adjoint.ReplicaError`."""
    seeds = range(first_seed, first_seed + _checks.integer("replicas", replicas, lo=1))
    ens = _ensemble(a, lattice, seeds, protocol, threads, communicator, max_failed)
    out = ens.observe(steps, every, order_loss(lattice), progress=progress)  # (observe takes its value alone)
    if failures is not None:
        failures.update(_by_seed(ens.failures, seeds))
    return out


def half_time(steps, mean):
    """The first time (in steps) the mean loss falls to 1/2, interpolated linearly between
    samples; ``inf`` if it never does (the rate k = 1 / t_half is then 0)."""
    steps = np.asarray(steps, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    below = np.flatnonzero(mean <= 0.5)
    if below.size == 0:
        return math.inf
    k = below[0]
    if k == 0:
        return float(steps[0])
    s0, s1, m0, m1 = steps[k - 1], steps[k], mean[k - 1], mean[k]
    return float(s0 + (m0 - 0.5) / (m0 - m1) * (s1 - s0))


class _Weighted:
    """A loss counted with a weight per timestep (the frames of a gradient): w(t) L(frame)."""

    def __init__(self, loss, weights):
        self.loss, self.weights = loss, weights

    def __call__(self, frame):
        w = self.weights[frame.timestep]
        value, grad = self.loss(frame)
        return w * value, w * grad


HALF_TIME = dict(horizon=2.0, samples=25, width=0.1)  # the half-time objective's settings (Design)
# optimizer="gauss_newton": first and largest trust radius (relative parameter change), and the
# tolerance on |ln t1/2 - ln t*| per lattice at which the design stops (2%: below a 64-replica
# batch's own sampling error of t1/2, ~3%)
GAUSS_NEWTON = dict(radius=0.05, max_radius=0.2, tol=0.02)


def half_time_fit(steps, mean, width=HALF_TIME["width"]):
    """The half-time of a mean loss curve from a straight line fitted about its first crossing
    of 1/2, and how it moves with each sample: ``(t_half, window, weights)``.

    The line is least squares through the samples within ``width`` x t_c of the first crossing
    t_c (linear interpolation; at least two samples each side where there are), ``t_half`` where
    the line reaches 1/2, and ``weights[k] = d t_half / d mean[window[k]]``, so that
    d t_half/da = sum_k weights[k] d mean[window[k]]/da exactly for this window. A curve that never
    reaches 1/2 is fitted over its last 2 x ``width`` of the run and the line extrapolated; a line
    that does not fall, or reaches 1/2 before the start, gives no weights (``None``). Steps in steps."""
    steps = np.asarray(steps, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    n = steps.size
    t_c = half_time(steps, mean)
    if math.isfinite(t_c):
        c = int(np.searchsorted(steps, t_c))  # first sample at or after the crossing
        h = width * t_c
        lo = min(int(np.searchsorted(steps, t_c - h, side="left")), max(c - 2, 0))
        hi = max(int(np.searchsorted(steps, t_c + h, side="right")), min(c + 2, n))
    else:
        hi, lo = n, min(int(np.searchsorted(steps, steps[-1] * (1 - 2 * width))), n - 3)
        lo = max(lo, 0)
    window = np.arange(lo, hi)
    s, m = steps[window], mean[window]
    if window.size < 2:
        return t_c, window, None
    ds = s - s.mean()
    S = float(ds @ ds)
    beta = float(ds @ (m - m.mean())) / S
    if not beta < 0:  # a curve that does not fall here has no half-time to move
        return (t_c if math.isfinite(t_c) else math.inf), window, None
    alpha = m.mean() - beta * s.mean()
    t_half = (0.5 - alpha) / beta
    if not t_half > 0:  # a curve below 1/2 from its start: no positive half-time to move
        return t_c, window, None
    weights = -(1.0 / window.size + (t_half - s.mean()) * ds / S) / beta
    return float(t_half), window, weights


def observe_past_half(ens, lattice, every, t_max, width=HALF_TIME["width"], chunk=None):
    """Observe an ensemble's order loss every ``every`` steps, in chunks of ``chunk`` steps (default
    25 samples), until the mean over the replicas that have not failed has crossed 1/2 at t_c and
    run on to (1 + ``width``) t_c + 2 ``every`` (what :func:`half_time_fit` needs), or ``t_max``
    steps in all: ``(steps (T,), values (R, T))``, a failed replica's row NaN from its failure on."""
    loss = order_loss(lattice)
    chunk = chunk or 25 * every
    offsets, values = ens.observe(0, every, loss)
    while offsets[-1] < t_max:
        more, v = ens.observe(min(chunk, t_max - int(offsets[-1])), every, loss)
        offsets, values = np.append(offsets, offsets[-1] + more[1:]), np.hstack([values, v[:, 1:]])
        ok = ~np.isnan(values).any(axis=1)
        t_c = half_time(offsets, values[ok].mean(axis=0)) if ok.any() else math.inf
        if offsets[-1] >= t_c * (1 + width) + 2 * every:
            break
    return offsets, values


def half_time_gradient(
    a,
    lattice,
    t_star,
    seeds,
    protocol=None,
    threads=None,
    communicator=None,
    settings=HALF_TIME,
    mode="reverse",
    truncate=None,
    check=None,
):
    """The fitted half-time of one lattice's batch and its replica-averaged gradient:
    ``{"t_half", "grad" (4,) d t1/2/da or None, "at_target" <L(t*)>, "sem", "failures"}``.

    Observes the replicas ``seeds`` every t*/``settings["samples"]`` steps until the window of
    :func:`half_time_fit` about the mean curve's crossing of 1/2 is seen (at most
    ``settings["horizon"]`` x t*), then runs them again for d t1/2/da = sum_k w_k d<L(s_k)>/da
    (``mode`` "reverse" or "forward"; ``truncate``: the adjoint reaches that many steps before the
    fit's first frame, None: the whole run). ``grad`` is None where the curve does not fall about
    its end. ``check(failures)`` ({seed: Failure} of the first pass) may raise before the second.
    Times in steps."""
    seeds, hs = list(seeds), dict(HALF_TIME, **(settings or {}))
    every = max(1, int(t_star // hs["samples"]))
    t_max = max(2 * every, int(math.ceil(hs["horizon"] * t_star)))
    curve = _ensemble(a, lattice, seeds, protocol, threads, communicator)
    offsets, values = observe_past_half(
        curve, lattice, every, t_max, hs["width"], every * max(1, int(hs["samples"]) // 4)
    )
    fails = _by_seed(curve.failures, seeds)
    if check is not None:
        check(fails)
    ok = ~np.isnan(values).any(axis=1)
    mean = values[ok].mean(axis=0)
    out = dict(
        at_target=float(mean[min(int(np.searchsorted(offsets, t_star)), offsets.size - 1)]),
        sem=float(values[ok, -1].std() / np.sqrt(ok.sum())) if ok.sum() > 1 else None,
        failures=fails,
        grad=None,
    )
    t_half, window, w = half_time_fit(offsets, mean, hs["width"])
    out["t_half"] = t_half
    if w is None:
        return out
    frames = [int(offsets[k]) for k in window]
    grad_ens = _ensemble(a, lattice, seeds, protocol, threads, communicator)
    options = dict(frames=frames, mode=mode)
    if truncate is not None:
        options["truncate"] = min(frames[-1], frames[-1] - frames[0] + truncate)
    pot = lambda sim: sim.operations.integrator.forces[0]  # noqa: E731
    loss = order_loss(lattice)
    weights = dict(zip(frames, w))
    res = grad_ens.gradient(
        frames[-1],
        loss=lambda sim: _Weighted(loss, {sim.timestep + f: x for f, x in weights.items()}),
        wrt=lambda sim: [(pot(sim), list(NAMES))],
        **options,
    )
    per = [g for i, g in enumerate(res.grads(0)) if ok[i] and g is not None]  # both passes' replicas
    out["grad"] = np.mean([[g[("A", "A")][n] for n in NAMES] for g in per], axis=0)
    return out


class Design:
    """An RMSProp design loop over replica batches, saved after every iteration.

    Args:
        out: directory for ``state.json`` (written atomically after every iteration),
            ``design.csv`` and the report's plots and trajectories.
        objective: ``"assemble"`` (minimise mean L_H at ``steps``) or ``"rates"``.
        k_T, k_H: target rates (1/step) of the ``"rates"`` objective; t* = round(1/k).
        steps: run length of the ``"assemble"`` objective (the paper: 3300).
        variant: ``"reverse"``, ``"forward"`` or ``"truncated"`` (see the module).
        truncate: the truncated variant's window: the steps before each t* differentiated
            through (a run shorter than the window is differentiated whole).
        replicas: replicas per lattice per iteration; iteration k uses seeds k R .. k R + R - 1.
        lr, decay: RMSProp settings; lr is relative: parameter i steps by about lr |start_i|
            (the parameters differ in scale by a factor of ten).
        anneal: if given, the step size halves every ``anneal`` iterations (noisy gradients
            leave a constant-step optimiser wandering around the optimum; a shrinking step settles).
        start: starting parameters (default: Rechtsman et al.'s).
        protocol: :class:`Protocol`.
        threads, communicator: as for :class:`hoomd_adjoint.Ensemble`.
        engine: ``"embedded"`` (the embedded engine's Ensemble) or ``"hoomd"``: HOOMD-blue
            integrates every replica (:func:`hoomd_simulation`) and the adjoint runs along its
            recorded states (:func:`hoomd_adjoint.bridge.gradient`); needs HOOMD-blue and the
            component ``hoomd.adjoint``. The report's measurements use the embedded engine.
        resume: continue from ``out/state.json`` (the settings must be the same); without it an
            existing state is an error, so a finished design is never overwritten.
        rate_loss: the ``"rates"`` objective's form per lattice: ``"value"`` (the paper's,
            (<L(t*)> - 1/2)^2) or ``"half_time"``: (ln t1/2 - ln t*)^2, t1/2 fitted to the batch's
            mean curve about its crossing of 1/2 (:func:`half_time_fit`; observed every
            t*/``HALF_TIME["samples"]`` steps until the fit's window is seen, at most
            ``HALF_TIME["horizon"]`` x t*, then the replicas run again for the gradient), its gradient
            sum_k w_k d<L(s_k)>/da through the fit's samples (the variant's window reaching back
            ``truncate`` steps before the first of them). Its step grows with the distance from
            the target in rate, where the value form's flattens once <L(t*)> is near 0 or 1. A
            curve that does not fall about its end (no half-time to move) takes the value form
            for that iteration (``fallback`` in the history). Embedded engine only.
        common_seeds: every iteration uses the same replicas (seeds 0 .. R - 1: common random
            numbers), so the objective is one deterministic function of a (a sample average)
            instead of a fresh sample each iteration; measure the result on fresh replicas.
        optimizer: ``"rmsprop"`` (``lr``, ``decay``, ``anneal``) or ``"gauss_newton"``: a
            trust-region Gauss-Newton step on the two residuals ln t1/2 - ln t* with their
            adjoint Jacobian (:class:`hoomd_adjoint.optim.GaussNewton`, settings
            ``GAUSS_NEWTON``): a step that does not lower the objective is rejected and the next
            starts again from the best point with half the radius, so it needs a deterministic
            objective (``rate_loss="half_time"``, ``common_seeds=True``). Each iteration evaluates
            one point; ``params`` is the best point so far, and the run stops early once every
            |ln t1/2 - ln t*| <= ``GAUSS_NEWTON["tol"]``.
        half_time: settings of the half-time form that replace ``HALF_TIME``'s (``horizon``: run
            at most this many t*; ``samples``: observations per t*; ``width``: the fit's half-width,
            a share of t1/2), e.g. ``dict(width=0.3)`` for short noisy runs.
        max_failed: the share of a batch's replicas that may fail (blow up) and be left out of
            its means (default 0.05); more stop the design with :class:`~hoomd_adjoint.ReplicaError`.
            Every iteration records the ones left out (``failed`` in ``state.json``, a count in
            ``design.csv``); the report's measurements use the same limit.
    """

    def __init__(
        self,
        out,
        objective="rates",
        k_T=None,
        k_H=None,
        steps=3300,
        variant="truncated",
        truncate=300,
        replicas=16,
        lr=0.01,
        decay=0.9,
        anneal=None,
        start=RECHTSMAN,
        protocol=None,
        threads=None,
        communicator=None,
        resume=False,
        engine="embedded",
        max_failed=MAX_FAILED,
        rate_loss="value",
        common_seeds=False,
        optimizer="rmsprop",
        half_time=None,
    ):
        from ...optim import GaussNewton, RMSProp

        if engine not in ("embedded", "hoomd"):
            raise ValueError(f"engine must be 'embedded' or 'hoomd', got {engine!r}")
        if engine == "hoomd":
            try:
                import hoomd.adjoint  # noqa: F401
            except ImportError as e:
                raise ValueError(
                    f"engine='hoomd' needs HOOMD-blue and its hoomd.adjoint component (build it from "
                    f"component/, docs/hoomd.md): {e}"
                ) from None

        if objective not in ("assemble", "rates"):
            raise ValueError(f"objective must be 'assemble' or 'rates', got {objective!r}")
        if rate_loss not in ("value", "half_time"):
            raise ValueError(f"rate_loss must be 'value' or 'half_time', got {rate_loss!r}")
        if rate_loss == "half_time" and (objective != "rates" or engine != "embedded"):
            raise ValueError(
                f"rate_loss='half_time' needs objective='rates' and engine='embedded', got "
                f"objective={objective!r}, engine={engine!r}"
            )
        if not isinstance(common_seeds, bool):
            raise ValueError(f"common_seeds must be True or False, got {common_seeds!r}")
        if half_time is not None:
            if rate_loss != "half_time" or not isinstance(half_time, dict) or set(half_time) - set(HALF_TIME):
                raise ValueError(
                    f"half_time must be a dict with some of {sorted(HALF_TIME)} (for rate_loss='half_time'), got "
                    f"{half_time!r} with rate_loss={rate_loss!r}"
                )
            half_time = dict(
                HALF_TIME,
                **{k: _checks.real(f"half_time[{k!r}]", v, lo=0.0, lo_open=True) for k, v in half_time.items()},
            )
        if optimizer not in ("rmsprop", "gauss_newton"):
            raise ValueError(f"optimizer must be 'rmsprop' or 'gauss_newton', got {optimizer!r}")
        if optimizer == "gauss_newton" and (rate_loss != "half_time" or not common_seeds):
            raise ValueError(
                f"optimizer='gauss_newton' compares the objective between iterations, so it needs a "
                f"deterministic one: rate_loss='half_time' and common_seeds=True, got rate_loss={rate_loss!r}, "
                f"common_seeds={common_seeds!r}"
            )
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
        if _checks.real("decay", decay, lo=0.0) >= 1:
            raise ValueError(f"decay must be below 1, got {decay!r}")
        self.protocol = protocol or Protocol()
        if objective == "rates":
            if k_T is None or k_H is None:
                raise ValueError("the 'rates' objective needs both target rates k_T and k_H (1/step)")
            k_T = _checks.real("k_T", k_T, lo=0.0, lo_open=True)
            k_H = _checks.real("k_H", k_H, lo=0.0, lo_open=True)
            self.terms = [("triangular", _target_steps("k_T", k_T), 0.5), ("honeycomb", _target_steps("k_H", k_H), 0.5)]
        else:
            self.terms = [("honeycomb", _checks.integer("steps", steps, lo=1), None)]
        truncate = _checks.integer("truncate", truncate, lo=1) if variant == "truncated" else None
        self.config = dict(
            objective=objective,
            k_T=k_T,
            k_H=k_H,
            steps=steps if objective == "assemble" else None,
            variant=variant,
            truncate=truncate,
            replicas=_checks.integer("replicas", replicas, lo=1),
            lr=_checks.real("lr", lr, lo=0.0, lo_open=True),
            decay=_checks.real("decay", decay, lo=0.0),
            anneal=None if anneal is None else _checks.real("anneal", anneal, lo=0.0, lo_open=True),
            start=[float(x) for x in _params(RECHTSMAN if start is None else start)],
            protocol=self.protocol.as_dict(),
        )
        if engine != "embedded":  # (designs saved before the option existed resume unchanged)
            self.config["engine"] = engine
        if rate_loss != "value":  # (likewise)
            self.config.update(rate_loss=rate_loss, half_time=dict(half_time or HALF_TIME))
        if common_seeds:
            self.config["common_seeds"] = True
        if optimizer != "rmsprop":
            self.config.update(optimizer=optimizer, gauss_newton=dict(GAUSS_NEWTON))
        self.engine = engine
        self.max_failed = _checks.real("max_failed", max_failed, lo=0.0, hi=1.0)
        self.out = str(out)
        from ...communicator import Communicator

        self.threads = threads
        self.communicator = communicator if communicator is not None else Communicator()  # MPI.COMM_WORLD if any
        self.state_path = os.path.join(self.out, "state.json")
        from ...sweep import _read_resumable

        state = _read_resumable(self.state_path, self.config, resume)
        if state is not None:
            self.params = np.array(state["params"], dtype=np.float64)
            kind = GaussNewton if optimizer == "gauss_newton" else RMSProp
            self.optimizer = kind.from_state(state["optimizer"])
            self.history = state["history"]
        else:
            self.params = np.array(self.config["start"])
            if optimizer == "gauss_newton":
                self.optimizer = GaussNewton([abs(x) for x in self.params], **GAUSS_NEWTON)
            else:
                self.optimizer = RMSProp(lr=[float(lr) * abs(x) for x in self.params], decay=decay)
            self.history = []

    @property
    def iteration(self):
        return len(self.history)

    def evaluate(self, a, iteration):
        """The objective and its replica-averaged gradient at ``a`` on iteration ``iteration``'s
        replicas: ``(L, dL/da (4,), {lattice: mean order loss}, failures)``, where ``failures`` is
        {"lattice seed": cause} of the replicas left out (at most ``max_failed`` of a batch)."""
        R = self.config["replicas"]
        first = 0 if self.config.get("common_seeds") else iteration * R
        seeds = range(first, first + R)
        total, grad, values, failures = 0.0, np.zeros(4), {}, {}
        self.batch_sem = {}  # {lattice: standard error of the batch's mean loss}, for the history's plot
        self.batch_half_times = {}  # {lattice: fitted t1/2 (steps) or "fallback"}: the half-time form's
        self.batch_residuals = {}  # {lattice: (ln t1/2 - ln t*, its gradient (4,))}, or NaNs at a fallback
        for lattice, t, target in self.terms:
            if self.config.get("rate_loss") == "half_time":
                term = self._half_time_term(a, lattice, t, seeds, iteration, failures)
                if term is not None:
                    (d, dd), values[lattice] = term
                    total, grad = total + d, grad + dd
                    continue
                self.batch_half_times[lattice] = "fallback"
                self.batch_residuals[lattice] = (math.nan, [math.nan] * 4)
            options = dict(
                mode="forward" if self.config["variant"] == "forward" else "reverse",
                truncate=None if self.config["truncate"] is None else min(t, self.config["truncate"]),
            )
            if self.engine == "hoomd":
                mean, g, fails, losses = _hoomd_batch(a, lattice, seeds, t, self.protocol, self.communicator, **options)
            else:
                ens = _ensemble(a, lattice, seeds, self.protocol, self.threads, self.communicator)
                pot = lambda sim: sim.operations.integrator.forces[0]  # noqa: E731
                loss = order_loss(lattice)
                res = ens.gradient(t, loss=lambda sim: loss, wrt=lambda sim: [(pot(sim), list(NAMES))], **options)
                mean, fails, losses = res.loss, res.failures, res.losses
                if len(fails) < R:
                    g = np.array([res.grad(0)[("A", "A")][n] for n in NAMES])
            fails = _by_seed(fails, seeds)
            self._check_failures(lattice, fails, R, iteration, a)
            failures.update({f"{lattice} {seed}": str(f) for seed, f in fails.items()})
            values[lattice] = mean
            losses = np.asarray(losses, dtype=np.float64)
            losses = losses[~np.isnan(losses)]
            self.batch_sem[lattice] = float(np.std(losses) / np.sqrt(losses.size)) if losses.size > 1 else None
            if target is None:
                total, grad = total + mean, grad + g
            else:
                total, grad = total + (mean - target) ** 2, grad + 2.0 * (mean - target) * g
        return total, grad, values, failures

    def _half_time_term(self, a, lattice, t_star, seeds, iteration, failures):
        """The half-time form of one lattice's term: ``((term, d term/da), <L(t*)>)``, or None
        where the batch's curve does not fall about its end (the caller takes the value form).
        Replicas that fail are left out of both passes' means and added to ``failures``."""

        def check(fails):
            self._check_failures(lattice, fails, len(seeds), iteration, a)
            failures.update({f"{lattice} {seed}": str(f) for seed, f in fails.items()})

        h = half_time_gradient(
            a,
            lattice,
            t_star,
            seeds,
            protocol=self.protocol,
            threads=self.threads,
            communicator=self.communicator,
            settings=self.config["half_time"],
            mode="forward" if self.config["variant"] == "forward" else "reverse",
            truncate=self.config["truncate"],
            check=check,
        )
        self.batch_sem[lattice] = h["sem"]
        if h["grad"] is None:
            return None
        d = math.log(h["t_half"]) - math.log(t_star)
        self.batch_half_times[lattice] = h["t_half"]
        self.batch_residuals[lattice] = (d, [float(x) for x in h["grad"] / h["t_half"]])
        return (d * d, 2.0 * d / h["t_half"] * h["grad"]), h["at_target"]

    def _check_failures(self, lattice, fails, R, iteration, a):
        if len(fails) == R:
            raise RuntimeError(
                f"every {lattice} replica failed at iteration {iteration} (a = {list(a)}): {next(iter(fails.values()))}"
            )
        if len(fails) > self.max_failed * R + 1e-9:
            from ...ensemble import ReplicaError

            raise ReplicaError({f"{lattice} seed {k}": f for k, f in fails.items()}, R, self.max_failed)

    def run(self, iterations, progress=True):
        """Run until ``iterations`` iterations are done in all (a resumed design counts the ones
        it has); saves the state after each."""
        from ...sweep import _write_json_atomic

        iterations = _checks.integer("iterations", iterations, lo=0)
        os.makedirs(self.out, exist_ok=True)
        from tqdm.auto import tqdm

        main = self.communicator.partition == 0  # one writer under mpirun
        with tqdm(
            total=iterations,
            initial=min(self.iteration, iterations),
            unit="it",
            desc="honeycomb design",
            disable=not (progress and main),
        ) as bar:
            gauss_newton = self.config.get("optimizer") == "gauss_newton"
            while self.iteration < iterations:
                if gauss_newton and self.optimizer.converged:
                    if progress and main:
                        print(
                            f"honeycomb design: converged at iteration {self.iteration} (every |ln t1/2 - ln t*| <= "
                            f"{self.optimizer.tol}): {self.out}"
                        )
                    break
                t0 = time.perf_counter()
                a = self.optimizer.proposal() if gauss_newton and self.history else self.params
                L, g, values, failures = self.evaluate(a, self.iteration)
                extra = {}
                if gauss_newton:
                    r = [self.batch_residuals[lat][0] for lat, _, _ in self.terms]
                    J = [self.batch_residuals[lat][1] for lat, _, _ in self.terms]
                    if not self.history and not np.all(np.isfinite(r)):
                        flat = [lat for (lat, _, _), x in zip(self.terms, r) if not math.isfinite(x)]
                        raise RuntimeError(
                            f"optimizer='gauss_newton' needs a half-time at the start a = {list(a)}: the {flat} batch's "
                            f"mean loss does not fall about its end within {self.config['half_time']['horizon']} x t* "
                            f"(nothing to fit); start nearer the targets, or use optimizer='rmsprop'"
                        )
                    new, accepted = self.optimizer.update(a, r, J)
                    new = np.array(self.optimizer.best["params"])  # params: the best point so far
                    extra = dict(accepted=accepted, radius=self.optimizer.radius)
                else:
                    anneal = self.config["anneal"]
                    new = self.optimizer.step(a, g, 1.0 if anneal is None else 0.5 ** (self.iteration / anneal))
                self.history.append(
                    dict(
                        iteration=self.iteration,
                        loss=L,
                        params=[float(x) for x in a],
                        grad=[float(x) for x in g],
                        failures=len(failures),
                        failed=failures,
                        wall=time.perf_counter() - t0,
                        **{f"L_{lat[0].upper()}": v for lat, v in values.items()},
                        **{f"sem_L_{lat[0].upper()}": v for lat, v in self.batch_sem.items()},
                        **{f"t_half_{lat[0].upper()}": v for lat, v in self.batch_half_times.items()},
                        **extra,
                    )
                )
                self.params = new
                if main:
                    _write_json_atomic(
                        self.state_path,
                        dict(
                            config=self.config,
                            params=[float(x) for x in new],
                            optimizer=self.optimizer.state(),
                            history=self.history,
                        ),
                    )
                    self.write_csv()
                bar.set_postfix(loss=f"{L:.4f}")
                bar.update(1)
        return self.params

    def report(self, replicas=64, steps=None, every=None, trajectories=True, progress=True):
        """Measure the start and the current design on ``replicas`` fresh replicas; write
        ``curves.csv``, ``design.png``, ``summary.json`` and (``trajectories``) one GSD file
        per lattice of the design. Returns the summary.

        ``steps`` (default: the objective's run length; for ``"rates"`` 1.6 t*_H and 4 t*_T, so
        that the curves cross 1/2 near the targets) and ``every`` (default: 1/25 of a target,
        or steps/100) set the measuring runs; either may be a ``{lattice: value}`` dict."""
        from ...sweep import _write_json_atomic

        os.makedirs(self.out, exist_ok=True)
        t = {lattice: n for lattice, n, _ in self.terms}
        if steps is None:
            steps = (
                dict(honeycomb=int(1.6 * t["honeycomb"]), triangular=4 * t["triangular"])
                if "triangular" in t
                else t["honeycomb"]
            )
        if every is None:
            every = (
                dict(honeycomb=max(1, t["honeycomb"] // 25), triangular=max(1, t["triangular"] // 25))
                if "triangular" in t
                else max(1, t["honeycomb"] // 100)
            )
        kw = dict(
            replicas=replicas,
            steps=steps,
            every=every,
            protocol=self.protocol,
            threads=self.threads,
            communicator=self.communicator,
            max_failed=self.max_failed,
        )
        start = np.array(self.config["start"])
        measured = [
            (label, a, measure(a, progress=progress and f"measure {label}", **kw))  # (labelled bars)
            for label, a in (("start", start), ("designed", self.params))
        ]
        main = self.communicator.partition == 0  # one writer under mpirun
        summary = dict(
            config=self.config,
            iterations=self.iteration,
            replicas=replicas,
            failed_in_design=sum(h["failures"] for h in self.history),
            half_times=HALF_TIME_NOTE,
        )
        for label, a, m in measured:
            summary[label] = dict(
                params=[float(x) for x in a],
                t_H=m["t_H"],
                t_T=m["t_T"],
                k_H=m["k_H"],
                k_T=m["k_T"],
                L_H_end=float(np.nanmean(m["honeycomb"][:, -1])),
                L_T_end=float(np.nanmean(m["triangular"][:, -1])),
                ratio=m["k_H"] / m["k_T"] if m["k_H"] and m["k_T"] else None,  # both reached
                replicas_used=m["used"],
                failed=_failed_json(m["failures"]),
            )
        if not main:
            return summary
        if self.config["objective"] == "rates":
            summary["target_ratio"] = self.config["k_H"] / self.config["k_T"]
        summary["wall_per_iteration"] = float(np.mean([h["wall"] for h in self.history])) if self.history else None
        write_curves(os.path.join(self.out, "curves.csv"), measured)
        c = self.config
        what = (
            f"target k_H/k_T = {c['k_H'] / c['k_T']:.3g} (k_T = {c['k_T']:.3g}/step)"
            if c["objective"] == "rates"
            else f"minimise mean L_H after {c['steps']} steps"
        )
        plot(
            os.path.join(self.out, "design.png"),
            self.history,
            measured,
            self.protocol,
            config=c,
            title=f"{what}; {c['variant']} gradients, {c['replicas']} replicas x {self.iteration} iterations",
        )
        if trajectories:
            for lattice in LATTICES:
                n = steps[lattice] if isinstance(steps, dict) else steps
                write_trajectory(
                    self.params,
                    lattice,
                    os.path.join(self.out, f"{lattice}.gsd"),
                    n,
                    max(1, n // 100),
                    protocol=self.protocol,
                )
        _write_json_atomic(os.path.join(self.out, "summary.json"), _json_safe(summary))
        return summary

    def write_csv(self, path=None):
        """The history as a table: iteration, loss, mean order losses, parameters and gradient."""
        import csv

        path = path or os.path.join(self.out, "design.csv")
        cols = (
            ["iteration", "loss"]
            + [f"L_{lat[0].upper()}" for lat, _, _ in self.terms]
            + list(NAMES)
            + [f"dL/d{n}" for n in NAMES]
            + ["failures", "wall"]
        )
        halves = [f"t_half_{lat[0].upper()}" for lat, _, _ in self.terms] if self.config.get("rate_loss") else []
        cols += halves  # (the half-time form's fitted t1/2 per lattice, or "fallback")
        tmp = path + ".tmp"
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for h in self.history:
                w.writerow(
                    [h["iteration"], repr(h["loss"])]
                    + [repr(h[c]) for c in cols[2 : 2 + len(self.terms)]]
                    + [repr(x) for x in h["params"]]
                    + [repr(x) for x in h["grad"]]
                    + [h["failures"], f"{h['wall']:.3f}"]
                    + [h.get(c, "") for c in halves]
                )
        os.replace(tmp, path)
        return path


def _json_safe(x):
    """For JSON files: a half-time never reached (t_H, t_T = inf) and its rate (k_H, k_T = 0) as
    null (:data:`HALF_TIME_NOTE`), and any other number that is not finite as null too (JSON has
    no infinity)."""
    if isinstance(x, dict):
        return {
            k: None if k in ("k_H", "k_T") and isinstance(v, (int, float)) and v == 0 else _json_safe(v)
            for k, v in x.items()
        }
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _target_steps(name, k):
    t = int(round(1.0 / k))
    if t < 1:
        raise ValueError(f"{name} = {k} is faster than one step: the half-time 1/{name} must be at least 1 step")
    return t


def measure(
    a,
    replicas=200,
    steps=3300,
    every=33,
    protocol=None,
    threads=None,
    communicator=None,
    progress=False,
    max_failed=MAX_FAILED,
    first_seed=MEASURE_SEED,
):
    """Both lattices' loss curves over fresh replicas (seeds ``first_seed`` ...), their half-times and rates:
    ``{"steps": (T,), "honeycomb": (R, T), "triangular": (R, T), "t_H", "t_T", "k_H", "k_T",
    "used": {lattice: replicas}, "failures": {lattice: {seed: Failure}}}``
    (means over replicas that did not fail; half-times in steps, ``inf`` when the mean never reaches
    1/2 within the run, and rates k = 1/t in 1/step, then 0: files write both as null, tables
    and plots "not reached", :data:`HALF_TIME_NOTE`).
    More than ``max_failed`` (a share of ``replicas``) failing replicas of a lattice raise
    :class:`~hoomd_adjoint.ReplicaError`; fewer are left out, and named in ``"failures"``.
    ``steps`` may be ``{"honeycomb": n_H, "triangular": n_T}`` (the triangular lattice forms far
    sooner), and so may ``every``; ``"steps"`` is then the honeycomb's and ``"steps_T"`` the triangular's."""
    out = dict(used={}, failures={})
    for lattice in LATTICES:
        n = steps[lattice] if isinstance(steps, dict) else steps
        e = every[lattice] if isinstance(every, dict) else every
        failures = out["failures"][lattice] = {}
        bar = f"{progress}: {lattice}" if isinstance(progress, str) else f"measure {lattice}" if progress else False
        s, v = curves(
            a,
            lattice,
            replicas,
            n,
            e,
            protocol=protocol,
            threads=threads,
            communicator=communicator,
            progress=bar,
            first_seed=first_seed,
            max_failed=max_failed,
            failures=failures,
        )
        out["used"][lattice] = int(np.sum(~np.isnan(v[:, 0])))
        out[f"steps_{lattice[0].upper()}"] = s
        key = lattice[0].upper()
        if lattice == "honeycomb":
            out["steps"] = s
        out[lattice] = v
        out[f"t_{key}"] = half_time(s, np.nanmean(v, axis=0))
        out[f"k_{key}"] = 0.0 if math.isinf(out[f"t_{key}"]) else 1.0 / out[f"t_{key}"]
    return out


def _failed_json(failures):
    """{lattice: {seed: Failure}} as JSON: {lattice: [{seed, step, cause}, ...]}."""
    return {
        lat: [dict(seed=int(k), step=f.step, cause=f.cause) for k, f in sorted(fs.items())]
        for lat, fs in failures.items()
    }


def describe_replicas(m, replicas):
    """One line per lattice of a :func:`measure` result: how many of ``replicas`` it used and
    which failed (seed, step, cause)."""
    from ...ensemble import describe

    return {lat: describe(replicas, m["failures"][lat], by="failed seeds") for lat in LATTICES}


def write_trajectory(a, lattice, path, steps=3300, period=33, seed=MEASURE_SEED, protocol=None):
    """A GSD file of one replica (every ``period`` steps), for viewing (e.g. in OVITO)."""
    import hoomd_adjoint as ha

    sim = simulation(a, lattice, seed, protocol)
    sim.operations.writers.append(ha.write.GSD(trigger=ha.trigger.Periodic(period), filename=path, mode="wb"))
    sim.run(steps + 1)  # the writer fires at multiples of period: include the last frame
    return path


# Under every honeycomb figure: what L_H, L_T, the line at 1/2 and "not reached" mean.
EXPLAIN = (
    "L_H, L_T: honeycomb and triangular order losses, 1 − smooth max over the particles of the local "
    "order (docs/order.md): about 1 in a liquid, 0 in a perfect crystal. Grey line at ½: the half-time "
    'criterion; t½ is the first time the mean loss falls to ½ (rate k = 1/t½), "not reached" if it '
    "stays above ½ through the run. Bands: mean ± 1 standard error over the replicas."
)


def _half_time_text(t):
    """A half-time for tables and plots: steps, or "not reached"."""
    return NOT_REACHED if t is None or math.isinf(t) else f"{t:.0f} steps"


def _sem(v):
    """Mean and standard error over the rows of ``v`` (R, T) that did not fail (NaN rows)."""
    n = np.sum(~np.isnan(v), axis=0)
    return np.nanmean(v, axis=0), np.nanstd(v, axis=0) / np.sqrt(np.maximum(n, 1))


def _mean_line(ax, x, mean, sem, fmt, color, label, **kw):
    """A mean with its +-1 standard-error band (none where ``sem`` is missing)."""
    x, mean = np.asarray(x, dtype=float), np.asarray(mean, dtype=float)
    ax.plot(x, mean, fmt, color=color, label=label, **kw)
    if sem is not None:
        sem = np.asarray(sem, dtype=float)
        if np.any(np.isfinite(sem)):
            ax.fill_between(x, mean - sem, mean + sem, color=color, alpha=0.2, lw=0)


def _params_text(a):
    a = _params(a)
    name = " (Rechtsman et al.)" if np.allclose(a, RECHTSMAN) else ""
    return "a = " + ", ".join(f"{x:.4g}" for x in a) + name


def _plot_history(ax, history, config):
    """The design's objective and batch means against iteration (bands: standard errors over
    the batch, where the history has them)."""
    it = [h["iteration"] for h in history]
    R = f"{config['replicas']} replicas" if config else "replicas"
    sem = lambda key: [h.get(f"sem_{key}", np.nan) for h in history]  # noqa: E731 (older histories: none)
    if "L_T" not in history[0]:  # assemble: the objective is the batch's mean L_H itself, drawn once
        steps = f"{config['steps']} steps" if config else "the run's end"
        _mean_line(
            ax,
            it,
            [h["loss"] for h in history],
            sem("L_H"),
            "o-",
            "tab:blue",
            f"objective = mean L_H at {steps}\n(over the iteration's {R})",
            ms=3,
        )
        ax.set(ylabel="mean L_H (dimensionless)")
    else:
        ax.plot(
            it,
            [h["loss"] for h in history],
            "o-",
            ms=3,
            color="k",
            label="objective (ln t½_T − ln t*_T)²\n + (ln t½_H − ln t*_H)²"
            if config and config.get("rate_loss") == "half_time"
            else "objective (mean L_T(t*_T) − ½)²\n + (mean L_H(t*_H) − ½)²",
        )
        for key, c, k in (("L_H", "tab:blue", "k_H"), ("L_T", "tab:red", "k_T")):
            t = f" = {round(1 / config[k])} steps" if config else ""
            _mean_line(
                ax,
                it,
                [h[key] for h in history],
                sem(key),
                ".-",
                c,
                f"mean {key} at t*_{key[-1]}{t}\n(over the iteration's {R})",
                alpha=0.8,
            )
        ax.axhline(0.5, color="0.6", lw=0.8, label="½: the means' target")
        ax.set(ylabel="loss (dimensionless)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    how = "trust-region Gauss-Newton" if config and config.get("optimizer") == "gauss_newton" else "RMSProp"
    seeds = "the same replicas every iteration" if config and config.get("common_seeds") else "fresh replica batches"
    ax.set(xlabel="iteration", title=f"design: {how} on {seeds}")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2))


def plot(path, history=None, measured=(), protocol=None, title=None, config=None):
    """One figure: the objective against iteration (if ``history``; ``config``, a
    :class:`Design`'s, names its run lengths and batch size), mean L_H and L_T against steps
    (bands: +-1 standard error) for each ``(label, a, measure(a))`` in ``measured``, and their
    potentials; the system and ``title`` above, what the losses and the line at 1/2 mean below.
    Returns ``path``."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = protocol or Protocol()
    panels = (1 if history else 0) + 2
    fig, axes = plt.subplots(1, panels, figsize=(5.4 * panels, 5.0))
    axes = list(np.atleast_1d(axes))
    if history:
        _plot_history(axes.pop(0), history, config)
    ax, axv = axes
    styles = ["-", "--", ":", "-."]
    r = np.linspace(0.9, 2.6, 400)
    for n, (label, a, m) in enumerate(measured):
        ls = styles[n % len(styles)]
        for lattice, c in (("honeycomb", "tab:blue"), ("triangular", "tab:red")):
            key = lattice[0].upper()
            mean, sem = _sem(m[lattice])
            who = f" {label}" if len(measured) > 1 else ""  # one potential: the title names it
            _mean_line(
                ax,
                m[f"steps_{key}"],
                mean,
                sem,
                ls,
                c,
                f"L_{key}{who} ({lattice}): t½ {_half_time_text(m[f't_{key}'])}",
            )
        axv.plot(
            r,
            potential(a, r, p),
            ls,
            color="k",
            label=f"{label}: {_params_text(a)}" if len(measured) > 1 else _params_text(a),
        )
    ax.axhline(0.5, color="0.6", lw=0.8, label="½: the half-time criterion")
    if measured:
        R = len(measured[0][2]["honeycomb"])
        used = lambda m, lat: int(np.sum(~np.isnan(m[lat][:, 0])))  # noqa: E731  (failed replicas: NaN rows)
        left = [f"{label} {lat}: {used(m, lat)}" for label, _, m in measured for lat in LATTICES if used(m, lat) < R]
        ax.set_title(
            f"mean order loss over {R} fresh replicas per lattice"
            + (f"\n(used, the rest failed: {'; '.join(left)})" if left else ""),
            fontsize=10,
        )
    ax.set(xlabel=f"time (steps of dt = {p.dt:g} τ)", ylabel="mean order loss L_H, L_T", ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    axv.axhline(0, color="0.7", lw=0.8, gid="reference")
    b = ", ".join(f"{x:g}" for x in p.b)
    axv.set(xlabel="r (σ)", ylabel="V(r) (ε)", ylim=(-1.5, 2.5), title=f"pair potential V(r) (b0, b1, b2 = {b})")
    axv.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    if title is None and len(measured) == 1:
        title = f"measured potential: {_params_text(measured[0][1])}"
    system = (
        f"Honeycomb vs triangular assembly: N = {p.N} particles in 2D, Brownian dynamics at "
        f"kT = {p.kT:g} ε, "
        f"dt = {p.dt:g} τ; triangular at ρ = {p.rho_T:g} σ⁻², honeycomb at {p.density('honeycomb'):.3g} σ⁻²"
    )
    fig.suptitle("\n".join(textwrap.wrap(system, 62 * panels) + ([title] if title else [])))
    fig.tight_layout()
    fig.canvas.draw()  # (the legends' places, to put the explanation below the lowest)
    low = min(a.get_legend().get_window_extent().y0 for a in fig.axes if a.get_legend()) / fig.bbox.height
    fig.text(0.5, low - 0.02, "\n".join(textwrap.wrap(EXPLAIN, 55 * panels)), ha="center", va="top", fontsize=8.5)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def write_curves(path, measured):
    """The measured mean curves as CSV: steps, then L_H and L_T (mean, standard error and the
    number of replicas they are over) of each design; empty cells where a lattice's run was shorter."""
    import csv

    steps = max((m[f"steps_{k}"] for _, _, m in measured for k in "HT"), key=len)
    cols, data = ["steps"], [steps]
    for label, _, m in measured:
        for lattice in LATTICES:
            key = lattice[0].upper()
            v = m[lattice]
            n = np.sum(~np.isnan(v), axis=0)
            col = {
                int(t): (x, e, c)
                for t, x, e, c in zip(
                    m[f"steps_{key}"], np.nanmean(v, axis=0), np.nanstd(v, axis=0) / np.sqrt(np.maximum(n, 1)), n
                )
            }
            cols += [f"L_{key} {label}", f"sem L_{key} {label}", f"replicas L_{key} {label}"]
            data += [[col[int(t)][k] if int(t) in col else None for t in steps] for k in range(3)]
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for row in zip(*data):
            w.writerow([int(row[0])] + ["" if x is None else f"{x:.6g}" for x in row[1:]])
    os.replace(path + ".tmp", path)
    return path
