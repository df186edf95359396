// Rigid bodies as HOOMD-blue 4.8.2's ForceComposite and the rotational parts of its integration
// methods. Central particles (body == tag) carry the body's mass, principal moments, orientation
// and angular momentum; constituents (body == centre tag) are placed from them before every force
// compute and hand their forces to the centre afterwards. The per-body update equations below are
// written once, templated on the scalar, so that the adjoint evaluates them in dual numbers.
// [ForceComposite.cc:653-986, TwoStepLangevin.cc:294-393, TwoStepBD.cc:154-246 at v4.8.2]
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "core/BoxDim.h"
#include "core/Dual.h"
#include "core/Quaternion.h"
#include "core/RandomNumbers.h"
#include "engine/RotationStep.h"
#include "engine/TwoStep.h"
#include "engine/evaluators/EvaluatorMath.h"

namespace ha {

// Body definitions per type and the molecules of the current particle data.
struct RigidBodies {
    struct Definition {
        std::vector<uint32_t> types;  // constituent type ids
        std::vector<double> pos;      // n x 3, body frame
        std::vector<double> orient;   // n x 4, body frame (scalar first)
        size_t size() const { return types.size(); }
    };
    std::vector<Definition> defs;       // per type (empty: not a body type)
    std::vector<uint32_t> centers;      // tags of central particles, ascending
    std::vector<uint32_t> start;        // constituents of centers[b]: members[start[b] .. start[b + 1])
    std::vector<uint32_t> members;      // constituent tags in body-definition order (tag order)
    std::vector<int32_t> center_index;  // per tag: index into centers, or -1
    bool empty() const { return centers.empty(); }
};

// u = rotate(q, d): a constituent's offset from its centre in the box frame.
template <class T>
HA_HOSTDEVICE void body_offset(const Q4<T>& q, const T d[3], T u[3]) {
    qrotate(q, d, u);
}

// Langevin step two's drag and noise torque, added to the box-frame torque tau in place:
// tau += rotate(q, R - gamma_r (L_body / I)) with L_body = ((1/2) conj(q) (x) p).v, axes with
// I_k = 0 masked; in 2D tau.x = tau.y = 0 afterwards. R: the three normals of the step.
template <class T, class S>
HA_HOSTDEVICE void langevin_torque(const Q4<T>& q, const Q4<T>& p, const S I[3], const S gr[3], const T R[3],
                                   unsigned dim, T tau[3]) {
    const Q4<T> s = qmul(qscale(T(1. / 2.), qconj(q)), p);
    const T sv[3] = {s.x, s.y, s.z};
    T bf[3];
    for (int k = 0; k < 3; ++k) bf[k] = value_of(I[k]) == 0 ? T(0.0) : R[k] - gr[k] * (sv[k] / I[k]);
    T lab[3];
    qrotate(q, bf, lab);
    for (int k = 0; k < 3; ++k) tau[k] = tau[k] + lab[k];
    if (dim < 3) tau[0] = tau[1] = T(0.0);
}

// Brownian rotation: q += ((dt/2) (tau + rotate(q, b)) / gamma_r) (x) q, then normalised; tau is the
// box-frame torque, b the body-frame noise (axes with I_k = 0 masked in both, by body-axis index
// as HOOMD does), 2D keeps only z.
template <class T, class S>
HA_HOSTDEVICE void brownian_rotate(double dt, const T tau_in[3], const double I[3], const S gr[3], const T noise[3],
                                   unsigned dim, Q4<T>& q) {
    T t[3] = {tau_in[0], tau_in[1], tau_in[2]};
    T b[3] = {noise[0], noise[1], noise[2]};
    for (int k = 0; k < 3; ++k)
        if (I[k] == 0) b[k] = t[k] = T(0.0);
    T bl[3];
    qrotate(q, b, bl);
    if (dim < 3) bl[0] = bl[1] = t[0] = t[1] = T(0.0);
    const double h = 0.5 * dt;
    const Q4<T> w = {T(0.0), h * ((t[0] + bl[0]) / gr[0]), h * ((t[1] + bl[1]) / gr[1]), h * ((t[2] + bl[2]) / gr[2])};
    q = qadd(q, qmul(w, q));
    using std::sqrt;
    q = qscale(T(1.0) / sqrt(qnorm2(q)), q);
}

// A noise R = sigma(gamma_r) n with sigma proportional to sqrt(gamma_r), as a function of a dual
// gamma_r: the value stays R bit for bit, the derivative is R / (2 gamma_r).
template <class T>
HA_HOSTDEVICE T noise_of(double R, double gr, const T& grd) {
    return gr > 0 ? T(R) + (R / (2.0 * gr)) * (grd - gr) : T(R);
}

// The rotational normals of a Langevin step (after its three uniforms, same stream).
HA_HOSTDEVICE void langevin_rotation_noise(uint32_t tag, const StepArgs& a, const double gr[3], double R[3]) {
    RandomGenerator rng(rng_id::TwoStepLangevin, a.timestep, a.seed, tag);
    rng();
    rng();
    rng();
    for (int k = 0; k < 3; ++k) R[k] = rng.normal(std::sqrt(2.0 * gr[k] * a.kT / a.dt));
}

// The rotational normals of a Brownian step, after the uniforms and the velocity draws (which the
// engine makes lazily, so their blocks are skipped here), and the angular momentum draws after them.
HA_HOSTDEVICE void brownian_rotation_noise(uint32_t tag, const StepArgs& a, const double gr[3], const double I[3],
                                           double b[3], double L[3]) {
    RandomGenerator rng(rng_id::TwoStepBD, a.timestep, a.seed, tag);
    const int skip = 3 + (a.dim == 3 ? 3 : 2);
    for (int k = 0; k < skip; ++k) rng();
    for (int k = 0; k < 3; ++k) b[k] = rng.normal(std::sqrt(2.0 * gr[k] * a.kT / a.dt));
    for (int k = 0; k < 3; ++k) L[k] = rng.normal(std::sqrt(a.kT * I[k]));
}

// The per-body and per-particle parts of the rigid-body steps, one function each, which the host
// (System.cc) loops over and the device runs a thread each (device/DeviceOps.h).

// [ForceComposite::updateCompositeParticles] A constituent from its centre: position x_c + u,
// u = rotate(q, d), moved into the box (a body may span images: the constituent's image is the
// centre's plus the shift), and orientation q (x) q_d.
HA_HOSTDEVICE void place_site(const BoxDim& box, const double* xc, const int32_t* imgc, const Q4<double>& q,
                              const double* d, const double* qd, double* x_out, int32_t* img_out, double* q_out) {
    double u[3];
    body_offset(q, d, u);
    Vec3 x = {xc[0] + u[0], xc[1] + u[1], xc[2] + u[2]};
    const Q4<double> qk = {qd[0], qd[1], qd[2], qd[3]};
    const Q4<double> qj = qmul(q, qk);
    // [BoxDim::getImage, shift]
    const Vec3 f = box.makeFraction(x);
    auto image_of = [](double g) {
        g -= 0.5;
        return int(g >= 0.0 ? g + 0.5 : g - 0.5);
    };
    const int nx = image_of(f.x), ny = image_of(f.y), nz = box.is2D ? 0 : image_of(f.z);
    x.x += double(-nx) * box.Lx;
    x.x += double(-ny) * (box.Ly * box.xy);
    x.y += double(-ny) * box.Ly;
    if (!box.is2D) {
        x.x += double(-nz) * (box.Lz * box.xz);
        x.y += double(-nz) * (box.Lz * box.yz);
        x.z += double(-nz) * box.Lz;
    }
    x_out[0] = x.x;
    x_out[1] = x.y;
    x_out[2] = x.z;
    img_out[0] = imgc[0] + nx;
    img_out[1] = imgc[1] + ny;
    img_out[2] = imgc[2] + nz;
    q_out[0] = qj.s;
    q_out[1] = qj.x;
    q_out[2] = qj.y;
    q_out[3] = qj.z;
}

// [ForceComposite::computeForces] A body's constituents' forces, torques and energies to its
// centre c (in body-definition order, HOOMD's composite sums added to the centre's last), the
// constituents' zeroed; d: their body-frame positions (n x 3). 2D: no in-plane torque.
HA_HOSTDEVICE void transfer_body(uint32_t c, const uint32_t* members, uint32_t n, const double* d, const Q4<double>& q,
                                 bool flat, double* nf, double* nt, double* ne) {
    double F[3] = {0, 0, 0}, T[3] = {0, 0, 0}, U = 0;
    for (uint32_t k = 0; k < n; ++k) {
        const uint32_t j = members[k];
        const double f[3] = {nf[3 * j], nf[3 * j + 1], nf[3 * j + 2]};
        const double tj[3] = {nt[3 * j], nt[3 * j + 1], nt[3 * j + 2]};
        for (int a = 0; a < 3; ++a) F[a] += f[a];
        U += ne[j];
        double u[3];
        body_offset(q, &d[3 * k], u);
        T[0] += u[1] * f[2] - u[2] * f[1];
        T[1] += u[2] * f[0] - u[0] * f[2];
        T[2] += u[0] * f[1] - u[1] * f[0];
        for (int a = 0; a < 3; ++a) T[a] += tj[a];
        for (int a = 0; a < 3; ++a) nf[3 * j + a] = nt[3 * j + a] = 0.0;
        ne[j] = 0.0;
    }
    for (int a = 0; a < 3; ++a) {
        nf[3 * c + a] += F[a];
        nt[3 * c + a] += T[a];
    }
    ne[c] += U;
    // 2D: bodies stay in the plane (HOOMD-blue >= 7.1, hoomd-blue#2303; 4.8.2 has no projection)
    if (flat) nt[3 * c] = nt[3 * c + 1] = 0.0;
}

// A particle's rotation in step one: Brownian (gr its type's rotational drag; nothing without
// one) or NO_SQUISH with a thermostat's factor (1: none). q, p: orientation and angular momentum.
HA_HOSTDEVICE void rotate_one(uint32_t i, bool brownian, const StepArgs& a, const double* gr, const double* I,
                              const double* tau, double* qa, double* pa, double scale) {
    Q4<double> q = {qa[0], qa[1], qa[2], qa[3]}, p = {pa[0], pa[1], pa[2], pa[3]};
    if (brownian) {
        if (!(gr[0] > 0 || gr[1] > 0 || gr[2] > 0)) return;
        double b[3], L[3];
        brownian_rotation_noise(i, a, gr, I, b, L);
        brownian_rotate(a.dt, tau, I, gr, b, a.dim, q);
        for (int k = 0; k < 3; ++k)
            if (I[k] == 0) L[k] = 0;
        p = qmul(qscale(2.0, q), Q4<double>{0.0, L[0], L[1], L[2]});
    } else {
        rotation_step_one(a.dt, tau, I, q, p, scale);
    }
    qa[0] = q.s, qa[1] = q.x, qa[2] = q.y, qa[3] = q.z;
    pa[0] = p.s, pa[1] = p.x, pa[2] = p.y, pa[3] = p.z;
}

// A particle's rotation in step two (Langevin and ConstantVolume): Langevin's drag and noise
// torque added to tau in place (step one of the next step reads it), the factor, the second kick.
HA_HOSTDEVICE void rotate_two(uint32_t i, bool langevin, const StepArgs& a, const double* gr, const double* I,
                              double* tau, const double* qa, double* pa, double scale) {
    const Q4<double> q = {qa[0], qa[1], qa[2], qa[3]};
    Q4<double> p = {pa[0], pa[1], pa[2], pa[3]};
    if (langevin && (gr[0] > 0 || gr[1] > 0 || gr[2] > 0)) {
        double R[3];
        langevin_rotation_noise(i, a, gr, R);
        langevin_torque(q, p, I, gr, R, a.dim, tau);
    }
    rotation_step_two(a.dt, tau, I, q, p, scale);
    pa[0] = p.s, pa[1] = p.x, pa[2] = p.y, pa[3] = p.z;
}

}  // namespace ha
