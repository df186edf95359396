"""A batch of replicas: the mean gradient of the honeycomb system's energy over R replicas.

Each replica has its own seed and random starting frame; half of them run at a second density
(a state point per replica). The replicas run concurrently on the cores, and under MPI on every
rank; the mean is bitwise the same for any number of threads and ranks::

    python examples/ensemble.py                  # all cores of this machine
    mpirun -n 2 python examples/ensemble.py      # two ranks (pip install "hoomd-adjoint[mpi]")
"""

import argparse

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import random_packing

PARAMS = dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823)  # Rechtsman et al.'s honeycomb potential


def build(i, N=100):
    """Replica i: seed i, its own random start, density 0.6 (even i) or 0.5 (odd i)."""
    sim = ha.Simulation(device=ha.device.CPU(), seed=i)
    density = 0.6 if i % 2 == 0 else 0.5
    sim.create_state_from_snapshot(random_packing(N, density, dimensions=2, min_dist=0.9, seed=100 + i))
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    pot.params[("A", "A")] = dict(PARAMS)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.2, default_gamma=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[bd], forces=[pot])
    return sim


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args()

    comm = ha.communicator.Communicator()
    ens = ha.Ensemble(build, replicas=args.replicas, communicator=comm, on_failure="drop")
    pair = lambda sim: sim.operations.integrator.forces[0]  # noqa: E731  the replica's own potential
    res = ens.gradient(
        args.steps,
        loss=lambda sim: ha.loss.PotentialEnergy(pair(sim)),
        wrt=lambda sim: [(pair(sim), ["a0", "a1", "a2", "a3"])],
        progress=comm.partition == 0,
    )
    if comm.partition == 0:
        print(f"{args.replicas} replicas on {comm.num_partitions} rank(s); failed: {sorted(res.failures) or 'none'}")
        print("energy per particle:", " ".join(f"{x:.4f}" for x in res.losses))
        g = res.grad(0)[("A", "A")]
        print(f"mean energy per particle {res.loss:.6f}")
        print("mean d(E/N)/d a0..a3:", ", ".join(f"{k} {g[k]:+.6f}" for k in ("a0", "a1", "a2", "a3")))


if __name__ == "__main__":
    main()
