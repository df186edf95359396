// The bar force (engine/BarForce.h) with its adjoint: Jacobian products and the derivatives by
// epsilon, sigma and alpha, in dual numbers through the same bar_point.
#pragma once
#include "core/Dual.h"
#include "core/HostDevice.h"
#include "adjoint/AdjointForce.h"
#include "engine/BarForce.h"

namespace ha {

// The pair (bar ia-ib, point iv) in out += J^T w (slot 0 of the dual numbers: the direction w;
// J is symmetric, F = -grad U), with gparams += w . dF/d(epsilon, sigma, alpha) and eparams +=
// dU/d(them) where given (slots 1-3). False where the point is out of range (nothing added). The
// host's applyJacobian and the device's sweep (device/BarForceDevice.h) loop over the pairs.
HA_HOSTDEVICE bool bar_pair_jacobian(const BoxDim& box, const double* pos, uint32_t ia, uint32_t ib, uint32_t iv,
                                     const double p[3], const double* w, double* out, double* gparams,
                                     double* eparams) {
    using D = Dual<4>;
    double a0[3], b0[3], v0[3];
    bar_relative(box, pos, ia, ib, iv, a0, b0, v0);
    D a[3], b[3], v[3];
    for (int c = 0; c < 3; ++c) {
        a[c] = D(a0[c]);
        a[c].d[0] = w[3 * ia + c];
        b[c] = D(b0[c]);
        b[c].d[0] = w[3 * ib + c];
        v[c] = D(v0[c]);
        v[c].d[0] = w[3 * iv + c];
    }
    const D eps = D::variable(p[0], 1), sigma = D::variable(p[1], 2), alpha = D::variable(p[2], 3);
    D Fa[3], Fb[3], Fv[3], U;
    if (!bar_point(a, b, v, eps, sigma, alpha, Fa, Fb, Fv, U)) return false;
    for (int c = 0; c < 3; ++c) {
        out[3 * ia + c] += Fa[c].d[0];
        out[3 * ib + c] += Fb[c].d[0];
        out[3 * iv + c] += Fv[c].d[0];
    }
    if (gparams)
        for (int s = 1; s <= 3; ++s) {
            double acc = 0;
            for (int c = 0; c < 3; ++c)
                acc += w[3 * ia + c] * Fa[c].d[s] + w[3 * ib + c] * Fb[c].d[s] + w[3 * iv + c] * Fv[c].d[s];
            gparams[s - 1] += acc;
        }
    if (eparams)
        for (int s = 1; s <= 3; ++s) eparams[s - 1] += U.d[s];
    return true;
}

class BarForceAdjoint : public BarForce, public AdjointForce {
  public:
    // (sel: all three parameters or null; a bar has no narrower dual numbers)
    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* sel, int nthreads) override;
    size_t gradSize() const override { return 3; }  // epsilon, sigma, alpha
    int paramCount() const override { return 3; }
};

}  // namespace ha
