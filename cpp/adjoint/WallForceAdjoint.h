// Wall forces (engine/WallForce.h) with their adjoint: wall_particle in dual numbers, slot 0 the
// direction w (J w, J symmetric per particle), slots 1..P the evaluator's parameters (through
// derive(), and the shift V(r_cut) with them). make_wall_force builds one for an evaluator name.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>

#include "adjoint/AdjointForce.h"
#include "core/Dual.h"
#include "engine/WallForce.h"
#include "engine/evaluators/All.h"

namespace ha {

template <class E>
class WallForceAdjointT : public WallForceT<E>, public AdjointForce {
  public:
    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* sel, int) override {
        this->prepare(pd);
        constexpr int P = E::n_params;
        using D = Dual<1 + P>;
        const std::vector<char> on = selection_mask(sel, P);
        // per type: the derived parameters and the shift V(r_cut) in dual numbers
        const size_t nt = this->m_rcut.size();
        std::vector<D> der(nt * E::n_derived), shift(nt, D(0.0));
        for (size_t t = 0; t < nt; ++t) {
            D prm[P];
            for (int q = 0; q < P; ++q) prm[q] = D::variable(this->m_params[t * P + q], 1 + q);
            E::derive(prm, &der[t * E::n_derived]);
            D fr, vc;
            const double rcsq = this->m_rcutsq[t];
            if (rcsq > 0 && E::eval(D(rcsq), D(rcsq), &der[t * E::n_derived], fr, vc)) shift[t] = vc;
        }
        for (uint32_t i = 0; i < pd.N; ++i) {
            const size_t t = pd.typeid_[i];
            const double rcsq = this->m_rcutsq[t];
            for (int k = 0; k < K; ++k) {
                D p[3], F[3], U;
                for (int c = 0; c < 3; ++c) {
                    p[c] = D(pd.pos[3 * size_t(i) + c]);
                    p[c].d[0] = w[k][3 * size_t(i) + c];
                }
                wall_particle<E>(this->m_walls, p, &der[t * E::n_derived], rcsq, shift[t], this->m_rextrap[t], F, U);
                for (int c = 0; c < 3; ++c) {
                    double add = F[c].d[0];
                    if (ptan && ptan[k])
                        for (int q = 0; q < P; ++q)
                            if (on[q]) add += F[c].d[1 + q] * ptan[k][t * P + q];
                    out[k][3 * size_t(i) + c] += add;
                }
                if (k != 0) continue;
                for (int q = 0; q < P; ++q) {
                    if (!on[q]) continue;
                    if (gparams) {
                        double acc = 0.0;
                        for (int c = 0; c < 3; ++c) acc += w[0][3 * size_t(i) + c] * F[c].d[1 + q];
                        gparams[t * P + q] += acc;
                    }
                    if (eparams) eparams[t * P + q] += U.d[1 + q];
                }
            }
        }
    }
    size_t gradSize() const override { return this->m_rcut.size() * E::n_params; }  // ntypes x P
    int paramCount() const override { return E::n_params; }
};

// The wall potentials HOOMD-blue 4.8.2 has (md.external.wall), by evaluator name.
inline std::shared_ptr<WallForce> make_wall_force(const std::string& name) {
    if (name == "LJ") return std::make_shared<WallForceAdjointT<EvaluatorPairLJ>>();
    if (name == "Gaussian") return std::make_shared<WallForceAdjointT<EvaluatorPairGauss>>();
    if (name == "Yukawa") return std::make_shared<WallForceAdjointT<EvaluatorPairYukawa>>();
    if (name == "Morse") return std::make_shared<WallForceAdjointT<EvaluatorPairMorse>>();
    if (name == "ForceShiftedLJ") return std::make_shared<WallForceAdjointT<EvaluatorPairForceShiftedLJ>>();
    if (name == "Mie") return std::make_shared<WallForceAdjointT<EvaluatorPairMie>>();
    throw std::invalid_argument("unknown wall potential '" + name + "'");
}

}  // namespace ha
