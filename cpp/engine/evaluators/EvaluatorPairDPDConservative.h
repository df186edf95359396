// Soft-sphere repulsion (HOOMD's DPDConservative): V = A (rc - r) - A (rc^2 - r^2) / (2 rc)
// = (A / 2rc) (rc - r)^2, a harmonic soft sphere of diameter rc = r_cut. Zero at the cutoff.
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairDPDConservative {
    static constexpr int n_params = 1;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"A"};
    static constexpr int n_derived = 1;
    static constexpr bool shift_allowed = false;
    static constexpr bool lanes = true;  // vector units pay (no exp; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        d[0] = p[0];
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& rcutsq, const RP* d, R& force_divr, R& energy) {
        auto rinv = 1.0 / sqrt(rsq);
        auto r = 1.0 / rinv;
        auto rcutinv = 1.0 / sqrt(rcutsq);
        auto rcut = 1.0 / rcutinv;
        force_divr = d[0] * (rinv - rcutinv);
        energy = d[0] * (rcut - r) - 0.5 * d[0] * rcutinv * (rcutsq - rsq);
        return true;
    }
};

}  // namespace ha
