// The generic pair force's forward pass for an evaluator E (evaluators/): forces, energies and
// virials on the host, in a fixed order (bitwise reproducible at any thread count). The adjoint
// (adjoint/PairForceAdjoint.h) and the device (device/PairForces.cc) extend it, as HOOMD-blue's
// PotentialPairGPU extends PotentialPair.
#pragma once
#include <algorithm>
#include <memory>
#include <vector>

#include "core/Simd.h"
#include "engine/Force.h"
#include "engine/PairForceKernel.h"

namespace ha {

template <class E>
class PairForceT : public PairForce {
  public:
    PairForceT(std::shared_ptr<NeighborList> nlist, uint32_t ntypes)
        : PairForce(std::move(nlist), ntypes, E::n_params, E::n_derived, E::shift_allowed) {}

    void compute(const ParticleData& pd, uint64_t t, int nthreads) override {
        if (m_dirty) updateTables();
        if (force.size() != 3 * size_t(pd.N)) resize(pd.N);
        m_nlist->update(pd, t, nthreads);
        const bool tri = pd.box.triclinic();
        if (computeVirial)
            tri ? run<true, true>(pd, nthreads) : run<true, false>(pd, nthreads);
        else
            tri ? runPairs<true>(pd, nthreads) : runPairs<false>(pd, nthreads);
    }

  protected:
    // Large systems whose tags are scattered in space run their full-list passes over a copy in
    // the neighbour list's spatial order (spatial_above() == 0 forces it: tests).
    bool inSpatialOrder(const ParticleData& pd) const {
        return pd.N > spatial_above() && (m_nlist->scattered() || spatial_above() == 0);
    }

    // The full-list force pass's positions and results in the list's spatial order.
    std::vector<PosType> m_spatial_pos;
    std::vector<double> m_spatial_out;

    // Per pair slot: (F_ij, V_ij) in the force pass, c_ij per vector in the adjoint pass; one
    // buffer for both (they never overlap in time), the largest memory of a step at large N.
    std::vector<double> m_pair_buf;

    // Each pair evaluated once, then summed per particle in list order (same bits as run()).
    template <bool TRICLINIC>
    void runPairs(const ParticleData& pd, int nthreads) {
#if defined(HA_HAVE_LANES)
        if constexpr (lanes_ok<E>::value && !TRICLINIC) {
            // large systems: the pair buffer would not fit in the caches; evaluate every pair
            // from both sides instead (the same bits)
            if (m_ntypes == 1 && simd_enabled() && full_list_above() < pd.N) {
                const NeighborView nb{m_nlist->neighbors(), m_nlist->counts(), m_nlist->stride()};
                const PairTables tab{m_ntypes, m_rcutsq.data(), m_derived.data(), m_eshift.data()};
                const PosType* p = pd.postype.data();
                double *f = force.data(), *e = energy.data();
                const BoxDim box = pd.box;
                // in the cells' order: positions copied into it and a list whose entries point
                // there, so neighbours are read from nearby memory however the tags lie in space
                // (each particle's pairs and their order are unchanged: the same sums)
                if (!inSpatialOrder(pd)) {
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, pd.N))
                    for (int64_t i = 0; i < int64_t(pd.N); ++i)
                        pair_force_particle_lanes<E>(uint32_t(i), p, box, nb, tab, f, e);
                    return;
                }
                const NeighborList::Spatial sp = m_nlist->spatial(nthreads);
                const int nt = threads_for(nthreads, pd.N);
                m_spatial_pos.resize(pd.N);
                m_spatial_out.resize(4 * size_t(pd.N));
                PosType* ps = m_spatial_pos.data();
                double* out = m_spatial_out.data();
#pragma omp parallel num_threads(nt)
                {
#pragma omp for schedule(static)
                    for (int64_t m = 0; m < int64_t(pd.N); ++m) ps[m] = p[sp.order[m]];
#pragma omp for schedule(static)
                    for (int64_t m = 0; m < int64_t(pd.N); ++m)
                        pair_force_particle_lanes<E>(uint32_t(m), ps, box, sp.view, tab, out, out + 3 * size_t(pd.N));
#pragma omp for schedule(static)
                    for (int64_t m = 0; m < int64_t(pd.N); ++m) {
                        const uint32_t i = sp.order[m];
                        f[3 * size_t(i)] = out[3 * m];
                        f[3 * size_t(i) + 1] = out[3 * m + 1];
                        f[3 * size_t(i) + 2] = out[3 * m + 2];
                        e[i] = out[3 * size_t(pd.N) + m];
                    }
                }
                return;
            }
        }
#endif
        const NeighborView nb{m_nlist->neighbors(), m_nlist->counts(), m_nlist->stride()};
        const PairTables tab{m_ntypes, m_rcutsq.data(), m_derived.data(), m_eshift.data()};
        const uint32_t* up = m_nlist->upper0().data();
        const uint32_t* lo = m_nlist->lowerSlot().data();
        m_pair_buf.resize(std::max(m_pair_buf.size(), 4 * size_t(up[pd.N])));
        double* buf = m_pair_buf.data();
        const PosType* p = pd.postype.data();
        double *f = force.data(), *e = energy.data();
        const BoxDim box = pd.box;
        const int nt = threads_for(nthreads, pd.N);
        // one type pair, an evaluator without r-dependent branches, and not switched off (tests)
        const bool simd = simd_enabled(), lanes = m_ntypes == 1 && lanes_ok<E>::value && simd;
        (void)lanes;
        (void)simd;
#pragma omp parallel num_threads(nt)
        {
#pragma omp for schedule(static, 32)  // interleaved: low tags own more upper pairs
            for (int64_t i = 0; i < int64_t(pd.N); ++i) {
#if defined(HA_HAVE_LANES)
                if constexpr (lanes_ok<E>::value && !TRICLINIC) {
                    if (lanes) {
                        pair_force_upper_lanes<E>(uint32_t(i), p, box, nb, tab, up[i], buf);
                        continue;
                    }
                }
#endif
                pair_force_upper<E, TRICLINIC>(uint32_t(i), p, box, nb, tab, up[i], buf);
            }
#pragma omp for schedule(static)
            for (int64_t i = 0; i < int64_t(pd.N); ++i) {
#if defined(HA_HAVE_LANES)
                if (simd) {
                    pair_force_gather_lanes(uint32_t(i), nb, up, lo, buf, f, e);
                    continue;
                }
#endif
                pair_force_gather(uint32_t(i), nb, up, lo, buf, f, e);
            }
        }
    }

    template <bool VIRIAL, bool TRICLINIC>
    void run(const ParticleData& pd, int nthreads) {
        const NeighborView nb{m_nlist->neighbors(), m_nlist->counts(), m_nlist->stride()};
        const PairTables tab{m_ntypes, m_rcutsq.data(), m_derived.data(), m_eshift.data()};
        const PosType* p = pd.postype.data();
        double *f = force.data(), *e = energy.data(), *w = virial.data();
        const BoxDim box = pd.box;
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, pd.N))
        for (int64_t i = 0; i < int64_t(pd.N); ++i)
            pair_force_particle<E, VIRIAL, TRICLINIC>(uint32_t(i), p, box, nb, tab, f, e, w);
    }

    // Whether type pair tp is shifted by V(r_cut): mode "shift", or "xplor" with r_on > r_cut.
    bool shifted(size_t tp) const {
        return m_shift || evaluator_shifts<E>::at(&m_derived[tp * E::n_derived], m_rcutsq[tp]);
    }

    void updateTables() override {
        const size_t ntp = size_t(m_ntypes) * m_ntypes;
        m_rcutsq.assign(ntp, 0.0);
        m_derived.assign(ntp * E::n_derived, 0.0);
        m_eshift.assign(ntp, 0.0);
        for (size_t tp = 0; tp < ntp; ++tp) {
            E::derive(&m_params[tp * E::n_params], &m_derived[tp * E::n_derived]);
            m_rcutsq[tp] = m_rcut[tp] > 0 ? m_rcut[tp] * m_rcut[tp] : 0.0;
            if (shifted(tp) && m_rcutsq[tp] > 0) {
                double fr = 0, vc = 0;
                if (E::eval(m_rcutsq[tp], m_rcutsq[tp], &m_derived[tp * E::n_derived], fr, vc)) m_eshift[tp] = vc;
            }
        }
        m_dirty = false;
    }
};

}  // namespace ha
