"""Validation of designed spiders by long forward runs (the paper's Fig. 2 insets and Fig. 3C),
under a strict test.

Each run is classified every ``check_every`` steps; a criterion counts for the run only if it
holds at every check in the last ``hold`` fraction of the run (10 %), so a target that comes
back, or a spider that lingers on the shell, fails. The criteria (lengths in sigma, vertex radius 2):

- extracted: no patch bond left between the target and the rest: every patch of the target is
  farther than ``BOND`` = 1 from every other patch (the patch Morse, depth 10 kT, is above
  -0.13 kT there);
- intact: every edge of the shell among the remaining vertices is bonded (its two bodies have a
  patch pair within ``BOND``);
- detached: no spider site within its contact + ``CLEARANCE`` = 0.1 of a remaining vertex
  (contact 2 + r_B for a base site, 2 + r_H for the head), and the target farther than the
  vertex contact 4 + ``TARGET_CLEARANCE`` = 1 from every remaining vertex;
- success: all three;
- released (with the cargo): the cargo is outside the remaining vertices' circumsphere (about
  their centre) by ``RELEASE_MARGIN`` = 2.25, the cargo-vertex contact, so that no remaining
  vertex can touch it.

Diagnostics per run: the margins at the last step, ``carried`` (the head still holds the target,
within 1.5 of its Morse minimum), and for each criterion the first step from which it held to the
end (None if it never settled).
"""

import json
import math
import os

import numpy as np

from ...sweep import _write_json_atomic
from ...trigger import Periodic
from ...write import GSD
from .model import PARAM_NAMES, Complex, Params, VERTEX_RADIUS

__all__ = ["outcome", "criteria", "classify", "clear_hole", "validate", "load_params", "CRITERIA"]

BOND = 1.0  # patch-patch distance of a bond
CONTACT = 2 * VERTEX_RADIUS  # vertex-vertex contact (the centres' soft sphere)
CLEARANCE = 0.1  # a spider site is off the shell beyond its contact + this
TARGET_CLEARANCE = 1.0  # the target is off the shell beyond CONTACT + this
CARGO_CONTACT = VERTEX_RADIUS + 0.25
RELEASE_MARGIN = CARGO_CONTACT  # outside the circumsphere by the cargo-vertex contact
HOLD = 1.5  # the head holds the target within its Morse minimum + this (a diagnostic)
HOLD_FRACTION = 0.1  # the criteria must hold over this last fraction of the run
CRITERIA = ("extracted", "intact", "detached", "success")


def criteria(cargo):
    """The criteria a run is classified by: :data:`CRITERIA`, and "released" with the cargo."""
    return CRITERIA + (("released",) if cargo else ())


def load_params(spec):
    """Parameters from an optimisation's state.json, a JSON list/dict, or 8 comma-separated numbers."""
    if isinstance(spec, Params):
        return spec
    if isinstance(spec, str) and os.path.exists(spec):
        with open(spec) as f:
            state = json.load(f)
        return Params.from_array(state["params"])
    if isinstance(spec, str):
        return Params.from_array([float(x) for x in spec.split(",")])
    if isinstance(spec, dict):
        return Params(**spec)
    return Params.from_array(spec)


def outcome(cx, positions):
    """The classification of one state (all particles' positions; see the module), with the
    margins behind it."""
    x = np.asarray(positions)
    V, t = cx.n_vertices, cx.target
    v = x[:V]
    rest = [i for i in range(V) if i != t]
    body = np.asarray(cx.sim.state._cpp.body)
    tags = np.arange(body.size)
    patch = (body >= 0) & (body < V) & (body != tags)
    owner = body[patch]
    p = x[patch]
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    between = lambda i, j: d[np.ix_(owner == i, owner == j)].min()  # noqa: E731  (closest patch pair of two vertices)
    bond = d[np.ix_(owner == t, owner != t)].min()
    edges = [(i, j) for i, j in cx.shell.edges if t not in (i, j)]
    edge_bond = max(between(i, j) for i, j in edges)
    sites = np.flatnonzero((body == cx.spider_tag) & (tags != cx.spider_tag))
    radius = np.array([cx.params.base_particle_radius] * cx.n_legs + [cx.params.head_particle_radius])
    gap = np.linalg.norm(x[sites][:, None] - v[rest][None], axis=-1) - (VERTEX_RADIUS + radius[:, None])
    target_gap = np.linalg.norm(v[rest] - v[t], axis=1).min() - CONTACT
    head = np.linalg.norm(x[cx.head_tag] - v[t]) - (VERTEX_RADIUS + cx.params.head_particle_radius)
    out = dict(
        extracted=bool(bond > BOND),
        intact=bool(edge_bond < BOND),
        detached=bool(gap.min() > CLEARANCE and target_gap > TARGET_CLEARANCE),
        patch_distance=float(bond),
        loosest_edge=float(edge_bond),
        spider_gap=float(gap.min()),
        target_gap=float(target_gap),
        carried=bool(head < HOLD),
    )
    out["success"] = out["extracted"] and out["intact"] and out["detached"]
    if cx.cargo:
        com = v[rest].mean(axis=0)
        reach = np.linalg.norm(v[rest] - com, axis=1).max()
        out["cargo_out"] = float(np.linalg.norm(x[V + 1] - com) - reach)
        out["released"] = bool(out["cargo_out"] > RELEASE_MARGIN)
    return out


def _run(cx, steps, check_every, hold, track=False):
    """One run, classified every ``check_every`` steps; returns the per-run record (criteria held
    at every check over the last ``hold`` fraction) and, with ``track``, the (timestep, positions)
    of every check for the plot."""
    keys = criteria(cx.cargo)
    window = steps - int(math.floor(hold * steps))  # checks at or after this step count
    settled = dict.fromkeys(keys)  # the first step from which each criterion held
    held = dict.fromkeys(keys, True)
    frames, done = [], 0
    while done < steps:
        n = min(check_every, steps - done)
        cx.sim.run(n)
        done += n
        x = np.array(cx.sim.state._cpp.position)
        last = outcome(cx, x)
        for k in keys:
            if not last[k]:
                settled[k] = None
            elif settled[k] is None:
                settled[k] = done
            if done >= window and not last[k]:
                held[k] = False
        if track:
            frames.append((cx.sim.timestep, x))
    record = dict(held)  # (the last check is always in the window)
    record.update({f"{k}_final": last[k] for k in keys})
    record.update({k: v for k, v in last.items() if k not in keys})
    record["settled_step"] = settled
    return record, frames


def classify(
    params, shell="octahedron", seed=60000, steps=10000, cargo=False, leg_sigma=1.0, check_every=100, hold=HOLD_FRACTION
):
    """One run of ``steps`` steps with ``params`` (seed ``seed``) under the strict test, writing
    nothing: its record, as in ``outcomes.json`` (a run that blew up: unsuccessful, with its step
    and cause)."""
    cx = Complex(shell, load_params(params), seed=seed, cargo=cargo, leg_sigma=leg_sigma)
    return _one(cx, steps, check_every, hold)[0]


def clear_hole(cx, distance=30.0):
    """Move the target ``distance`` and the spider ``distance`` + 10 out along the target's axis
    before the first step: the shell with its hole and nothing over it. With the cargo this is the
    reference for its release: the spider's forces on the cargo are all repulsive, so the best a
    design can do is leave the hole clear."""
    snap = cx.sim.state.get_snapshot()
    snap.particles.position[cx.target] += distance * cx.outward
    snap.particles.position[cx.spider_tag] += (distance + 10.0) * cx.outward
    cx.sim.state.set_snapshot(snap)


def _one(cx, steps, check_every, hold, track=False):
    try:
        res, frames = _run(cx, steps, check_every, hold, track=track)
    except RuntimeError as e:  # a run that blew up counts as a failure, and is named in the summary
        res, frames = _failed(cx, e, cx.cargo), None
    res["seed"] = int(cx.sim.seed)
    return res, frames


def _failed(cx, e, cargo):
    """The record of a run that blew up: unsuccessful, with the step and the cause."""
    res = dict.fromkeys(criteria(cargo), False)
    res.update(error=str(e), timestep=int(cx.sim.timestep))
    return res


def validate(
    out,
    params,
    shell="octahedron",
    seeds=40,
    steps=10000,
    cargo=False,
    leg_sigma=1.0,
    first_seed=60000,
    trajectory_period=100,
    check_every=100,
    hold=HOLD_FRACTION,
    progress=True,
    communicator=None,
    bare=False,
    resume=False,
):
    """Run ``seeds`` independent ``steps``-step simulations with ``params`` and classify each
    under the strict test (see the module); writes ``outcomes.json`` (the summary and every run),
    the first run's trajectory ``trajectory.gsd`` and its distance plot ``trajectory.png`` into
    ``out``. Returns the summary: fractions over all ``seeds`` runs with their binomial standard
    errors, and ``blew_up``, the runs that failed (seed, timestep, cause), counted as unsuccessful.

    Args:
        first_seed: run k has seed ``first_seed + k`` (HOOMD's seeds are 16 bits). The default
            keeps clear of the replica seeds of the optimisations in examples/reproduce_spider.py
            (below 52,100), so that a design is validated on runs it was not trained on.
        check_every: steps between classifications (and the trajectory's period for the plot).
        hold: the last fraction of the run over which every check must pass.
        bare: take the target and the spider away before the first step (:func:`clear_hole`):
            with the cargo, the reference for its release (a design at best leaves the hole clear).
        resume: if ``out/outcomes.json`` holds a validation with these very inputs (parameters,
            shell, seeds, first seed, steps, cargo, legs, test settings, bare), return its summary
            (``summary["reused"]`` is True) without running; otherwise run and overwrite it.

    ``communicator`` (a :class:`~hoomd_adjoint.communicator.Communicator`; default: one rank)
    shares the seeds over its partitions (seed k on partition k mod P); every rank returns the
    whole summary, the same for any number of ranks, and partition 0 (which runs the first seed)
    writes the files."""
    from tqdm.auto import tqdm

    from ... import _checks

    seeds = _checks.integer("seeds", seeds, lo=1)
    steps = _checks.integer("steps", steps, lo=1)
    first_seed = _checks.integer("first_seed", first_seed, lo=0, hi=65536 - seeds)
    trajectory_period = _checks.integer("trajectory_period", trajectory_period, lo=1)
    check_every = _checks.integer("check_every", check_every, lo=1)
    hold = _checks.real("hold", hold, lo=0.0, hi=1.0)
    params = load_params(params)
    inputs = dict(  # what the result depends on: a resumed validation must match all of it
        shell=shell,
        params=params.array().tolist(),
        seeds=seeds,
        first_seed=first_seed,
        steps=steps,
        cargo=bool(cargo),
        leg_sigma=float(leg_sigma),
        check_every=check_every,
        hold=hold,
        bare=bool(bare),
        test=[BOND, CLEARANCE, TARGET_CLEARANCE, RELEASE_MARGIN],
    )
    if resume:
        done = _previous(os.path.join(out, "outcomes.json"), inputs)
        if done is not None:
            return done
    main = communicator is None or communicator.partition == 0
    if main:
        os.makedirs(out, exist_ok=True)
    mine, P = (0, 1) if communicator is None else (communicator.partition, communicator.num_partitions)
    runs = []
    for k in tqdm(range(mine, int(seeds), P), desc=f"validate {shell}", disable=not (progress and main)):
        cx = Complex(shell, params, seed=first_seed + k, cargo=cargo, leg_sigma=leg_sigma)
        if bare:
            clear_hole(cx)
        if k == 0:
            path = os.path.join(out, "trajectory.gsd")
            if os.path.exists(path):
                os.remove(path)
            cx.sim.operations.writers.append(GSD(Periodic(trajectory_period), path, mode="wb"))
        res, track = _one(cx, steps, check_every, hold, track=k == 0)
        runs.append(res)
        if track:
            _plot_track(os.path.join(out, "trajectory.png"), cx, track, seed=first_seed + k)
    if P > 1:
        runs = sorted((r for part in communicator.allgather(runs) for r in part), key=lambda r: r["seed"])
    summary = _summary(runs, shell, params, steps, cargo, hold, check_every, leg_sigma)
    summary["bare"] = bool(bare)
    if main:
        _write_json_atomic(os.path.join(out, "outcomes.json"), dict(summary=summary, runs=runs, inputs=inputs))
    return summary


def _previous(path, inputs):
    """The summary in ``path`` if it was written for exactly ``inputs``, else None."""
    try:
        with open(path) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("inputs") != inputs:
        return None
    return dict(saved["summary"], reused=True)


def _summary(runs, shell, params, steps, cargo, hold, check_every, leg_sigma):
    n = len(runs)
    summary = dict(
        shell=shell,
        params=dict(zip(PARAM_NAMES, params.array().tolist())),
        seeds=n,
        steps=int(steps),
        cargo=bool(cargo),
        leg_sigma=float(leg_sigma),
        test=dict(
            bond=BOND,
            clearance=CLEARANCE,
            target_clearance=TARGET_CLEARANCE,
            release_margin=RELEASE_MARGIN,
            hold_fraction=float(hold),
            check_every=int(check_every),
        ),
    )
    for k in criteria(cargo):
        f = sum(r.get(k, False) for r in runs) / n
        summary[f"{k}_fraction"] = f
        summary[f"{k}_se"] = math.sqrt(f * (1 - f) / n)
    summary["failed_seeds"] = {k: [r["seed"] for r in runs if not r.get(k, False)] for k in CRITERIA}
    # fractions are over every seed; a run that blew up counts as unsuccessful, and is listed here
    summary["blew_up"] = [dict(seed=r["seed"], timestep=r["timestep"], cause=r["error"]) for r in runs if "error" in r]
    return summary


def _plot_track(path, cx, track, seed=None):
    """trajectory.png: the vertices' distances from the remaining shell's centre, the target's
    nearest neighbour, and pictures of the first and last frames. Lengths in sigma (the vertex
    radius is 1), time in tau."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.array([s for s, _ in track]) * cx.dt
    V = cx.n_vertices
    x = np.array([p[:V] for _, p in track])
    rest = [i for i in range(V) if i != cx.target]
    com = x[:, rest].mean(axis=1)
    body = np.asarray(cx.sim.state._cpp.body)
    sites = np.flatnonzero((body == cx.spider_tag) & (np.arange(body.size) != cx.spider_tag))
    fig = plt.figure(figsize=(16, 5.2))
    ax = [fig.add_subplot(1, 4, 1), fig.add_subplot(1, 4, 2)]
    gap = lambda y: np.concatenate([np.append(c, np.nan) for c in y])  # noqa: E731  (curves as one line, NaN-separated)
    others = [np.linalg.norm(x[:, i] - com, axis=1) for i in rest]
    ax[0].plot(gap([t] * len(rest)), gap(others), color="tab:blue", lw=1, label=f"the other {len(rest)} vertices")
    ax[0].plot(t, np.linalg.norm(x[:, cx.target] - com, axis=1), color="tab:red", lw=2.5, label="target vertex")
    ax[0].set(
        xlabel="time (τ)",
        ylabel="distance from the remaining shell's centre (σ)",
        title="vertices, from the remaining shell's centre",
    )
    ax[0].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    ax[1].plot(t, np.linalg.norm(x[:, rest] - x[:, [cx.target]], axis=2).min(axis=1), color="tab:red")
    ax[1].set(
        xlabel="time (τ)",
        ylabel="target to its nearest vertex, centre to centre (σ)",
        title="the target's nearest neighbour",
    )
    for k, (label, (step, frame)) in enumerate((("first frame", track[0]), ("last frame", track[-1]))):
        a3 = fig.add_subplot(1, 4, 3 + k, projection="3d")
        a3.set_gid("picture")  # a configuration: no axes to label (tests/test_figures.py)
        c0 = frame[rest].mean(axis=0)
        p = frame - c0
        a3.scatter(*p[rest].T, s=400, c="tab:blue", alpha=0.6, label="shell vertices")
        a3.scatter(*p[cx.target], s=400, c="tab:red", alpha=0.8, label="target vertex")
        legs = p[sites]
        bars = [np.stack([legs[i], legs[j], np.full(3, np.nan)]) for i, j in cx.spider.bars]
        a3.plot(*np.concatenate(bars).T, c="k", lw=2, label="spider (its rigid bars)")
        if cx.cargo:
            a3.scatter(*p[V + 1], s=60, c="tab:green", label="cargo")
        lim = max(6.0, np.abs(p[:V]).max())
        for f in (a3.set_xlim, a3.set_ylim, a3.set_zlim):
            f(-lim, lim)
        a3.set_title(f"{label} (t = {step * cx.dt:g} τ)")
        a3.set_axis_off()
        if k == 1:
            a3.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.0, 0.02), ncol=3 + cx.cargo)
    pr = cx.params
    fig.suptitle(
        f"{cx.shell_name} shell, one validation run{'' if seed is None else f' (seed {seed})'}: "
        f"to t = {track[-1][0] * cx.dt:g} τ (dt = {cx.dt:g} τ, kT = {cx.kT:g}); spider log ε_H = {pr.log_eps_head:.3g}, "
        f"α_H = {pr.alpha_head:.3g}, base radius {pr.base_radius:.3g} σ, head height {pr.head_height:.3g} σ"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
