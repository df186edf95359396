"""Rigid-body geometry of particle configurations (N, d), d = 2 or 3: Kabsch alignment by
proper rotations (a reflection would turn a chiral cluster into its mirror image, a different
state) and the rigid-body modes (translations and rotations) that are exact zero modes of
the Hessian of any isolated cluster's energy."""

import numpy as np

__all__ = ["kabsch", "align", "rmsd", "rigid_modes", "internal_basis", "remove_rigid"]


def kabsch(mobile, reference):
    """The proper rotation R and translation t that best map ``mobile`` onto ``reference``
    (least squares; Kabsch 1976): ``mobile @ R.T + t``. Works on stacks (..., N, d)."""
    P = np.asarray(mobile, dtype=np.float64)
    Q = np.asarray(reference, dtype=np.float64)
    cp, cq = P.mean(axis=-2, keepdims=True), Q.mean(axis=-2, keepdims=True)
    Hm = np.swapaxes(P - cp, -1, -2) @ (Q - cq)  # (..., d, d)
    U, _, Vt = np.linalg.svd(Hm)
    V = np.swapaxes(Vt, -1, -2)
    d = np.sign(np.linalg.det(V @ np.swapaxes(U, -1, -2)))
    D = np.broadcast_to(np.eye(P.shape[-1]), Hm.shape).copy()
    D[..., -1, -1] = np.where(d == 0, 1.0, d)
    R = V @ D @ np.swapaxes(U, -1, -2)
    t = cq - cp @ np.swapaxes(R, -1, -2)
    return R, t


def align(mobile, reference):
    """``mobile`` rotated and translated (properly) onto ``reference``."""
    R, t = kabsch(mobile, reference)
    return np.asarray(mobile, dtype=np.float64) @ np.swapaxes(R, -1, -2) + t


def rmsd(a, b):
    """Root-mean-square distance per particle after proper alignment of ``a`` onto ``b``."""
    return np.sqrt(((align(a, b) - np.asarray(b)) ** 2).sum(axis=-1).mean(axis=-1))


def rigid_modes(x):
    """An orthonormal basis (r, N d) of the rigid-body motions of configuration x (N, d):
    d translations and d(d-1)/2 rotations about the centroid (r = 6 in 3D and 3 in 2D; one fewer
    rotation for a collinear cluster in 3D)."""
    x = np.asarray(x, dtype=np.float64)
    N, d = x.shape
    c = x - x.mean(axis=0)
    modes = []
    for k in range(d):
        t = np.zeros((N, d))
        t[:, k] = 1.0
        modes.append(t.ravel())
    if d == 2:
        modes.append(np.c_[-c[:, 1], c[:, 0]].ravel())
    else:
        for k in range(3):
            e = np.zeros(3)
            e[k] = 1.0
            modes.append(np.cross(e, c).ravel())
    A = np.array(modes).T
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    return U[:, s > 1e-10 * s[0]].T


def internal_basis(x):
    """An orthonormal basis (N d, N d - r) of the motions orthogonal to the rigid-body modes."""
    Q = rigid_modes(x)
    n = Q.shape[1]
    U, _, _ = np.linalg.svd(np.eye(n) - Q.T @ Q)
    return U[:, : n - len(Q)]


def remove_rigid(X, F):
    """F with the rigid-body modes of each configuration projected out: X and F are stacks
    (..., N, 3) or (..., 3N). Translations: the mean force. Rotations about the centroid c: the
    modes e_k x c have the inertia tensor I as their Gram matrix, so the rotational part is
    w x c with I w = sum_i c_i x F_i (the torque)."""
    X = np.asarray(X, dtype=np.float64)
    F = np.asarray(F, dtype=np.float64)
    shape = F.shape
    N = shape[-2] if shape[-1] == 3 and F.ndim >= 2 else shape[-1] // 3
    Xs, Fs = X.reshape(-1, N, 3), F.reshape(-1, N, 3)
    c = Xs - Xs.mean(axis=1, keepdims=True)
    Fs = Fs - Fs.mean(axis=1, keepdims=True)
    torque = np.cross(c, Fs).sum(axis=1)
    cc = np.einsum("mij,mij->m", c, c)
    inertia = cc[:, None, None] * np.eye(3) - np.einsum("mia,mib->mab", c, c)
    w = np.linalg.solve(inertia, torque[..., None])[..., 0]
    return (Fs - np.cross(w[:, None, :], c)).reshape(shape)
