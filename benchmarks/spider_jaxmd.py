"""JAX MD anchor for the spider benchmark (benchmark only; not a project dependency).

Times, in JAX MD, the gradient of the spider loss of the octahedron system ("Tuning colloidal
reactions", Krueger, King & Brenner 2023) with respect to the eight spider parameters, set up as the
authors ran it (github.com/rkruegs123/tuning-colloidal-reactions at b2964fa, catalyst/octahedron/):

* rigid bodies: 6 shell vertices (a centre of mass 1 and 4 patches of mass 1e-8 at distance 2 toward
  the nearest-neighbour vertices) and 1 spider (4 base sites on a ring of radius R, a head at distance
  h below the ring's plane; masses 1 + i*1e-6), free space (``space.free()``);
* ``jax_md.simulate.nvt_langevin`` on ``jax_md.rigid_body.RigidBody`` states, dt = 1e-3, kT = 1,
  gamma = RigidBody(center=10, orientation=10/3), 1000 steps;
* gradient checkpointing as their ``checkpoint_scan``: ``jax.checkpoint`` around a ``lax.scan`` of 10
  steps, scanned 100 times (the positions of every step are also returned, as theirs);
* ``jax.jit(jax.vmap(jax.value_and_grad(loss), in_axes=(None, 0)))`` over a batch of replicas (one
  PRNG key each) and the mean of the per-replica gradients (= gradient of the mean loss);
* loss = L_extract(final) + L_remain(initial), L_extract = -sum_i |v_i - v_target| / 5 over the vertex
  centres, L_remain = coeff * (E_head,all - E_head,target)^2 / 5 with coeff = 1.

Differences from their code, forced or immaterial:
* the shell is the ideal octahedron (vertex centres 2*sqrt(2)*(+-e_x, +-e_y, +-e_z), patches exactly
  toward the neighbours) instead of their annealed arrays obj/octahedron/*.npy. It is rigidly rotated
  onto their stored vertex centres (best-fit rotation, constant below), because their spider
  orientation formula depends on the shell's orientation (see ``spider_orientation``) and is
  singular (NaN gradient) for a shell aligned with the spider's body axes;
* the spider's principal-axes diagonalisation uses their non-symmetric eig with their custom VJP, but
  calls ``jnp.linalg.eig`` directly (CPU) instead of through ``jax.pure_callback``;
* their ``union_to_points`` for mixed shapes is written out (their copy of rigid_body.py differs from
  JAX MD's only there, so that the spider shape may depend on traced parameters).

Neighbour lists: the system has 35 interaction points (6 x 5 shell + 5 spider), and the authors used
dense all-pairs energies on the rigid-body point union (``rigid_body.point_energy`` with
``energy.*_pair`` and no neighbour list); we do the same.

    JAX_PLATFORMS=cpu python benchmarks/spider_jaxmd.py [--replicas 10] [--steps 1000] [--repeats 3]
                                                         [--json OUT]
"""

import argparse
import json
import os
import platform
import resource
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
from jax import lax, random, vmap  # noqa: E402
from jax_md import energy, rigid_body, simulate, space  # noqa: E402

PARAM_NAMES = (
    "base_radius",
    "head_height",
    "base_particle_radius",
    "head_particle_radius",
    "log_eps_head",
    "alpha_head",
    "r_on",
    "r_cut",
)
WEAK_START = np.array([5.0, 5.0, 0.5, 0.5, 3.5, 1.5, 10.0, 12.0])  # the paper's "weak" start

VERTEX_RADIUS = 2.0
TARGET = 5  # vertex_to_bind (their optimize.py default)
N_SHELL = 6
SOFT_EPS = 1.0e4
MORSE_II_EPS, MORSE_II_ALPHA = 10.0, 5.0  # patch-patch
SHELL_MORSE_R_ONSET, SHELL_MORSE_R_CUTOFF = 10.0, 12.0
LEG_DIAMETER, LEG_ALPHA = 1.0, 2.0  # 2 * spider_leg_radius (default 0.5), leg soft-sphere alpha
REMAIN_COEFF = 1.0
DT, KT, GAMMA = 1.0e-3, 1.0, 10.0
CHECKPOINT_EVERY = 10
# TETRAPOD_LEGS + BASE_LEGS (leg mode "both"): indices into the spider's points (base 0-3, head 4)
LEGS = np.array([[0, 4], [1, 4], [2, 4], [3, 4], [0, 1], [1, 2], [2, 3], [3, 0]], dtype=np.int32)

# Their stored (annealed) vertex centres obj/octahedron/rb_center.npy at b2964fa; only used to orient
# the ideal octahedron the way theirs was (a rigid rotation; see the module docstring).
THEIR_CENTRES = np.array(
    [
        [-1.933005801243065, 1.4992927843882136, -1.469921058999921],
        [1.90445583265497, -1.5202014156404888, 1.4409739396238168],
        [0.8886660687004643, -1.2044906557022155, -2.432507270250825],
        [-0.864393700949283, 1.2000308216677602, 2.417936631500151],
        [-1.9137525098110866, -2.062342206532888, 0.3722101785805572],
        [1.9180301106482125, 2.08771067181968, -0.3286924204536286],
    ]
)


# --- their eig: non-symmetric eigendecomposition with a custom VJP (catalyst/octahedron/rigid_body.py)
@jax.custom_vjp
def eig(x):
    w, v = jnp.linalg.eig(x)
    return w.real.astype(jnp.float64), v.real.astype(jnp.float64)  # they cast away the (zero) imaginary part


def _eig_fwd(x):
    out = eig(x)
    return out, out


def _eig_bwd(res, g, perturbation=1e-10):
    eigval, eigvec = res
    grad_eigval, grad_eigvec = g
    grad_eigval = jnp.diag(grad_eigval)
    s = eigval.reshape((1, -1)) - eigval.reshape((-1, 1))
    F = jnp.conj(s) / (jnp.abs(s) ** 2 + perturbation)
    F = F.at[jnp.diag_indices_from(s)].set(0)
    XH = jnp.conj(eigvec).T
    tmp = jnp.conj(F) * (XH @ grad_eigvec)
    return ((jnp.linalg.inv(XH) @ (grad_eigval + tmp)) @ XH,)


eig.defvjp(_eig_fwd, _eig_bwd)


def _rotation_quaternion(R):
    """Unit quaternion (w, x, y, z) of a proper rotation matrix (numpy, setup only)."""
    w = np.sqrt(max(0.0, 1.0 + np.trace(R))) / 2
    x = np.copysign(np.sqrt(max(0.0, 1 + R[0, 0] - R[1, 1] - R[2, 2])) / 2, R[2, 1] - R[1, 2])
    y = np.copysign(np.sqrt(max(0.0, 1 - R[0, 0] + R[1, 1] - R[2, 2])) / 2, R[0, 2] - R[2, 0])
    z = np.copysign(np.sqrt(max(0.0, 1 - R[0, 0] - R[1, 1] + R[2, 2])) / 2, R[1, 0] - R[0, 1])
    q = np.array([w, x, y, z])
    return q / np.linalg.norm(q)


def shell():
    """Ideal octahedron: (RigidBody of the 6 vertices, vertex RigidPointUnion with point species)."""
    a = 2.0 * np.sqrt(2.0)  # = 2 / sqrt(2) * vertex_radius, their unminimised vertex coordinates
    dirs = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float64)
    # Body frame: centre at the origin, the 4 patches at distance 2 toward the neighbours of a vertex on
    # +z, i.e. (+-sqrt2, 0, -sqrt2), (0, +-sqrt2, -sqrt2). The moment of inertia is already diagonal.
    r2 = np.sqrt(2.0)
    points = np.array([[0, 0, 0], [r2, 0, -r2], [-r2, 0, -r2], [0, r2, -r2], [0, -r2, -r2]])
    masses = np.array([1.0, 1e-8, 1e-8, 1e-8, 1e-8])
    s = 1.0 / np.sqrt(2.0)  # rotations taking +z to each vertex direction (and axes to axes)
    q_vertex = np.array([[s, 0, s, 0], [s, 0, -s, 0], [s, -s, 0, 0], [s, s, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    # Best-fit (Kabsch) rotation of the ideal centres onto their stored centres.
    P = a * dirs
    Q = THEIR_CENTRES - THEIR_CENTRES.mean(0)
    U, _, Vt = np.linalg.svd(P.T @ Q)
    Rm = (U @ np.diag([1, 1, np.sign(np.linalg.det(U @ Vt))]) @ Vt).T
    q_global = rigid_body.Quaternion(jnp.asarray(_rotation_quaternion(Rm)))
    centres = rigid_body.quaternion_rotate(q_global, jnp.asarray(P))
    orient = q_global * rigid_body.Quaternion(jnp.asarray(q_vertex))
    body = rigid_body.RigidBody(centres, orient)
    shape = rigid_body.RigidPointUnion(
        points=jnp.asarray(points),
        masses=jnp.asarray(masses),
        point_count=jnp.array([5]),
        point_offset=jnp.array([0]),
        point_species=jnp.array([0, 1, 1, 1, 1]),
    )
    return body, shape


def spider_shape(R, h):
    """Their SpiderInfo: base ring at z=0, head at (0, 0, -h), rotated to principal axes (no COM shift)."""
    i = jnp.arange(4)
    base = jnp.stack([R * jnp.cos(i * 2 * jnp.pi / 4), R * jnp.sin(i * 2 * jnp.pi / 4), jnp.zeros(4)], axis=1)
    points = jnp.concatenate([base, jnp.array([[0.0, 0.0, -1.0]]) * h])
    masses = 1.0 * jnp.ones(5) + jnp.arange(5) * 1e-6
    raw = rigid_body.RigidPointUnion(
        points=points, masses=masses, point_count=jnp.array([5]), point_offset=jnp.array([0])
    )
    (I,) = raw.moment_of_inertia()
    _, U = eig(I)
    return rigid_body.RigidPointUnion(
        points=jnp.einsum("ni,ij->nj", points, U),
        masses=masses,
        point_count=jnp.array([5]),
        point_offset=jnp.array([0]),
        point_species=jnp.array([2, 2, 2, 2, 3]),
    )


def spider_orientation(spider_points, shell_centres):
    """Their ComplexInfo.load: quaternion meant to turn (head - base centre) onto (target - shell centre).

    Kept as written: the vector part is (a x b) sin(theta/2) with |a x b| = sin(theta), so the head is
    under-rotated unless theta is 0 or 90 degrees (it depends on the shell's orientation)."""
    orig = spider_points[-1] - jnp.mean(spider_points[:-1], axis=0)
    orig = orig / jnp.linalg.norm(orig)
    target = shell_centres[TARGET] - jnp.mean(shell_centres, axis=0)
    target = target / jnp.linalg.norm(target)
    theta = jnp.arccos(jnp.dot(target, orig))
    q = jnp.concatenate([jnp.cos(theta / 2).reshape(1), jnp.cross(orig, target) * jnp.sin(theta / 2)])
    return q / jnp.linalg.norm(q)


def dist_point_to_segment(seg, point):
    p1, p2 = seg[0], seg[1]
    d = p2 - p1
    u = jnp.clip(jnp.dot(point - p1, d) / space.distance(d) ** 2, 0.0, 1.0)
    return space.distance(p1 + u * d - point)


mapped_dist_point_to_segment = vmap(vmap(dist_point_to_segment, (0, None)), (None, 0))  # (points, segments)


def build(params, shell_body, vertex_shape, displacement):
    """Initial complex RigidBody, its mass, the total energy function, and the head-remaining energy."""
    R, h, r_B, r_H, log_eps_H, alpha_H, r_on, r_cut = [params[k] for k in range(8)]
    eps_H = jnp.exp(log_eps_H)
    sp_shape = spider_shape(R, h)
    sp_q = spider_orientation(sp_shape.points, shell_body.center)
    sp_center = shell_body.center[TARGET]  # initial_separation_coeff = 0: on the target vertex
    body = rigid_body.RigidBody(
        jnp.concatenate([shell_body.center, sp_center[None]]),
        rigid_body.Quaternion(jnp.concatenate([shell_body.orientation.vec, sp_q[None]])),
    )
    complex_shape = rigid_body.RigidPointUnion(
        points=jnp.concatenate([vertex_shape.points, sp_shape.points]),
        masses=jnp.concatenate([vertex_shape.masses, sp_shape.masses]),
        point_count=jnp.array([5, 5]),
        point_offset=jnp.array([0, 5]),
    )
    mass = complex_shape.mass(np.array([0] * N_SHELL + [1]))
    species = jnp.concatenate([jnp.tile(vertex_shape.point_species, N_SHELL), sp_shape.point_species])

    def points(body):
        shell_pts = vmap(rigid_body.transform, (0, None))(body[:N_SHELL], vertex_shape).reshape(-1, 3)
        sp_pts = rigid_body.transform(body[N_SHELL], sp_shape)
        return shell_pts, sp_pts

    # shell-shell: centres repel (soft sphere sigma 4), patches attract (Morse sigma 0), species (0, 1)
    z2 = jnp.zeros((2, 2))
    sig_ss = z2.at[0, 0].set(2 * VERTEX_RADIUS)
    shell_soft = energy.soft_sphere_pair(
        displacement, species=2, epsilon=z2.at[0, 0].set(SOFT_EPS), sigma=jnp.where(sig_ss == 0.0, 1e-5, sig_ss)
    )  # (their nan guard)
    shell_morse = energy.morse_pair(
        displacement,
        species=2,
        sigma=0.0,
        epsilon=z2.at[1, 1].set(MORSE_II_EPS),
        alpha=z2.at[1, 1].set(MORSE_II_ALPHA),
        r_onset=SHELL_MORSE_R_ONSET,
        r_cutoff=SHELL_MORSE_R_CUTOFF,
    )
    # shell-spider: vertex centres (0) repel base sites (2); head (3) attracts vertex centres (Morse)
    z4 = jnp.zeros((4, 4))
    sig_soft = z4.at[0, 2].set(VERTEX_RADIUS + r_B).at[2, 0].set(VERTEX_RADIUS + r_B)
    soft = energy.soft_sphere_pair(
        displacement,
        species=4,
        sigma=jnp.where(sig_soft == 0.0, 1e-5, sig_soft),
        epsilon=z4.at[0, 2].set(SOFT_EPS).at[2, 0].set(SOFT_EPS),
    )
    head_morse = energy.morse_pair(
        displacement,
        species=4,
        sigma=z4.at[0, 3].set(VERTEX_RADIUS + r_H).at[3, 0].set(VERTEX_RADIUS + r_H),
        epsilon=z4.at[0, 3].set(eps_H).at[3, 0].set(eps_H),
        alpha=z4.at[0, 3].set(alpha_H).at[3, 0].set(alpha_H),
        r_onset=r_on,
        r_cutoff=r_cut,
    )
    head_target = energy.multiplicative_isotropic_cutoff(energy.morse, r_onset=r_on, r_cutoff=r_cut)
    vertex_species = jnp.tile(vertex_shape.point_species, N_SHELL)

    def energy_fn(body):
        shell_pts, sp_pts = points(body)
        e_shell = shell_soft(shell_pts, species=vertex_species) + shell_morse(shell_pts, species=vertex_species)
        all_pts = jnp.concatenate([shell_pts, sp_pts])
        e_int = soft(all_pts, species=species) + head_morse(all_pts, species=species)
        legs = sp_pts[LEGS]  # (8, 2, 3)
        d = mapped_dist_point_to_segment(legs, shell_pts[::5])  # (6 vertex centres, 8 legs)
        e_legs = jnp.sum(energy.soft_sphere(d, sigma=LEG_DIAMETER, epsilon=SOFT_EPS, alpha=jnp.array(LEG_ALPHA)))
        return e_shell + 0.0 + e_int + e_legs  # spider self-energy is 0

    def head_remaining_energy(body):
        shell_pts, sp_pts = points(body)
        e_all = head_morse(jnp.concatenate([shell_pts, sp_pts]), species=species)
        dr = space.distance(displacement(sp_pts[-1], shell_pts[5 * TARGET]))
        return e_all - head_target(dr, sigma=VERTEX_RADIUS + r_H, epsilon=eps_H, alpha=alpha_H)

    return body, mass, energy_fn, head_remaining_energy


def checkpoint_scan(f, init, xs, checkpoint_every):
    """Their catalyst/checkpoint.py: lax.scan with jax.checkpoint around every `checkpoint_every` steps."""
    n = xs.shape[0]
    outer, rem = divmod(n, checkpoint_every)
    if rem:
        raise ValueError(f"checkpoint_every={checkpoint_every} must divide the number of steps {n}")

    @jax.checkpoint
    def inner(carry, xs_):
        return lax.scan(f, carry, xs_)

    final, ys = lax.scan(inner, init, xs.reshape(outer, checkpoint_every))
    return final, jax.tree_util.tree_map(lambda y: y.reshape((-1,) + y.shape[2:]), ys)


def make_batched_grad(steps):
    displacement, shift = space.free()
    shell_body, vertex_shape = shell()

    def loss_fn(params, key):
        body, mass, energy_fn, head_remaining_energy = build(params, shell_body, vertex_shape, displacement)
        gamma = rigid_body.RigidBody(jnp.array([GAMMA]), jnp.array([GAMMA / 3]))
        init_fn, step_fn = simulate.nvt_langevin(energy_fn, shift, DT, KT, gamma=gamma)
        state = init_fn(key, body, mass=mass)
        state, traj = checkpoint_scan(lambda s, t: (step_fn(s), s.position), state, jnp.arange(steps), CHECKPOINT_EVERY)
        fin, init = state.position, traj[0]
        norm = N_SHELL - 1
        extract = -jnp.sum(space.distance(fin.center[:N_SHELL] - fin.center[TARGET])) / norm
        remain = REMAIN_COEFF * head_remaining_energy(init) ** 2 / norm
        return extract + remain, (traj, extract, remain)

    return jax.jit(vmap(jax.value_and_grad(loss_fn, has_aux=True), in_axes=(None, 0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=10)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the results here as a JSON dict")
    args = ap.parse_args()

    params = jnp.asarray(WEAK_START)
    keys = random.split(random.PRNGKey(args.seed), args.replicas)
    batched = make_batched_grad(args.steps)

    t = time.perf_counter()
    compiled = batched.lower(params, keys).compile()
    compile_s = time.perf_counter() - t
    rss_compile = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def run():
        (vals, (_, extract, remain)), grads = compiled(params, keys)
        return jax.block_until_ready((jnp.mean(vals), jnp.mean(grads, axis=0), jnp.mean(extract), jnp.mean(remain)))

    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        loss, grad, extract, remain = run()
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    res = dict(
        compile_s=compile_s,
        seconds_per_gradient=float(np.median(times)),
        peak_rss_mib=rss,
        loss=float(loss),
        grad=[float(g) for g in grad],
        replicas=args.replicas,
        steps=args.steps,
        jax_version=jax.__version__,
        jax_md_version=_jax_md_version(),
        devices=[str(d) for d in jax.devices()],
        peak_rss_after_compile_mib=rss_compile,
        loss_extract=float(extract),
        loss_remain=float(remain),
        times=times,
        checkpoint_every=CHECKPOINT_EVERY,
        host=platform.node(),
        loadavg=os.getloadavg()[0],
    )
    print(
        f"JAX MD spider gradient: {args.replicas} replicas x {args.steps} steps, checkpoint every "
        f"{CHECKPOINT_EVERY}, {res['devices']}, jax {res['jax_version']}, jax-md {res['jax_md_version']}"
    )
    print(
        f"{'compile s':>10s} {'s / gradient':>13s} {'peak RSS MiB':>13s} {'loss':>10s} "
        f"{'L_extract':>10s} {'L_remain':>10s}"
    )
    print(
        f"{compile_s:10.2f} {res['seconds_per_gradient']:13.3f} {rss:13.1f} {res['loss']:10.4f} "
        f"{res['loss_extract']:10.4f} {res['loss_remain']:10.3e}"
    )
    print("grad " + " ".join(f"{n}={g:.5g}" for n, g in zip(PARAM_NAMES, res["grad"])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return res


def _jax_md_version():
    try:
        from importlib.metadata import version

        return version("jax-md")
    except Exception:  # pragma: no cover
        return "unknown"


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
