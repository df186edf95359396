"""The discrete adjoint: gradients against central finite differences of the same discrete map
(same seed, float64), dot-product/forward-vs-reverse identities, bitwise checkpointing,
multi-frame and truncated objectives."""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import make_frame, random_positions
from test_pair import POTENTIALS, XPLOR_R_ON, scaled

METHODS = {
    "brownian": (lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.7), 1e-3),
    "langevin": (lambda: ha.md.methods.Langevin(filter=ha.filter.All(), kT=0.7, default_gamma=0.8), 5e-3),
    "nve": (lambda: ha.md.methods.ConstantVolume(filter=ha.filter.All()), 5e-3),
}
BOXES = {2: [9.0, 8.5, 0, 0.1, 0, 0], 3: [7.5, 7.0, 7.2, 0.1, 0.05, -0.05]}
STEPS = 60  # long enough that the loss feels the parameters (FD rounding ~1e-9)


class System:
    """Builds the same simulation again with perturbed parameters or positions."""

    def __init__(self, pot, method, dim, rng, N=24, mode=None):
        self.cls, self.params, _, self.rcut, modes = POTENTIALS[pot]
        self.mode = mode or next(m for m in reversed(modes) if m != "xplor")
        self.method, self.dt = METHODS[method]
        self.box = BOXES[dim]
        self.pos = random_positions(rng, N, self.box, min_dist=1.0)
        self.vel = rng.normal(0, 0.5, (N, 3))
        if dim == 2:
            self.vel[:, 2] = 0
        self.typeid = rng.integers(0, 2, N)
        self.pair_params = {
            ("A", "A"): self.params,
            ("A", "B"): scaled(self.params, 1.1),
            ("B", "B"): scaled(self.params, 0.9),
        }
        if self.mode == "xplor":  # r_on is then a parameter like the others
            for k, d in self.pair_params.items():
                self.pair_params[k] = dict(d, r_on=XPLOR_R_ON[k] * self.rcut)

    def build(self, params=None, pos=None, kT=None, gamma=None):
        frame = make_frame(
            self.pos if pos is None else pos, self.box, typeid=self.typeid, types=("A", "B"), velocity=self.vel
        )
        sim = ha.Simulation(device=ha.device.CPU(1), seed=11)
        sim.create_state_from_snapshot(frame)
        pot = self.cls(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=self.rcut, mode=self.mode)
        for k, v in (params or self.pair_params).items():
            v = dict(v)
            if "r_on" in v:
                pot.r_on[k] = v.pop("r_on")
            pot.params[k] = v
        m = self.method()
        if kT is not None:
            m.kT = kT
        if gamma is not None:
            for t, g in gamma.items():
                m.gamma[t] = g
        sim.operations.integrator = ha.md.Integrator(dt=self.dt, methods=[m], forces=[pot])
        return sim, pot

    def loss(self, frame):
        """Smooth and periodic, so that wrapping never makes it jump."""
        L = np.array(self.box[:3])
        L[L == 0] = 1.0
        k = 2 * np.pi / L
        x = frame.positions
        return float(np.sum(np.sin(k * x) * np.array([1.0, 0.7, 0.4]))), np.cos(k * x) * k * np.array([1.0, 0.7, 0.4])

    def run_loss(self, **kw):
        sim, _ = self.build(**kw)
        sim.run(STEPS)
        return self.loss(ha.adjoint._frame(sim))[0]


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def perturb(pair_params, direction, h):
    return {k: {p: v + h * direction[k][p] for p, v in d.items()} for k, d in pair_params.items()}


CASES = [(p, m, d) for p in POTENTIALS for m in METHODS for d in (2, 3)]


XPLOR = [(p, m, d) for p in POTENTIALS if "xplor" in POTENTIALS[p][4] for m in METHODS for d in (2, 3)]


@pytest.mark.parametrize("pot,method,dim", CASES)
def test_gradient_matches_finite_differences(pot, method, dim, rng):
    check_against_finite_differences(System(pot, method, dim, rng), dim, rng)


@pytest.mark.parametrize("pot,method,dim", XPLOR)
def test_xplor_gradient_matches_finite_differences(pot, method, dim, rng):
    """mode="xplor": the smoothing's derivatives, r_on's among them (A-A and B-B smoothed, A-B
    with r_on > r_cut: shifted, and its r_on derivative zero)."""
    s = System(pot, method, dim, rng, mode="xplor")
    g = check_against_finite_differences(s, dim, rng)
    assert g[("A", "B")]["r_on"] == 0.0
    assert g[("A", "A")]["r_on"] != 0.0 and g[("B", "B")]["r_on"] != 0.0
    for h in (1e-5, 2e-6):  # and r_on (A-A) alone, which the random direction could drown
        d = {k: {p: float(k == ("A", "A") and p == "r_on") for p in v} for k, v in s.pair_params.items()}
        fd = (s.run_loss(params=perturb(s.pair_params, d, h)) - s.run_loss(params=perturb(s.pair_params, d, -h))) / (
            2 * h
        )
        assert abs(fd - g[("A", "A")]["r_on"]) < 1e-6 * abs(fd) + 1e-14 / h, (h, fd, g[("A", "A")]["r_on"])


def check_against_finite_differences(s, dim, rng):
    sim, force = s.build()
    res = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[force, "positions"])
    g = res.grad(force)
    # parameters: a random direction through every parameter of every type pair
    direction = {k: {p: rng.normal() for p in d} for k, d in s.pair_params.items()}
    # Forces jump at r_cut (as in HOOMD), so the discrete map is only piecewise smooth: small
    # steps keep both perturbed runs on the same side of every cutoff crossing (pairs have been
    # seen passing within 1.3e-6 of r_cut) while FD rounding stays below 1e-7 relative; two step
    # sizes, so that agreement at one is not luck.
    ad = sum(g[k][p] * direction[k][p] for k in direction for p in direction[k])
    for h in (1e-5, 2e-6):
        fd = (
            s.run_loss(params=perturb(s.pair_params, direction, h))
            - s.run_loss(params=perturb(s.pair_params, direction, -h))
        ) / (2 * h)
        assert abs(fd - ad) < 1e-6 * abs(ad) + 1e-14 / h, (h, fd, ad)  # 1e-14 / h: the loss's rounding
    # initial positions: a random direction
    v = rng.normal(size=s.pos.shape)
    if dim == 2:
        v[:, 2] = 0
    adp = np.sum(res.positions * v)
    for h in (1e-6, 2e-7):
        fdp = (s.run_loss(pos=s.pos + h * v) - s.run_loss(pos=s.pos - h * v)) / (2 * h)
        assert abs(fdp - adp) < 1e-6 * abs(adp) + 1e-14 / h, (h, fdp, adp)
    return g


@pytest.mark.parametrize("method", ["brownian", "langevin"])
def test_gradient_wrt_kT_and_gamma(method, rng):
    s = System("Morse", method, 3, rng)
    sim, force = s.build()
    res = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=["kT", "gamma"])
    h = 1e-6
    kT0 = 0.7
    fd = (s.run_loss(kT=kT0 + h) - s.run_loss(kT=kT0 - h)) / (2 * h)
    assert rel(fd, res.grad("kT")) < 1e-6
    g0 = 1.0 if method == "brownian" else 0.8
    fdg = (s.run_loss(gamma={"B": g0 + h}) - s.run_loss(gamma={"B": g0 - h})) / (2 * h)
    assert rel(fdg, res.grad("gamma")["B"]) < 1e-6


@pytest.mark.parametrize("method", ["brownian", "langevin", "nve"])
def test_forward_mode_equals_reverse_mode(method, rng):
    """With a linear loss w . r_T this is the dot-product test <w, J dtheta> = <J^T w, dtheta>."""
    s = System("LJ", method, 3, rng)
    w = rng.normal(size=s.pos.shape)

    def linear(frame):
        return float(np.sum(w * frame.positions)), w

    for loss in (linear, s.loss):
        sim, force = s.build()
        wrt = [force] + (["kT", "gamma"] if method != "nve" else [])
        rev = ha.adjoint.gradient(sim, steps=STEPS, loss=loss, wrt=wrt)
        sim, force2 = s.build()
        fwd = ha.adjoint.gradient(sim, steps=STEPS, loss=loss, wrt=[force2] + wrt[1:], mode="forward")
        assert rel(rev.loss, fwd.loss) == 0
        for k, d in rev.grad(force).items():
            for p, v in d.items():
                assert rel(v, fwd.grad(force2)[k][p]) < 1e-10, (k, p)
        if method != "nve":
            assert rel(rev.grad("kT"), fwd.grad("kT")) < 1e-10
            for t in ("A", "B"):
                assert rel(rev.grad("gamma")[t], fwd.grad("gamma")[t]) < 1e-10


def test_force_jacobian_dot_product(rng):
    """<J v, w> = <v, J^T w> for the force Jacobian of every potential (J is symmetric)."""
    for pot in POTENTIALS:
        s = System(pot, "brownian", 3, rng)
        sim, _ = s.build()
        sim.run(0)
        cpp = sim.state._cpp
        v, w = rng.normal(size=s.pos.shape), rng.normal(size=s.pos.shape)
        Jv = ha._core.force_jacobian(cpp, v)[0]
        Jw = ha._core.force_jacobian(cpp, w)[0]
        assert rel(np.sum(Jv * w), np.sum(v * Jw)) < 1e-12
        # and J v is the directional derivative of the force
        h = 1e-6
        f = []
        for sgn in (1, -1):
            cpp.set_position(s.pos + sgn * h * v)
            cpp.compute_net_force()
            f.append(np.array(cpp.net_force))
        np.testing.assert_allclose((f[0] - f[1]) / (2 * h), Jv, rtol=1e-5, atol=1e-6 * np.abs(Jv).max())


@pytest.mark.parametrize("method", ["brownian", "langevin"])
def test_checkpointed_equals_full_storage_bitwise(method, rng):
    s = System("Morse", method, 3, rng)
    steps = 40
    sim, force = s.build()
    full = ha.adjoint.gradient(sim, steps=steps, loss=s.loss, wrt=[force, "positions"])
    assert full.diagnostics["recomputed_steps"] == 0
    state = full.diagnostics["state_bytes"]
    for slots in (1, 2, 3, 7):
        sim, f2 = s.build()
        cp = ha.adjoint.gradient(sim, steps=steps, loss=s.loss, wrt=[f2, "positions"], memory=slots * state)
        assert cp.diagnostics["checkpointing"] and cp.diagnostics["recomputed_steps"] > 0
        assert cp.diagnostics["stored_states_peak"] <= slots
        assert np.array_equal(cp.positions, full.positions)
        assert cp.grad(f2) == full.grad(force)
        assert cp.loss == full.loss


@pytest.mark.parametrize("method", ["brownian", "langevin"])
def test_lists_built_from_earlier_states_change_no_bits_and_save_builds(method, rng, monkeypatch):
    """With checkpoints, the backward pass builds the lists it needs from earlier stored states
    (they then serve the states below too): fewer builds, the same bits."""
    s = System("LJ", method, 3, rng, N=60)
    steps = 120

    def run(memory):
        sim, force = s.build()
        force.nlist.buffer = 0.3 if method == "brownian" else 0.2  # a build every ~2 / ~10 steps
        res = ha.adjoint.gradient(sim, steps=steps, loss=s.loss, wrt=[force, "positions"], memory=memory)
        return res, res.grad(force)

    full, g_full = run(None)
    assert full.diagnostics["nlist_builds_from_earlier"] == 0  # (recorded lists serve the sweep)
    memory = steps // 2 * full.diagnostics["state_bytes"]
    back, g_back = run(memory)
    d = back.diagnostics
    assert d["checkpointing"] and d["nlist_builds_from_earlier"] > 2
    assert np.array_equal(back.positions, full.positions) and g_back == g_full
    monkeypatch.setattr(ha.adjoint, "_LOOK_BACK", False)
    here, g_here = run(memory)
    assert here.diagnostics["nlist_builds_from_earlier"] == 0
    assert np.array_equal(here.positions, full.positions) and g_here == g_full
    assert d["nlist_builds"] < here.diagnostics["nlist_builds"]


def test_earlier_states_are_checked(rng):
    s = System("LJ", "brownian", 3, rng, N=60)
    sim, force = s.build()
    sim.run(1)
    nl, cpp = force.nlist._cpp, sim.state._cpp
    with pytest.raises(ValueError, match="earlier state 1: expected a C-contiguous float64 array of 60 x 3"):
        nl.set_earlier_states(cpp, [np.zeros((60, 3)), np.zeros((59, 3))])
    with pytest.raises(ValueError, match="earlier state 0"):
        nl.set_earlier_states(cpp, [np.zeros((60, 3), np.float32)])


@pytest.mark.parametrize("method", ["brownian", "langevin"])
def test_recorded_neighbour_lists_change_no_bits(method, rng):
    """The backward sweep reuses the forward pass's neighbour lists (when they fit the budget)
    instead of rebuilding them: the gradient must be the same to the bit."""
    s = System("LJ", method, 3, rng, N=60)
    steps = 80
    sim, force = s.build()
    force.nlist.buffer = 0.05  # rebuilds every few steps
    reuse = ha.adjoint.gradient(sim, steps=steps, loss=s.loss, wrt=[force, "positions"])
    assert reuse.diagnostics["nlist_restores"] > 3 and reuse.diagnostics["nlist_bytes"] > 0
    sim, f2 = s.build()
    f2.nlist.buffer = 0.05
    state = reuse.diagnostics["state_bytes"]
    rebuild = ha.adjoint.gradient(sim, steps=steps, loss=s.loss, wrt=[f2, "positions"], memory=steps * state)
    assert not rebuild.diagnostics["checkpointing"] and rebuild.diagnostics["nlist_restores"] == 0
    assert f2.nlist._cpp.num_recorded == 0  # recording ends with the gradient
    assert np.array_equal(reuse.positions, rebuild.positions)
    assert reuse.grad(force) == rebuild.grad(f2)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_parameter_subset_is_bitwise_the_full_gradient(mode, rng):
    """wrt=[(force, names)] narrows the dual numbers; each derivative slot is computed on its own,
    so the selected entries are the same bits as in the full gradient."""
    s = System("Morse", "langevin", 2, rng)
    sim, force = s.build()
    full = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[force], mode=mode)
    for names in (["r0"], ["D0", "r0"], ["alpha", "D0", "r0"]):
        sim, f2 = s.build()
        sub = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[(f2, names)], mode=mode)
        g, gf = sub.grad(f2), full.grad(force)
        assert set(g) == set(gf)
        for pair in g:
            assert set(g[pair]) == set(names)
            assert all(g[pair][n] == gf[pair][n] for n in names), (pair, g[pair], gf[pair])
    with pytest.raises(ValueError, match="has no parameter 'sigma'"):
        ha.adjoint.gradient(s.build()[0], steps=2, loss=s.loss, wrt=[(force, ["sigma"])])


def test_gradient_advances_like_run(rng, tmp_path):
    s = System("LJ", "brownian", 3, rng)
    sim, force = s.build()
    sim.operations.writers.append(ha.write.GSD(trigger=5, filename=tmp_path / "g.gsd", mode="wb"))
    ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[force], memory=3 * 24 * len(s.pos))
    ref, _ = s.build()
    ref.run(STEPS)
    a, b = sim.state.get_snapshot().particles, ref.state.get_snapshot().particles
    assert sim.timestep == ref.timestep
    for name in ("position", "velocity", "image"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    import gsd.hoomd

    with gsd.hoomd.open(tmp_path / "g.gsd") as t:
        assert [int(f.configuration.step) for f in t] == list(range(5, STEPS + 1, 5))


def test_multi_frame_loss(rng):
    s = System("Gaussian", "langevin", 2, rng)
    frames = [0, 5, 12, STEPS]
    sim, force = s.build()
    res = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[force, "positions"], frames=frames)

    def total(**kw):
        sim, _ = s.build(**kw)
        out = 0.0
        for k in frames:
            sim.run(k - (sim.timestep - 0))
            out += s.loss(ha.adjoint._frame(sim))[0]
        return out

    assert rel(res.loss, total()) < 1e-14
    direction = {k: {p: rng.normal() for p in d} for k, d in s.pair_params.items()}
    h = 1e-5
    fd = (total(params=perturb(s.pair_params, direction, h)) - total(params=perturb(s.pair_params, direction, -h))) / (
        2 * h
    )
    ad = sum(res.grad(force)[k][p] * direction[k][p] for k in direction for p in direction[k])
    assert rel(fd, ad) < 1e-6


def test_truncated_equals_direct_truncated_objective(rng):
    s = System("Yukawa", "brownian", 3, rng)
    sim, force = s.build()
    tr = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[force, "positions"], truncate=10)
    sim2, f2 = s.build()
    sim2.run(STEPS - 10)
    direct = ha.adjoint.gradient(sim2, steps=10, loss=s.loss, wrt=[f2, "positions"])
    assert tr.loss == direct.loss
    assert np.array_equal(tr.positions, direct.positions)
    assert tr.grad(force) == direct.grad(f2)


def test_potential_energy_loss(rng):
    s = System("Rechtsman", "brownian", 2, rng)
    sim, force = s.build()
    res = ha.adjoint.gradient(sim, steps=STEPS, loss=ha.loss.PotentialEnergy(force), wrt=[force])

    def energy(params):
        sim, f = s.build(params=params)
        sim.run(STEPS)
        return f.energy / len(s.pos)

    assert rel(res.loss, energy(s.pair_params)) < 1e-14
    direction = {k: {p: rng.normal() for p in d} for k, d in s.pair_params.items()}
    h = 1e-6
    fd = (energy(perturb(s.pair_params, direction, h)) - energy(perturb(s.pair_params, direction, -h))) / (2 * h)
    ad = sum(res.grad(force)[k][p] * direction[k][p] for k in direction for p in direction[k])
    assert rel(fd, ad) < 1e-6


def test_group_distance_and_msd_losses(rng):
    s = System("LJ", "brownian", 3, rng)
    for loss in (ha.loss.GroupDistance([0, 1, 2], [5, 6]), ha.loss.MeanSquaredDisplacement(s.pos)):
        sim, force = s.build()
        res = ha.adjoint.gradient(sim, steps=STEPS, loss=loss, wrt=["positions"])
        v = rng.normal(size=s.pos.shape)
        h = 1e-6
        vals = []
        for sgn in (1, -1):
            sim, _ = s.build(pos=s.pos + sgn * h * v)
            sim.run(STEPS)
            vals.append(loss(ha.adjoint._frame(sim))[0])
        assert rel((vals[0] - vals[1]) / (2 * h), np.sum(res.positions * v)) < 1e-6


def test_diagnostics_and_clipping(rng):
    s = System("LJ", "brownian", 3, rng)
    sim, force = s.build()
    res = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[force, "positions"])
    norms = res.diagnostics["adjoint_norms"]
    assert len(norms) >= 2 and all(np.isfinite(n) for _, n in norms)
    sim, f2 = s.build()
    clipped = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[f2, "positions"], clip=1e-3)
    assert clipped.diagnostics["clipped"]
    assert np.linalg.norm(clipped.positions) <= 1e-3 * (1 + 1e-12) + np.linalg.norm(s.loss(ha.adjoint._frame(sim))[1])


def test_bad_gradient_requests(rng):
    s = System("LJ", "brownian", 3, rng)
    sim, force = s.build()
    with pytest.raises(ValueError, match="unknown wrt entry 'temperature'"):
        ha.adjoint.gradient(sim, steps=5, loss=s.loss, wrt=["temperature"])
    with pytest.raises(ValueError, match="truncate must be <= 5, got 9"):
        ha.adjoint.gradient(sim, steps=5, loss=s.loss, wrt=[force], truncate=9)
    with pytest.raises(ValueError, match="not positions"):
        ha.adjoint.gradient(sim, steps=5, loss=s.loss, wrt=["positions"], mode="forward")

    def nan_loss(frame):
        return float("nan"), frame.positions

    with pytest.raises(FloatingPointError, match="not finite at step"):
        ha.adjoint.gradient(sim, steps=5, loss=nan_loss, wrt=[force])


@pytest.mark.parametrize("library", ["jax", "torch"])
def test_autodiff_loss_adapters(library, rng):
    """A loss written with JAX or PyTorch gives the same gradient as the hand-written one."""
    pytest.importorskip(library)
    s = System("LJ", "brownian", 3, rng)
    L = np.array(s.box[:3])
    k = 2 * np.pi / L
    w = np.array([1.0, 0.7, 0.4])
    if library == "jax":
        import jax.numpy as jnp

        loss = ha.loss.from_jax(lambda x: jnp.sum(jnp.sin(jnp.asarray(k) * x) * jnp.asarray(w)))
    else:
        import torch

        loss = ha.loss.from_torch(lambda x: torch.sum(torch.sin(torch.tensor(k) * x) * torch.tensor(w)))
    sim, force = s.build()
    a = ha.adjoint.gradient(sim, steps=STEPS, loss=loss, wrt=[force, "positions"])
    sim, f2 = s.build()
    b = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[f2, "positions"])
    np.testing.assert_allclose(a.positions, b.positions, rtol=1e-12, atol=1e-14)
    assert rel(a.loss, b.loss) < 1e-12


def test_gradient_bitwise_identical_with_1_and_2_threads():
    """Enough particles (>= 96, and several blocks of 64) that the pair loops really run on two
    threads."""
    from hoomd_adjoint.lattice import cubic

    out = []
    for threads in (1, 2):
        sim = ha.Simulation(device=ha.device.CPU(threads), seed=2)
        sim.create_state_from_snapshot(cubic(1000, 0.7, 3, jitter=0.1, seed=4))
        lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5, mode="shift")
        lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
        bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)
        sim.operations.integrator = ha.md.Integrator(dt=5e-4, methods=[bd], forces=[lj])
        res = ha.adjoint.gradient(sim, steps=20, loss=ha.loss.PotentialEnergy(lj), wrt=[lj, "positions", "kT"])
        out.append(res)
    assert np.array_equal(out[0].positions, out[1].positions)
    # the two runs have different force objects: compare the gradient values
    g0 = list(out[0]._grads.values())
    g1 = list(out[1]._grads.values())
    assert g0 == g1


def test_non_finite_adjoint_names_step_and_tags():
    """Two particles deep in each other's core: the force Jacobian stretches a huge (finite),
    opposite loss gradient on them past the largest double in the first backward step."""
    frame = make_frame(np.array([[0.0, 0, 0], [0.6, 0, 0], [3.0, 3.0, 3.0]]), [10, 10, 10, 0, 0, 0])
    sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
    sim.create_state_from_snapshot(frame)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=1e-6, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.1)], forces=[lj]
    )

    def huge(frame):
        g = np.zeros(frame.positions.shape)
        g[0, 1], g[1, 1] = 1.75e308, -1.75e308  # the Jacobian grows this ~12% in one step
        return 0.0, g

    with pytest.raises(FloatingPointError, match=r"non-finite adjoint at step 0, particle tags \[0, 1\]"):
        ha.adjoint.gradient(sim, steps=1, loss=huge, wrt=[lj])


def test_progress_bars_do_not_change_the_gradient(rng, capsys):
    s = System("LJ", "brownian", 3, rng)
    sim, force = s.build()
    a = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[force, "positions"], progress=True)
    sim, f2 = s.build()
    b = ha.adjoint.gradient(sim, steps=STEPS, loss=s.loss, wrt=[f2, "positions"])
    assert np.array_equal(a.positions, b.positions)
    err = capsys.readouterr().err
    assert "forward" in err and "adjoint" in err
