// Isotropic honeycomb-forming potential of Rechtsman, Stillinger & Torquato, as used in the PNAS
// 2021 kinetics-design paper (its Eq. 1):
//   V(r) = b0/r^12 - a0/r^10 + a1 exp(-a2 r) - b1 exp(-b2 (r - a3)^2)
#pragma once
#include "../../core/HostDevice.h"
#include "EvaluatorMath.h"

namespace ha {

struct EvaluatorPairRechtsman {
    static constexpr int n_params = 7;
    // the parameters' names, in order: Python, the bridge and the component read them from here
    static constexpr const char* param_names[n_params] = {"a0", "a1", "a2", "a3", "b0", "b1", "b2"};
    static constexpr int n_derived = 7;
    static constexpr bool shift_allowed = true;
    static constexpr bool lanes = true;  // vector units pay (exp in Lanes: core/Exp.h; branches on parameters only)

    template <class R>
    HA_EVALUATOR static void derive(const R* p, R* d) {
        for (int k = 0; k < n_params; ++k) d[k] = p[k];
    }

    template <class RS, class RP, class R>
    HA_EVALUATOR static bool eval(const RS& rsq, const RS& /*rcutsq*/, const RP* d, R& force_divr, R& energy) {
        const RP &a0 = d[0], &a1 = d[1], &a2 = d[2], &a3 = d[3], &b0 = d[4], &b1 = d[5], &b2 = d[6];
        auto r2inv = 1.0 / rsq;
        auto r = sqrt(rsq);
        auto rinv = 1.0 / r;
        auto r4inv = r2inv * r2inv;
        auto r10inv = r4inv * r4inv * r2inv;
        auto r12inv = r10inv * r2inv;
        auto e1 = exp(-a2 * r);
        auto dr = r - a3;
        auto e2 = exp(-b2 * dr * dr);
        energy = b0 * r12inv - a0 * r10inv + a1 * e1 - b1 * e2;
        // -V'(r)/r
        force_divr =
            (12.0 * b0 * r12inv - 10.0 * a0 * r10inv) * r2inv + (a1 * a2 * e1 - 2.0 * b1 * b2 * dr * e2) * rinv;
        return true;
    }
};

}  // namespace ha
