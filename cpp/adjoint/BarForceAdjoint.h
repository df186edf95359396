// The bar force (engine/BarForce.h) with its adjoint: Jacobian products and the derivatives by
// epsilon, sigma and alpha, in dual numbers through the same bar_point.
#pragma once
#include "adjoint/AdjointForce.h"
#include "engine/BarForce.h"

namespace ha {

class BarForceAdjoint : public BarForce, public AdjointForce {
  public:
    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, int nthreads) override;
    size_t gradSize() const override { return 3; }  // epsilon, sigma, alpha
};

}  // namespace ha
