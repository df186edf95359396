"""GPU path: the same trajectories as the CPU path (runs only where a CUDA device is present)."""
import numpy as np
import pytest

import hoomd_adjoint as ha
from hoomd_adjoint import _core
from conftest import make_frame, random_positions

pytestmark = pytest.mark.skipif(not (_core.cuda_enabled and _core.gpu_available()), reason="no CUDA device")


def run(device, frame, method, pair, params, steps, dt, seed=5, mode="shift"):
    sim = ha.Simulation(device=device, seed=seed)
    sim.create_state_from_snapshot(frame)
    pot = getattr(ha.md.pair, pair)(nlist=ha.md.nlist.Cell(buffer=0.3), default_r_cut=2.5, mode=mode)
    pot.params[("A", "A")] = params
    sim.operations.integrator = ha.md.Integrator(dt=dt, methods=[method()], forces=[pot])
    sim.run(steps)
    s = sim.state.get_snapshot()
    return s.particles.position, s.particles.velocity, s.particles.image, pot.forces, pot.energy, pot.nlist.num_builds


CASES = [
    ("LJ", dict(epsilon=1.0, sigma=1.0), lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.0), 2e-4),
    ("LJ", dict(epsilon=1.0, sigma=1.0), lambda: ha.md.methods.Langevin(filter=ha.filter.All(), kT=1.0), 2e-3),
    ("LJ", dict(epsilon=1.0, sigma=1.0), lambda: ha.md.methods.ConstantVolume(filter=ha.filter.All()), 2e-3),
    ("Morse", dict(D0=1.0, alpha=3.0, r0=1.1), lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.5), 5e-4),
    ("Rechtsman", dict(a0=5.89, a1=17.9, a2=2.49, a3=1.823), lambda: ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.2), 2e-4),
]


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_gpu_matches_cpu(case, dim):
    pair, params, method, dt = CASES[case]
    rng = np.random.default_rng(case)
    N = 1500
    box = [60, 60, 0, 0.1, 0, 0] if dim == 2 else [14, 14.5, 15, 0.1, 0.05, -0.1]
    pos = random_positions(rng, N, box, min_dist=1.0)
    frame = make_frame(pos, box, velocity=rng.normal(size=(N, 3)) * (dim == 3 or np.array([1, 1, 0])))
    cpu = run(ha.device.CPU(), frame, method, pair, params, 400, dt)
    gpu = run(ha.device.GPU(), frame, method, pair, params, 400, dt)
    assert cpu[5] > 1 and cpu[5] == gpu[5]  # the list was rebuilt on the same steps
    exact = pair == "LJ"  # no transcendental functions: device arithmetic is IEEE, in source order
    tol = 0 if exact else 1e-11
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=0, atol=tol)
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=0, atol=tol)
    np.testing.assert_array_equal(gpu[2], cpu[2])
    np.testing.assert_allclose(gpu[3], cpu[3], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(gpu[4], cpu[4], rtol=1e-12)


def test_gpu_non_finite_force_names_step_and_tags():
    pos = np.array([[0.5, 0, 0], [-0.5, 0, 0], [3, 3, 3]])
    f = make_frame(pos, [10, 10, 10, 0, 0, 0], velocity=np.array([[-1.0, 0, 0], [1.0, 0, 0], [0, 0, 0]]))
    sim = ha.Simulation(device=ha.device.GPU(), seed=1)
    sim.create_state_from_snapshot(f)
    y = ha.md.pair.Yukawa(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    y.params[("A", "A")] = dict(epsilon=1e-30, kappa=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=0.5, methods=[ha.md.methods.ConstantVolume(filter=ha.filter.All())],
                                                 forces=[y])
    with pytest.raises(RuntimeError, match=r"non-finite force at step 1 on 2 particle\(s\), tags 0, 1"):
        sim.run(5)
