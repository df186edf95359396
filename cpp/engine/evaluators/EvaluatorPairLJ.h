// Lennard-Jones: V = 4 eps [(sigma/r)^12 - (sigma/r)^6]. Same arithmetic as HOOMD's EvaluatorPairLJ.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairLJ {
    static constexpr int n_params = 2;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "sigma"};
    static constexpr int n_derived = 2;  // lj1 = 4 eps sigma^12, lj2 = 4 eps sigma^6
    static constexpr bool shift_allowed = true;
    static constexpr bool lanes = true;  // vector units pay (no exp; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        R sigma_6 = p[1] * p[1] * p[1] * p[1] * p[1] * p[1];
        R eps4 = 4.0 * p[0];
        d[0] = eps4 * sigma_6 * sigma_6;
        d[1] = eps4 * sigma_6;
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        if (value_of(d[0]) == 0.0) return false;
        auto r2inv = 1.0 / rsq;
        auto r6inv = r2inv * r2inv * r2inv;
        force_divr = r2inv * r6inv * (12.0 * d[0] * r6inv - 6.0 * d[1]);
        energy = r6inv * (d[0] * r6inv - d[1]);
        return true;
    }
};

}  // namespace ha
