"""MPI communicator (hoomd.communicator): ranks partitioned into independent simulations.

HOOMD-blue splits ``MPI_COMM_WORLD`` into partitions of ``ranks_per_partition`` ranks, each running
its own simulation. Here a partition holds one rank (the embedded engine has no domain
decomposition); an :class:`~hoomd_adjoint.Ensemble` gives each partition its share of the replicas.
mpi4py is optional (``pip install "hoomd-adjoint[mpi]"``): without it, or when not launched by
``mpirun``, the communicator is a single rank.
"""

import os
import sys

# What MPI launchers tell each process they start: (world size, world rank) variables.
_LAUNCHERS = (
    ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),  # Open MPI
    ("PMI_SIZE", "PMI_RANK"),  # MPICH's Hydra, Intel MPI, srun --mpi=pmi2
    ("MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"),
)  # MVAPICH


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
            raise ValueError(
                f"ranks_per_partition={ranks_per_partition!r}: the embedded engine has no domain "
                "decomposition, so each partition is one rank (use ranks_per_partition=1)"
            )
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


def launched():
    """``(rank, size)`` of this process among those an MPI launcher (``mpirun``, ``mpiexec``,
    ``srun``) started together; ``(0, 1)`` without one. Read from the launcher's environment, so it
    is known without mpi4py (and without initialising MPI); under a PMIx-only launcher, from
    mpi4py if it is importable."""
    for size, rank in _LAUNCHERS:
        try:
            return int(os.environ.get(rank, 0)), int(os.environ[size])
        except (KeyError, ValueError):
            continue
    if "PMIX_RANK" in os.environ:
        MPI = _mpi()
        if MPI is not None:
            return MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    return 0, 1


def _say(rank, text):
    if rank == 0:  # the same line from every rank would be printed once per rank
        print(text, file=sys.stderr, flush=True)


_SHARED = None  # the Communicator of a command sharing its work over several ranks (set by shared)


def abort_if_shared(status):
    """After this rank's run failed (and said why): stop every rank of a command that shares its
    work, since the others may wait for this one in a collective forever (MPICH does not stop
    them). Returns without a shared Communicator of several ranks."""
    if _SHARED is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        _SHARED.mpi_comm.Abort(int(status))


def _abort_on_uncaught(comm):
    """An exception that ends one rank would leave the others waiting for it forever (MPICH does
    not stop them): after its traceback, stop every rank (as ``python -m mpi4py`` does)."""
    if getattr(sys.excepthook, "_aborts", False):
        return
    hook = sys.excepthook

    def abort(*exc):
        hook(*exc)
        sys.stderr.flush()
        comm.mpi_comm.Abort(1)

    abort._aborts = True
    sys.excepthook = abort


def one_process(command):
    """For a command that cannot share its work over MPI ranks: False when this is the only
    process; True when ``mpirun`` started several, after the first rank has said so in one line
    (the command then exits with status 2 on every rank, before doing anything)."""
    rank, size = launched()
    if size <= 1:
        return False
    _say(rank, f"{command} runs on one process; run it without mpirun ({size} ranks found)")
    return True


def shared(command):
    """For a command that shares its work over MPI ranks: the :class:`Communicator` of every
    process ``mpirun`` started, or None when MPI cannot connect them (mpi4py missing, or built
    for another MPI than the launcher's: each process would run the whole job and write the same
    files), after the first rank has said so in one line."""
    rank, size = launched()
    comm = Communicator()
    if size <= 1 or comm.num_ranks == size:
        if comm.num_ranks > 1:
            global _SHARED
            _SHARED = comm
            _abort_on_uncaught(comm)
        return comm
    why = (
        "mpi4py is not installed"
        if _mpi() is None
        else f"mpi4py sees {comm.num_ranks} rank(s): it is built for another MPI than this mpirun's"
    )
    _say(
        rank,
        f"{command}: mpirun started {size} processes but {why}; install mpi4py for this MPI "
        '(pip install "hoomd-adjoint[mpi]") or run without mpirun',
    )
    return None
