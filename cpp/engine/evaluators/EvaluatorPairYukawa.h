// Yukawa: V = eps exp(-kappa r) / r. As HOOMD's EvaluatorPairYukawa (r = 1/rinv).
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairYukawa {
    static constexpr int n_params = 2;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "kappa"};
    static constexpr int n_derived = 2;
    static constexpr bool shift_allowed = true;
    static constexpr bool lanes = true;  // vector units pay (exp in Lanes: core/Exp.h; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        d[0] = p[0];
        d[1] = p[1];
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        if (value_of(d[0]) == 0.0) return false;
        auto rinv = 1.0 / sqrt(rsq);
        auto r = 1.0 / rinv;
        auto r2inv = 1.0 / rsq;
        auto exp_val = exp(-d[1] * r);
        force_divr = d[0] * exp_val * r2inv * (rinv + d[1]);
        energy = d[0] * exp_val * rinv;
        return true;
    }
};

}  // namespace ha
