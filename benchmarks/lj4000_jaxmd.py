"""JAX MD anchor for benchmarks/adjoint.py part 4 (benchmark only; not a project dependency).

d(final potential energy per particle)/d(epsilon, sigma) through 1000 Brownian steps of 3D LJ,
N = 4000 (rho 0.8, FCC start, kT 0.2, gamma 1, dt 1e-3, r_cut 2.5 shifted), float64, with JAX MD's
fastest configuration for this size: a neighbour list (``--format``, Dense by default; buffer 0.5,
updated every step inside the scanned loop) and jax.checkpoint over segments of
``--checkpoint-every`` steps (memory O(steps / k + k) states). Prints seconds per gradient (compile
excluded) and peak RSS.

    python benchmarks/lj4000_jaxmd.py [--steps 1000] [--checkpoint-every 10]
"""

import argparse
import os
import resource
import sys
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--checkpoint-every", type=int, default=10)
    ap.add_argument("--buffer", type=float, default=0.5)
    ap.add_argument("--format", choices=["Dense", "Sparse", "OrderedSparse"], default="Dense")
    args = ap.parse_args()
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax
    from jax_md import partition, simulate, space

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from adjoint import fcc  # the same start as benchmarks/adjoint.py part 4
    from _jax_ensemble import pair_distances

    frame = fcc(4000, 0.8)
    L = float(frame.configuration.box[0])
    N = int(frame.particles.N)
    R0 = jnp.asarray(np.asarray(frame.particles.position) + L / 2)
    displacement, shift = space.periodic(L)
    r_cut, rc2 = 2.5, 6.25

    def pair(r2, eps, sig):
        s6 = (sig * sig / r2) ** 3
        return 4.0 * eps * (s6 * s6 - s6)

    def energy(R, neighbor, p):
        dr2, mask, half = pair_distances(R, neighbor, displacement, N, args.format)
        inside = mask & (dr2 < rc2) & (dr2 > 0)
        r2 = jnp.where(inside, dr2, 1.0)
        v = pair(r2, p[0], p[1]) - pair(rc2, p[0], p[1])
        return half * jnp.sum(jnp.where(inside, v, 0.0))

    nlist = partition.neighbor_list(
        displacement,
        L,
        r_cutoff=r_cut,
        dr_threshold=args.buffer,
        capacity_multiplier=2.0,
        format=getattr(partition, args.format),
    )
    nbrs0 = nlist.allocate(R0)
    k = args.checkpoint_every
    nseg = args.steps // k

    def loss(p):
        init, apply = simulate.brownian(lambda R, neighbor: energy(R, neighbor, p), shift, 1e-3, 0.2, gamma=1.0)
        state = init(jax.random.PRNGKey(0), R0)

        @jax.checkpoint
        def segment(carry, _):
            def step(c, _):
                st, nb = c
                nb = nb.update(st.position)
                return (apply(st, neighbor=nb), nb), None

            return lax.scan(step, carry, None, length=k)[0], None

        (state, nbrs), _ = lax.scan(segment, (state, nbrs0), None, length=nseg)
        return energy(state.position, nbrs, p) / N, nbrs.did_buffer_overflow

    grad = jax.jit(jax.grad(loss, has_aux=True))
    p = jnp.array([1.0, 1.0])
    t = time.perf_counter()
    g, overflow = grad(p)
    g.block_until_ready()
    compile_and_first = time.perf_counter() - t
    best = 1e9
    for _ in range(2):
        t = time.perf_counter()
        g, overflow = grad(p)
        g.block_until_ready()
        best = min(best, time.perf_counter() - t)
    print(
        f"JAX MD LJ N={N} steps={nseg * k}: {best:.2f} s/gradient (first call with compile "
        f"{compile_and_first:.1f} s), peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB, "
        f"checkpoint every {k}, overflow {bool(overflow)}, grad {np.asarray(g)}"
    )


if __name__ == "__main__":
    main()
