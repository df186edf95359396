// Soft sphere (JAX MD's energy.soft_sphere, the patchy-shell and spider repulsion of the
// colloidal-reactions paper): V = (epsilon / alpha) (1 - r / sigma)^alpha for r < sigma, 0 beyond.
// sigma is a parameter (and the interaction's range), so it can be differentiated; r_cut only
// needs to reach it.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairSoftSphere {
    static constexpr int n_params = 3;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "sigma", "alpha"};
    static constexpr int n_derived = 3;
    static constexpr bool shift_allowed = false;

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        d[0] = p[0];
        d[1] = p[1];
        d[2] = p[2];
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        if (!(value_of(rsq) < value_of(d[1]) * value_of(d[1]))) return false;
        auto r = sqrt(rsq);
        auto x = 1.0 - r / d[1];
        auto xa = exp(d[2] * log(x));  // x^alpha, x > 0
        energy = d[0] / d[2] * xa;
        force_divr = d[0] / d[1] * (xa / x) / r;
        return true;
    }
};

}  // namespace ha
