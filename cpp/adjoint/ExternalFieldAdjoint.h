// The external fields (engine/ExternalField.h) with their adjoints.
// Electric: F_i = q_i E_t does not depend on the positions (J = 0); dF_i/dE_t = q_i for the
// particle's own type, dU_i/dE_t = -q_i r_i.
// Periodic: the same periodic_field in dual numbers (slot 0: the direction w, J w = dF/dr . w;
// slots 1, 2: A and w).
#pragma once
#include <algorithm>

#include "adjoint/AdjointForce.h"
#include "core/Dual.h"
#include "engine/ExternalField.h"

namespace ha {

class ElectricFieldAdjoint : public ElectricField, public AdjointForce {
  public:
    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* sel, int) override {
        prepare(pd);
        const std::vector<char> on = selection_mask(sel, 3);
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

class PeriodicFieldAdjoint : public PeriodicField, public AdjointForce {
  public:
    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* sel, int) override {
        prepare(pd);
        const std::vector<char> on = selection_mask(sel, 2);
        using D = Dual<3>;
        const std::vector<double> q_of = wavevectors(pd.box);
        for (uint32_t i = 0; i < pd.N; ++i) {
            const Params& P = m_params[pd.typeid_[i]];
            const size_t t = pd.typeid_[i];
            const double* q = &q_of[3 * t];
            for (int k = 0; k < std::max(K, 1); ++k) {
                D r[3], F[3], U;
                for (int c = 0; c < 3; ++c) {
                    r[c] = D(pd.pos[3 * size_t(i) + c]);
                    r[c].d[0] = K > 0 ? w[k][3 * size_t(i) + c] : 0.0;
                }
                periodic_field(r, q, D::variable(P.A, 1), D::variable(P.w, 2), P.p, F, U);
                for (int c = 0; c < 3; ++c) {
                    double add = F[c].d[0];
                    if (ptan && ptan[k])
                        for (int s = 0; s < 2; ++s)
                            if (on[s]) add += F[c].d[1 + s] * ptan[k][2 * t + s];
                    if (K > 0) out[k][3 * size_t(i) + c] += add;
                }
                if (k != 0) continue;
                for (int s = 0; s < 2; ++s) {
                    if (!on[s]) continue;
                    if (gparams) {
                        double acc = 0.0;
                        for (int c = 0; c < 3; ++c) acc += w[0][3 * size_t(i) + c] * F[c].d[1 + s];
                        gparams[2 * t + s] += acc;
                    }
                    if (eparams) eparams[2 * t + s] += U.d[1 + s];
                }
            }
        }
    }
    size_t gradSize() const override { return 2 * m_params.size(); }  // ntypes x (A, w)
    int paramCount() const override { return 2; }
};

}  // namespace ha
