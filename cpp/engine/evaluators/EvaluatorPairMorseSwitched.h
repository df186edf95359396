// Morse times HOOMD's XPLOR switch, the form of JAX MD's multiplicative_isotropic_cutoff (the
// spider head's attraction in the colloidal-reactions paper, and the patches'):
//   V = D0 [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))] S(r),
//   S = 1 for r < r_on, (r_off^2 - r^2)^2 (r_off^2 + 2 r^2 - 3 r_on^2) / (r_off^2 - r_on^2)^3 up to r_off.
// r_on and r_off are parameters (the spider optimises them); V and F are continuous at both, so
// r_cut only needs to reach r_off.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairMorseSwitched {
    static constexpr int n_params = 5;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"D0", "alpha", "r0", "r_on", "r_off"};
    static constexpr int n_derived = 5;
    static constexpr bool shift_allowed = false;

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        for (int k = 0; k < 5; ++k) d[k] = p[k];
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        if (!(value_of(rsq) < value_of(d[4]) * value_of(d[4]))) return false;
        auto r = sqrt(rsq);
        auto E = exp(-d[1] * (r - d[2]));
        auto V = d[0] * E * (E - 2.0);
        auto f = 2.0 * d[0] * d[1] * E * (E - 1.0) / r;
        if (value_of(rsq) < value_of(d[3]) * value_of(d[3])) {
            energy = V;
            force_divr = f;
            return true;
        }
        auto on2 = d[3] * d[3], off2 = d[4] * d[4];
        auto den = (off2 - on2) * (off2 - on2) * (off2 - on2);
        auto S = (off2 - rsq) * (off2 - rsq) * (off2 + 2.0 * rsq - 3.0 * on2) / den;
        auto dS = 6.0 * (off2 - rsq) * (on2 - rsq) / den;  // dS / d(r^2)
        energy = V * S;
        force_divr = f * S - 2.0 * V * dS;
        return true;
    }
};

}  // namespace ha
