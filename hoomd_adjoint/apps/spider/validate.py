"""Validation of designed spiders by long forward runs (the paper's Fig. 2 insets and Fig. 3C).

At the end of each run (per seed):

- extracted: the target vertex has no patch bond left: every patch of it is farther than 1 from
  every patch of the rest (the patch Morse, depth 10 kT, is above -0.13 kT there);
- intact: the remaining vertices keep every edge of the shell among them (< 4.5, edge 4);
- detached: the spider-vertex complex is off the remaining shell: the head still holds the target
  (within 1.5 of its Morse minimum at 2 + r_H) and no spider site touches a remaining vertex (all
  beyond the soft-sphere contact 2 + r, r the site's radius parameter);
- success: all three; with the cargo, ``released``: it is outside the remaining shell (further
  from the remaining vertices' centre than their largest distance from it, plus 1).
"""

import json
import os

import numpy as np

from ...sweep import _write_json_atomic
from ...trigger import Periodic
from ...write import GSD
from .model import PARAM_NAMES, Complex, Params, VERTEX_RADIUS

__all__ = ["outcome", "validate", "load_params"]

BOND, EDGE, CLEARANCE, HOLD = 1.0, 4.5, 0.0, 1.5


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
    """The per-run classification of a final state (see the module)."""
    x = np.asarray(positions)
    V, t = cx.n_vertices, cx.target
    v = x[:V]
    rest = [i for i in range(V) if i != t]
    d_target = np.linalg.norm(v[rest] - v[t], axis=1)
    body = np.asarray(cx.sim.state._cpp.body)
    tags = np.arange(body.size)
    patch = (body >= 0) & (body < V) & (body != tags)
    mine, others = x[patch & (body == t)], x[patch & (body != t)]
    bond = np.linalg.norm(mine[:, None] - others[None], axis=-1).min()
    extracted = bool(bond > BOND)
    edges = [(i, j) for i, j in cx.shell.edges if t not in (i, j)]
    intact = bool(all(np.linalg.norm(v[i] - v[j]) < EDGE for i, j in edges))
    sites = np.flatnonzero((body == cx.spider_tag) & (tags != cx.spider_tag))
    radius = np.array([cx.params.base_particle_radius] * cx.n_legs + [cx.params.head_particle_radius])
    gap = np.linalg.norm(x[sites][:, None] - v[rest][None], axis=-1) - (VERTEX_RADIUS + radius[:, None])
    held = np.linalg.norm(x[cx.head_tag] - v[t]) < VERTEX_RADIUS + cx.params.head_particle_radius + HOLD
    detached = bool(extracted and held and gap.min() > CLEARANCE)
    out = dict(
        extracted=extracted,
        intact=intact,
        detached=detached,
        success=extracted and intact and detached,
        target_distance=float(d_target.min()),
        patch_distance=float(bond),
        spider_gap=float(gap.min()),
    )
    if cx.cargo:
        com = v[rest].mean(axis=0)
        reach = np.linalg.norm(v[rest] - com, axis=1).max()
        out["released"] = bool(np.linalg.norm(x[V + 1] - com) > reach + 1.0)
    return out


def validate(
    out,
    params,
    shell="octahedron",
    seeds=20,
    steps=10000,
    cargo=False,
    leg_sigma=1.0,
    first_seed=1000,
    trajectory_period=100,
    progress=True,
    communicator=None,
):
    """Run ``seeds`` independent ``steps``-step simulations with ``params`` and classify each
    (see :func:`outcome`); writes ``outcomes.json``, the first run's trajectory ``trajectory.gsd``
    and its distance plot ``trajectory.png`` into ``out``. Returns the summary: fractions over all
    ``seeds`` runs, and ``blew_up``, the runs that failed (seed, timestep, cause), counted as unsuccessful.

    ``communicator`` (a :class:`~hoomd_adjoint.communicator.Communicator`; default: one rank)
    shares the seeds over its partitions (seed k on partition k mod P); every rank returns the
    whole summary, the same for any number of ranks, and partition 0 (which runs the first seed)
    writes the files."""
    from tqdm.auto import tqdm

    from ... import _checks

    seeds = _checks.integer("seeds", seeds, lo=1)
    steps = _checks.integer("steps", steps, lo=1)
    trajectory_period = _checks.integer("trajectory_period", trajectory_period, lo=1)
    params = load_params(params)
    main = communicator is None or communicator.partition == 0
    if main:
        os.makedirs(out, exist_ok=True)
    mine, P = (0, 1) if communicator is None else (communicator.partition, communicator.num_partitions)
    runs = []
    for k in tqdm(range(mine, int(seeds), P), desc=f"validate {shell}", disable=not (progress and main)):
        cx = Complex(shell, params, seed=first_seed + k, cargo=cargo, leg_sigma=leg_sigma)
        track = None
        if k == 0:
            path = os.path.join(out, "trajectory.gsd")
            if os.path.exists(path):
                os.remove(path)
            cx.sim.operations.writers.append(GSD(Periodic(trajectory_period), path, mode="wb"))
            track = []
        try:
            if track is None:
                cx.sim.run(steps)
            else:
                for _ in range(steps // trajectory_period):
                    cx.sim.run(trajectory_period)
                    track.append((cx.sim.timestep, np.array(cx.sim.state._cpp.position)))
            res = outcome(cx, np.array(cx.sim.state._cpp.position))
        except RuntimeError as e:  # a run that blew up counts as a failure, and is named in the summary
            res = dict(
                extracted=False,
                intact=False,
                detached=False,
                success=False,
                error=str(e),
                timestep=int(cx.sim.timestep),
            )
            if cargo:
                res["released"] = False
        res["seed"] = first_seed + k
        runs.append(res)
        if track:
            _plot_track(os.path.join(out, "trajectory.png"), cx, track, seed=first_seed + k)
    if P > 1:
        runs = sorted((r for part in communicator.allgather(runs) for r in part), key=lambda r: r["seed"])
    n = len(runs)
    summary = dict(
        shell=shell,
        params=dict(zip(PARAM_NAMES, params.array().tolist())),
        seeds=n,
        steps=int(steps),
        cargo=bool(cargo),
        **{
            f"{k}_fraction": sum(r.get(k, False) for r in runs) / n
            for k in (["extracted", "intact", "detached", "success"] + (["released"] if cargo else []))
        },
        # fractions are over every seed; a run that blew up counts as unsuccessful, and is listed here
        blew_up=[dict(seed=r["seed"], timestep=r["timestep"], cause=r["error"]) for r in runs if "error" in r],
    )
    if main:
        _write_json_atomic(os.path.join(out, "outcomes.json"), dict(summary=summary, runs=runs))
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
