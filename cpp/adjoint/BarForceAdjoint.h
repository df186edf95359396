// The bar force (engine/BarForce.h) with its adjoint: Jacobian products and the derivatives by
// epsilon, sigma and alpha, in dual numbers through the same bar_point.
#pragma once
#include "adjoint/AdjointForce.h"
#include "engine/BarForce.h"

namespace ha {

class BarForceAdjoint : public BarForce, public AdjointForce {
  public:
    // (sel: all three parameters or null; a bar has no narrower dual numbers)
    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* sel, int nthreads) override;
    size_t gradSize() const override { return 3; }  // epsilon, sigma, alpha
    int paramCount() const override { return 3; }
};

}  // namespace ha
