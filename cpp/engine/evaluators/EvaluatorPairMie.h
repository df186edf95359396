// Mie: V = (n/(n-m)) (n/m)^(m/(n-m)) eps [(sigma/r)^n - (sigma/r)^m]. Same arithmetic as HOOMD's
// EvaluatorPairMie; the exponents n and m are parameters like the others (differentiable).
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairMie {
    static constexpr int n_params = 4;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "sigma", "n", "m"};
    static constexpr int n_derived = 4;  // mie1 = C eps sigma^n, mie2 = C eps sigma^m, n, m
    static constexpr bool shift_allowed = true;
    static constexpr bool lanes = false;  // pow has no vector form here

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        const R& n = p[2];
        const R& m = p[3];
        R out_front = (n / (n - m)) * pow(n / m, m / (n - m));
        d[0] = out_front * p[0] * pow(p[1], n);
        d[1] = out_front * p[0] * pow(p[1], m);
        d[2] = n;
        d[3] = m;
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        if (value_of(d[0]) == 0.0) return false;
        auto r2inv = 1.0 / rsq;
        auto rninv = pow(r2inv, d[2] / 2.0);
        auto rminv = pow(r2inv, d[3] / 2.0);
        force_divr = r2inv * (d[2] * d[0] * rninv - d[3] * d[1] * rminv);
        energy = d[0] * rninv - d[1] * rminv;
        return true;
    }
};

}  // namespace ha
