"""Run under mpirun by test_ensemble_mpi.py: an ensemble split over the ranks writes its results
(rank 0) to the pickle file named on the command line."""

import pickle
import sys

import hoomd_adjoint as ha
from test_ensemble import _exploding_build, build, energy_loss, wrt, STEPS


def main(out, replicas, threads):
    comm = ha.communicator.Communicator()
    ens = ha.Ensemble(build, replicas=replicas, threads=threads, communicator=comm)
    res = ens.gradient(STEPS, energy_loss, wrt)
    positions = {i: ens.simulation(i).state.get_snapshot().particles.position for i in ens.local}
    bad = ha.Ensemble(_exploding_build, replicas=3, threads=threads, communicator=comm, on_failure="drop")
    bad_res = bad.gradient(STEPS, energy_loss, wrt)
    gathered = comm.allgather(positions)
    if comm.partition == 0:
        with open(out, "wb") as f:
            pickle.dump(
                dict(
                    num_partitions=comm.num_partitions,
                    local=ens.local,
                    loss=res.loss,
                    losses=res.losses,
                    grad0=res.grad(0),
                    kT=res.grad("kT"),
                    grads0=res.grads(0),
                    positions={k: v for d in gathered for k, v in d.items()},
                    bad_failures=bad_res.failures,
                    bad_loss=bad_res.loss,
                ),
                f,
            )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
