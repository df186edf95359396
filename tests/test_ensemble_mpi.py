"""Ensembles across MPI ranks (mpi4py + an MPI from the registries, the "mpi" extra): results are
bitwise identical for 1 and 2 ranks and any thread count."""

import os
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

import hoomd_adjoint as ha
from conftest import subprocess_env
from test_ensemble import _exploding_build, build, energy_loss, wrt, STEPS

pytest.importorskip("mpi4py")
MPIRUN = shutil.which("mpirun") or shutil.which("mpiexec")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun on the PATH")
HERE = os.path.dirname(os.path.abspath(__file__))


def run_mpi(tmp_path, ranks, replicas, threads):
    out = tmp_path / f"r{ranks}-t{threads}.pkl"
    env = subprocess_env(HERE)
    cmd = [
        MPIRUN,
        "-n",
        str(ranks),
        sys.executable,
        os.path.join(HERE, "mpi_ensemble.py"),
        str(out),
        str(replicas),
        str(threads),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=HERE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out, "rb") as f:
        return pickle.load(f)


@pytest.fixture(scope="module")
def reference():
    """One process, one thread: the ensemble without MPI."""
    comm = ha.communicator.Communicator(mpi_comm=_SelfComm())
    ens = ha.Ensemble(build, replicas=5, threads=1, communicator=comm)
    res = ens.gradient(STEPS, energy_loss, wrt)
    return res, ens


class _SelfComm:
    """A one-rank communicator (MPI.COMM_SELF would do too; this keeps the reference MPI-free)."""

    def Get_size(self):
        return 1

    def Get_rank(self):
        return 0


@pytest.mark.parametrize("ranks, threads", [(1, 2), (2, 1), (2, 2)])
def test_bitwise_across_ranks_and_threads(tmp_path, reference, ranks, threads):
    ref, ref_ens = reference
    got = run_mpi(tmp_path, ranks, 5, threads)
    assert got["num_partitions"] == ranks
    if ranks == 2:
        assert got["local"] == [0, 2, 4]  # rank 0's share: replica i on partition i % 2
    assert got["loss"] == ref.loss
    assert np.array_equal(got["losses"], ref.losses)
    assert got["grad0"] == ref.grad(0)
    assert got["kT"] == ref.grad("kT")
    assert got["grads0"] == ref.grads(0)
    for i in range(5):  # every replica's final state equals the reference's (and so its single run)
        assert np.array_equal(got["positions"][i], ref_ens.simulation(i).state.get_snapshot().particles.position)


def test_failure_reported_on_every_rank(tmp_path):
    got = run_mpi(tmp_path, 2, 5, 1)
    assert list(got["bad_failures"]) == [1]
    assert "step" in got["bad_failures"][1]
    ens = ha.Ensemble(
        _exploding_build,
        replicas=3,
        threads=1,
        on_failure="drop",
        communicator=ha.communicator.Communicator(mpi_comm=_SelfComm()),
    )
    assert ens.gradient(STEPS, energy_loss, wrt).loss == got["bad_loss"]


def test_example_runs_under_mpirun():
    """The README's `mpirun -n 2 python examples/ensemble.py` (shortened)."""
    example = os.path.join(os.path.dirname(HERE), "examples", "ensemble.py")
    env = subprocess_env()
    proc = subprocess.run(
        [MPIRUN, "-n", "2", sys.executable, example, "--replicas", "4", "--steps", "40"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=HERE,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 replicas on 2 rank(s); failed: none" in proc.stdout
    assert proc.stdout.count("mean d(E/N)/d a0..a3") == 1  # printed by rank 0 only
