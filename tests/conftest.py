import signal

import numpy as np
import pytest
import gsd.hoomd

import hoomd_adjoint as ha

# A shell's background job starts with SIGINT ignored, and then Python installs no Ctrl-C handler:
# the tests that interrupt a run (interrupt_main, SIGINT to a command) would wait for hours.
# With Python's handler here, commands these tests start get SIGINT's default again (exec resets
# a caught signal), whatever the suite was started from.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run long reproduction tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def random_positions(rng, N, box, min_dist=0.9, max_tries=200000):
    """N random points in a box (list [Lx,Ly,Lz,xy,xz,yz]) with minimum image distance >= min_dist."""
    b = ha.Box.from_box(box)
    M = b.to_matrix()
    if b.is2D:
        M = M.copy()
        M[2, 2] = 0.0
    pts = []
    for _ in range(max_tries):
        f = rng.uniform(-0.5, 0.5, 3)
        if b.is2D:
            f[2] = 0
        p = M @ f
        if pts:
            d = ha._core._testing.min_image(box_list(b), np.array(pts) - p)
            if np.min(np.einsum("ij,ij->i", d, d)) < min_dist**2:
                continue
        pts.append(p)
        if len(pts) == N:
            return np.array(pts)
    raise RuntimeError("could not place particles")


def box_list(b):
    return ha.Box.from_box(b).to_list()


def make_frame(pos, box, typeid=None, types=("A",), **fields):
    f = gsd.hoomd.Frame()
    f.configuration.box = list(box_list(box))
    f.particles.N = len(pos)
    f.particles.types = list(types)
    f.particles.typeid = np.zeros(len(pos), np.uint32) if typeid is None else np.asarray(typeid, np.uint32)
    f.particles.position = np.asarray(pos, dtype=np.float64)
    for k, v in fields.items():
        setattr(f.particles, k, v)
    return f


def two_type_gas(rng, N, box, min_dist=1.0):
    """N particles of types A and B at random, at least min_dist apart, with normal velocities
    (flat in 2D): the frame most parity tests start from."""
    pos = random_positions(rng, N, box, min_dist=min_dist)
    vel = rng.normal(0, 1, (N, 3))
    if box[2] == 0:
        vel[:, 2] = 0
    return make_frame(pos, box, typeid=rng.integers(0, 2, N), types=("A", "B"), velocity=vel)


def sim_from_frame(lib, frame, seed):
    """A CPU Simulation of ``lib`` (hoomd_adjoint or HOOMD-blue itself) whose state is the gsd
    frame: the start of the parity tests' runs on both libraries."""
    sim = lib.Simulation(device=lib.device.CPU(), seed=seed)
    snap = lib.Snapshot.from_gsd_frame(frame, sim.device.communicator) if lib.__name__ == "hoomd" else frame
    sim.create_state_from_snapshot(snap)
    return sim


def make_sim(frame, forces=(), methods=None, dt=1e-3, seed=1, threads=1):
    sim = ha.Simulation(device=ha.device.CPU(num_cpu_threads=threads), seed=seed)
    sim.create_state_from_snapshot(frame)
    if methods is None:
        methods = [ha.md.methods.ConstantVolume(filter=ha.filter.All())]
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=methods, forces=list(forces))
    return sim


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def subprocess_env(*first):
    """Environment for a subprocess (python -c, mpirun) that must import the hoomd_adjoint under
    test: its parent folder on PYTHONPATH, and no empty entry (which would mean the current folder,
    where a source checkout's package has no compiled extension when the tests run against an
    installed one). Run such subprocesses with cwd=TESTS (python -c puts the cwd first)."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(ha.__file__)))
    rest = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join([*first, root, *rest]))


TESTS = __import__("os").path.dirname(__import__("os").path.abspath(__file__))
