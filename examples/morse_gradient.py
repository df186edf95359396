"""Exact gradient of a loss through Brownian dynamics of a binary Morse fluid.

The simulation is written exactly as for HOOMD-blue; `ha.adjoint.gradient` then runs it and
returns d(loss)/d(every pair parameter) and d(loss)/d(initial positions), checked here against
a central finite difference of the same discrete map (same seed).

Why only 200 steps: forces jump at r_cut (as in HOOMD-blue), so the discrete map is piecewise
smooth, and over long chaotic runs its pieces become so small that a finite difference of any
step size straddles jumps. The adjoint is the derivative of the piece the trajectory is on; for
long horizons use it with `truncate=` or `clip=` (see docs/adjoint.md).

    python examples/morse_gradient.py
"""

import gsd.hoomd
import numpy as np

import hoomd_adjoint as ha
from hoomd_adjoint.lattice import cubic


def make_sim(D0_AB=1.0):
    frame = cubic(500, 0.5, 3, jitter=0.1, seed=3)
    frame.particles.types = ["A", "B"]
    frame.particles.typeid = (np.arange(500) % 2).astype(np.uint32)
    sim = ha.Simulation(device=ha.device.CPU(), seed=7)
    sim.create_state_from_snapshot(frame)
    nlist = ha.md.nlist.Cell(buffer=0.4)
    morse = ha.md.pair.Morse(nlist=nlist, default_r_cut=2.5, mode="shift")
    morse.params[("A", "A")] = dict(D0=1.0, alpha=3.0, r0=1.1)
    morse.params[("A", "B")] = dict(D0=D0_AB, alpha=3.0, r0=1.1)
    morse.params[("B", "B")] = dict(D0=2.0, alpha=4.0, r0=1.0)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.5)
    sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[bd], forces=[morse])
    return sim, morse


STEPS = 200


def main():
    sim, morse = make_sim()
    sim.operations.writers.append(ha.write.GSD(filename="morse.gsd", trigger=ha.trigger.Periodic(20), mode="wb"))
    loss = ha.loss.PotentialEnergy(morse)  # energy per particle of the final frame
    result = ha.adjoint.gradient(sim, steps=STEPS, loss=loss, wrt=[morse, "positions"])
    print(f"loss = {result.loss:.6f} (energy per particle after {sim.timestep} steps)")
    for pair, grads in result.grad(morse).items():
        print(f"  d loss / d params{pair}: " + ", ".join(f"{k} {v:+.6e}" for k, v in grads.items()))
    print(f"  |d loss / d r0| = {np.linalg.norm(result.positions):.4e}")

    # the same derivative by central differences of the same discrete map
    h = 1e-6
    values = []
    for D0 in (1.0 + h, 1.0 - h):
        s, m = make_sim(D0)
        s.run(STEPS)
        values.append(m.energy / 500)
    fd = (values[0] - values[1]) / (2 * h)
    ad = result.grad(morse)[("A", "B")]["D0"]
    print(f"d loss / d D0(A,B): adjoint {ad:+.10e}, finite difference {fd:+.10e}")
    with gsd.hoomd.open("morse.gsd") as t:
        print(f"wrote morse.gsd ({len(t)} frames)")


if __name__ == "__main__":
    main()
