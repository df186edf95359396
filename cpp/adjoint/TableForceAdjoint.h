// pair.Table's adjoint. Its parameters per type pair, in this order: r_min, U[0..W), F[0..W)
// (W: the longest table; shorter tables leave their tail at zero). With f = F(r)/r, the Jacobian
// product is that of every pair force (PairJacobianKernel.h): c_ij = f (w_i - w_j) + 2 f' d_ij
// (d_ij . (w_i - w_j)), f' = df/d(r^2), from table_pair in dual numbers (slot 0: r^2, slot 1:
// r_min). F and U enter linearly: df/dF_k and dV/dU_k are the interpolation weights (1 - frac at
// the lower point, frac at the upper one), divided by r for the force.
#pragma once
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "adjoint/AdjointForce.h"
#include "core/Dual.h"
#include "engine/TableForce.h"

namespace ha {

class TableForceAdjoint : public TableForce, public AdjointForce {
  public:
    using TableForce::TableForce;

    size_t gradSize() const override { return size_t(m_ntypes) * m_ntypes * size_t(paramCount()); }
    int paramCount() const override { return 1 + 2 * int(width()); }

    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* sel, int nthreads) override {
        for (int k = 0; ptan && k < K; ++k)
            if (ptan[k])
                throw std::invalid_argument("pair.Table has no forward-mode (tangent) derivatives; use reverse");
        if (m_dirty) updateTables();
        m_nlist->ensureCurrent(pd, nthreads);
        // Jacobian products: each particle sums its pairs in list order (any thread count, same bits)
        if (K > 0)
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, pd.N))
            for (int64_t i = 0; i < int64_t(pd.N); ++i) jacobianRow(uint32_t(i), pd, K, w, out);
        if (!gparams && !eparams) return;
        // parameter terms: each pair once (j > i), in tag order (serial: the tables are short and
        // the sums must not depend on threads)
        const int P = paramCount();
        const uint32_t W = width();
        const std::vector<char> on = selection_mask(sel, P);
        const PosType* p = pd.postype.data();
        for (uint32_t i = 0; i < pd.N; ++i) {
            const PosType pi = p[i];
            const uint32_t n = m_nlist->counts()[i];
            const uint32_t* list = m_nlist->neighbors() + size_t(i) * m_nlist->stride();
            for (uint32_t q = 0; q < n; ++q) {
                const uint32_t j = list[q];
                if (j <= i) continue;
                const PosType pj = p[j];
                const Vec3 dx = pd.box.minImageWrapped({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
                const size_t tp = size_t(pi.type) * m_ntypes + pj.type;
                D f, V, frac;
                uint32_t g = 0;
                double rsq = 0;
                if (!evalPair(dx, tp, f, V, frac, g, rsq)) continue;
                const double r = std::sqrt(rsq);
                const uint32_t width_tp = uint32_t(m_tables[tp].U.size());
                const double lo = 1.0 - frac.v, hi = frac.v;
                double* gp = gparams ? gparams + tp * P : nullptr;
                double* ep = eparams ? eparams + tp * P : nullptr;
                if (gp) {
                    const double sw = dx.x * (w[0][3 * i] - w[0][3 * j]) + dx.y * (w[0][3 * i + 1] - w[0][3 * j + 1]) +
                                      dx.z * (w[0][3 * i + 2] - w[0][3 * j + 2]);
                    if (on[0]) gp[0] += f.d[1] * sw;
                    if (on[1 + W + g]) gp[1 + W + g] += lo / r * sw;
                    if (g + 1 < width_tp && on[1 + W + g + 1]) gp[1 + W + g + 1] += hi / r * sw;
                }
                if (ep) {
                    if (on[0]) ep[0] += V.d[1];
                    if (on[1 + g]) ep[1 + g] += lo;
                    if (g + 1 < width_tp && on[1 + g + 1]) ep[1 + g + 1] += hi;
                }
            }
        }
    }

  private:
    using D = Dual<2>;  // slot 0: r^2, slot 1: r_min

    // The pair at d_ij through table_pair in dual numbers; false beyond r_cut or below r_min.
    bool evalPair(const Vec3& dx, size_t tp, D& f, D& V, D& frac, uint32_t& g, double& rsq) const {
        rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        if (!(rsq < m_rcutsq[tp])) return false;
        const PairTable& t = m_tables[tp];
        return table_pair(D::variable(rsq, 0), m_rcutsq[tp], D::variable(t.rmin, 1), t, f, V, g, frac);
    }

    void jacobianRow(uint32_t i, const ParticleData& pd, int K, const double* const* w, double* const* out) const {
        const PosType* p = pd.postype.data();
        const PosType pi = p[i];
        const uint32_t n = m_nlist->counts()[i];
        const uint32_t* list = m_nlist->neighbors() + size_t(i) * m_nlist->stride();
        for (int k = 0; k < K; ++k) {
            double ox = 0, oy = 0, oz = 0;
            const double* wk = w[k];
            for (uint32_t q = 0; q < n; ++q) {
                const uint32_t j = list[q];
                const PosType pj = p[j];
                const Vec3 dx = pd.box.minImageWrapped({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
                D f, V, frac;
                uint32_t g = 0;
                double rsq = 0;
                if (!evalPair(dx, size_t(pi.type) * m_ntypes + pj.type, f, V, frac, g, rsq)) continue;
                const double dwx = wk[3 * i] - wk[3 * j], dwy = wk[3 * i + 1] - wk[3 * j + 1],
                             dwz = wk[3 * i + 2] - wk[3 * j + 2];
                const double s = 2.0 * f.d[0] * (dx.x * dwx + dx.y * dwy + dx.z * dwz);
                ox += f.v * dwx + s * dx.x;
                oy += f.v * dwy + s * dx.y;
                oz += f.v * dwz + s * dx.z;
            }
            out[k][3 * size_t(i)] += ox;
            out[k][3 * size_t(i) + 1] += oy;
            out[k][3 * size_t(i) + 2] += oz;
        }
    }
};

}  // namespace ha
