"""The spider's interactions: SoftSphere, MorseSwitched (Morse times the XPLOR switch, range and
onset differentiable) and Bar (soft-sphere repulsion through the point-to-segment distance);
forces against finite differences of the energy, and exact adjoint gradients of every parameter
and of the body geometry through rigid-body Langevin and Brownian dynamics."""

import gsd.hoomd
import numpy as np
import pytest

import hoomd_adjoint as ha

PAR = dict(eps_b=1e2, sig_b=1.1, eps_h=8.0, alpha_h=1.5, r0_h=2.3, ron=3.0, roff=5.0, eps_l=1e2, sig_l=1.0)
WEIGHTS = np.random.default_rng(2).normal(size=(9, 3))


def _geometry(R=1.5, h=1.2, n=4):
    base = [(R * np.cos(2 * np.pi * i / n), R * np.sin(2 * np.pi * i / n), h / (n + 1)) for i in range(n)]
    return np.array(base + [(0.0, 0.0, -h * n / (n + 1))])


def _system(method="langevin", geometry=None, **change):
    """A four-legged rigid spider (centre S, base B, head H) and three free vertices V: one against
    a leg, one near the head, one further away."""
    p = {**PAR, **change}
    f = gsd.hoomd.Frame()
    f.configuration.box = [30, 30, 30, 0, 0, 0]
    f.particles.N = 4
    f.particles.types = ["S", "B", "H", "V"]
    f.particles.typeid = np.array([0, 3, 3, 3], dtype=np.uint32)
    f.particles.position = np.array([[0, 0, 0.0], [1.19, 0.0, -0.91], [2.6, -0.5, 1.4], [-1.0, 2.2, 2.4]])
    q = np.array([1.0, 0.1, -0.2, 0.05])
    f.particles.orientation = np.array([q / np.linalg.norm(q)] + [[1, 0, 0, 0]] * 3)
    f.particles.moment_inertia = np.array([[2.0, 2.0, 1.5]] + [[0, 0, 0]] * 3)
    f.particles.mass = np.array([5.0, 1, 1, 1])
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=1), seed=4)
    sim.create_state_from_snapshot(f)
    rigid = ha.md.constrain.Rigid()
    rigid.body["S"] = dict(
        constituent_types=["B"] * 4 + ["H"],
        positions=_geometry() if geometry is None else geometry,
        orientations=[(1, 0, 0, 0)] * 5,
    )
    rigid.create_bodies(sim.state)
    nl = ha.md.nlist.Cell(buffer=0.5, exclusions=["body"])
    soft, morse = ha.md.pair.SoftSphere(nlist=nl), ha.md.pair.MorseSwitched(nlist=nl)
    for a in "SBHV":
        for b in "SBHV":
            soft.params[(a, b)] = dict(epsilon=0.0, sigma=1.0)
            morse.params[(a, b)] = dict(D0=0.0, alpha=1.0, r0=1.0, r_on=0.5, r_off=1.0)
    soft.params[("B", "V")] = dict(epsilon=p["eps_b"], sigma=p["sig_b"], alpha=2.0)
    soft.params[("V", "V")] = dict(epsilon=p["eps_b"], sigma=2.0, alpha=2.0)
    morse.params[("H", "V")] = dict(D0=p["eps_h"], alpha=p["alpha_h"], r0=p["r0_h"], r_on=p["ron"], r_off=p["roff"])
    legs = [(i, 4) for i in range(4)] + [(i, (i + 1) % 4) for i in range(4)]
    bar = ha.md.bar.Bar(rigid, {"S": legs}, ["V"], epsilon=p["eps_l"], sigma=p["sig_l"])
    flt = ha.filter.Rigid(("center", "free"))
    m = (
        ha.md.methods.Langevin(filter=flt, kT=1.0)
        if method == "langevin"
        else ha.md.methods.Brownian(filter=flt, kT=1.0)
    )
    sim.operations.integrator = ha.md.Integrator(
        dt=2e-3, methods=[m], forces=[soft, morse, bar], integrate_rotational_dof=True, rigid=rigid
    )
    return sim, soft, morse, bar, rigid


def _loss(frame):
    return float(np.sum(WEIGHTS * frame.positions)), WEIGHTS.copy()


def test_forces_are_minus_the_energy_gradient():
    sim, soft, morse, bar, _ = _system(sig_b=2.0)
    sim.operations.integrator.integrate_rotational_dof = False
    sim.run(0)
    c = sim.state._cpp
    x0 = np.array(c.position)
    forces = [soft, morse, bar]
    F = [np.array(f.forces) for f in forces]
    assert all(np.abs(x).max() > 1e-3 for x in F)  # every interaction is engaged
    h = 1e-6
    for i in range(x0.shape[0]):
        for k in range(3):
            e = []
            for s in (+h, -h):
                x = x0.copy()
                x[i, k] += s
                c.set_position(x)
                for f in forces:
                    f._cpp.compute(c)
                e.append([f.energy for f in forces])
            for j in range(3):
                fd = -(e[0][j] - e[1][j]) / (2 * h)
                assert abs(F[j][i, k] - fd) <= 1e-6 * max(1.0, abs(fd)), (j, i, k, F[j][i, k], fd)


@pytest.mark.parametrize("method", ["langevin", "bd"])
def test_spider_gradients_match_finite_differences(method):
    steps = 120
    sim, soft, morse, bar, rigid = _system(method)
    res = ha.adjoint.gradient(sim, steps, _loss, wrt=[soft, morse, bar, rigid])
    gm = res.grad(morse)[("H", "V")]
    checks = [
        ("eps_h", gm["D0"]),
        ("alpha_h", gm["alpha"]),
        ("r0_h", gm["r0"]),
        ("ron", gm["r_on"]),
        ("roff", gm["r_off"]),
        ("eps_l", res.grad(bar)["epsilon"]),
        ("sig_l", res.grad(bar)["sigma"]),
        ("eps_b", res.grad(soft)[("B", "V")]["epsilon"]),
    ]

    def final(**kw):
        s = _system(method, **kw)[0]
        s.run(steps)
        return _loss(type("Frame", (), {"positions": np.array(s.state._cpp.position)}))[0]

    for name, adjoint in checks:
        x0 = PAR[name]
        for h in (1e-5 * max(1.0, x0), 2e-6 * max(1.0, x0)):
            fd = (final(**{name: x0 + h}) - final(**{name: x0 - h})) / (2 * h)
            assert abs(adjoint - fd) <= 1e-6 * abs(fd) + 1e-15 * 20 / h, (name, h, adjoint, fd)
    g = res.grad(rigid)["S"]
    for idx in [(0, 0), (4, 2), (2, 1)]:
        e = np.zeros((5, 3))
        e[idx] = 1.0
        h = 1e-6
        fd = (final(geometry=_geometry() + h * e) - final(geometry=_geometry() - h * e)) / (2 * h)
        assert abs(g[idx] - fd) <= 1e-6 * abs(fd) + 1e-15 * 20 / h, (idx, g[idx], fd)


def test_bad_spider_parameters_are_refused():
    nl = ha.md.nlist.Cell(buffer=0.5)
    morse = ha.md.pair.MorseSwitched(nlist=nl)
    with pytest.raises(ValueError, match="r_on < r_off"):
        morse.params[("A", "A")] = dict(D0=1.0, alpha=1.0, r0=1.0, r_on=2.0, r_off=1.5)
    soft = ha.md.pair.SoftSphere(nlist=nl)
    with pytest.raises(ValueError, match="sigma"):
        soft.params[("A", "A")] = dict(epsilon=1.0, sigma=0.0)
    rigid = ha.md.constrain.Rigid()
    with pytest.raises(ValueError, match="two different constituent"):
        ha.md.bar.Bar(rigid, {"S": [(1, 1)]}, ["V"], epsilon=1.0, sigma=1.0)
    bar = ha.md.bar.Bar(rigid, {"S": [(0, 1)]}, ["V"], epsilon=1.0, sigma=1.0)
    with pytest.raises(ValueError, match="Bar sigma"):
        bar.set_params(sigma=-1.0)
    assert bar.params["sigma"] == 1.0
