"""Rigid bodies in HOOMD-blue's convention (hoomd.md.constrain.Rigid): body definitions and
:meth:`Rigid.create_bodies`, following HOOMD-blue 4.8.2's ForceComposite. Pass the Rigid to
``Integrator(rigid=...)``: the engine then places constituents before every force compute, moves
their forces and torques onto the centres and (with ``integrate_rotational_dof=True``) integrates
the centres' orientations and angular momenta as HOOMD's methods do.

A body type's central particle sits at the body's centre of mass; its ``orientation`` rotates the
body frame into the box, and its ``mass`` and ``moment_inertia`` (principal moments, set by the
user as in HOOMD) are the body's. Constituent k of a body of type T has type
``body[T]["constituent_types"][k]``, body-frame position ``positions[k]`` and orientation
``orientations[k]``; in the box it sits at r_b + rotate(q_b, d_k) with orientation q_b (x) q_k.
"""

import numpy as np

__all__ = ["Rigid", "quat_mul", "rotate"]


def quat_mul(a, b):
    """HOOMD's quaternion product (scalar first): (a.s b.s - a.v.b.v, a.s b.v + b.s a.v + a.v x b.v)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    s = a[..., 0] * b[..., 0] - np.einsum("...i,...i->...", a[..., 1:], b[..., 1:])
    v = a[..., :1] * b[..., 1:] + b[..., :1] * a[..., 1:] + np.cross(a[..., 1:], b[..., 1:])
    return np.concatenate([s[..., None], v], axis=-1)


def rotate(q, v):
    """HOOMD's rotate(q, v) = (s s - v.v) b + 2 s (v x b) + 2 (v.b) v, evaluated in that order; it
    does not normalise q (a non-unit q also scales)."""
    q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
    s, u = q[..., :1], q[..., 1:]
    return (
        (s * s - np.einsum("...i,...i->...", u, u)[..., None]) * v
        + 2 * s * np.cross(u, v)
        + 2 * np.einsum("...i,...i->...", u, v)[..., None] * u
    )


class _Bodies(dict):
    """``body[type] = dict(constituent_types=[...], positions=[...], orientations=[...])`` or None;
    checked when set, so a rejected definition changes nothing."""

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"Rigid.body: the key must be a type name, got {key!r}")
        super().__setitem__(key, None if value is None else _check_body(key, value))

    def __missing__(self, key):
        return None


def _check_body(key, value):
    where = f"Rigid.body[{key!r}]"
    if not isinstance(value, dict):
        raise TypeError(f"{where} must be a dict with constituent_types, positions and orientations, or None")
    missing = {"constituent_types", "positions"} - set(value)
    extra = set(value) - {"constituent_types", "positions", "orientations", "charges", "diameters"}
    if missing or extra:
        raise ValueError(
            f"{where}: missing keys {sorted(missing)}" if missing else f"{where}: unknown keys {sorted(extra)}"
        )
    types = value["constituent_types"]
    if isinstance(types, str) or not all(isinstance(t, str) for t in types):
        raise TypeError(f"{where}['constituent_types'] must be a list of type names, got {types!r}")
    pos = np.asarray(value["positions"], dtype=np.float64)
    n = len(types)
    orient = np.asarray(value.get("orientations", [(1.0, 0.0, 0.0, 0.0)] * n), dtype=np.float64)
    if pos.shape != (n, 3) or orient.shape != (n, 4):
        raise ValueError(
            f"{where}: Constituent particle lists (position, orientation, type) are of unequal length "
            f"or shape: {n} types, positions {pos.shape}, orientations {orient.shape}"
        )
    for name, arr in (("positions", pos), ("orientations", orient)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{where}['{name}'] is not finite")
    if n == 0:
        raise ValueError(f"{where}: a body needs at least one constituent (set None for no body)")
    return dict(constituent_types=list(types), positions=pos, orientations=orient)


# How far a centre's orientation may be from a unit quaternion (the engine's kOrientationTolerance):
# float32 GSD frames and finite-difference steps pass, a q of norm 2 or 0 does not.
ORIENTATION_TOLERANCE = 1e-3


def _check_orientations(orientation, tags, centre):
    """Refuse a centre whose orientation is not a unit quaternion: HOOMD-blue 4.8.2 places its
    sites at |q|^2 times their distance (rotate does not normalise) until the first rotational
    step normalises q, and turns q = 0 into NaN; the engine refuses the same at every run."""
    norm = np.linalg.norm(orientation, axis=1)
    bad = np.flatnonzero(centre & ~(np.abs(norm - 1.0) <= ORIENTATION_TOLERANCE))
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            f"create_bodies: central particle tag {int(tags[k])} has orientation "
            f"{orientation[k].tolist()} of norm {norm[k]:.6g}: orientations must be unit quaternions "
            f"(|norm - 1| <= {ORIENTATION_TOLERANCE:g}); normalise them, q / |q|"
            + (f" (and {bad.size - 1} more centres)" if bad.size > 1 else "")
        )


class Rigid:
    """HOOMD's rigid-body constraint: ``rigid.body[type] = dict(constituent_types, positions,
    orientations)`` (lengths in sigma, quaternions scalar first), then
    ``rigid.create_bodies(sim.state)``."""

    def __init__(self):
        self.body = _Bodies()

    def _definitions(self, state):
        """Per type of ``state``: None or (constituent type ids, positions, orientations)."""
        types = list(state.particle_types)
        out = []
        for t in types:
            d = self.body[t]
            if d is None:
                out.append(None)
                continue
            for c in d["constituent_types"]:
                if c not in types:
                    raise ValueError(f"Rigid.body[{t!r}]: constituent type {c!r} is not in the state's types {types}")
            out.append(
                (
                    [types.index(c) for c in d["constituent_types"]],
                    np.ascontiguousarray(d["positions"]),
                    np.ascontiguousarray(d["orientations"]),
                )
            )
        for t in self.body:
            if self.body[t] is not None and t not in types:
                raise ValueError(f"Rigid.body: type {t!r} is not in the state's types {types}")
        return out

    def create_bodies(self, state, charges=None):
        """Add the constituent particles of every central particle (a particle whose type has a
        body) to ``state``, as HOOMD-blue 4.8.2 does: centres get ``body = tag``, free particles
        ``body = -1``; constituents are appended after all particles, by centre tag and then by
        constituent index, with ``body`` = the centre's tag, position r_b + rotate(q_b, d_k)
        wrapped into the box (the centre's image carried), orientation q_b (x) q_k.

        Args:
            state: the simulation's :class:`~hoomd_adjoint.state.State`.
            charges: optional ``{type: [charge per constituent]}``.
        """
        snap = state.get_snapshot()
        p = snap.particles
        types = list(p.types)
        for t, d in self.body.items():
            if d is None:
                continue
            if t not in types:
                raise ValueError(f"Rigid.body: type {t!r} is not in the state's types {types}")
            for c in d["constituent_types"]:
                if c not in types:
                    raise ValueError(f"Rigid.body[{t!r}]: constituent type {c!r} is not in the state's types {types}")
                if self.body[c] is not None:
                    raise ValueError(f"Rigid.body[{t!r}]: constituent type {c!r} is itself a body type (nested bodies)")
        body = np.asarray(p.body, dtype=np.int64)
        tags = np.arange(p.N)
        keep = (body < 0) | (body == tags)  # constituents already there are dropped and made again
        keep_idx = np.flatnonzero(keep)
        old = {
            name: np.asarray(getattr(p, name))[keep_idx]
            for name in (
                "position",
                "image",
                "typeid",
                "orientation",
                "mass",
                "charge",
                "diameter",
                "velocity",
                "angmom",
                "moment_inertia",
                "body",
            )
        }
        centre = np.array([self.body[types[t]] is not None for t in old["typeid"]])
        _check_orientations(old["orientation"], keep_idx, centre)
        old["body"] = np.where(centre, np.arange(len(keep_idx)), -1).astype(np.int32)
        new = {k: [] for k in old}
        for b in np.flatnonzero(centre):
            d = self.body[types[old["typeid"][b]]]
            n = len(d["constituent_types"])
            q_b = np.broadcast_to(old["orientation"][b], (n, 4))
            new["position"].append(old["position"][b] + rotate(q_b, d["positions"]))
            new["orientation"].append(quat_mul(q_b, d["orientations"]))
            new["image"].append(np.repeat(old["image"][b][None], n, axis=0))
            new["typeid"].append(np.array([types.index(c) for c in d["constituent_types"]]))
            new["body"].append(np.full(n, b))
            q = np.zeros(n)
            if charges is not None and types[old["typeid"][b]] in charges:
                q = np.asarray(charges[types[old["typeid"][b]]], dtype=np.float64)
                if q.shape != (n,):
                    raise ValueError(f"create_bodies: charges[{types[old['typeid'][b]]!r}] needs {n} values")
            new["charge"].append(q)
        M = sum(len(x) for x in new["typeid"])
        # constituents keep HOOMD's snapshot defaults for what create_bodies does not set
        defaults = dict(
            mass=np.ones(M),
            diameter=np.ones(M),
            velocity=np.zeros((M, 3)),
            angmom=np.zeros((M, 4)),
            moment_inertia=np.zeros((M, 3)),
        )
        out = {}
        for k, v in old.items():
            add = np.concatenate(new[k]) if new[k] else defaults.get(k, np.zeros((M,) + v.shape[1:]))
            out[k] = np.concatenate([v, np.asarray(add, dtype=v.dtype).reshape((M,) + v.shape[1:])])
        p.N = len(out["typeid"])
        for k, v in out.items():
            setattr(p, k, v)
        state.set_snapshot(snap)  # positions outside the box are wrapped in, images updated
