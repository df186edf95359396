// Forward-mode dual numbers: the adjoint evaluates the same evaluator text in dual numbers to get
// d(force/r)/d(r^2) and derivatives with respect to the parameters, exactly (to rounding) and
// without hand-written derivative code.
//
// A dual number carries the derivative slots [B, E) of one slot space (in the pair loops: slot 0
// is r^2, slots 1..Q the parameters). Quantities that depend on r^2 alone live in [0, 1) and
// parameters in [1, 1 + Q), so the long radial chains of an evaluator (1/r^2, r^-6, sqrt, ...)
// cost one slot, not 1 + Q; an operation's result spans the union of its operands' ranges.
// Each slot is computed by the same formula as it would be over the full range, minus the terms
// that are known to be zero, so the values do not depend on the ranges (to the sign of zero).
#pragma once
#include <cmath>
#include <type_traits>
#include <utility>
#include "HostDevice.h"
#include "Lanes.h"

namespace ha {

using std::cos;
using std::pow;
using std::sin;

// A value of type T from a double or a T (T = Lanes: the double in every lane).
template <class T>
struct Lift;
template <>
struct Lift<double> {
    HA_HOSTDEVICE static double of(double x) { return x; }
};
#if defined(HA_HAVE_LANES)
template <>
struct Lift<Lanes> {
    static Lanes of(double x) { return Lanes{x, x, x, x}; }
    static Lanes of(Lanes x) { return x; }
};
#endif
template <class T, class U>
HA_HOSTDEVICE T lift(const U& x) {
    return Lift<T>::of(x);
}

// T: double, or Lanes (four pairs' duals at once, each lane with the operations of the scalar).
template <int B, int E, class T = double>
struct SDual {
    static_assert(0 <= B && B <= E, "slot range");
    static constexpr int begin = B, end = E, width = E - B;
    using scalar = T;
    T v;
    T d[width > 0 ? width : 1];  // d[k - B] = d/d(slot k)

    HA_HOSTDEVICE SDual() : v(lift<T>(0.0)) {
        for (int k = 0; k < width; ++k) d[k] = lift<T>(0.0);
    }
    HA_HOSTDEVICE SDual(double x) : v(lift<T>(x)) {  // NOLINT: constants promote implicitly
        for (int k = 0; k < width; ++k) d[k] = lift<T>(0.0);
    }
    template <class U = T, class = std::enable_if_t<!std::is_same<U, double>::value>>
    HA_HOSTDEVICE SDual(const T& x) : v(x) {  // NOLINT
        for (int k = 0; k < width; ++k) d[k] = lift<T>(0.0);
    }
    // A sub-range widens implicitly (the slots it does not carry are zero).
    template <int B2, int E2, class = std::enable_if_t<(B <= B2 && E2 <= E && (B2 != B || E2 != E))>>
    HA_HOSTDEVICE SDual(const SDual<B2, E2, T>& a) : v(a.v) {  // NOLINT
        for (int k = 0; k < width; ++k) d[k] = lift<T>(0.0);
        for (int k = 0; k < a.width; ++k) d[B2 - B + k] = a.d[k];
    }
    HA_HOSTDEVICE static SDual variable(const T& x, int slot) {
        SDual r(x);
        r.d[slot - B] = lift<T>(1.0);
        return r;
    }
};

// Dual numbers over slots 0..K-1.
template <int K>
using Dual = SDual<0, K>;

template <int B, int E, class T>
HA_HOSTDEVICE T value_of(const SDual<B, E, T>& x) {
    return x.v;
}

namespace dual_detail {

constexpr int min_(int a, int b) {
    return a < b ? a : b;
}
constexpr int max_(int a, int b) {
    return a > b ? a : b;
}
template <class A, class C>
using Scalar = decltype(typename A::scalar() * typename C::scalar());
template <class A, class C>
using Union = SDual<min_(A::begin, C::begin), max_(A::end, C::end), Scalar<A, C>>;

// f(std::integral_constant<int, k>) for every slot k in [B, E), unrolled at compile time, so that
// which operand carries slot k is known to the compiler.
template <int B, class F, int... I>
HA_HOSTDEVICE void for_slots(F&& f, std::integer_sequence<int, I...>) {
    (f(std::integral_constant<int, B + I>()), ...);
}
template <int B, int E, class F>
HA_HOSTDEVICE void for_slots(F&& f) {
    for_slots<B>(f, std::make_integer_sequence<int, E - B>());
}
template <class A, int k>
constexpr bool has = A::begin <= k && k < A::end;

}  // namespace dual_detail

template <int B1, int E1, class T1, int B2, int E2, class T2>
HA_HOSTDEVICE auto operator+(const SDual<B1, E1, T1>& a, const SDual<B2, E2, T2>& b) {
    using A = SDual<B1, E1, T1>;
    using C = SDual<B2, E2, T2>;
    using R = dual_detail::Union<A, C>;
    R r(a.v + b.v);
    dual_detail::for_slots<R::begin, R::end>([&](auto kc) {
        constexpr int k = decltype(kc)::value;
        if constexpr (dual_detail::has<A, k> && dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.d[k - B1] + b.d[k - B2]);
        else if constexpr (dual_detail::has<A, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.d[k - B1]);
        else if constexpr (dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(b.d[k - B2]);
    });
    return r;
}
template <int B1, int E1, class T1, int B2, int E2, class T2>
HA_HOSTDEVICE auto operator-(const SDual<B1, E1, T1>& a, const SDual<B2, E2, T2>& b) {
    using A = SDual<B1, E1, T1>;
    using C = SDual<B2, E2, T2>;
    using R = dual_detail::Union<A, C>;
    R r(a.v - b.v);
    dual_detail::for_slots<R::begin, R::end>([&](auto kc) {
        constexpr int k = decltype(kc)::value;
        if constexpr (dual_detail::has<A, k> && dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.d[k - B1] - b.d[k - B2]);
        else if constexpr (dual_detail::has<A, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.d[k - B1]);
        else if constexpr (dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(-b.d[k - B2]);
    });
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator-(const SDual<B, E, T>& a) {
    SDual<B, E, T> r(-a.v);
    for (int k = 0; k < r.width; ++k) r.d[k] = -a.d[k];
    return r;
}
template <int B1, int E1, class T1, int B2, int E2, class T2>
HA_HOSTDEVICE auto operator*(const SDual<B1, E1, T1>& a, const SDual<B2, E2, T2>& b) {
    using A = SDual<B1, E1, T1>;
    using C = SDual<B2, E2, T2>;
    using R = dual_detail::Union<A, C>;
    R r(a.v * b.v);
    dual_detail::for_slots<R::begin, R::end>([&](auto kc) {
        constexpr int k = decltype(kc)::value;
        if constexpr (dual_detail::has<A, k> && dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.d[k - B1] * b.v + a.v * b.d[k - B2]);
        else if constexpr (dual_detail::has<A, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.d[k - B1] * b.v);
        else if constexpr (dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.v * b.d[k - B2]);
    });
    return r;
}
template <int B1, int E1, class T1, int B2, int E2, class T2>
HA_HOSTDEVICE auto operator/(const SDual<B1, E1, T1>& a, const SDual<B2, E2, T2>& b) {
    using A = SDual<B1, E1, T1>;
    using C = SDual<B2, E2, T2>;
    using R = dual_detail::Union<A, C>;
    R r(a.v / b.v);
    const auto inv = 1.0 / b.v;
    dual_detail::for_slots<R::begin, R::end>([&](auto kc) {
        constexpr int k = decltype(kc)::value;
        if constexpr (dual_detail::has<A, k> && dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>((a.d[k - B1] - r.v * b.d[k - B2]) * inv);
        else if constexpr (dual_detail::has<A, k>)
            r.d[k - R::begin] = lift<typename R::scalar>(a.d[k - B1] * inv);
        else if constexpr (dual_detail::has<C, k>)
            r.d[k - R::begin] = lift<typename R::scalar>((-(r.v * b.d[k - B2])) * inv);
    });
    return r;
}
// Mixed double/dual operations, written out: promoting the double to a dual would multiply
// and add its zero tangents for nothing.
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator+(double a, const SDual<B, E, T>& b) {
    SDual<B, E, T> r = b;
    r.v = a + b.v;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator+(const SDual<B, E, T>& a, double b) {
    SDual<B, E, T> r = a;
    r.v = a.v + b;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator-(double a, const SDual<B, E, T>& b) {
    SDual<B, E, T> r(a - b.v);
    for (int k = 0; k < r.width; ++k) r.d[k] = -b.d[k];
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator-(const SDual<B, E, T>& a, double b) {
    SDual<B, E, T> r = a;
    r.v = a.v - b;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator*(double a, const SDual<B, E, T>& b) {
    SDual<B, E, T> r(a * b.v);
    for (int k = 0; k < r.width; ++k) r.d[k] = a * b.d[k];
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator*(const SDual<B, E, T>& a, double b) {
    SDual<B, E, T> r(a.v * b);
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * b;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator/(double a, const SDual<B, E, T>& b) {
    SDual<B, E, T> r(a / b.v);
    const auto s = -r.v * (1.0 / b.v);  // two independent divisions, not one after the other
    for (int k = 0; k < r.width; ++k) r.d[k] = s * b.d[k];
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> operator/(const SDual<B, E, T>& a, double b) {
    SDual<B, E, T> r(a.v / b);
    const double inv = 1.0 / b;
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * inv;
    return r;
}
template <int B, int E, class T, class U>
HA_HOSTDEVICE SDual<B, E, T>& operator-=(SDual<B, E, T>& a, const U& b) {
    return a = a - b;
}
template <int B, int E, class T, class U>
HA_HOSTDEVICE SDual<B, E, T>& operator+=(SDual<B, E, T>& a, const U& b) {
    return a = a + b;
}

template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> sqrt(const SDual<B, E, T>& a) {
    SDual<B, E, T> r(sqrt(a.v));
    const auto h = 0.5 / r.v;
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * h;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> exp(const SDual<B, E, T>& a) {
    SDual<B, E, T> r(exp(a.v));
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * r.v;
    return r;
}

template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> log(const SDual<B, E, T>& a) {
    SDual<B, E, T> r(log(a.v));
    const auto h = 1.0 / a.v;
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * h;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> cos(const SDual<B, E, T>& a) {
    SDual<B, E, T> r(cos(a.v));
    const auto h = -sin(a.v);
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * h;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> sin(const SDual<B, E, T>& a) {
    SDual<B, E, T> r(sin(a.v));
    const auto h = cos(a.v);
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * h;
    return r;
}
template <int B, int E, class T>
HA_HOSTDEVICE SDual<B, E, T> tanh(const SDual<B, E, T>& a) {
    using std::tanh;
    SDual<B, E, T> r(tanh(a.v));
    const auto h = 1.0 - r.v * r.v;
    for (int k = 0; k < r.width; ++k) r.d[k] = a.d[k] * h;
    return r;
}
// pow with a dual base, exponent or both (Mie's exponents are parameters): the value is std::pow's,
// the forward map's bits; the slots are those of exp(b log a), d = pow (b da / a + log(a) db).
template <class X>
struct is_dual : std::false_type {};
template <int B, int E, class T>
struct is_dual<SDual<B, E, T>> : std::true_type {};
namespace dual_detail {
HA_HOSTDEVICE double val(double x) {
    return x;
}
template <int B, int E, class T>
HA_HOSTDEVICE T val(const SDual<B, E, T>& x) {
    return x.v;
}
}  // namespace dual_detail
template <class X, class Y, class = std::enable_if_t<is_dual<X>::value || is_dual<Y>::value>>
HA_HOSTDEVICE auto pow(const X& a, const Y& b) {
    auto r = b * log(a);
    const auto p = std::pow(dual_detail::val(a), dual_detail::val(b));
    for (int k = 0; k < r.width; ++k) r.d[k] = r.d[k] * p;
    r.v = p;
    return r;
}

// Branches (masks such as "moment of inertia == 0") compare values only.
template <int B1, int E1, int B2, int E2>
HA_HOSTDEVICE bool operator==(const SDual<B1, E1>& a, const SDual<B2, E2>& b) {
    return a.v == b.v;
}

}  // namespace ha
