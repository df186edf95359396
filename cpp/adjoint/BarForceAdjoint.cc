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
    for (size_t k = 0; k + 1 < m_ends.size(); k += 2) {
        const uint32_t ia = m_ends[k], ib = m_ends[k + 1];
        for (uint32_t iv : m_points) {
            if (pd.body[iv] >= 0 && pd.body[iv] == pd.body[ia]) continue;
            for (int q = 0; q < K; ++q)  // (w does not change whether d < sigma)
                if (!bar_pair_jacobian(pd.box, pd.pos.data(), ia, ib, iv, m_p, w[q], out[q], q == 0 ? gparams : nullptr,
                                       q == 0 ? eparams : nullptr))
                    break;
        }
    }
}

}  // namespace ha
