"""MPI communicator (hoomd.communicator): ranks partitioned into independent simulations.

HOOMD-blue splits ``MPI_COMM_WORLD`` into partitions of ``ranks_per_partition`` ranks, each running
its own simulation. Here a partition holds one rank (the embedded engine has no domain
decomposition); an :class:`~hoomd_adjoint.Ensemble` gives each partition its share of the replicas.
mpi4py is optional (``pip install "hoomd-adjoint[mpi]"``): without it, or when not launched by
``mpirun``, the communicator is a single rank.
"""


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    return MPI


class Communicator:
    """The world's ranks, split into partitions of ``ranks_per_partition`` ranks.

    Args:
        mpi_comm: an mpi4py communicator to split (default: ``MPI.COMM_WORLD`` when mpi4py is
            importable, else a single rank without MPI).
        ranks_per_partition: ranks per partition; only 1 is supported by the embedded engine
            (each replica runs on one rank).
    """

    def __init__(self, mpi_comm=None, ranks_per_partition=1):
        if int(ranks_per_partition) != 1:
            raise ValueError(f"ranks_per_partition={ranks_per_partition!r}: the embedded engine has no domain "
                             "decomposition, so each partition is one rank (use ranks_per_partition=1)")
        MPI = _mpi()
        if mpi_comm is None and MPI is not None:
            mpi_comm = MPI.COMM_WORLD
        self._comm = mpi_comm
        self.ranks_per_partition = 1

    @property
    def mpi_comm(self):
        """The mpi4py communicator (None without MPI)."""
        return self._comm

    @property
    def num_ranks(self):
        return 1 if self._comm is None else self._comm.Get_size()

    @property
    def rank(self):
        """This rank within its partition (always 0: one rank per partition)."""
        return 0

    @property
    def partition(self):
        """This rank's partition index, 0..num_partitions-1."""
        return 0 if self._comm is None else self._comm.Get_rank()

    @property
    def num_partitions(self):
        return self.num_ranks

    @property
    def ranks_on_node(self):
        """Ranks of this communicator that share this machine (their threads share its cores)."""
        if self._comm is None or self._comm.Get_size() == 1 or not hasattr(self._comm, "Split_type"):
            return 1
        if not hasattr(self, "_on_node"):
            MPI = _mpi()
            local = self._comm.Split_type(MPI.COMM_TYPE_SHARED)
            self._on_node = local.Get_size()
            local.Free()
        return self._on_node

    def barrier_all(self):
        """Wait for every rank of every partition."""
        if self._comm is not None:
            self._comm.Barrier()

    def allgather(self, obj):
        """Every partition's ``obj``, in partition order, on every rank (pickled)."""
        if self._comm is None or self._comm.Get_size() == 1:
            return [obj]
        return self._comm.allgather(obj)

    def __repr__(self):
        return f"hoomd_adjoint.communicator.Communicator(num_partitions={self.num_partitions})"
