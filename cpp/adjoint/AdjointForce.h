// What a force needs for the adjoint: Jacobian products and parameter derivatives. Forces with
// an adjoint implement this beside engine/Force.h (PairForceAdjoint.h, BarForceAdjoint.h); the
// adjoint finds it with adjoint_of.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/Force.h"
#include "engine/ParticleData.h"

namespace ha {

class AdjointForce {
  public:
    virtual ~AdjointForce() = default;
    // For each of K vectors, out[k] += J_F(r) w[k] [+ (dF/dtheta) ptan[k]]; gparams (gradSize())
    // += w[0] . dF/dtheta; eparams (gradSize()) += dE/dtheta. gparams, eparams, ptan and any
    // ptan[k] may be null. pd.postype must be packed. sel: the parameters differentiated (indices
    // into 0..paramCount()-1, checked by the caller; null: all): entries of gparams and eparams
    // not selected stay untouched, those of ptan are ignored (the layouts stay ntypes^2 x P).
    virtual void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out,
                               double* gparams, double* eparams, const double* const* ptan, const std::vector<int>* sel,
                               int nthreads) = 0;
    // Entries of this force's parameter gradient.
    virtual size_t gradSize() const = 0;
    // Parameters per type pair (per force for a force without types), what a selection indexes.
    virtual int paramCount() const = 0;
};

// Which of P parameters a selection (indices; null: all) differentiates.
inline std::vector<char> selection_mask(const std::vector<int>* sel, int P) {
    std::vector<char> on(P, sel == nullptr);
    if (sel)
        for (int k : *sel) on[k] = 1;
    return on;
}

// The adjoint of a force; a clear error for a force without one.
inline AdjointForce& adjoint_of(Force& f) {
    if (auto* a = dynamic_cast<AdjointForce*>(&f)) return *a;
    throw std::invalid_argument(std::string("the adjoint: ") + f.kind() + " have no adjoint (so far)");
}

}  // namespace ha
