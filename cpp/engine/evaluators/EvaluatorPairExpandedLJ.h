// Expanded Lennard-Jones: V = 4 eps [(sigma/(r - delta))^12 - (sigma/(r - delta))^6].
// Same arithmetic as HOOMD's EvaluatorPairExpandedLJ (sigma^6 as sigma^3 sigma^3, r = 1/rinv).
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairExpandedLJ {
    static constexpr int n_params = 3;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "sigma", "delta"};
    static constexpr int n_derived = 3;  // lj1 = 4 eps sigma^12, lj2 = 4 eps sigma^6, delta
    static constexpr bool shift_allowed = true;
    static constexpr bool lanes = true;  // vector units pay (no exp; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        R sigma_3 = p[1] * p[1] * p[1];
        R sigma_6 = sigma_3 * sigma_3;
        R eps4 = 4.0 * p[0];
        d[0] = eps4 * sigma_6 * sigma_6;
        d[1] = eps4 * sigma_6;
        d[2] = p[2];
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        if (value_of(d[0]) == 0.0) return false;
        auto rinv = 1.0 / sqrt(rsq);
        auto r = 1.0 / rinv;
        auto rmdinv = 1.0 / (r - d[2]);
        auto rmd2inv = rmdinv * rmdinv;
        auto rmd6inv = rmd2inv * rmd2inv * rmd2inv;
        force_divr = rinv * rmdinv * rmd6inv * (12.0 * d[0] * rmd6inv - 6.0 * d[1]);
        energy = rmd6inv * (d[0] * rmd6inv - d[1]);
        return true;
    }
};

}  // namespace ha
