// Buckingham: V = A exp(-r / rho) - C / r^6. Same arithmetic as HOOMD's EvaluatorPairBuckingham
// (a pair with rho <= 0 is off).
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairBuckingham {
    static constexpr int n_params = 3;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"A", "rho", "C"};
    static constexpr int n_derived = 3;
    static constexpr bool shift_allowed = true;
    static constexpr bool lanes = true;  // vector units pay (exp in Lanes: core/Exp.h; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        d[0] = p[0];
        d[1] = p[1];
        d[2] = p[2];
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        if (!(value_of(d[1]) > 0.0)) return false;
        auto r = sqrt(rsq);
        auto exp_factor = d[0] * exp(-r / d[1]);
        auto r2inv = 1.0 / rsq;
        auto r6inv = r2inv * r2inv * r2inv;
        force_divr = (exp_factor / (d[1] * r)) - (r2inv * r6inv * 6.0 * d[2]);
        energy = exp_factor - r6inv * d[2];
        return true;
    }
};

}  // namespace ha
