// Gaussian: V = eps exp(-r^2 / (2 sigma^2)). As HOOMD's EvaluatorPairGauss.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairGauss {
    static constexpr int n_params = 2;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "sigma"};
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
        auto sigma_sq = d[1] * d[1];
        auto exp_val = exp(-0.5 * (rsq / sigma_sq));
        force_divr = d[0] / sigma_sq * exp_val;
        energy = d[0] * exp_val;
        return true;
    }
};

}  // namespace ha
