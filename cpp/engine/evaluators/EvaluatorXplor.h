// HOOMD-blue's mode="xplor" around any evaluator E, as PotentialPair::computeForces applies it:
// for r_on^2 <= r^2 < r_cut^2 the potential is multiplied by
//   S = (r^2 - r_cut^2)^2 (r_cut^2 + 2 r^2 - 3 r_on^2) / (r_cut^2 - r_on^2)^3,
// and f/r becomes S f/r - (dS/dr)/r V, with HOOMD's arithmetic (same bits). r_on is a parameter
// (the last one: differentiable like the others). r_on > r_cut means no smoothing but a shift by
// V(r_cut), as HOOMD does it (shifts() says so to the pair force, which owns the shift).
#pragma once
#include <array>
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

template <class E>
struct EvaluatorXplor {
    static constexpr int n_params = E::n_params + 1;
    static constexpr std::array<const char*, n_params> param_names = [] {
        std::array<const char*, n_params> a{};
        for (int k = 0; k < E::n_params; ++k) a[k] = E::param_names[k];
        a[E::n_params] = "r_on";
        return a;
    }();
    static constexpr int n_derived = E::n_derived + 1;  // E's, then r_on^2
    static constexpr bool shift_allowed = false;        // the shift comes with r_on > r_cut
    static constexpr bool lanes = false;                // the switch is a branch on r

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        E::derive(p, d);
        d[E::n_derived] = p[E::n_params] * p[E::n_params];
    }

    // Whether a type pair with these derived parameters is shifted by V(r_cut).
    HA_EVALUATOR static bool shifts(const double* d, double rcutsq) { return d[E::n_derived] > rcutsq; }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& rcutsq, const RP* d, R& force_divr, R& energy) {
        if (!E::eval(rsq, rcutsq, d, force_divr, energy)) return false;
        const RP& ronsq = d[E::n_derived];
        if (value_of(rsq) >= value_of(ronsq) && value_of(rsq) < value_of(rcutsq)) {
            const R old_energy = energy, old_force_divr = force_divr;
            auto denom_inv = 1.0 / ((rcutsq - ronsq) * (rcutsq - ronsq) * (rcutsq - ronsq));
            auto rsq_minus_rcutsq = rsq - rcutsq;
            auto s = rsq_minus_rcutsq * rsq_minus_rcutsq * (rcutsq + 2.0 * rsq - 3.0 * ronsq) * denom_inv;
            auto ds_dr_divr = 12.0 * (rsq - ronsq) * rsq_minus_rcutsq * denom_inv;
            energy = old_energy * s;
            force_divr = s * old_force_divr - ds_dr_divr * old_energy;
        }
        return true;
    }
};

}  // namespace ha
