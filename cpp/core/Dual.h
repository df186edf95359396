// Forward-mode dual numbers with K tangent components: the adjoint evaluates the same evaluator
// text in Dual<K> to get d(force/r)/d(r^2) and derivatives with respect to every parameter,
// exactly (to rounding) and without hand-written derivative code.
#pragma once
#include <cmath>
#include "HostDevice.h"

namespace ha {

template <int K>
struct Dual {
    double v;
    double d[K];

    HA_HOSTDEVICE Dual() : v(0) {
        for (int k = 0; k < K; ++k) d[k] = 0;
    }
    HA_HOSTDEVICE Dual(double x) : v(x) {  // NOLINT: constants promote implicitly
        for (int k = 0; k < K; ++k) d[k] = 0;
    }
    HA_HOSTDEVICE static Dual variable(double x, int k) {
        Dual r(x);
        r.d[k] = 1.0;
        return r;
    }
};

template <int K>
HA_HOSTDEVICE double value_of(const Dual<K>& x) { return x.v; }

template <int K>
HA_HOSTDEVICE Dual<K> operator+(const Dual<K>& a, const Dual<K>& b) {
    Dual<K> r(a.v + b.v);
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] + b.d[k];
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator-(const Dual<K>& a, const Dual<K>& b) {
    Dual<K> r(a.v - b.v);
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] - b.d[k];
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator-(const Dual<K>& a) {
    Dual<K> r(-a.v);
    for (int k = 0; k < K; ++k) r.d[k] = -a.d[k];
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator*(const Dual<K>& a, const Dual<K>& b) {
    Dual<K> r(a.v * b.v);
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] * b.v + a.v * b.d[k];
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator/(const Dual<K>& a, const Dual<K>& b) {
    Dual<K> r(a.v / b.v);
    const double inv = 1.0 / b.v;
    for (int k = 0; k < K; ++k) r.d[k] = (a.d[k] - r.v * b.d[k]) * inv;
    return r;
}
// Mixed double/dual operations, written out: promoting the double to a dual would multiply
// and add its zero tangents for nothing.
template <int K>
HA_HOSTDEVICE Dual<K> operator+(double a, const Dual<K>& b) {
    Dual<K> r = b;
    r.v = a + b.v;
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator+(const Dual<K>& a, double b) {
    Dual<K> r = a;
    r.v = a.v + b;
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator-(double a, const Dual<K>& b) {
    Dual<K> r(a - b.v);
    for (int k = 0; k < K; ++k) r.d[k] = -b.d[k];
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator-(const Dual<K>& a, double b) {
    Dual<K> r = a;
    r.v = a.v - b;
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator*(double a, const Dual<K>& b) {
    Dual<K> r(a * b.v);
    for (int k = 0; k < K; ++k) r.d[k] = a * b.d[k];
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator*(const Dual<K>& a, double b) {
    Dual<K> r(a.v * b);
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] * b;
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator/(double a, const Dual<K>& b) {
    Dual<K> r(a / b.v);
    const double s = -r.v / b.v;
    for (int k = 0; k < K; ++k) r.d[k] = s * b.d[k];
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> operator/(const Dual<K>& a, double b) {
    Dual<K> r(a.v / b);
    const double inv = 1.0 / b;
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] * inv;
    return r;
}
template <int K> HA_HOSTDEVICE Dual<K>& operator-=(Dual<K>& a, const Dual<K>& b) { return a = a - b; }
template <int K> HA_HOSTDEVICE Dual<K>& operator+=(Dual<K>& a, const Dual<K>& b) { return a = a + b; }

template <int K>
HA_HOSTDEVICE Dual<K> sqrt(const Dual<K>& a) {
    Dual<K> r(std::sqrt(a.v));
    const double h = 0.5 / r.v;
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] * h;
    return r;
}
template <int K>
HA_HOSTDEVICE Dual<K> exp(const Dual<K>& a) {
    Dual<K> r(std::exp(a.v));
    for (int k = 0; k < K; ++k) r.d[k] = a.d[k] * r.v;
    return r;
}

}  // namespace ha
