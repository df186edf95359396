"""The shell-and-spider system of the colloidal-reactions paper (Krueger, King & Brenner 2023) in
HOOMD's conventions, its eight design parameters and its losses.

Choices where the paper and the authors' code leave room (docs/spider.md says why):

- Free space is a periodic box of side 100 (every interaction range is <= 12).
- Vertex bodies: centre mass 1, principal moments of a uniform sphere of radius 2 (1.6 each). The
  authors' patches weigh 1e-8, which gives moments ~1e-7 and orientational rates no velocity-Verlet
  step can follow; the shell's energy does not depend on the vertex inertia.
- Friction: the authors' Langevin rates (10 for momenta, 10/3 for angular momenta) as HOOMD drag
  coefficients, gamma = 10 m and gamma_r = (10/3) I per axis (the spider's gamma_r follows its
  geometry, and is differentiated with it).
- The legs repel vertex centres with sigma = 1.0 (the preprint's code, where the leg radius was
  never passed); ``leg_sigma`` changes it.
"""

import dataclasses

import gsd.hoomd
import numpy as np

from ... import device as _device
from ...md import bar as _bar
from ...md import constrain, methods, nlist, pair
from ...md.constrain import quat_mul
from ...md.integrate import Integrator
from ...simulation import Simulation
from ...filter import Rigid as _RigidFilter
from .geometry import icosahedron, octahedron, quaternion_from_matrix, spider_body

__all__ = ["Params", "START", "Complex", "switched_morse", "PARAM_NAMES"]

PARAM_NAMES = (
    "base_radius",
    "head_height",
    "base_particle_radius",
    "head_particle_radius",
    "log_eps_head",
    "alpha_head",
    "r_on",
    "r_cut",
)

# (log eps_H, alpha_H) of the paper's starts
START = {
    "octahedron": {"weak": (3.5, 1.5), "strong": (8.5, 1.0)},
    "icosahedron": {"weak": (5.5, 1.5), "strong": (9.2, 1.5)},
}

SHELL = {"octahedron": (octahedron, 4), "icosahedron": (icosahedron, 5)}  # builder, spider legs

VERTEX_RADIUS = 2.0
SOFT_EPS = 1e4  # every soft-sphere repulsion
PATCH = dict(D0=10.0, alpha=5.0, r0=0.0, r_on=10.0, r_off=12.0)
VERTEX_INERTIA = 0.4 * 1.0 * VERTEX_RADIUS**2
FRICTION, ROT_FRICTION = 10.0, 10.0 / 3.0  # the authors' rates
OFF_SOFT = dict(epsilon=0.0, sigma=1e-6, alpha=2.0)
OFF_MORSE = dict(D0=0.0, alpha=1.0, r0=0.0, r_on=0.0, r_off=1e-6)


@dataclasses.dataclass
class Params:
    """The eight optimised spider parameters (lengths in units of the vertex radius 2 / 2 = 1)."""

    base_radius: float = 5.0  # R: radius of the ring of base sites
    head_height: float = 5.0  # h: head's distance below the ring's plane
    base_particle_radius: float = 0.5  # r_B: base-vertex contact at 2 + r_B
    head_particle_radius: float = 0.5  # r_H: head-vertex Morse minimum at 2 + r_H
    log_eps_head: float = 3.5  # log of the head-vertex Morse depth (kT)
    alpha_head: float = 1.5  # its range parameter (1/length)
    r_on: float = 10.0  # switch onset
    r_cut: float = 12.0  # switch end (the head's range)

    def array(self):
        return np.array([getattr(self, n) for n in PARAM_NAMES], dtype=np.float64)

    @classmethod
    def from_array(cls, x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (len(PARAM_NAMES),) or not np.all(np.isfinite(x)):
            raise ValueError(f"spider parameters must be {len(PARAM_NAMES)} finite numbers {PARAM_NAMES}, got {x}")
        return cls(*map(float, x))

    @classmethod
    def start(cls, shell, which):
        """The paper's start: R = h = 5, r_B = r_H = 0.5, r_on = 10, r_cut = 12 and the weak or strong head."""
        if shell not in START or which not in START[shell]:
            raise ValueError(f"start must be one of {[(s, w) for s in START for w in START[s]]}, got {(shell, which)}")
        le, a = START[shell][which]
        return cls(log_eps_head=le, alpha_head=a)

    def project(self, margin=0.1):
        """The nearest buildable parameters (a projected gradient step): r_on at most
        r_cut - margin, r_on >= 0, radii above -2 + margin, R and alpha_H at least margin.
        Returns (params, names of the parameters moved)."""
        x = dict(self.__dict__)
        lo = {
            "base_radius": margin,
            "alpha_head": margin,
            "r_on": 0.0,
            "base_particle_radius": -VERTEX_RADIUS + margin,
            "head_particle_radius": -VERTEX_RADIUS + margin,
        }
        moved = [n for n, v in lo.items() if x[n] < v]
        for n in moved:
            x[n] = lo[n]
        if x["r_on"] > x["r_cut"] - margin:
            x["r_on"] = max(0.0, x["r_cut"] - margin)
            moved.append("r_on")
            if x["r_cut"] < margin:
                x["r_cut"] = margin
                moved.append("r_cut")
        return Params(**x), moved

    def check(self):
        """Raise, naming the parameter, if the spider cannot be built."""
        for n in ("base_radius", "alpha_head"):
            if not getattr(self, n) > 0:
                raise ValueError(f"spider {n} must be > 0, got {getattr(self, n)}")
        for n in ("base_particle_radius", "head_particle_radius"):
            if not getattr(self, n) > -VERTEX_RADIUS:
                raise ValueError(f"spider {n} must be > -2 (a positive contact distance), got {getattr(self, n)}")
        if not 0 <= self.r_on < self.r_cut:
            raise ValueError(f"spider switch needs 0 <= r_on < r_cut, got r_on = {self.r_on}, r_cut = {self.r_cut}")


def switched_morse(r, D0, alpha, r0, r_on, r_off):
    """Morse times the XPLOR switch (the engine's MorseSwitched) and its derivatives: returns
    (V, dV/dr, dV/d(D0, alpha, r0, r_on, r_off)) for an array of distances r."""
    r = np.asarray(r, dtype=np.float64)
    E = np.exp(-alpha * (r - r0))
    M = D0 * E * (E - 2.0)
    dM_dr = D0 * (E - 1.0) * 2.0 * (-alpha) * E
    dM = np.stack([E * (E - 2.0), D0 * (E - 1.0) * 2.0 * E * (-(r - r0)), D0 * (E - 1.0) * 2.0 * E * alpha], axis=-1)
    s, on2, off2 = r * r, r_on * r_on, r_off * r_off
    den = (off2 - on2) ** 3
    S = np.where(s < on2, 1.0, np.where(s < off2, (off2 - s) ** 2 * (off2 + 2 * s - 3 * on2) / den, 0.0))
    inside = (s >= on2) & (s < off2)
    dS_ds = np.where(inside, 6.0 * (off2 - s) * (on2 - s) / den, 0.0)
    # dS/d(r_on^2), dS/d(r_off^2) inside the switch
    num = (off2 - s) ** 2 * (off2 + 2 * s - 3 * on2)
    dS_don2 = np.where(inside, (off2 - s) ** 2 * (-3.0) / den + 3.0 * num / (off2 - on2) ** 4, 0.0)
    dS_doff2 = np.where(
        inside, (2 * (off2 - s) * (off2 + 2 * s - 3 * on2) + (off2 - s) ** 2) / den - 3.0 * num / (off2 - on2) ** 4, 0.0
    )
    V = M * S
    dV_dr = dM_dr * S + M * dS_ds * 2 * r
    dV = np.concatenate(
        [dM * S[..., None], (M * dS_don2 * 2 * r_on)[..., None], (M * dS_doff2 * 2 * r_off)[..., None]], axis=-1
    )
    return np.where(r < r_off, V, 0.0), np.where(r < r_off, dV_dr, 0.0), np.where((r < r_off)[..., None], dV, 0.0)


class Complex:
    """A shell of rigid patchy vertices with a rigid spider bound to one vertex (and optionally a
    cargo particle inside), as a ready-to-run :class:`~hoomd_adjoint.Simulation` with rigid-body
    Langevin dynamics.

    Args:
        shell: ``"octahedron"`` or ``"icosahedron"``.
        params: the spider's :class:`Params`.
        seed: the simulation's seed and the initial momenta's (Maxwell-Boltzmann at kT).
        target: index of the vertex the spider binds to (the authors' default 5).
        cargo: add the cargo particle at the shell centre.
        leg_sigma: range of the legs' repulsion (1.0: the preprint's code).
        kT, dt: temperature (energy) and time step.
        threads: CPU threads.
        device: the simulation's device (default: ``device.CPU(num_cpu_threads=threads)``); on a
            ``device.GPU()`` the complex runs there, forward and adjoint.

    Particle tags: vertex centres 0..V-1, the spider's centre of mass V, the cargo V+1; constituents
    after.
    """

    def __init__(
        self,
        shell="octahedron",
        params=None,
        seed=0,
        target=5,
        cargo=False,
        leg_sigma=1.0,
        kT=1.0,
        dt=1e-3,
        threads=1,
        device=None,
    ):
        if shell not in SHELL:
            raise ValueError(f"shell must be one of {list(SHELL)}, got {shell!r}")
        params = Params.start(shell, "weak") if params is None else params
        params.check()
        builder, n = SHELL[shell]
        self.shell_name, self.params, self.n_legs = shell, params, n
        self.shell = builder()
        V = len(self.shell.vertices)
        if not 0 <= int(target) < V:
            raise ValueError(f"target must be a vertex index in 0..{V - 1}, got {target}")
        self.target, self.n_vertices, self.cargo = int(target), V, bool(cargo)
        self.spider = spider_body(n, params.base_radius, params.head_height)
        self.kT, self.dt, self.leg_sigma = float(kT), float(dt), float(leg_sigma)
        self.spider_tag = V
        self._build(int(seed), threads if device is None else device)

    # -- construction ----------------------------------------------------------------------
    def _placement(self):
        """As the authors' code: the centre of the base ring on the target vertex, the head at h
        beyond it along the outward radial (body -z). Our body origin is the centre of mass, at
        h/(n+1) outward from the ring centre."""
        v = self.shell.vertices
        out = v[self.target] - v.mean(axis=0)
        out /= np.linalg.norm(out)
        self.outward = out
        ez = -out
        a = np.array([1.0, 0.0, 0.0]) if abs(ez[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        ex = a - (a @ ez) * ez
        ex /= np.linalg.norm(ex)
        centre = v[self.target] + self.params.head_height / (self.n_legs + 1) * out
        return centre, quaternion_from_matrix(np.stack([ex, np.cross(ez, ex), ez], axis=1))

    def _build(self, seed, device):
        shell, sp, p = self.shell, self.spider, self.params
        V = self.n_vertices
        n_free = V + 1 + int(self.cargo)
        rng = np.random.default_rng([seed, 12])
        centre, q_spider = self._placement()
        pos = np.concatenate([shell.vertices, centre[None]] + ([np.zeros((1, 3))] if self.cargo else []))
        orient = np.concatenate([shell.orientations, q_spider[None]] + ([[[1.0, 0, 0, 0]]] if self.cargo else []))
        mass = np.array([1.0] * V + [sp.mass * (self.n_legs + 1)] + ([0.1] if self.cargo else []))
        inertia = np.array([[VERTEX_INERTIA] * 3] * V + [sp.moment_inertia] + ([[0.0] * 3] if self.cargo else []))
        typeid = np.array([0] * V + [2] + ([5] if self.cargo else []), dtype=np.uint32)
        vel = rng.normal(size=(n_free, 3)) * np.sqrt(self.kT / mass)[:, None]
        L = rng.normal(size=(n_free, 3)) * np.sqrt(self.kT * inertia)
        angmom = 2 * quat_mul(orient, np.c_[np.zeros(n_free), L])
        # the spider's body-frame momenta scale with sqrt(I): kept for the chain rule through I(R, h)
        self.initial_state = (orient[V].copy(), L[V].copy(), inertia[V].copy())
        f = gsd.hoomd.Frame()
        f.configuration.box = [100.0, 100.0, 100.0, 0, 0, 0]
        f.particles.N = n_free
        f.particles.types = ["V", "P", "S", "B", "H", "C"]
        f.particles.typeid = typeid
        f.particles.position = pos
        f.particles.orientation = orient
        f.particles.mass = mass
        f.particles.moment_inertia = inertia
        f.particles.velocity = vel
        f.particles.angmom = angmom
        if not isinstance(device, _device.Device):  # (a thread count)
            device = _device.CPU(num_cpu_threads=device)
        sim = Simulation(device=device, seed=seed)
        sim.create_state_from_snapshot(f)
        rigid = constrain.Rigid()
        rigid.body["V"] = dict(
            constituent_types=["P"] * len(shell.patches),
            positions=shell.patches,
            orientations=[(1, 0, 0, 0)] * len(shell.patches),
        )
        rigid.body["S"] = dict(
            constituent_types=["B"] * self.n_legs + ["H"],
            positions=sp.sites,
            orientations=[(1, 0, 0, 0)] * (self.n_legs + 1),
        )
        rigid.create_bodies(sim.state)
        nl = nlist.Cell(buffer=0.5, exclusions=["body"])
        # The shell's patch bonds are a force of their own: a gradient asks only for the head's
        # Morse, so the patch pairs (most of the pairs) carry no parameter derivatives. No
        # particle feels both, so the sums, and the trajectories, are those of one Morse force.
        soft, patches, morse = pair.SoftSphere(nlist=nl), pair.MorseSwitched(nlist=nl), pair.MorseSwitched(nlist=nl)
        types = f.particles.types
        for i, a in enumerate(types):
            for b in types[i:]:
                soft.params[(a, b)] = OFF_SOFT
                patches.params[(a, b)] = morse.params[(a, b)] = OFF_MORSE
                soft.r_cut[(a, b)] = patches.r_cut[(a, b)] = morse.r_cut[(a, b)] = 0.0  # off unless set below
        soft.params[("V", "V")] = dict(epsilon=SOFT_EPS, sigma=2 * VERTEX_RADIUS, alpha=2.0)
        patches.params[("P", "P")] = PATCH
        soft.r_cut[("V", "V")] = patches.r_cut[("P", "P")] = soft.r_cut[("B", "V")] = morse.r_cut[("H", "V")] = 1.0
        if self.cargo:
            soft.r_cut[("C", "V")] = soft.r_cut[("B", "C")] = soft.r_cut[("C", "H")] = 1.0
        self.soft, self.patches, self.morse = soft, patches, morse
        self.bar = _bar.Bar(rigid, {"S": sp.bars}, ["V"], epsilon=SOFT_EPS, sigma=self.leg_sigma)
        self.rigid = rigid
        self.set_params(p)
        flt = _RigidFilter(("center", "free"))
        lang = methods.Langevin(filter=flt, kT=self.kT)
        for t in types:
            lang.gamma[t] = FRICTION
        lang.gamma["V"], lang.gamma["S"] = FRICTION * 1.0, FRICTION * mass[V]
        lang.gamma["C"] = FRICTION * 0.1
        lang.gamma_r["V"] = tuple(ROT_FRICTION * np.full(3, VERTEX_INERTIA))
        lang.gamma_r["S"] = tuple(ROT_FRICTION * sp.moment_inertia)
        self.method = lang
        sim.operations.integrator = Integrator(
            dt=self.dt,
            methods=[lang],
            forces=[soft, patches, morse, self.bar],
            integrate_rotational_dof=True,
            rigid=rigid,
        )
        self.sim = sim

    def set_params(self, params):
        """Apply new spider parameters to the forces and the body (before the next run)."""
        params.check()
        self.params = params
        sp = spider_body(self.n_legs, params.base_radius, params.head_height)
        self.spider = sp
        self.rigid.body["S"] = dict(
            constituent_types=["B"] * self.n_legs + ["H"],
            positions=sp.sites,
            orientations=[(1, 0, 0, 0)] * (self.n_legs + 1),
        )
        self.soft.params[("B", "V")] = dict(epsilon=SOFT_EPS, sigma=VERTEX_RADIUS + params.base_particle_radius)
        self.morse.params[("H", "V")] = self.head_params(params)
        if self.cargo:
            self.soft.params[("C", "V")] = dict(epsilon=SOFT_EPS, sigma=VERTEX_RADIUS + 0.25)
            self.soft.params[("B", "C")] = dict(epsilon=SOFT_EPS, sigma=params.base_particle_radius + 0.25)
            self.soft.params[("C", "H")] = dict(epsilon=SOFT_EPS, sigma=params.head_particle_radius + 0.25)
        if getattr(self, "sim", None) is not None:
            c = self.sim.state._cpp
            c.moment_inertia[self.spider_tag] = sp.moment_inertia
            self.method.gamma_r["S"] = tuple(ROT_FRICTION * sp.moment_inertia)

    @staticmethod
    def head_params(params):
        return dict(
            D0=float(np.exp(params.log_eps_head)),
            alpha=params.alpha_head,
            r0=VERTEX_RADIUS + params.head_particle_radius,
            r_on=params.r_on,
            r_off=params.r_cut,
        )

    # -- observables -------------------------------------------------------------------------
    def vertex_positions(self, positions=None):
        """Vertex centres (V, 3), unwrapped across the box (the shell never spans half of it)."""
        x = np.array(self.sim.state._cpp.position if positions is None else positions)[: self.n_vertices]
        return x

    @property
    def head_tag(self):
        """Tag of the spider's head site (its last constituent)."""
        body = np.asarray(self.sim.state._cpp.body)
        return int(np.flatnonzero(body == self.spider_tag)[-1])
