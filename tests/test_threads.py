"""Gradients at one and at two CPU threads: the same bits, for every method and every quantity
(pair parameters, positions, kT, gamma), stored and checkpointed. (Two threads once crashed in
the Langevin d/dkT, d/dgamma blocks: they read per-thread scratch from the wrong thread.)"""

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import make_frame, random_positions

N = 400  # (two threads engage from 256 particles)

METHODS = {
    "brownian": (lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0), 5e-4),
    "langevin": (lambda: ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0), 2e-3),
    "nve": (lambda: ha.md.methods.ConstantVolume(filter=ha.filter.All()), 2e-3),
}


def gradient(method, threads, memory=None):
    rng = np.random.default_rng(4)
    box = [9.5, 9.5, 9.5, 0.1, 0.0, 0.0]
    frame = make_frame(random_positions(rng, N, box, min_dist=1.0), box, velocity=rng.normal(size=(N, 3)))
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=threads), seed=7)
    sim.create_state_from_snapshot(frame)
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    make, dt = METHODS[method]
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[make()], forces=[lj])
    wrt = [lj, "positions"] + (["kT", "gamma"] if method != "nve" else [])
    r = ha.adjoint.gradient(sim, 40, lambda f: (float(np.sum(f.positions**2)), 2 * f.positions), wrt, memory=memory)
    out = [[r.loss], r.positions.ravel(), list(r.grad(lj)[("A", "A")].values()), sim.state._cpp.position.ravel()]
    if method != "nve":
        out += [[r.grad("kT")], list(r.grad("gamma").values())]
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in out])


@pytest.mark.parametrize("method", list(METHODS))
def test_two_threads_give_the_same_bits(method):
    one = gradient(method, 1)
    assert np.all(np.isfinite(one))
    np.testing.assert_array_equal(gradient(method, 2), one)
    np.testing.assert_array_equal(gradient(method, 2, memory=5 * N * 3 * 8 * 3), one)  # checkpointed
