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

std::vector<uint32_t> BarForce::triples(const ParticleData& pd) const {
    std::vector<uint32_t> out;
    for (size_t k = 0; k + 1 < m_ends.size(); k += 2)
        for (uint32_t iv : m_points)
            if (!(pd.body[iv] >= 0 && pd.body[iv] == pd.body[m_ends[k]]))
                out.insert(out.end(), {m_ends[k], m_ends[k + 1], iv});
    return out;
}

void BarForce::compute(const ParticleData& pd, uint64_t, int) {
    resize(pd.N);
    for (size_t k = 0; k + 1 < m_ends.size(); k += 2) {
        const uint32_t ia = m_ends[k], ib = m_ends[k + 1];
        for (uint32_t iv : m_points)
            if (!(pd.body[iv] >= 0 && pd.body[iv] == pd.body[ia]))
                bar_pair_add(pd.box, pd.pos.data(), ia, ib, iv, m_p, force.data(), energy.data());
    }
}

}  // namespace ha
