// The bar force's adjoint (BarForceAdjoint.h).
#include "adjoint/BarForceAdjoint.h"

#include <stdexcept>

#include "core/Dual.h"
#include "core/Format.h"

namespace ha {

void BarForceAdjoint::applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out,
                                    double* gparams, double* eparams, const double* const* ptan,
                                    const std::vector<int>* sel, int) {
    if (sel && sel->size() != 3)
        throw std::invalid_argument(
            format("bar forces differentiate all three parameters (epsilon, sigma, alpha) at once; %zu were selected",
                   sel->size()));
    if (ptan)
        for (int k = 0; k < K; ++k)
            if (ptan[k]) throw std::invalid_argument("bar forces have no parameter tangents (forward mode)");
    // slot 0: the direction w (J is symmetric: F = -grad U), slots 1..3: epsilon, sigma, alpha
    using D = Dual<4>;
    for (size_t k = 0; k + 1 < m_ends.size(); k += 2) {
        const uint32_t ia = m_ends[k], ib = m_ends[k + 1];
        for (uint32_t iv : m_points) {
            if (pd.body[iv] >= 0 && pd.body[iv] == pd.body[ia]) continue;
            double a0[3], b0[3], v0[3];
            bar_relative(pd, ia, ib, iv, a0, b0, v0);
            for (int q = 0; q < K; ++q) {
                D a[3], b[3], v[3];
                for (int c = 0; c < 3; ++c) {
                    a[c] = D(a0[c]);
                    a[c].d[0] = w[q][3 * ia + c];
                    b[c] = D(b0[c]);
                    b[c].d[0] = w[q][3 * ib + c];
                    v[c] = D(v0[c]);
                    v[c].d[0] = w[q][3 * iv + c];
                }
                const D eps = D::variable(m_p[0], 1), sigma = D::variable(m_p[1], 2), alpha = D::variable(m_p[2], 3);
                D Fa[3], Fb[3], Fv[3], U;
                if (!bar_point(a, b, v, eps, sigma, alpha, Fa, Fb, Fv, U)) break;  // (w does not change d < sigma)
                for (int c = 0; c < 3; ++c) {
                    out[q][3 * ia + c] += Fa[c].d[0];
                    out[q][3 * ib + c] += Fb[c].d[0];
                    out[q][3 * iv + c] += Fv[c].d[0];
                }
                if (q == 0 && gparams)
                    for (int s = 1; s <= 3; ++s) {
                        double acc = 0;
                        for (int c = 0; c < 3; ++c)
                            acc += w[0][3 * ia + c] * Fa[c].d[s] + w[0][3 * ib + c] * Fb[c].d[s] +
                                   w[0][3 * iv + c] * Fv[c].d[s];
                        gparams[s - 1] += acc;
                    }
                if (q == 0 && eparams)
                    for (int s = 1; s <= 3; ++s) eparams[s - 1] += U.d[s];
            }
        }
    }
}

}  // namespace ha
