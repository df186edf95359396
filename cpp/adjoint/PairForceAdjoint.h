// The generic pair force's adjoint (AdjointForce.h) for an evaluator E: Jacobian products and
// parameter derivatives on the host, in dual numbers through the evaluator the forward pass runs.
#pragma once
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "adjoint/AdjointForce.h"
#include "adjoint/AdjointStep.h"
#include "adjoint/PairJacobianKernel.h"
#include "engine/PairForceT.h"

namespace ha {

template <class E>
class PairForceAdjointT : public PairForceT<E>, public AdjointForce {
  public:
    PairForceAdjointT(std::shared_ptr<NeighborList> nlist, uint32_t ntypes) : PairForceT<E>(std::move(nlist), ntypes) {
        for (int k = 0; k < E::n_params; ++k) m_all_params.push_back(k);
    }

    // applyJacobian's parameters are ntypes^2 x P; the neighbour list is brought up to date for pd.
    size_t gradSize() const override { return size_t(this->m_ntypes) * this->m_ntypes * this->m_n_params; }
    int paramCount() const override { return E::n_params; }

    void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                       double* eparams, const double* const* ptan, const std::vector<int>* selection,
                       int nthreads) override {
        const std::vector<int>& sel = selection ? *selection : m_all_params;
        if (m_dirty) updateTables();
        m_nlist->ensureCurrent(pd, nthreads);
        constexpr int P = E::n_params;
        const size_t ntp = size_t(m_ntypes) * m_ntypes;
        const NeighborView nb{m_nlist->neighbors(), m_nlist->counts(), m_nlist->stride()};
        const std::vector<uint32_t>& upper0 = m_nlist->upper0();
        const std::vector<uint32_t>& lower_slot = m_nlist->lowerSlot();
        const size_t nslots = upper0[pd.N];
        m_pair_buf.resize(std::max(m_pair_buf.size(), size_t(K) * 3 * nslots));
        std::vector<double*> buf(K);
        for (int k = 0; k < K; ++k) buf[k] = m_pair_buf.data() + size_t(k) * 3 * nslots;
        // Fixed blocks of particles, each with its own parameter accumulators (in selection
        // order), summed in block order: the result does not depend on the number of threads.
        constexpr uint32_t B = kGradBlock;  // (the device sweep sums the same blocks)
        const uint32_t nblocks = (pd.N + B - 1) / B;
        const int nsel = int(sel.size());
        const bool want_g = gparams != nullptr && nsel > 0, want_e = eparams != nullptr && nsel > 0;
        bool want_t = false;
        for (int k = 0; ptan && k < K; ++k) want_t = want_t || ptan[k] != nullptr;
        want_t = want_t && nsel > 0;
        const PosType* p = pd.postype.data();
        const BoxDim box = pd.box;
        const int nt = threads_for(nthreads, pd.N);
        double* const* bufp = buf.data();
        std::vector<double> gb, eb;
        // large systems with tags scattered in space: both passes at once in the list's spatial
        // order, as the force pass (reverse mode: no parameter tangents, no energy derivatives)
        const bool spatial = lanes_ok<E>::value && m_ntypes == 1 && simd_enabled() && !want_e && !want_t &&
                             !box.triclinic() && inSpatialOrder(pd);
        with_width<P>(want_g || want_e || want_t ? nsel : 0, [&](auto width) {
            constexpr int Q = decltype(width)::value;
            const size_t nq = ntp * Q, stride = block_stride(nq);
            gb.assign(want_g ? nblocks * stride : 0, 0.0);
            eb.assign(want_e ? nblocks * stride : 0, 0.0);
            // parameter tangents gathered into selection order (padding slots stay zero)
            std::vector<std::vector<double>> pt(want_t ? K : 0);
            std::vector<const double*> ptp(K, nullptr);
            for (int k = 0; want_t && k < K; ++k) {
                if (!ptan[k]) continue;
                pt[k].assign(nq, 0.0);
                for (size_t tp = 0; tp < ntp; ++tp)
                    for (int q = 0; q < nsel; ++q) pt[k][tp * Q + q] = ptan[k][tp * P + sel[q]];
                ptp[k] = pt[k].data();
            }
            if (spatial)
                spatialPass<Q>(pd, sel, K, w, out, gb, nblocks, B, nt, nthreads);
            else
                upperPass<Q>(pd, sel, nb, upper0, K, w, want_t ? ptp.data() : nullptr, bufp, gb, eb, nblocks, B, nt);
            // the blocks' sums as a fixed tree (AdjointStep.h: the device adds the same way)
            std::vector<double> scratch(std::max(gb.size(), eb.size()));
            for (int pass = 0; pass < 2; ++pass) {
                std::vector<double>& blocks = pass == 0 ? gb : eb;
                double* into = pass == 0 ? gparams : eparams;
                if (blocks.empty() || nblocks == 0) continue;
                const double* sum = tree_sum(blocks.data(), scratch.data(), nblocks, stride, uint32_t(nq));
                for (size_t tp = 0; tp < ntp; ++tp)
                    for (int q = 0; q < nsel; ++q) into[tp * P + sel[q]] += sum[tp * Q + q];
            }
        });
        const uint32_t *up = upper0.data(), *lo = lower_slot.data();
        if (!spatial)
#pragma omp parallel for schedule(static) num_threads(nt)
            for (int64_t i = 0; i < int64_t(pd.N); ++i) pair_jacobian_gather(uint32_t(i), nb, up, lo, K, bufp, out);
        bool any_shift = false;
        for (size_t tp = 0; tp < ntp; ++tp) any_shift = any_shift || shifted(tp);
        if (want_e && any_shift) {
            // the shift V(r_cut) depends on the parameters too: each particle's half pairs subtract it
            std::vector<double> npairs(ntp, 0.0);
            for (uint32_t i = 0; i < pd.N; ++i) {
                const uint32_t row = p[i].type * m_ntypes;
                for (uint32_t k = 0; k < nb.count[i]; ++k) {
                    const PosType pj = p[nb.nlist[size_t(i) * nb.stride + k]];
                    const Vec3 dx = box.minImageWrapped({p[i].x - pj.x, p[i].y - pj.y, p[i].z - pj.z});
                    const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
                    if (rsq < m_rcutsq[row + pj.type]) npairs[row + pj.type] += 0.5;
                }
            }
            std::vector<int> all(P);
            for (int k = 0; k < P; ++k) all[k] = k;
            const std::vector<ParamDual<P>> dderived = dualParams<P>(all);
            for (size_t tp = 0; tp < ntp; ++tp) {
                if (npairs[tp] == 0 || !(m_rcutsq[tp] > 0) || !shifted(tp)) continue;
                PairDual<P> f, V;
                if (!E::eval(PairDual<P>(m_rcutsq[tp]), PairDual<P>(m_rcutsq[tp]), &dderived[tp * E::n_derived], f, V))
                    continue;
                for (int k = 0; k < P; ++k) eparams[tp * P + k] -= npairs[tp] * V.d[1 + k];
            }
        }
    }

  protected:
    using PairForceT<E>::m_nlist;
    using PairForceT<E>::m_ntypes;
    using PairForceT<E>::m_params;
    using PairForceT<E>::m_rcutsq;
    using PairForceT<E>::m_shift;
    using PairForceT<E>::m_dirty;
    using PairForceT<E>::m_pair_buf;
    using PairForceT<E>::m_spatial_pos;
    using PairForceT<E>::updateTables;
    using PairForceT<E>::shifted;
    using PairForceT<E>::inSpatialOrder;

    // The derived parameters as dual numbers, through derive(): slot 1 + q carries d/dtheta_sel[q]
    // (q < Q, q < sel.size()).
    template <int Q>
    std::vector<ParamDual<Q>> dualParams(const std::vector<int>& sel) const {
        constexpr int P = E::n_params;
        const size_t ntp = size_t(m_ntypes) * m_ntypes;
        std::vector<ParamDual<Q>> dd(ntp * E::n_derived);
        for (size_t tp = 0; tp < ntp; ++tp) {
            ParamDual<Q> dp[P];
            for (int k = 0; k < P; ++k) dp[k] = ParamDual<Q>(m_params[tp * P + k]);
            for (int q = 0; q < Q && q < int(sel.size()); ++q)
                dp[sel[q]] = ParamDual<Q>::variable(m_params[tp * P + sel[q]], 1 + q);
            E::derive(dp, &dd[tp * E::n_derived]);
        }
        return dd;
    }

    // Calls f(std::integral_constant<int, Q>) with the narrowest compiled dual width Q >= n
    // (widths 0, 1, 2, 4 and P: few instantiations, at most one padded slot in most cases).
    template <int P, class F>
    static void with_width(int n, F&& f) {
        if (n == 0)
            f(std::integral_constant<int, 0>());
        else if (n == 1 && P > 1)
            f(std::integral_constant<int, 1>());
        else if (n <= 2 && P > 2)
            f(std::integral_constant<int, (P > 2 ? 2 : P)>());
        else if (n <= 4 && P > 4)
            f(std::integral_constant<int, (P > 4 ? 4 : P)>());
        else
            f(std::integral_constant<int, P>());
    }

    // Each block's accumulators start on their own cache line (blocks alternate between threads).
    static size_t block_stride(size_t n) { return (n + 7) / 8 * 8; }

    // Both passes in the neighbour list's spatial order (pair_jacobian_spatial_lanes): positions
    // and adjoint vectors copied into it, results and per-particle parameter sums written by tag;
    // each block then adds its particles' sums in tag order, as upperPass does.
    template <int Q>
    void spatialPass(const ParticleData& pd, const std::vector<int>& sel, int K, const double* const* w,
                     double* const* out, std::vector<double>& gb, uint32_t nblocks, uint32_t B, int nt, int nthreads) {
#if defined(HA_HAVE_LANES)
        if constexpr (lanes_ok<E>::value) {
            const uint32_t N = pd.N;
            const size_t stride = block_stride(Q), m3 = 3 * size_t(N);
            const std::vector<ParamDual<Q>> dderived = dualParams<Q>(sel);
            const NeighborList::Spatial sp = m_nlist->spatial(nthreads);
            const uint32_t* order = sp.order;
            m_spatial_pos.resize(N);
            m_spatial_jac.resize(size_t(K) * m3 + (gb.empty() ? 0 : size_t(N) * Q));
            PosType* ps = m_spatial_pos.data();
            std::vector<double*> ws(K);
            for (int t = 0; t < K; ++t) ws[t] = m_spatial_jac.data() + size_t(t) * m3;
            double* gpart = gb.empty() ? nullptr : m_spatial_jac.data() + size_t(K) * m3;  // by tag
            const PosType* p = pd.postype.data();
            const BoxDim box = pd.box;
#pragma omp parallel num_threads(nt)
            {
#pragma omp for schedule(static)
                for (int64_t m = 0; m < int64_t(N); ++m) {
                    const uint32_t i = order[m];
                    ps[m] = p[i];
                    for (int t = 0; t < K; ++t)
                        for (int c = 0; c < 3; ++c) ws[t][3 * m + c] = w[t][3 * size_t(i) + c];
                }
#pragma omp for schedule(static)
                for (int64_t m = 0; m < int64_t(N); ++m)
                    pair_jacobian_spatial_lanes<E, Q>(uint32_t(m), ps, box, sp.view, m_rcutsq[0], dderived.data(), K,
                                                      ws.data(), out, gpart);
#pragma omp for schedule(static)
                for (int64_t b = 0; b < int64_t(gpart ? nblocks : 0); ++b) {
                    double* g = &gb[b * stride];
                    const uint32_t end = std::min<uint32_t>(N, uint32_t(b + 1) * B);
                    for (uint32_t i = uint32_t(b) * B; i < end; ++i)
                        for (int q = 0; q < Q; ++q) g[q] += gpart[size_t(i) * Q + q];
                }
            }
            return;
        }
#endif
        (void)pd, (void)sel, (void)K, (void)w, (void)out, (void)gb, (void)nblocks, (void)B, (void)nt, (void)nthreads;
        throw std::logic_error("the spatial adjoint pass needs Lanes");
    }

    // Pass 1 of the adjoint pair loop over fixed blocks of particles, each with its own
    // parameter accumulators (summed in block order afterwards: independent of threads).
    template <int Q>
    void upperPass(const ParticleData& pd, const std::vector<int>& sel, const NeighborView& nb,
                   const std::vector<uint32_t>& upper0, int K, const double* const* w, const double* const* ptan,
                   double* const* buf, std::vector<double>& gb, std::vector<double>& eb, uint32_t nblocks, uint32_t B,
                   int nt) {
        const size_t stride = block_stride(size_t(m_ntypes) * m_ntypes * Q);
        const std::vector<ParamDual<Q>> dderived = dualParams<Q>(sel);
        const PosType* p = pd.postype.data();
        const BoxDim box = pd.box;
        const bool tri = box.triclinic();
        const bool lanes = m_ntypes == 1 && lanes_ok<E>::value && simd_enabled();
        (void)lanes;
#pragma omp parallel for schedule(static, 1) num_threads(nt)  // interleaved: low tags own more upper pairs
        for (int64_t b = 0; b < int64_t(nblocks); ++b) {
            double* g = gb.empty() ? nullptr : &gb[b * stride];
            double* e = eb.empty() ? nullptr : &eb[b * stride];
            const uint32_t end = std::min<uint32_t>(pd.N, uint32_t(b + 1) * B);
            for (uint32_t i = uint32_t(b) * B; i < end; ++i) {
#if defined(HA_HAVE_LANES)
                if constexpr (lanes_ok<E>::value) {
                    if (lanes && !e && !tri) {
                        pair_jacobian_upper_lanes<E, Q>(i, p, box, nb, m_rcutsq[0], dderived.data(), K, w, ptan, buf,
                                                        upper0[i], g);
                        continue;
                    }
                }
#endif
                // energy derivatives are rare (a loss's direct dependence on the parameters): they
                // take the general box path, which is exact for orthorhombic boxes too
                if (e)
                    pair_jacobian_upper<E, Q, true, true>(i, p, box, nb, m_ntypes, m_rcutsq.data(), dderived.data(), K,
                                                          w, ptan, buf, upper0[i], g, e);
                else if (tri)
                    pair_jacobian_upper<E, Q, true, false>(i, p, box, nb, m_ntypes, m_rcutsq.data(), dderived.data(), K,
                                                           w, ptan, buf, upper0[i], g, nullptr);
                else
                    pair_jacobian_upper<E, Q, false, false>(i, p, box, nb, m_ntypes, m_rcutsq.data(), dderived.data(),
                                                            K, w, ptan, buf, upper0[i], g, nullptr);
            }
        }
    }

    std::vector<double> m_spatial_jac;  // the adjoint's vectors in the spatial order, and per-particle parameter sums
    std::vector<int> m_all_params;      // 0..P-1: the selection of a call that names none
};

}  // namespace ha
