// Bars: segments between two constituents of a rigid body that repel point particles through the
// point-to-segment distance d with a soft sphere, U = (epsilon / alpha) (1 - d / sigma)^alpha for
// d < sigma (the spider's legs in the colloidal-reactions paper). The pair (bar, point) is
// evaluated by one templated function, in doubles for the dynamics and in dual numbers for the
// adjoint's Jacobian products and parameter derivatives. Bars and points are few (a spider's 2n
// legs and a shell's vertices), so every bar meets every point: no neighbour list.
#pragma once
#include <cstdint>
#include <vector>
#include "core/BoxDim.h"
#include "core/Dual.h"
#include "engine/Force.h"
#include "engine/evaluators/EvaluatorMath.h"

namespace ha {

// Forces on the bar's ends a, b and the point v, and the energy; false if d >= sigma.
// d/da = -(1 - u) n and d/db = -u n with u the clamped projection parameter (the derivative of u
// drops out: inside the segment the offset is normal to it, at the ends u is constant).
template <class T>
HA_HOSTDEVICE bool bar_point(const T a[3], const T b[3], const T v[3], const T& eps, const T& sigma, const T& alpha,
                             T Fa[3], T Fb[3], T Fv[3], T& U) {
    using std::exp;
    using std::log;
    using std::sqrt;
    T e[3], va[3];
    for (int k = 0; k < 3; ++k) e[k] = b[k] - a[k], va[k] = v[k] - a[k];
    const T t = (va[0] * e[0] + va[1] * e[1] + va[2] * e[2]) / (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
    const double tv = value_of(t);
    const T u = tv <= 0.0 ? T(0.0) : (tv >= 1.0 ? T(1.0) : t);
    T w[3];
    for (int k = 0; k < 3; ++k) w[k] = va[k] - u * e[k];
    const T d2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2];
    if (!(value_of(d2) < value_of(sigma) * value_of(sigma))) return false;
    const T d = sqrt(d2);
    const T x = 1.0 - d / sigma;
    const T xa = exp(alpha * log(x));
    U = eps / alpha * xa;
    const T fd = eps / sigma * (xa / x) / d;  // -dU/dd / d
    for (int k = 0; k < 3; ++k) {
        Fv[k] = fd * w[k];
        Fa[k] = -(1.0 - u) * Fv[k];
        Fb[k] = -u * Fv[k];
    }
    return true;
}

// a at the origin, b and v by the minimum image from a (the function is translation invariant)
HA_HOSTDEVICE void bar_relative(const BoxDim& box, const double* pos, uint32_t ia, uint32_t ib, uint32_t iv,
                                double a[3], double b[3], double v[3]) {
    const double* pa = pos + 3 * ia;
    const Vec3 e = box.minImage({pos[3 * ib] - pa[0], pos[3 * ib + 1] - pa[1], pos[3 * ib + 2] - pa[2]});
    const Vec3 r = box.minImage({pos[3 * iv] - pa[0], pos[3 * iv + 1] - pa[1], pos[3 * iv + 2] - pa[2]});
    a[0] = a[1] = a[2] = 0.0;
    b[0] = e.x;
    b[1] = e.y;
    b[2] = e.z;
    v[0] = r.x;
    v[1] = r.y;
    v[2] = r.z;
}

// The bar (ia, ib) and the point iv: their forces and energies added (half the energy to the
// point, a quarter to each end). The host's compute loops over the pairs, the device runs the
// same loop (device/BarForceDevice.h).
HA_HOSTDEVICE void bar_pair_add(const BoxDim& box, const double* pos, uint32_t ia, uint32_t ib, uint32_t iv,
                                const double p[3], double* force, double* energy) {
    double a[3], b[3], v[3], Fa[3], Fb[3], Fv[3], U;
    bar_relative(box, pos, ia, ib, iv, a, b, v);
    if (!bar_point(a, b, v, p[0], p[1], p[2], Fa, Fb, Fv, U)) return;
    for (int c = 0; c < 3; ++c) {
        force[3 * ia + c] += Fa[c];
        force[3 * ib + c] += Fb[c];
        force[3 * iv + c] += Fv[c];
    }
    energy[iv] += 0.5 * U;
    energy[ia] += 0.25 * U;
    energy[ib] += 0.25 * U;
}

class BarForce : public Force {
  public:
    // bars: (tag a, tag b) pairs; points: tags the bars repel (never one of the bar's own body)
    void setBars(std::vector<uint32_t> ends, std::vector<uint32_t> points) {
        m_ends = std::move(ends);
        m_points = std::move(points);
    }
    void setParams(double eps, double sigma, double alpha) {
        m_p[0] = eps;
        m_p[1] = sigma;
        m_p[2] = alpha;
    }
    void compute(const ParticleData& pd, uint64_t t, int nthreads) override;
    void prepare(const ParticleData& pd) override;
    const char* kind() const override { return "bar forces"; }
    // The (bar end a, bar end b, point) tag triples the force evaluates, in the order it adds
    // them (every bar with every point outside the bar's body).
    std::vector<uint32_t> triples(const ParticleData& pd) const;

  protected:
    std::vector<uint32_t> m_ends, m_points;
    double m_p[3] = {0, 1, 2};
};

}  // namespace ha
