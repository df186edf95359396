// The per-entry equations of the step adjoints, and their reductions, written once for the CPU
// (Adjoint.cc) and the device sweep (DeviceAdjoint.cc), so that both give the same bits.
// Reductions over particles run in fixed blocks of kGradBlock particles, each summed in tag
// order, and the block sums then added in a fixed pairwise tree (tree_sum): a CPU thread or a
// device thread can take a block or an addition, and the result does not depend on which does.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/HostDevice.h"
#include "core/RandomNumbers.h"

namespace ha {

constexpr uint32_t kGradBlock = 64;  // particles a block (the pair forces' parameter sums use the same)
HA_HOSTDEVICE uint32_t grad_blocks(uint32_t N) {
    return (N + kGradBlock - 1) / kGradBlock;
}

// The largest adjoint entry a sweep goes on with: beyond it the squares in any norm of the
// adjoint (and so the gradient's arithmetic) overflow double precision (~1.3e154), and the
// sweep stops at that step as it does for a non-finite entry. (False for NaN.)
constexpr double kAdjointLimit = 1e150;
HA_HOSTDEVICE bool adjoint_entry_ok(double x) {
    return x <= kAdjointLimit && x >= -kAdjointLimit;
}

// Noise u (3 uniforms) of the step at t for tag i, as the forward step drew it.
HA_HOSTDEVICE void step_noise(uint8_t id, uint64_t t, uint16_t seed, uint32_t i, double* u) {
    RandomGenerator rng(id, t, seed, i);
    u[0] = rng.uniform(-1.0, 1.0);
    u[1] = rng.uniform(-1.0, 1.0);
    u[2] = rng.uniform(-1.0, 1.0);
}

// Sensitivities of one Brownian displacement component, (dt/gamma)(F + c u) with
// c = sqrt(6 gamma T / dt), to T and to gamma.
struct BDSens {
    double dT, dgamma;
};
HA_HOSTDEVICE BDSens bd_sensitivity(double gam, double T, double dt, double F, double u) {
    const double c = std::sqrt(3.0 * 2.0 * gam * T / dt);
    return {(dt / gam) * u * (3.0 * gam / (dt * c)),
            -(dt / (gam * gam)) * (F + c * u) + (dt / gam) * u * (3.0 * T / (dt * c))};
}

// Sensitivities of one Langevin acceleration component, (F + c u - gamma v_h)/m with
// c = sqrt(6 gamma T / dt), to T and to gamma.
HA_HOSTDEVICE BDSens langevin_sensitivity(double gam, double T, double dt, double minv, double u, double vh) {
    const double c = std::sqrt(6.0 * gam * T / dt);
    return {u * (3.0 * gam / (dt * c)) * minv, (u * (3.0 * T / (dt * c)) - vh) * minv};
}

// Brownian, r' = r + (dt/gamma)(F(r) + c u): the adjoint is lr + J(r)^T w with w = (dt/gamma) lr.
HA_HOSTDEVICE double brownian_adjoint_w(double dt, double gamma, double lr) {
    return (dt / gamma) * lr;
}

// Langevin / NVE: r' = r + v dt + a dt^2/2, v_h = v + a dt/2, a' = (F(r') + c u - gamma v_h)/m,
// v' = v_h + a' dt/2. Before the Jacobian (one entry; drag: Langevin, and not z in 2D): the
// adjoint of a' in total (lt), of v_h (lvh), and the vector J(r') is applied to (w).
HA_HOSTDEVICE void langevin_adjoint_pre(bool drag, double dt, double gam, double minv, double lv, double la, double& lt,
                                        double& lvh, double& w) {
    lt = la + 0.5 * dt * lv;
    lvh = lv - (drag ? gam * minv * lt : 0.0);
    w = lt * minv;
}
// After it, with lr already holding lr + J(r')^T w: the adjoints of v and a at t.
HA_HOSTDEVICE void langevin_adjoint_post(double dt, double lvh, double lr, double& lv, double& la) {
    lv = lvh + dt * lr;
    la = 0.5 * dt * lvh + 0.5 * dt * dt * lr;
}

// Block b's terms of d/dkT (into *kT) and d/dgamma (into gam[type]), particle by particle and
// x, y, z within each: Brownian (lr at t+1, F = F(r_t)). Outputs start at zero.
HA_HOSTDEVICE void bd_noise_block(uint32_t b, uint32_t N, const double* lr, const double* F, const uint32_t* type,
                                  const double* gamma, double T, double dt, unsigned dim, uint64_t t, uint16_t seed,
                                  double* kT, double* gam) {
    const uint32_t i1 = (b + 1) * kGradBlock < N ? (b + 1) * kGradBlock : N;
    for (uint32_t i = b * kGradBlock; i < i1; ++i) {
        double u[3];
        step_noise(rng_id::TwoStepBD, t, seed, i, u);
        const uint32_t ty = type[i];
        for (unsigned k = 0; k < 3; ++k) {
            const double uk = (k == 2 && dim < 3) ? 0.0 : u[k];
            const BDSens d = bd_sensitivity(gamma[ty], T, dt, F[3 * i + k], uk);
            if (kT) *kT += lr[3 * i + k] * d.dT;
            if (gam) gam[ty] += lr[3 * i + k] * d.dgamma;
        }
    }
}
// The same for Langevin (lt: the adjoint of a' in total, vh: the half-step velocities).
HA_HOSTDEVICE void langevin_noise_block(uint32_t b, uint32_t N, const double* lt, const double* vh, const double* mass,
                                        const uint32_t* type, const double* gamma, double T, double dt, unsigned dim,
                                        uint64_t t, uint16_t seed, double* kT, double* gam) {
    const uint32_t i1 = (b + 1) * kGradBlock < N ? (b + 1) * kGradBlock : N;
    for (uint32_t i = b * kGradBlock; i < i1; ++i) {
        double u[3];
        step_noise(rng_id::TwoStepLangevin, t, seed, i, u);
        const uint32_t ty = type[i];
        for (unsigned k = 0; k < 3; ++k) {
            if (k == 2 && dim < 3) continue;
            const BDSens d = langevin_sensitivity(gamma[ty], T, dt, 1.0 / mass[i], u[k], vh[3 * i + k]);
            if (kT) *kT += lt[3 * i + k] * d.dT;
            if (gam) gam[ty] += lt[3 * i + k] * d.dgamma;
        }
    }
}
// The blocks' sums added as a fixed pairwise tree, level by level: entry e of the next level is
// entries 2e and 2e + 1 of this one added (the last alone when they are odd in number). The CPU
// runs the levels in a loop (tree_sum); the device runs a launch a level, a thread an addition
// (gpu::TreeLevelOp): the same additions in the same order, in log2(blocks) short launches.
// Entries are `stride` apart, `width` values each.
HA_HOSTDEVICE void tree_pair(const double* from, double* to, uint32_t n, size_t stride, uint32_t e, uint32_t c) {
    const double* a = from + 2 * size_t(e) * stride + c;
    to[size_t(e) * stride + c] = 2 * e + 1 < n ? a[0] + a[stride] : a[0];
}
HA_HOSTDEVICE uint32_t tree_levels(uint32_t n) {
    uint32_t levels = 0;
    for (; n > 1; n = (n + 1) / 2) ++levels;
    return levels;
}
// The sums of the n entries of a, in a's first entry or in b's (returned): b is scratch as large.
inline double* tree_sum(double* a, double* b, uint32_t n, size_t stride, uint32_t width) {
    for (; n > 1; n = (n + 1) / 2) {
        for (uint32_t e = 0; e < (n + 1) / 2; ++e)
            for (uint32_t c = 0; c < width; ++c) tree_pair(a, b, n, stride, e, c);
        double* t = a;
        a = b;
        b = t;
    }
    return a;
}

// Block b's part of |lr|^2 + |lv|^2 + |la|^2 (entry by entry), for the clipped sweep.
HA_HOSTDEVICE double norm2_block(uint32_t b, uint32_t N, const double* lr, const double* lv, const double* la) {
    const uint32_t i1 = (b + 1) * kGradBlock < N ? (b + 1) * kGradBlock : N;
    double s = 0;
    for (size_t q = 3 * size_t(b) * kGradBlock; q < 3 * size_t(i1); ++q)
        s += lr[q] * lr[q] + lv[q] * lv[q] + la[q] * la[q];
    return s;
}
// The factor the clipped sweep scales the adjoint by (1: none), from the squared norm (the
// blocks' parts summed by tree_sum).
HA_HOSTDEVICE double clip_scale(double norm2, double clip) {
    return norm2 > clip * clip ? clip / std::sqrt(norm2) : 1.0;
}

}  // namespace ha
