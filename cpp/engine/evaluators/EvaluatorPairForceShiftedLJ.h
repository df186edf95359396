// Force-shifted Lennard-Jones: V = V_LJ(r) + (r - r_cut) F_LJ(r_cut), so that the force goes to zero
// at r_cut (the energy is not shifted: mode 'none' only). Same arithmetic as HOOMD's
// EvaluatorPairForceShiftedLJ.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"
#include "EvaluatorPairLJ.h"

namespace ha {

struct EvaluatorPairForceShiftedLJ {
    static constexpr int n_params = 2;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "sigma"};
    static constexpr int n_derived = 2;           // LJ's: lj1 = 4 eps sigma^12, lj2 = 4 eps sigma^6
    static constexpr bool shift_allowed = false;  // as HOOMD-blue: mode 'none' only
    static constexpr bool lanes = true;           // vector units pay (no exp; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        EvaluatorPairLJ::derive(p, d);
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& rcutsq, const RP* d, R& force_divr, R& energy) {
        if (!EvaluatorPairLJ::eval(rsq, rcutsq, d, force_divr, energy)) return false;
        auto rcut2inv = 1.0 / rcutsq;
        auto rcut6inv = rcut2inv * rcut2inv * rcut2inv;
        auto rcut_r_inv = 1.0 / sqrt(rsq * rcutsq);
        auto force_rcut_at_rcut = rcut6inv * (12.0 * d[0] * rcut6inv - 6.0 * d[1]);  // r_cut F(r_cut)
        force_divr = force_divr - rcut_r_inv * force_rcut_at_rcut;
        energy = energy + (rsq * rcut_r_inv - 1.0) * force_rcut_at_rcut;
        return true;
    }
};

}  // namespace ha
