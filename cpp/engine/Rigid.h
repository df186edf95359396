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
#include "core/Dual.h"
#include "core/Quaternion.h"
#include "core/RandomNumbers.h"
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

}  // namespace ha
