// The per-body and per-site pieces of the rigid-body adjoint (RigidAdjoint.cc), written once for
// the CPU's loops and the device's ops (DeviceOps.h), so that both give the same bits. Each map
// of engine/Rigid.h and engine/RotationStep.h is pulled back by evaluating its one templated
// implementation in dual numbers; sums over bodies (the rotational drag's and the geometry's
// gradients) go through per-entry parts, fixed blocks and AdjointStep.h's tree.
#pragma once
#include <cstdint>

#include "core/Dual.h"
#include "core/HostDevice.h"
#include "core/Quaternion.h"
#include "adjoint/AdjointStep.h"
#include "engine/Rigid.h"
#include "engine/RotationStep.h"
#include "engine/TwoStep.h"

namespace ha {

template <class D>
HA_HOSTDEVICE Q4<D> quat_var(const double* q, int slot) {
    return {D::variable(q[0], slot), D::variable(q[1], slot + 1), D::variable(q[2], slot + 2),
            D::variable(q[3], slot + 3)};
}

// lin[j] += sum_o lout[o] d out[o] / d in[j], for outputs given as duals
template <class D>
HA_HOSTDEVICE void pull(const D* out, const double* lout, int nout, int first, int count, double* lin) {
    for (int j = 0; j < count; ++j) {
        double s = 0;
        for (int o = 0; o < nout; ++o) s += lout[o] * out[o].d[first + j];
        lin[j] += s;
    }
}

HA_HOSTDEVICE bool any_positive(const double* g) {
    return g[0] > 0 || g[1] > 0 || g[2] > 0;
}

// u = rotate(q, d) pulled back: lq += (du/dq)^T g, ld += (du/dd)^T g
HA_HOSTDEVICE void offset_pullback(const double* q, const double* d, const double* g, double* lq, double* ld) {
    using D = Dual<7>;
    const Q4<D> qd = quat_var<D>(q, 0);
    const D dd[3] = {D::variable(d[0], 4), D::variable(d[1], 5), D::variable(d[2], 6)};
    D u[3];
    body_offset(qd, dd, u);
    pull(u, g, 3, 0, 4, lq);
    pull(u, g, 3, 4, 3, ld);
}

// A constituent at offset u = rotate(q, d) from its centre: the vector the force Jacobian is
// applied to, w = lF + ltau x u (its force reaches the centre's force and, through u, its torque).
HA_HOSTDEVICE void site_weight(const double* q, const double* d, const double* lF, const double* lt, double* w) {
    double u[3];
    body_offset(Q4<double>{q[0], q[1], q[2], q[3]}, d, u);
    w[0] = lF[0] + (lt[1] * u[2] - lt[2] * u[1]);
    w[1] = lF[1] + (lt[2] * u[0] - lt[0] * u[2]);
    w[2] = lF[2] + (lt[0] * u[1] - lt[1] * u[0]);
}

// The adjoint of a constituent's position x = r + u (gx) onto its centre's r, and that of its
// offset u = rotate(q, d) (gu) onto q and d.
HA_HOSTDEVICE void site_to_centre(const double* q, const double* d, const double* gx, const double* gu, double* Lr,
                                  double* Lq, double* ld) {
    for (int a = 0; a < 3; ++a) Lr[a] += gx[a];
    offset_pullback(q, d, gu, Lq, ld);
}

// After the Jacobian (out = J^T w at the constituent; f: its own force): its offset's adjoint is
// out + f x ltau (the torque's lever), its position's out.
HA_HOSTDEVICE void site_pullback(const double* q, const double* d, const double* out, const double* f, const double* lt,
                                 double* Lr, double* Lq, double* ld) {
    const double gu[3] = {out[0] + (f[1] * lt[2] - f[2] * lt[1]), out[1] + (f[2] * lt[0] - f[0] * lt[2]),
                          out[2] + (f[0] * lt[1] - f[1] * lt[0])};
    site_to_centre(q, d, out, gu, Lr, Lq, ld);
}

// Langevin/NVE step two's rotation, (q', p_half, tau_b[, I, gamma_r, s2]) -> (tau~', p'), at its
// outputs' adjoints (Ltau, Lp): into lq1, lph, ltau, lI, lgr and ls2 (each +=).
HA_HOSTDEVICE void rotation_two_pullback(uint32_t tag, const StepArgs& a, bool langevin, const double* gr,
                                         const double* I, const double* q1, const double* ph, const double* tau0,
                                         double s2, const double* Ltau, const double* Lp, double* lq1, double* lph,
                                         double* ltau, double* lI, double* lgr, double* ls2) {
    // slots: q' 0-3, p_half 4-7, tau_b 8-10, I 11-13, gamma_r 14-16, s2 17
    using D = Dual<18>;
    const Q4<D> q = quat_var<D>(q1, 0);
    Q4<D> p = quat_var<D>(ph, 4);
    D tau[3] = {D::variable(tau0[0], 8), D::variable(tau0[1], 9), D::variable(tau0[2], 10)};
    const D Id[3] = {D::variable(I[0], 11), D::variable(I[1], 12), D::variable(I[2], 13)};
    if (langevin && any_positive(gr)) {
        double R[3];
        langevin_rotation_noise(tag, a, gr, R);
        const D grd[3] = {D::variable(gr[0], 14), D::variable(gr[1], 15), D::variable(gr[2], 16)};
        const D Rd[3] = {noise_of(R[0], gr[0], grd[0]), noise_of(R[1], gr[1], grd[1]), noise_of(R[2], gr[2], grd[2])};
        langevin_torque(q, p, Id, grd, Rd, a.dim, tau);
    }
    rotation_step_two(D(a.dt), tau, Id, q, p, D::variable(s2, 17));
    const D out[7] = {tau[0], tau[1], tau[2], p.s, p.x, p.y, p.z};
    const double lout[7] = {Ltau[0], Ltau[1], Ltau[2], Lp[0], Lp[1], Lp[2], Lp[3]};
    pull(out, lout, 7, 0, 4, lq1);
    pull(out, lout, 7, 4, 4, lph);
    pull(out, lout, 7, 8, 3, ltau);
    pull(out, lout, 7, 11, 3, lI);
    pull(out, lout, 7, 14, 3, lgr);
    pull(out, lout, 7, 17, 1, ls2);
    if (a.dim < 3) ltau[0] = ltau[1] = 0.0;  // the transfer zeroes tau.x, tau.y in 2D
}

// Step one's rotation, (q, p, tau~[, I, s1]) -> (q', p_half): Lq (q''s adjoint in, q's out), Lp and
// Ltau (out) from q''s and lph; lI and ls1 +=.
HA_HOSTDEVICE void rotation_one_pullback(double dt, const double* I, const double* q0, const double* p0,
                                         const double* tau0, double s1, double* Lq, const double* lph, double* Lp,
                                         double* Ltau, double* lI, double* ls1) {
    // slots: q 0-3, p 4-7, tau~ 8-10, I 11-13, s1 14
    using D = Dual<15>;
    Q4<D> q = quat_var<D>(q0, 0), p = quat_var<D>(p0, 4);
    const D tau[3] = {D::variable(tau0[0], 8), D::variable(tau0[1], 9), D::variable(tau0[2], 10)};
    const D Id[3] = {D::variable(I[0], 11), D::variable(I[1], 12), D::variable(I[2], 13)};
    rotation_step_one(D(dt), tau, Id, q, p, D::variable(s1, 14));
    const D out[8] = {q.s, q.x, q.y, q.z, p.s, p.x, p.y, p.z};
    const double lout[8] = {Lq[0], Lq[1], Lq[2], Lq[3], lph[0], lph[1], lph[2], lph[3]};
    double lq[4] = {0, 0, 0, 0}, lp[4] = {0, 0, 0, 0}, lt[3] = {0, 0, 0};
    pull(out, lout, 8, 0, 4, lq);
    pull(out, lout, 8, 4, 4, lp);
    pull(out, lout, 8, 8, 3, lt);
    pull(out, lout, 8, 11, 3, lI);
    pull(out, lout, 8, 14, 1, ls1);
    for (int k = 0; k < 4; ++k) Lq[k] = lq[k], Lp[k] = lp[k];
    for (int k = 0; k < 3; ++k) Ltau[k] = lt[k];
}

// The Brownian rotation of a centre with rotational drag, q' = BD(q, tau_b[, gamma_r]): Lq (q''s
// adjoint in, q's out); ltau and lgr +=.
HA_HOSTDEVICE void brownian_rotation_pullback(uint32_t tag, const StepArgs& a, const double* gr, const double* I,
                                              const double* q0, const double* tau0, double* Lq, double* ltau,
                                              double* lgr) {
    double bnoise[3], Lm[3];
    brownian_rotation_noise(tag, a, gr, I, bnoise, Lm);
    // slots: q 0-3, tau 4-6, gamma_r 7-9
    using D = Dual<10>;
    Q4<D> q = quat_var<D>(q0, 0);
    const D tau[3] = {D::variable(tau0[0], 4), D::variable(tau0[1], 5), D::variable(tau0[2], 6)};
    const D grd[3] = {D::variable(gr[0], 7), D::variable(gr[1], 8), D::variable(gr[2], 9)};
    const D noise[3] = {noise_of(bnoise[0], gr[0], grd[0]), noise_of(bnoise[1], gr[1], grd[1]),
                        noise_of(bnoise[2], gr[2], grd[2])};
    brownian_rotate(a.dt, tau, I, grd, noise, a.dim, q);
    const D out[4] = {q.s, q.x, q.y, q.z};
    double lq[4] = {0, 0, 0, 0};
    pull(out, Lq, 4, 0, 4, lq);
    pull(out, Lq, 4, 4, 3, ltau);
    pull(out, Lq, 4, 7, 3, lgr);
    for (int k = 0; k < 4; ++k) Lq[k] = lq[k];
    if (a.dim < 3) ltau[0] = ltau[1] = 0.0;
}

// Sums over bodies: block b of n entries (kGradBlock each), entry i's `width` values v[width i + c]
// into out[scale slot[i] + c], in entry order; out (G values) is zeroed first. The blocks' outs
// then go through tree_sum (CPU) or launch_tree (device).
HA_HOSTDEVICE void scatter_block(uint32_t b, uint32_t n, const double* v, uint32_t width, const uint32_t* slot,
                                 uint32_t scale, uint32_t G, double* out) {
    for (uint32_t e = 0; e < G; ++e) out[e] = 0.0;
    const uint32_t i1 = (b + 1) * kGradBlock < n ? (b + 1) * kGradBlock : n;
    for (uint32_t i = b * kGradBlock; i < i1; ++i)
        for (uint32_t c = 0; c < width; ++c) out[scale * slot[i] + c] += v[size_t(width) * i + c];
}

}  // namespace ha
