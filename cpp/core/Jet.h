// Truncated Taylor series ("jets") in one variable: f(s0 + h) = sum_{k<=K} c[k] h^k.
// Evaluating a pair evaluator's energy on a jet in s = r^2 gives V and its first K derivatives
// in s from the evaluator's own text (c[k] = V^(k)(s0) / k!), which is what the Hessian and the
// third-derivative tensor of a small cluster need. The coefficients may themselves be dual
// numbers (Dual.h), so the same pass also differentiates every coefficient with respect to a
// parameter.
#pragma once
#include <cmath>
#include "HostDevice.h"

namespace ha {

template <class T, int K>
struct Jet {
    T c[K + 1];
    HA_HOSTDEVICE Jet() {
        for (int k = 0; k <= K; ++k) c[k] = T(0.0);
    }
    HA_HOSTDEVICE Jet(double x) {  // NOLINT: constants promote implicitly
        c[0] = T(x);
        for (int k = 1; k <= K; ++k) c[k] = T(0.0);
    }
    HA_HOSTDEVICE static Jet constant(const T& x) {
        Jet r;
        r.c[0] = x;
        return r;
    }
    // the variable itself at s0: s0 + h
    HA_HOSTDEVICE static Jet variable(double s0) {
        Jet r(s0);
        if (K >= 1) r.c[1] = T(1.0);
        return r;
    }
};

namespace jet_detail {
HA_HOSTDEVICE double val(double x) {
    return x;
}
template <class T>
HA_HOSTDEVICE double val(const T& x) {
    return x.v;
}
}  // namespace jet_detail

template <class T, int K>
HA_HOSTDEVICE double value_of(const Jet<T, K>& a) {
    return jet_detail::val(a.c[0]);
}

template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator+(const Jet<T, K>& a, const Jet<T, K>& b) {
    Jet<T, K> r;
    for (int k = 0; k <= K; ++k) r.c[k] = a.c[k] + b.c[k];
    return r;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator-(const Jet<T, K>& a, const Jet<T, K>& b) {
    Jet<T, K> r;
    for (int k = 0; k <= K; ++k) r.c[k] = a.c[k] - b.c[k];
    return r;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator-(const Jet<T, K>& a) {
    Jet<T, K> r;
    for (int k = 0; k <= K; ++k) r.c[k] = -a.c[k];
    return r;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator*(const Jet<T, K>& a, const Jet<T, K>& b) {
    Jet<T, K> r;
    for (int k = 0; k <= K; ++k) {
        T s = a.c[0] * b.c[k];
        for (int i = 1; i <= k; ++i) s = s + a.c[i] * b.c[k - i];
        r.c[k] = s;
    }
    return r;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator/(const Jet<T, K>& a, const Jet<T, K>& b) {
    Jet<T, K> q;
    const T inv = 1.0 / b.c[0];
    for (int k = 0; k <= K; ++k) {
        T s = a.c[k];
        for (int i = 1; i <= k; ++i) s = s - b.c[i] * q.c[k - i];
        q.c[k] = s * inv;
    }
    return q;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> exp(const Jet<T, K>& a) {
    using std::exp;
    Jet<T, K> e;
    e.c[0] = exp(a.c[0]);
    for (int k = 1; k <= K; ++k) {
        T s = a.c[1] * e.c[k - 1];
        for (int i = 2; i <= k; ++i) s = s + double(i) * (a.c[i] * e.c[k - i]);
        e.c[k] = s * (1.0 / k);
    }
    return e;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> log(const Jet<T, K>& a) {
    // a l' = a': l_k = (a_k - (1/k) sum_{i<k} i l_i a_{k-i}) / a_0
    using std::log;
    Jet<T, K> l;
    l.c[0] = log(a.c[0]);
    const T inv = 1.0 / a.c[0];
    for (int k = 1; k <= K; ++k) {
        T s = a.c[k];
        for (int i = 1; i < k; ++i) s = s - (double(i) / k) * (l.c[i] * a.c[k - i]);
        l.c[k] = s * inv;
    }
    return l;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> pow(const Jet<T, K>& a, const Jet<T, K>& b) {  // (its value: exp(b log a), not std::pow's bits)
    return exp(b * log(a));
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> sqrt(const Jet<T, K>& a) {
    using std::sqrt;
    Jet<T, K> r;
    r.c[0] = sqrt(a.c[0]);
    const T inv2 = 0.5 / r.c[0];
    for (int k = 1; k <= K; ++k) {
        T s = a.c[k];
        for (int i = 1; i < k; ++i) s = s - r.c[i] * r.c[k - i];
        r.c[k] = s * inv2;
    }
    return r;
}

// mixed with plain numbers
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator+(const Jet<T, K>& a, double b) {
    Jet<T, K> r = a;
    r.c[0] = a.c[0] + b;
    return r;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator+(double a, const Jet<T, K>& b) {
    return b + a;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator-(const Jet<T, K>& a, double b) {
    Jet<T, K> r = a;
    r.c[0] = a.c[0] - b;
    return r;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator-(double a, const Jet<T, K>& b) {
    return -b + a;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator*(const Jet<T, K>& a, double b) {
    Jet<T, K> r;
    for (int k = 0; k <= K; ++k) r.c[k] = a.c[k] * b;
    return r;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator*(double a, const Jet<T, K>& b) {
    return b * a;
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator/(const Jet<T, K>& a, double b) {
    return a * (1.0 / b);
}
template <class T, int K>
HA_HOSTDEVICE Jet<T, K> operator/(double a, const Jet<T, K>& b) {
    return Jet<T, K>(a) / b;
}

}  // namespace ha
