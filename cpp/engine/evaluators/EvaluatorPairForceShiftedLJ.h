// Force-shifted Lennard-Jones: V = V_LJ(r) + (r - r_cut) F_LJ(r_cut), so that the force goes to zero
// at r_cut (the energy is not shifted: mode 'none' only). Same arithmetic as HOOMD's
// EvaluatorPairForceShiftedLJ.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairForceShiftedLJ {
    static constexpr int n_params = 2;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"epsilon", "sigma"};
    static constexpr int n_derived = 2;           // lj1 = 4 eps sigma^12, lj2 = 4 eps sigma^6
    static constexpr bool shift_allowed = false;  // as HOOMD-blue: mode 'none' only
    static constexpr bool lanes = true;           // vector units pay (no exp; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        R sigma_6 = p[1] * p[1] * p[1] * p[1] * p[1] * p[1];
        R eps4 = 4.0 * p[0];
        d[0] = eps4 * sigma_6 * sigma_6;
        d[1] = eps4 * sigma_6;
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& rcutsq, const RP* d, R& force_divr, R& energy) {
        if (value_of(d[0]) == 0.0) return false;
        auto r2inv = 1.0 / rsq;
        auto r6inv = r2inv * r2inv * r2inv;
        force_divr = r2inv * r6inv * (12.0 * d[0] * r6inv - 6.0 * d[1]);
        energy = r6inv * (d[0] * r6inv - d[1]);
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
