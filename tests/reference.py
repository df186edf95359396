"""Plain NumPy reference physics, written to be obviously right, used only as a test oracle."""

import numpy as np


def lj(r, epsilon, sigma):
    return 4 * epsilon * ((sigma / r) ** 12 - (sigma / r) ** 6)


def morse(r, D0, alpha, r0):
    return D0 * (np.exp(-2 * alpha * (r - r0)) - 2 * np.exp(-alpha * (r - r0)))


def yukawa(r, epsilon, kappa):
    return epsilon * np.exp(-kappa * r) / r


def gaussian(r, epsilon, sigma):
    return epsilon * np.exp(-(r**2) / (2 * sigma**2))


def expanded_lj(r, epsilon, sigma, delta):
    return lj(r - delta, epsilon, sigma)


def force_shifted_lj(r, epsilon, sigma, r_cut):
    """LJ plus the linear term that takes its force, not only its energy, to zero at r_cut."""
    f_cut = 4 * epsilon * (12 * sigma**12 / r_cut**13 - 6 * sigma**6 / r_cut**7)  # -dV/dr at r_cut
    return lj(r, epsilon, sigma) + (r - r_cut) * f_cut


def mie(r, epsilon, sigma, n, m):
    return (n / (n - m)) * (n / m) ** (m / (n - m)) * epsilon * ((sigma / r) ** n - (sigma / r) ** m)


def buckingham(r, A, rho, C):
    return A * np.exp(-r / rho) - C / r**6


def xplor(r, r_on, r_cut):
    """HOOMD-blue's XPLOR switch S(r): 1 below r_on, then smoothly to 0 at r_cut (r_on < r_cut)."""
    if r < r_on:
        return 1.0
    ron2, rc2, r2 = r_on**2, r_cut**2, r**2
    return (rc2 - r2) ** 2 * (rc2 + 2 * r2 - 3 * ron2) / (rc2 - ron2) ** 3


def dpd_conservative(r, A, r_cut):
    return np.where(r < r_cut, A / (2 * r_cut) * (r_cut - r) ** 2, 0.0)


def rechtsman(r, a0, a1, a2, a3, b0=5.0, b1=0.4, b2=40.0):
    return b0 / r**12 - a0 / r**10 + a1 * np.exp(-a2 * r) - b1 * np.exp(-b2 * (r - a3) ** 2)


def min_image(d, box):
    """Minimum image by brute force over neighbouring images (valid for any reasonable tilt)."""
    Lx, Ly, Lz, xy, xz, yz = box
    M = np.array([[Lx, xy * Ly, xz * Lz], [0, Ly, yz * Lz], [0, 0, Lz]])
    shifts = [
        (i, j, k)
        for i in (-2, -1, 0, 1, 2)
        for j in (-2, -1, 0, 1, 2)
        for k in ((0,) if Lz == 0 else (-2, -1, 0, 1, 2))
    ]
    S = np.array(shifts) @ M.T
    cand = d[:, None, :] + S[None, :, :]
    r2 = np.einsum("nsk,nsk->ns", cand, cand)
    return cand[np.arange(len(d)), np.argmin(r2, axis=1)]


def pair_distances(pos, box):
    """All pairs i<j: (i, j, r) with minimum image distance."""
    i, j = np.triu_indices(len(pos), 1)
    d = min_image(pos[i] - pos[j], box)
    return i, j, np.sqrt(np.einsum("nk,nk->n", d, d))
