// Morse: V = D0 [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))]. As HOOMD's EvaluatorPairMorse.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairMorse {
    static constexpr int n_params = 3;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"D0", "alpha", "r0"};
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
        auto r = sqrt(rsq);
        auto E = exp(-d[1] * (r - d[2]));
        energy = d[0] * E * (E - 2.0);
        force_divr = 2.0 * d[0] * d[1] * E * (E - 1.0) / r;
        return true;
    }
};

}  // namespace ha
