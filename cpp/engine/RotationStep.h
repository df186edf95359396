// Rotational updates of rigid bodies as HOOMD-blue 4.8.2's ConstantVolume/Langevin (the
// NO_SQUISH symplectic splitting of Miller et al., J. Chem. Phys. 116, 8649 (2002)), written once
// for every backend and scalar type. p is HOOMD's angular momentum quaternion, p = 2 q (x) (0, L_body);
// torques are in the box frame; a principal moment of 0 freezes that axis (HOOMD's masks).
// [TwoStepConstantVolume.cc:103-202 and 283-311 at v4.8.2]
#pragma once
#include <cmath>
#include "core/Quaternion.h"

namespace ha {

// the permutations P_k of NO_SQUISH (k = 1: x, 2: y, 3: z)
template <class T>
HA_HOSTDEVICE Q4<T> no_squish_perm(int k, const Q4<T>& a) {
    if (k == 1) return {-a.x, a.s, a.z, -a.y};
    if (k == 2) return {-a.y, -a.z, a.s, a.x};
    return {-a.z, a.y, -a.x, a.s};
}

// free rotation about body axis k for a time h (h: the already-formed (dt/2) or dt)
template <class T>
HA_HOSTDEVICE void no_squish_rotate(int k, const T& h, const T I[3], Q4<T>& q, Q4<T>& p) {
    using std::cos;
    using std::sin;
    const T phi = (T(1. / 4.) / I[k - 1]) * qdot(p, no_squish_perm(k, q));
    const T c = cos(h * phi), s = sin(h * phi);
    const Q4<T> pk = no_squish_perm(k, p), qk = no_squish_perm(k, q);
    p = qadd(qscale(c, p), qscale(s, pk));
    q = qadd(qscale(c, q), qscale(s, qk));
}

// p += (dt q) (x) (0, tau_body), tau_body = rotate(conj(q), tau) with frozen axes masked
template <class T>
HA_HOSTDEVICE void torque_kick(const T& dt, const T tau[3], const T I[3], const Q4<T>& q, Q4<T>& p) {
    T tb[3];
    qrotate(qconj(q), tau, tb);
    for (int k = 0; k < 3; ++k)
        if (I[k] == T(0.0)) tb[k] = T(0.0);
    p = qadd(p, qmul(qscale(dt, q), Q4<T>{T(0.0), tb[0], tb[1], tb[2]}));
}

// step one: torque kick, a thermostat's factor (1: none, no bit changed), then
// z(dt/2) y(dt/2) x(dt) y(dt/2) z(dt/2), then renormalise q
template <class T>
HA_HOSTDEVICE void rotation_step_one(const T& dt, const T tau[3], const T I[3], Q4<T>& q, Q4<T>& p,
                                     const T& scale = T(1.0)) {
    torque_kick(dt, tau, I, q, p);
    p = qscale(scale, p);
    const T half = T(1. / 2.) * dt;
    const int order[5] = {3, 2, 1, 2, 3};
    for (int k : order)
        if (!(I[k - 1] == T(0.0))) no_squish_rotate(k, k == 1 ? dt : half, I, q, p);
    using std::sqrt;
    q = qscale(T(1.0) / sqrt(qnorm2(q)), q);
}

// step two: a thermostat's factor (1: none), then the second torque kick with the new
// orientation and torque
template <class T>
HA_HOSTDEVICE void rotation_step_two(const T& dt, const T tau[3], const T I[3], const Q4<T>& q, Q4<T>& p,
                                     const T& scale = T(1.0)) {
    p = qscale(scale, p);
    torque_kick(dt, tau, I, q, p);
}

}  // namespace ha
