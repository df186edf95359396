"""The spider's losses and their exact gradients with respect to its eight parameters.

L_extract (final state) = -sum_i |v_i - v_target| / (V - 1): the target vertex far from the rest;
L_remain (initial state) = coeff (sum_{i != target} E_head(|h - v_i|))^2 / (V - 1): the head binds
only the target. (The authors' code: loss.py, with norm V - 1.) One gradient runs the adjoint
once through the rigid-body Langevin dynamics and chains the engine's gradients (pair parameters,
the spider's body-frame sites, principal moments and rotational drag) into the eight parameters.
"""

import dataclasses

import numpy as np

from ... import adjoint
from ...md.constrain import quat_mul
from .model import PARAM_NAMES, ROT_FRICTION, VERTEX_RADIUS, switched_morse
from .validate import BOND, CARGO_CONTACT, CONTACT, TARGET_CLEARANCE

__all__ = [
    "Evaluation",
    "evaluate",
    "evaluate_end",
    "window",
    "End",
    "end_terms",
    "extraction",
    "remain_coefficient",
    "stable_shell",
    "STABLE_SHELL",
]

# The authors' optional "stable shell" term (loss.py): k (d - band)^2 for each remaining vertex's
# distance d from the remaining vertices' centre outside the band, divided by V - 1.
STABLE_SHELL = {"octahedron": (20.0, 2.15, 3.05), "icosahedron": (20.0, 3.4, 4.25)}

# L_remain's coefficient: 1, as the authors' icosahedron commands (their octahedron value is not
# recorded). With it the initial term at the weak octahedron start is 3.67e-4 (their log: 3.32e-4)
# and at the strong icosahedron start 88.9 (their first loss, 90.14, minus L_extract: 95.6).
REMAIN_COEFF = {"octahedron": 1.0, "icosahedron": 1.0}


def remain_coefficient(shell):
    return REMAIN_COEFF[shell]


@dataclasses.dataclass
class Evaluation:
    """One simulation's loss terms and the gradient of their sum over the eight parameters."""

    loss: float
    extract: float
    remain: float
    grad: np.ndarray  # (8,), PARAM_NAMES order
    stable: float = 0.0
    seconds: float = 0.0
    peak_bytes: int = 0
    end: float = 0.0  # the end-of-run terms (loss "end"), included in ``loss``


def extraction(cx, positions):
    """L_extract of a state (all particles' positions), and its d/dpositions."""
    V, t = cx.n_vertices, cx.target
    x = np.asarray(positions)[:V]
    d = x - x[t]
    r = np.linalg.norm(d, axis=1)
    r[t] = 1.0
    u = d / r[:, None]
    u[t] = 0.0
    norm = V - 1
    g = np.zeros_like(np.asarray(positions, dtype=np.float64))
    g[:V] = -u / norm
    g[t] = u.sum(axis=0) / norm
    return -float(np.sum(np.linalg.norm(x - x[t], axis=1))) / norm, g


def stable_shell(cx, positions, k, dmin, dmax):
    """The stable-shell term of a state and its d/dpositions."""
    V, t = cx.n_vertices, cx.target
    x = np.asarray(positions)
    rest = [i for i in range(V) if i != t]
    v = x[rest]
    com = v.mean(axis=0)
    d = v - com
    r = np.linalg.norm(d, axis=1)
    dev = np.where(r < dmin, r - dmin, np.where(r > dmax, r - dmax, 0.0))
    norm = V - 1
    value = float(k * np.sum(dev * dev)) / norm
    gv = (2 * k * dev / np.maximum(r, 1e-300) / norm)[:, None] * d  # d/dv_i through r_i, com fixed
    gv -= gv.mean(axis=0)  # and through the centre
    g = np.zeros_like(np.asarray(positions, dtype=np.float64))
    g[rest] = gv
    return value, g


def remain(cx, positions, coeff):
    """L_remain of a state, its d/dpositions and its d/d(head Morse D0, alpha, r0, r_on, r_off)."""
    V, t = cx.n_vertices, cx.target
    x = np.asarray(positions)
    head = cx.head_tag
    others = [i for i in range(V) if i != t]
    d = x[head] - x[others]
    r = np.linalg.norm(d, axis=1)
    hp = cx.head_params(cx.params)
    E, dE_dr, dE_dp = switched_morse(r, hp["D0"], hp["alpha"], hp["r0"], hp["r_on"], hp["r_off"])
    norm = V - 1
    s = float(E.sum())
    value = coeff * s * s / norm
    w = 2 * coeff * s / norm
    g = np.zeros_like(np.asarray(positions, dtype=np.float64))
    gi = (w * dE_dr / r)[:, None] * d
    g[head] = gi.sum(axis=0)
    g[others] -= gi
    return value, g, w * dE_dp.sum(axis=0)


def evaluate(cx, steps=1000, coeff=None, memory=None, progress=False, stable=None):
    """Run ``cx.sim`` for ``steps`` steps (it is left at the final state) and return the
    :class:`Evaluation`: L = L_extract(final) + L_remain(initial) [+ the stable-shell term of the
    final state, with ``stable = (k, d_min, d_max)``] and dL/d(eight parameters)."""
    import time

    coeff = remain_coefficient(cx.shell_name) if coeff is None else float(coeff)
    sim = cx.sim
    t0 = sim.timestep
    terms = {}
    types = sim.state.particle_types
    nt = len(types)
    ih, iv = types.index("H"), types.index("V")

    def loss(frame):
        if frame.timestep == t0:
            value, g, dp = remain(cx, frame.positions, coeff)
            flat = np.zeros((nt, nt, 5))
            flat[ih, iv] = dp
            terms["remain"] = value
            return value, g, {cx.morse: flat.ravel()}
        value, g = extraction(cx, frame.positions)
        terms["extract"] = value
        if stable is not None:
            vs, gs = stable_shell(cx, frame.positions, *stable)
            terms["stable"] = vs
            value, g = value + vs, g + gs
        return value, g

    start = time.perf_counter()
    res = adjoint.gradient(
        sim,
        steps,
        loss,
        wrt=[cx.soft, cx.morse, cx.rigid, "moment_inertia", "gamma_r", "positions"],
        frames=[0, steps],
        memory=memory,
        progress=progress,
    )
    seconds = time.perf_counter() - start
    return Evaluation(
        loss=res.loss,
        extract=terms["extract"],
        remain=terms["remain"],
        grad=chain(cx, res),
        stable=terms.get("stable", 0.0),
        seconds=seconds,
        peak_bytes=res.diagnostics["stored_bytes_peak"],
    )


def chain(cx, res, initial=True):
    """The engine's gradients -> d/d(eight parameters). ``initial``: the run started from the
    complex as built (its placement and momenta depend on R and h); False for a window whose
    starting state is given."""
    p, n = cx.params, cx.n_legs
    g = dict.fromkeys(PARAM_NAMES, 0.0)
    # geometry: base_i = (R cos, R sin, h/(n+1)), head = (0, 0, -h n/(n+1))
    G = res.grad(cx.rigid)["S"]
    phi = 2 * np.pi * np.arange(n) / n
    g["base_radius"] += float(np.sum(G[:n, 0] * np.cos(phi) + G[:n, 1] * np.sin(phi)))
    g["head_height"] += float(np.sum(G[:n, 2]) / (n + 1) - G[n, 2] * n / (n + 1))
    # the initial centre of mass sits h/(n+1) outward of the ring centre (on the target vertex)
    if initial:
        g["head_height"] += float(res.positions[cx.spider_tag] @ cx.outward) / (n + 1)
    # principal moments, through the dynamics, gamma_r = (10/3) I, and the initial angular momentum
    # p0 = 2 q (x) (0, L) with L_k = n_k sqrt(kT I_k): dL_k/dI_k = L_k / (2 I_k)
    gI = res.grad("moment_inertia")[cx.spider_tag] + ROT_FRICTION * res.grad("gamma_r")["S"]
    if initial and cx.initial_state is not None:
        q0, L0, I0 = cx.initial_state
        gp = res.angmom[cx.spider_tag]
        for k in range(3):
            e = np.zeros(4)
            e[1 + k] = 1.0
            if I0[k] > 0:
                gI[k] += float(gp @ (2 * quat_mul(q0, e))) * L0[k] / (2 * I0[k])
    # I_xy = n R^2/2 + h^2 n/(n+1), I_z = n R^2 (site mass 1)
    R, h = p.base_radius, p.head_height
    g["base_radius"] += float((gI[0] + gI[1]) * n * R + gI[2] * 2 * n * R)
    g["head_height"] += float((gI[0] + gI[1]) * 2 * h * n / (n + 1))
    soft = res.grad(cx.soft)
    g["base_particle_radius"] += soft[("V", "B")]["sigma"] if ("V", "B") in soft else soft[("B", "V")]["sigma"]
    head = res.grad(cx.morse)
    hv = head[("H", "V")] if ("H", "V") in head else head[("V", "H")]
    g["head_particle_radius"] += hv["r0"]
    g["log_eps_head"] += hv["D0"] * np.exp(p.log_eps_head)
    g["alpha_head"] += hv["alpha"]
    g["r_on"] += hv["r_on"]
    g["r_cut"] += hv["r_off"]
    if cx.cargo:
        key = lambda a, b: (a, b) if (a, b) in soft else (b, a)  # noqa: E731
        g["base_particle_radius"] += soft[key("B", "C")]["sigma"]
        g["head_particle_radius"] += soft[key("C", "H")]["sigma"]
    return np.array([g[k] for k in PARAM_NAMES])


# -- the end of a long run -------------------------------------------------------------------


@dataclasses.dataclass
class End:
    """The end-of-run terms (``loss="end"``): after the paper's loss over its first ``paper_steps``,
    the run goes on to ``horizon`` steps and its last ``window`` steps are differentiated, with
    the state at their start as given (truncated backpropagation: the long horizon is chaotic,
    docs/spider.md). The terms, averaged over frames ``every`` steps apart in the window, are
    smooth versions of the strict test's (validate.py), aimed ``margin`` beyond its thresholds:
    weight x (sum over spider sites s and remaining vertices i of relu(c_s + margin - d_si)^2,
    c_s = 2 + r_s; plus sum_i relu(4 + 1 + margin - d_ti)^2 for the target; with the cargo,
    relu(R_shell + 2.25 + margin - d_cargo)^2, d_cargo from the remaining vertices' centre and
    R_shell the ideal remaining shell's circumradius), all / (V - 1); and the stable-shell term.
    ``reach`` > 0 adds reach x sum_i relu(r_cut + margin - d_hi)^2 / (V - 1) over the head h and
    the remaining vertices: once the target is out, the head's range should end short of the shell
    (a long tail holds the complex on it, and the dynamics' d/dr_cut is zero for pairs inside
    r_on, docs/spider.md). ``intact`` > 0 adds intact x sum over the remaining shell's edges of
    relu(d_e - (1 - margin))^2 / (V - 1), d_e the edge's closest patch pair: the strict test's
    "intact" (every remaining edge bonded, d_e < 1), against a strong spider pulling a second
    vertex loose."""

    horizon: int = 10000
    window: int = 1000
    every: int = 100
    weight: float = 10.0
    margin: float = 0.5
    paper_steps: int = 1000
    reach: float = 0.0
    intact: float = 0.0

    def check(self):
        from ... import _checks

        for name in ("horizon", "window", "every", "paper_steps"):
            _checks.integer(name, getattr(self, name), lo=1)
        if self.paper_steps + self.window > self.horizon:
            raise ValueError(
                f"horizon {self.horizon} must hold the paper's {self.paper_steps} steps and the window {self.window}"
            )
        if self.every > self.window:
            raise ValueError(f"every {self.every} must be at most the window {self.window}")
        _checks.real("weight", self.weight, lo=0.0)
        _checks.real("margin", self.margin)
        _checks.real("reach", self.reach, lo=0.0)
        _checks.real("intact", self.intact, lo=0.0)
        return self

    def settings(self):
        """As a config dict; reach and intact 0 are left out, so runs saved before they existed
        still resume."""
        d = dataclasses.asdict(self.check())
        for k in ("reach", "intact"):
            if d[k] == 0.0:
                del d[k]
        return d


def end_terms(cx, positions, weight, margin, reach=0.0, intact=0.0):
    """The end-of-run terms of one state (see :class:`End`): (value, d/dpositions, d/d(eight
    parameters) at fixed positions)."""
    V, t, n = cx.n_vertices, cx.target, cx.n_legs
    x = np.asarray(positions, dtype=np.float64)
    rest = np.array([i for i in range(V) if i != t])
    body = np.asarray(cx.sim.state._cpp.body)
    sites = np.flatnonzero((body == cx.spider_tag) & (np.arange(body.size) != cx.spider_tag))
    p = cx.params
    contact = VERTEX_RADIUS + np.array([p.base_particle_radius] * n + [p.head_particle_radius])
    norm = V - 1
    g = np.zeros_like(x)
    dparams = np.zeros(len(PARAM_NAMES))

    def hinge(a, b, reach):  # sum relu(reach - |a_k - b_l|)^2 over pairs; its d/da, d/db, d/dreach
        d = a[:, None] - b[None]
        r = np.linalg.norm(d, axis=-1)
        h = np.maximum(reach - r, 0.0)
        w = (-2 * h / np.maximum(r, 1e-300))[..., None] * d
        return float(np.sum(h * h)), w.sum(axis=1), -w.sum(axis=0), 2 * h.sum(axis=-1)

    value, ga, gb, dreach = hinge(x[sites], x[rest], (contact + margin)[:, None])
    g[sites] += ga
    g[rest] += gb
    dparams[PARAM_NAMES.index("base_particle_radius")] += dreach[:n].sum()
    dparams[PARAM_NAMES.index("head_particle_radius")] += dreach[n]
    vt, ga, gb, _ = hinge(x[[t]], x[rest], CONTACT + TARGET_CLEARANCE + margin)
    value += vt
    g[t] += ga[0]
    g[rest] += gb
    if cx.cargo:
        com = x[rest].mean(axis=0)
        R = np.linalg.norm(cx.shell.vertices[rest] - cx.shell.vertices[rest].mean(axis=0), axis=1).max()
        vc, ga, gb, _ = hinge(x[[V + 1]], com[None], R + CARGO_CONTACT + margin)
        value += vc
        g[V + 1] += ga[0]
        g[rest] += gb[0] / len(rest)
    s = weight / norm
    value, g, dparams = s * value, s * g, s * dparams
    if reach > 0:
        s = reach / norm
        vh, ga, gb, dr = hinge(x[[sites[n]]], x[rest], cx.params.r_cut + margin)
        value += s * vh
        g[sites[n]] += s * ga[0]
        g[rest] += s * gb
        dparams[PARAM_NAMES.index("r_cut")] += s * dr[0]
    if intact > 0:
        s, tags = intact / norm, np.arange(body.size)
        patch = np.flatnonzero((body >= 0) & (body < V) & (body != tags))
        owner = body[patch]
        for i, j in cx.shell.edges:
            if t in (i, j):
                continue
            a, b = patch[owner == i], patch[owner == j]
            d = x[a][:, None] - x[b][None]
            r = np.linalg.norm(d, axis=-1)
            k = np.unravel_index(np.argmin(r), r.shape)  # the edge's closest patch pair
            h = r[k] - (BOND - margin)
            if h > 0:
                value += s * h * h
                u = (2 * s * h / r[k]) * d[k]
                g[a[k[0]]] += u
                g[b[k[1]]] -= u
    return value, g, dparams


def evaluate_end(cx, end, coeff=None, memory=None, stable=None):
    """The paper's loss over the first ``end.paper_steps`` steps (:func:`evaluate`), then the run
    on to ``end.horizon`` steps, its last ``end.window`` steps differentiated for the end-of-run
    terms (:func:`window`); returns one :class:`Evaluation` of the sum (``end`` holds the
    end-of-run terms, averaged over the window's frames)."""
    import time

    end.check()
    start = time.perf_counter()
    first = evaluate(cx, steps=end.paper_steps, coeff=coeff, memory=memory, stable=stable)
    cx.sim.run(end.horizon - end.paper_steps - end.window)
    w = window(cx, end, memory=memory, stable=stable)
    return Evaluation(
        loss=first.loss + w["loss"],
        extract=first.extract,
        remain=first.remain,
        grad=first.grad + w["grad"],
        stable=first.stable + w["stable"],
        seconds=time.perf_counter() - start,
        peak_bytes=max(first.peak_bytes, w["peak_bytes"]),
        end=w["end"],
    )


def window(cx, end, memory=None, stable=None):
    """From the simulation's current state (given, not differentiated), run ``end.window`` steps
    and differentiate the end-of-run terms (:func:`end_terms`) and the stable-shell term, averaged
    over frames ``end.every`` apart, with respect to the eight parameters. Returns a dict: loss,
    grad, end, stable, peak_bytes."""
    frames = list(range(end.window % end.every or end.every, end.window + 1, end.every))
    F = len(frames)
    seen = {}  # timestep -> (end terms, their explicit d/dparams, stable-shell term); a recomputed frame overwrites

    def loss(frame):
        value, g, dp = end_terms(cx, frame.positions, end.weight, end.margin, end.reach, end.intact)
        vs = 0.0
        if stable is not None:
            vs, gs = stable_shell(cx, frame.positions, *stable)
            g = g + gs
        seen[frame.timestep] = (value, dp, vs)
        return (value + vs) / F, g / F

    res = adjoint.gradient(
        cx.sim,
        end.window,
        loss,
        wrt=[cx.soft, cx.morse, cx.rigid, "moment_inertia", "gamma_r"],
        frames=frames,
        memory=memory,
    )
    if len(seen) != F:
        raise RuntimeError(f"the end-of-run loss saw {len(seen)} frames, not the window's {F}")
    explicit = sum(dp for _, dp, _ in seen.values()) / F
    return dict(
        loss=res.loss,
        grad=chain(cx, res, initial=False) + explicit,
        end=sum(v for v, _, _ in seen.values()) / F,
        stable=sum(s for _, _, s in seen.values()) / F,
        peak_bytes=res.diagnostics["stored_bytes_peak"],
    )
