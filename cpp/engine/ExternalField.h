// External fields (hoomd.md.external.field): forces on each particle alone, from its type, charge
// and position. Electric: F_i = q_i E_t, U_i = -q_i E_t . r_i (r_i wrapped; virial F r), as
// HOOMD-blue 4.8.2's EvaluatorExternalElectricField, E_t per particle type.
#pragma once
#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>
#include "core/Format.h"
#include "engine/Force.h"

namespace ha {

class ElectricField : public Force {
  public:
    void setField(uint32_t type, std::array<double, 3> E) {
        if (m_E.size() < 3 * size_t(type + 1)) m_E.resize(3 * size_t(type + 1), 0.0);
        for (int c = 0; c < 3; ++c) m_E[3 * size_t(type) + c] = E[c];
    }
    void prepare(const ParticleData& pd) override {
        if (m_E.size() < 3 * size_t(pd.ntypes)) m_E.resize(3 * size_t(pd.ntypes), 0.0);
    }
    void compute(const ParticleData& pd, uint64_t, int) override {
        resize(pd.N);
        prepare(pd);
        for (uint32_t i = 0; i < pd.N; ++i) {
            const double q = pd.charge[i];
            const double* E = &m_E[3 * size_t(pd.typeid_[i])];
            const double* r = &pd.pos[3 * size_t(i)];
            double* F = &force[3 * size_t(i)];
            for (int c = 0; c < 3; ++c) F[c] = q * E[c];
            energy[i] = -q * (E[0] * r[0] + E[1] * r[1] + E[2] * r[2]);
            if (computeVirial) {
                double* w = &virial[6 * size_t(i)];
                w[0] = F[0] * r[0];
                w[1] = F[0] * r[1];
                w[2] = F[0] * r[2];
                w[3] = F[1] * r[1];
                w[4] = F[1] * r[2];
                w[5] = F[2] * r[2];
            }
        }
    }
    const char* kind() const override { return "electric fields"; }

  protected:
    std::vector<double> m_E;  // ntypes x 3
};

}  // namespace ha
