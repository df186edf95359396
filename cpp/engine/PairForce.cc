// The pair force's parameters and cutoffs (Force.h); the forward pass is PairForceT.h.
#include <stdexcept>

#include "engine/Force.h"

namespace ha {

void PairForce::setParams(uint32_t a, uint32_t b, const std::vector<double>& p) {
    if (a >= m_ntypes || b >= m_ntypes) throw std::out_of_range("type index out of range");
    if (int(p.size()) != m_n_params) throw std::invalid_argument("wrong number of pair parameters");
    for (int k = 0; k < m_n_params; ++k) {
        m_params[(size_t(a) * m_ntypes + b) * m_n_params + k] = p[k];
        m_params[(size_t(b) * m_ntypes + a) * m_n_params + k] = p[k];
    }
    m_set[a * m_ntypes + b] = m_set[b * m_ntypes + a] = 1;
    m_dirty = true;
}

void PairForce::setRcut(uint32_t a, uint32_t b, double rcut) {
    if (a >= m_ntypes || b >= m_ntypes) throw std::out_of_range("type index out of range");
    m_rcut[a * m_ntypes + b] = m_rcut[b * m_ntypes + a] = rcut;
    m_dirty = true;
}

void PairForce::setShift(bool shift) {
    if (shift && !m_shift_allowed) throw std::invalid_argument("this potential does not accept mode='shift'");
    m_shift = shift;
    m_dirty = true;
}

void PairForce::prepare(const ParticleData& pd) {
    resize(pd.N);
    if (m_dirty) updateTables();
}

}  // namespace ha
