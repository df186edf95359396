"""JAX MD anchor for the replica-ensemble honeycomb benchmark (benchmark only; not a project dependency).

One reverse-mode gradient d(final potential energy per particle)/d(a0, a1, a2, a3) per replica of
the PNAS 2021 honeycomb system (2D Brownian dynamics, periodic square box, Rechtsman potential
shifted to zero at r_cut, as in benchmarks/adjoint.py:_jax_md_honeycomb), for R replicas at once:
jax.vmap over replicas inside one jax.jit, JAX MD neighbour lists updated functionally inside the
scanned loop, float64, and jax.checkpoint over segments of `checkpoint_every` steps so reverse
mode stores O(steps / checkpoint_every + checkpoint_every) states.

Note: under jax.vmap the neighbour list's "rebuild if moved more than dr_threshold / 2" lax.cond
has a per-replica (batched) predicate, so XLA turns it into a select and evaluates the rebuild on
every step; this is how JAX MD neighbour lists behave when vmapped. With R = 1 the gradient is not
vmapped, so the cond stays a cond (JAX MD's fastest single-replica configuration).

    python benchmarks/_jax_ensemble.py --R 4 --steps 3300
"""

import argparse
import resource
import time
import warnings

import numpy as np

try:  # x64 at import, as requested; the module stays importable without jax
    import jax as _jax

    _jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover
    _jax = None

B0, B1, B2 = 5.0, 0.4, 40.0  # fixed Rechtsman parameters (b0, b1, b2)

# Neighbour-list configuration, the fastest measured (N = 100, R = 4, 200 steps, one CPU core,
# best of 3, seconds per batch gradient): OrderedSparse 0.57 (0.69 with cell list), Sparse 0.73
# (0.89), Dense 0.80 (1.16). All six give identical gradients.
NLIST_FORMAT = "OrderedSparse"
DISABLE_CELL_LIST = True
CAPACITY_MULTIPLIER = 1.5


def pair_distances(R, neighbor, displacement, N, fmt):
    """The squared distances of the pairs a JAX MD neighbour list holds (any format), the mask of
    its real entries, and the weight that counts each pair once (OrderedSparse holds each pair
    once, the other formats twice). Shared by the JAX MD anchors."""
    import jax
    import jax.numpy as jnp
    from jax_md import space

    if fmt in ("Sparse", "OrderedSparse"):
        i, j = neighbor.idx[0], neighbor.idx[1]
        mask = i < N
        dR = jax.vmap(displacement)(R[jnp.minimum(i, N - 1)], R[jnp.minimum(j, N - 1)])
    else:
        idx = neighbor.idx
        mask = idx < N
        dR = space.map_neighbor(displacement)(R, R[jnp.minimum(idx, N - 1)])
    return jnp.sum(dR * dR, axis=-1), mask, (1.0 if fmt == "OrderedSparse" else 0.5)


def _build(N, box_L, steps, kT, gamma, dt, r_cut, dr_threshold, checkpoint_every, fmt, disable_cell_list, vmapped=True):
    """Neighbour-list functions and the un-jitted (vmapped, unless one replica) value_and_grad."""
    import jax
    import jax.numpy as jnp
    from jax import lax
    from jax_md import partition, simulate, space

    displacement, shift = space.periodic(box_L)
    fmt_enum = getattr(partition, fmt)
    rc2 = r_cut * r_cut

    def pair(r, a):
        a0, a1, a2, a3 = a[0], a[1], a[2], a[3]
        return B0 / r**12 - a0 / r**10 + a1 * jnp.exp(-a2 * r) - B1 * jnp.exp(-B2 * (r - a3) ** 2)

    def energy(R, neighbor, a):
        dr2, mask, half = pair_distances(R, neighbor, displacement, N, fmt)
        inside = mask & (dr2 < rc2) & (dr2 > 0)
        r = jnp.sqrt(jnp.where(inside, dr2, 1.0))  # double-where: no NaN gradients from masked pairs
        v = pair(r, a) - pair(jnp.asarray(r_cut, R.dtype), a)
        return half * jnp.sum(jnp.where(inside, v, 0.0))

    def make_nlist(capacity_multiplier):
        return partition.neighbor_list(
            displacement,
            box_L,
            r_cutoff=r_cut,
            dr_threshold=dr_threshold,
            capacity_multiplier=capacity_multiplier,
            format=fmt_enum,
            disable_cell_list=disable_cell_list,
        )

    def run_steps(carry, a, n):
        """n Brownian steps, neighbour list updated after each (functionally, so it vmaps)."""

        def e(R, neighbor):
            return energy(R, neighbor, a)

        _, apply = simulate.brownian(e, shift, dt, kT, gamma=gamma)

        def step(c, _):
            state, nbrs = c
            state = apply(state, neighbor=nbrs)
            nbrs = nbrs.update(state.position)
            return (state, nbrs), None

        return lax.scan(step, carry, None, length=n)[0]

    n_seg, rem = divmod(steps, checkpoint_every)
    seg = jax.checkpoint(lambda c, a: run_steps(c, a, checkpoint_every), prevent_cse=False)
    tail = jax.checkpoint(lambda c, a: run_steps(c, a, rem), prevent_cse=False) if rem else None

    def loss(a, R0, key, nbrs0):
        init, _ = simulate.brownian(lambda R, neighbor: energy(R, neighbor, a), shift, dt, kT, gamma=gamma)
        nbrs = nbrs0.update(R0)  # this replica's own list (rebuilds: reference is replica 0)
        carry = (init(key, R0), nbrs)
        if n_seg:
            carry = lax.scan(lambda c, _: (seg(c, a), None), carry, None, length=n_seg)[0]
        if tail is not None:
            carry = tail(carry, a)
        state, nbrs = carry
        return energy(state.position, nbrs, a) / N, nbrs.did_buffer_overflow

    one = jax.value_and_grad(loss, has_aux=True)
    if vmapped:
        return make_nlist, jax.vmap(one, in_axes=(None, 0, 0, None))

    def single(a, R0s, keys, nbrs0):
        # one replica, not vmapped: the list's rebuild test stays a real lax.cond (JAX MD's
        # fastest single-replica configuration: rebuilds only when a particle moved far enough)
        return jax.tree_util.tree_map(lambda x: x[None], one(a, R0s[0], keys[0], nbrs0))

    return make_nlist, single


def _run(
    frames_positions,
    keys,
    box_L,
    steps,
    kT,
    gamma,
    dt,
    params,
    r_cut,
    dr_threshold,
    checkpoint_every,
    fmt=None,
    disable_cell_list=None,
    capacity_multiplier=None,
    repeats=1,
):
    """Worker for jax_md_batch with explicit per-replica PRNG keys (so single replicas can be rerun)."""
    import jax
    import jax.numpy as jnp

    fmt = fmt or NLIST_FORMAT
    disable_cell_list = DISABLE_CELL_LIST if disable_cell_list is None else disable_cell_list
    cap = capacity_multiplier or CAPACITY_MULTIPLIER
    pos = np.mod(np.asarray(frames_positions, dtype=np.float64), box_L)  # HOOMD-centred or [0, L): same
    Rn, N, dim = pos.shape
    assert dim == 2, "2D positions expected"
    make_nlist, batched = _build(
        N,
        float(box_L),
        int(steps),
        kT,
        gamma,
        dt,
        r_cut,
        dr_threshold,
        int(checkpoint_every),
        fmt,
        disable_cell_list,
        vmapped=Rn > 1,
    )
    # jax_md's neighbour-list scatter mixes int64/int32 under x64: a harmless FutureWarning per compile
    warnings.filterwarnings("ignore", message="scatter inputs have incompatible types", category=FutureWarning)
    a = jnp.asarray(params, dtype=jnp.float64)
    R0s = jnp.asarray(pos)
    reallocations = 0
    compile_seconds = 0.0
    while True:
        nbrs0 = make_nlist(cap).allocate(R0s[0])  # once, outside jit, on the first replica
        t = time.perf_counter()
        fn = jax.jit(batched).lower(a, R0s, keys, nbrs0).compile()
        compile_seconds += time.perf_counter() - t
        best = np.inf
        for _ in range(max(1, repeats)):
            t = time.perf_counter()
            (losses, overflow), grads = fn(a, R0s, keys, nbrs0)
            jax.block_until_ready(grads)
            best = min(best, time.perf_counter() - t)
        overflow = np.asarray(overflow)
        if not overflow.any():
            break
        reallocations += 1
        print(
            f"[jax_md_batch] neighbour list overflowed in {int(overflow.sum())}/{Rn} replicas "
            f"(capacity {nbrs0.max_occupancy}); reallocating with capacity_multiplier {cap * 1.5:.3g}"
        )
        cap *= 1.5
    return dict(
        seconds_per_replica=best / Rn,
        seconds_total=best,
        compile_seconds=compile_seconds,
        grads=np.asarray(grads),
        losses=np.asarray(losses),
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        nlist_format=fmt,
        nlist_cell_list=not disable_cell_list,
        nlist_capacity=int(nbrs0.max_occupancy),
        nlist_reallocations=reallocations,
    )


def jax_md_batch(
    frames_positions,
    box_L,
    steps=3300,
    kT=0.2,
    gamma=1.0,
    dt=1e-3,
    params=(5.89, 17.9, 2.49, 1.823),
    r_cut=2.5,
    dr_threshold=0.4,
    seed=0,
    checkpoint_every=100,
):
    """Reverse-mode gradient d(final potential energy per particle)/d(a0,a1,a2,a3) for a batch of R replicas of the
    PNAS 2021 honeycomb system (2D Brownian dynamics, periodic square box of side box_L, Rechtsman potential), computed
    by JAX MD with jax.vmap over replicas inside ONE jax.jit, with JAX MD neighbour lists (its fastest configuration,
    not dense all-pairs), float64. frames_positions: (R, N, 2) numpy array of initial positions.
    Returns dict(seconds_per_replica=..., seconds_total=..., compile_seconds=..., grads=(R,4) numpy array, losses=(R,)
    numpy array, peak_rss_bytes=...).

    Timing: compile_seconds is jit(...).lower(...).compile() (tracing + XLA compile); seconds_total is one
    call of the compiled function, block_until_ready. Replica r uses jax.random.split(PRNGKey(seed), R)[r]
    (threefry-partitionable keys: independent of R). If any replica's neighbour list overflowed, the list is
    re-allocated larger and the batch rerun (nlist_reallocations in the result; compile_seconds sums all)."""
    import jax

    R = np.shape(frames_positions)[0]
    keys = jax.random.split(jax.random.PRNGKey(seed), R)
    return _run(frames_positions, keys, box_L, steps, kT, gamma, dt, params, r_cut, dr_threshold, checkpoint_every)


def random_frames(R, N, density, min_dist=0.9, seed=0):
    """(R, N, 2) random positions in [0, L)^2 with all periodic pair distances >= min_dist, and L."""
    L = float(np.sqrt(N / density))
    rng = np.random.default_rng(seed)
    frames = np.empty((R, N, 2))
    for r in range(R):
        pts = []
        while len(pts) < N:
            p = rng.uniform(0.0, L, 2)
            if pts:
                d = np.asarray(pts) - p
                d -= L * np.round(d / L)
                if np.min(np.sum(d * d, axis=1)) < min_dist * min_dist:
                    continue
            pts.append(p)
        frames[r] = pts
    return frames, L


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--R", type=int, default=4)
    ap.add_argument("--steps", type=int, default=3300)
    ap.add_argument("--N", type=int, default=100)
    ap.add_argument("--density", type=float, default=0.6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-every", type=int, default=100)
    args = ap.parse_args()
    frames, L = random_frames(args.R, args.N, args.density, seed=args.seed)
    res = jax_md_batch(frames, L, steps=args.steps, seed=args.seed, checkpoint_every=args.checkpoint_every)
    print(
        f"JAX MD {'vmap ' if args.R > 1 else ''}R={args.R} N={args.N} steps={args.steps}: {res['seconds_per_replica']:.4f} s/replica "
        f"({res['seconds_total']:.3f} s total, compile {res['compile_seconds']:.2f} s, "
        f"peak RSS {res['peak_rss_bytes'] / 2**20:.0f} MiB, nlist {res['nlist_format']} cap "
        f"{res['nlist_capacity']}, reallocs {res['nlist_reallocations']}) "
        f"grad[0]={np.array2string(res['grads'][0], precision=5)} loss[0]={res['losses'][0]:.6f}"
    )


if __name__ == "__main__":
    main()
