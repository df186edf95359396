// Quaternions (scalar first) with HOOMD-blue's VectorMath.h operations, evaluated in the same
// order so that rigid-body updates replay HOOMD's rounding: product, conjugate, norm2 and rotate
// (which, as in HOOMD, does not normalise). Templated on the scalar so that dual numbers can flow
// through them for the adjoint.
#pragma once
#include "HostDevice.h"

namespace ha {

template <class T>
struct Q4 {
    T s, x, y, z;
};

template <class T>
HA_HOSTDEVICE Q4<T> qmul(const Q4<T>& a, const Q4<T>& b) {
    // (a.s b.s - a.v . b.v, a.s b.v + b.s a.v + a.v x b.v)   [HOOMD VectorMath.h operator*(quat, quat)]
    return {a.s * b.s - (a.x * b.x + a.y * b.y + a.z * b.z), a.s * b.x + b.s * a.x + (a.y * b.z - a.z * b.y),
            a.s * b.y + b.s * a.y + (a.z * b.x - a.x * b.z), a.s * b.z + b.s * a.z + (a.x * b.y - a.y * b.x)};
}

template <class T>
HA_HOSTDEVICE Q4<T> qconj(const Q4<T>& a) {
    return {a.s, -a.x, -a.y, -a.z};
}

template <class T>
HA_HOSTDEVICE T qnorm2(const Q4<T>& a) {
    return a.s * a.s + (a.x * a.x + a.y * a.y + a.z * a.z);
}

template <class T>
HA_HOSTDEVICE T qdot(const Q4<T>& a, const Q4<T>& b) {
    return a.s * b.s + (a.x * b.x + a.y * b.y + a.z * b.z);
}

template <class T>
HA_HOSTDEVICE Q4<T> qscale(const T& c, const Q4<T>& a) {
    return {c * a.s, c * a.x, c * a.y, c * a.z};
}

template <class T>
HA_HOSTDEVICE Q4<T> qadd(const Q4<T>& a, const Q4<T>& b) {
    return {a.s + b.s, a.x + b.x, a.y + b.y, a.z + b.z};
}

// rotate(q, b) = (s s - v.v) b + 2 s (v x b) + 2 (v.b) v   [HOOMD VectorMath.h rotate(quat, vec3)]
template <class T>
HA_HOSTDEVICE void qrotate(const Q4<T>& q, const T b[3], T out[3]) {
    const T a = q.s * q.s - (q.x * q.x + q.y * q.y + q.z * q.z);
    const T c = T(2.0) * q.s;
    const T d = T(2.0) * (q.x * b[0] + q.y * b[1] + q.z * b[2]);
    const T cx = q.y * b[2] - q.z * b[1], cy = q.z * b[0] - q.x * b[2], cz = q.x * b[1] - q.y * b[0];
    out[0] = a * b[0] + c * cx + d * q.x;
    out[1] = a * b[1] + c * cy + d * q.y;
    out[2] = a * b[2] + c * cz + d * q.z;
}

}  // namespace ha
