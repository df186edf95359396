#include "engine/BarForce.h"

#include <stdexcept>

#include "core/Dual.h"
#include "core/Format.h"

namespace ha {

void BarForce::prepare(const ParticleData& pd) {
    for (uint32_t i : m_ends)
        if (i >= pd.N) throw std::invalid_argument(format("bar end tag %u is not a particle (N = %u)", i, pd.N));
    for (uint32_t i : m_points)
        if (i >= pd.N) throw std::invalid_argument(format("bar target tag %u is not a particle (N = %u)", i, pd.N));
    if (!(m_p[1] > 0) || !(m_p[2] > 0))
        throw std::invalid_argument(format("bar sigma and alpha must be > 0, got %g and %g", m_p[1], m_p[2]));
}

void BarForce::compute(const ParticleData& pd, uint64_t, int) {
    resize(pd.N);
    for (size_t k = 0; k + 1 < m_ends.size(); k += 2) {
        const uint32_t ia = m_ends[k], ib = m_ends[k + 1];
        for (uint32_t iv : m_points) {
            if (pd.body[iv] >= 0 && pd.body[iv] == pd.body[ia]) continue;
            double a[3], b[3], v[3], Fa[3], Fb[3], Fv[3], U;
            bar_relative(pd, ia, ib, iv, a, b, v);
            if (!bar_point(a, b, v, m_p[0], m_p[1], m_p[2], Fa, Fb, Fv, U)) continue;
            for (int c = 0; c < 3; ++c) {
                force[3 * ia + c] += Fa[c];
                force[3 * ib + c] += Fb[c];
                force[3 * iv + c] += Fv[c];
            }
            // energy: half to the point, a quarter to each end
            energy[iv] += 0.5 * U;
            energy[ia] += 0.25 * U;
            energy[ib] += 0.25 * U;
        }
    }
}

}  // namespace ha
