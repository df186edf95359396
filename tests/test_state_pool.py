"""The recorded-state storage kept between gradients (adjoint._StatePool): reused memory never
changes a result, concurrent gradients never share a buffer, and release_memory() frees it."""

import threading

import numpy as np

import hoomd_adjoint as ha
from hoomd_adjoint import adjoint
from hoomd_adjoint.lattice import cubic


def _sim(seed=3):
    sim = ha.Simulation(device=ha.device.CPU(1), seed=seed)
    sim.create_state_from_snapshot(cubic(1000, 0.8, 3))
    lj = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    sim.operations.integrator = ha.md.Integrator(
        dt=1e-4, methods=[ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0)], forces=[lj]
    )
    return sim, lj


def _grad(memory=None, seed=3):
    sim, lj = _sim(seed)
    res = ha.adjoint.gradient(sim, 60, ha.loss.PotentialEnergy(lj), wrt=[lj, "positions"], memory=memory)
    return res.grad(lj)[("A", "A")], res.positions


def test_reused_storage_gives_the_same_bits():
    ha.adjoint.release_memory()
    first = _grad()
    assert adjoint._pool._free, "the storage is kept for the next gradient"
    kept = adjoint._pool._free[0]
    kept[:] = np.nan  # stale contents must not matter
    second = _grad()
    assert second[0] == first[0] and np.array_equal(second[1], first[1])
    # and so does a checkpointed gradient after it
    third = _grad(memory=12 * 1000 * 24)
    assert third[0] == first[0] and np.array_equal(third[1], first[1])
    ha.adjoint.release_memory()
    assert not adjoint._pool._free


def test_concurrent_takes_get_distinct_buffers():
    pool = adjoint._StatePool()
    for _ in range(4):
        pool.give(np.empty(1 << 18))
    got, start = [], threading.Barrier(8)

    def take():
        start.wait()
        got.append(pool.take(1 << 17))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bases = [g.base if g.base is not None else g for g in got]
    assert len({id(b) for b in bases}) == 8
