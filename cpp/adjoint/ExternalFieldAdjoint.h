// The electric field (engine/ExternalField.h) with its adjoint. F_i = q_i E_t does not depend on
// the positions (J = 0); dF_i/dE_t = q_i for the particle's own type, dU_i/dE_t = -q_i r_i.
#pragma once
#include "adjoint/AdjointForce.h"
#include "engine/ExternalField.h"

namespace ha {

class ElectricFieldAdjoint : public ElectricField, public AdjointForce {
  public:
    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* sel, int) override {
        prepare(pd);
        bool on[3] = {true, true, true};
        if (sel) {
            on[0] = on[1] = on[2] = false;
            for (int k : *sel) on[k] = true;
        }
        for (uint32_t i = 0; i < pd.N; ++i) {
            const double q = pd.charge[i];
            const size_t t = pd.typeid_[i];
            for (int c = 0; c < 3; ++c) {
                if (!on[c]) continue;
                if (gparams) gparams[3 * t + c] += w[0][3 * size_t(i) + c] * q;
                if (eparams) eparams[3 * t + c] += -q * pd.pos[3 * size_t(i) + c];
                for (int k = 0; ptan && k < K; ++k)
                    if (ptan[k]) out[k][3 * size_t(i) + c] += q * ptan[k][3 * t + c];
            }
        }
    }
    size_t gradSize() const override { return m_E.size(); }  // ntypes x (Ex, Ey, Ez)
    int paramCount() const override { return 3; }
};

}  // namespace ha
