// One pair's energy as a Taylor jet in s = r^2, from the evaluator's own text (Jet.h): the
// value and first K derivatives of V(s), each optionally carrying d/d(one parameter) as a dual
// number. Small clusters assemble exact Hessians and third derivatives from it.
#pragma once
#include "core/Dual.h"
#include "core/Jet.h"
#include "engine/evaluators/EvaluatorMath.h"

namespace ha {

// T = double (no parameter derivative) or Dual<1> (slot 0 = parameter `wrt` of the pair).
// Returns false when the pair does not interact (beyond r_cut, or the evaluator says so).
template <class E, class T, int K>
HA_HOSTDEVICE bool pair_jet(double rsq, double rcutsq, const double* params, int wrt, bool shift, Jet<T, K>& V) {
    using J = Jet<T, K>;
    if (!(rsq < rcutsq)) return false;
    J p[E::n_params], d[E::n_derived];
    for (int q = 0; q < E::n_params; ++q) {
        if constexpr (std::is_same_v<T, double>) {
            p[q] = J(params[q]);
        } else {
            p[q] = J::constant(q == wrt ? T::variable(params[q], 0) : T(params[q]));
        }
    }
    E::derive(p, d);
    J f;
    if (!E::eval(J::variable(rsq), J(rcutsq), d, f, V)) return false;
    if (shift) {  // HOOMD's mode="shift": V(r) - V(r_cut), a constant in s
        J fc, Vc;
        if (E::eval(J(rcutsq), J(rcutsq), d, fc, Vc)) V.c[0] = V.c[0] - Vc.c[0];
    }
    return true;
}

}  // namespace ha
