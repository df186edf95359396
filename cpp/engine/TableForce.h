// HOOMD-blue's md.pair.Table: per type pair, the energy U and the force F tabulated at `width`
// points r_min + k dr, dr = (r_cut - r_min) / width, and interpolated linearly (the last point to
// zero at r_cut); nothing below r_min or from r_cut on. EvaluatorPairTable's arithmetic.
//
// Not an evaluator of evaluators/: its parameters are arrays of any length, which the evaluators'
// fixed parameter counts (and dual numbers over all of them) cannot hold. It is linear in them, so
// the adjoint (adjoint/TableForceAdjoint.h) needs only the interpolation weights that table_pair
// returns, and r^2 and r_min in dual numbers through the same function.
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/Dual.h"
#include "core/Format.h"
#include "engine/Force.h"
#include "engine/PairForceKernel.h"

namespace ha {

// One type pair's table.
struct PairTable {
    double rmin = 0;
    std::vector<double> U, F;  // energies and forces at the grid points (the same length)
};

// The pair's force / r and energy at r^2 (< rcutsq), and the lower grid point k with the weight
// frac of the upper one (1 - frac: k's); false below r_min. R: double, or dual numbers in r^2 and
// r_min (the adjoint).
template <class R>
inline bool table_pair(const R& rsq, double rcutsq, const R& rmin, const PairTable& t, R& force_divr, R& energy,
                       uint32_t& k, R& frac) {
    const uint32_t width = uint32_t(t.U.size());
    const R r = sqrt(rsq);
    if (value_of(r) < value_of(rmin)) return false;
    const double rcut = std::sqrt(rcutsq);
    const R delta_r = (rcut - rmin) / double(width);
    const R value_f = (r - rmin) / delta_r;
    k = uint32_t(std::floor(value_of(value_f)));
    if (k >= width) k = width - 1;  // (rounding just below r_cut: HOOMD-blue would read past the table)
    const double V0 = t.U[k], F0 = t.F[k];
    const double V1 = k + 1 < width ? t.U[k + 1] : 0.0, F1 = k + 1 < width ? t.F[k + 1] : 0.0;
    frac = value_f - double(k);
    energy = V0 + frac * (V1 - V0);
    const R F = F0 + frac * (F1 - F0);
    force_divr = value_of(rsq) > 0.0 ? F / r : R(0.0);
    return true;
}

class TableForce : public PairForce {
  public:
    TableForce(std::shared_ptr<NeighborList> nlist, uint32_t ntypes)
        : PairForce(std::move(nlist), ntypes, 0, 0, false), m_tables(size_t(ntypes) * ntypes) {}

    void setTable(uint32_t a, uint32_t b, double rmin, const std::vector<double>& U, const std::vector<double>& F) {
        if (a >= m_ntypes || b >= m_ntypes) throw std::out_of_range("type index out of range");
        if (U.size() != F.size())
            throw std::invalid_argument(
                format("pair.Table: U and F must have the same length, got %zu and %zu", U.size(), F.size()));
        if (U.empty()) throw std::invalid_argument("pair.Table: U and F must not be empty");
        m_tables[size_t(a) * m_ntypes + b] = m_tables[size_t(b) * m_ntypes + a] = PairTable{rmin, U, F};
        m_dirty = true;
    }
    const PairTable& table(uint32_t a, uint32_t b) const { return m_tables[size_t(a) * m_ntypes + b]; }
    // The longest table: the adjoint lays its parameters out as (r_min, U[width], F[width]).
    uint32_t width() const {
        size_t w = 1;
        for (const PairTable& t : m_tables) w = std::max(w, t.U.size());
        return uint32_t(w);
    }
    const char* kind() const override { return "pair.Table forces"; }

    void compute(const ParticleData& pd, uint64_t t, int nthreads) override {
        if (m_dirty) updateTables();
        if (force.size() != 3 * size_t(pd.N)) resize(pd.N);
        m_nlist->update(pd, t, nthreads);
        const bool virial_on = computeVirial;
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, pd.N))
        for (int64_t i = 0; i < int64_t(pd.N); ++i) particle(uint32_t(i), pd, virial_on);
    }

    // -dE/dr_i, the gradient of the interpolated energy: not the tabulated force, which is only
    // as consistent with U as the user made it (a loss of the energy needs this one).
    std::vector<double> energyForces(const ParticleData& pd, int nthreads) {
        if (m_dirty) updateTables();
        m_nlist->ensureCurrent(pd, nthreads);
        std::vector<double> out(3 * size_t(pd.N), 0.0);
        const PosType* p = pd.postype.data();
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, pd.N))
        for (int64_t i = 0; i < int64_t(pd.N); ++i) {
            const PosType pi = p[i];
            const uint32_t n = m_nlist->counts()[i];
            const uint32_t* list = m_nlist->neighbors() + size_t(i) * m_nlist->stride();
            for (uint32_t k = 0; k < n; ++k) {
                const PosType pj = p[list[k]];
                const Vec3 dx = pd.box.minImageWrapped({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
                const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
                const uint32_t tp = pi.type * m_ntypes + pj.type;
                if (!(rsq < m_rcutsq[tp])) continue;
                using D = Dual<1>;
                D f, V, frac;
                uint32_t g = 0;
                if (!table_pair(D::variable(rsq, 0), m_rcutsq[tp], D(m_tables[tp].rmin), m_tables[tp], f, V, g, frac))
                    continue;
                const double s = -2.0 * V.d[0];  // -dV/dr_i = -2 V'(r^2) d_ij
                out[3 * size_t(i)] += s * dx.x;
                out[3 * size_t(i) + 1] += s * dx.y;
                out[3 * size_t(i) + 2] += s * dx.z;
            }
        }
        return out;
    }

  protected:
    // Particle i's force, half of each pair energy and virial, in list order (PotentialPair's sums).
    void particle(uint32_t i, const ParticleData& pd, bool with_virial) {
        const PosType* p = pd.postype.data();
        const PosType pi = p[i];
        const uint32_t row = pi.type * m_ntypes;
        const uint32_t n = m_nlist->counts()[i];
        const uint32_t* list = m_nlist->neighbors() + size_t(i) * m_nlist->stride();
        double fx = 0, fy = 0, fz = 0, e = 0, w[6] = {};
        for (uint32_t k = 0; k < n; ++k) {
            const PosType pj = p[list[k]];
            const Vec3 dx = pd.box.minImageWrapped({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
            const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
            const uint32_t tp = row + pj.type;
            if (!(rsq < m_rcutsq[tp])) continue;
            const PairTable& t = m_tables[tp];
            double force_divr = 0, pair_eng = 0, frac = 0;
            uint32_t g = 0;
            if (!table_pair(rsq, m_rcutsq[tp], t.rmin, t, force_divr, pair_eng, g, frac)) continue;
            fx += dx.x * force_divr;
            fy += dx.y * force_divr;
            fz += dx.z * force_divr;
            e += pair_eng * 0.5;
            if (with_virial) {
                const double fh = force_divr * 0.5;
                w[0] += fh * dx.x * dx.x;
                w[1] += fh * dx.x * dx.y;
                w[2] += fh * dx.x * dx.z;
                w[3] += fh * dx.y * dx.y;
                w[4] += fh * dx.y * dx.z;
                w[5] += fh * dx.z * dx.z;
            }
        }
        force[3 * size_t(i)] = fx;
        force[3 * size_t(i) + 1] = fy;
        force[3 * size_t(i) + 2] = fz;
        energy[i] = e;
        if (with_virial)
            for (int c = 0; c < 6; ++c) virial[6 * size_t(i) + c] = w[c];
    }

    void updateTables() override {
        const size_t ntp = size_t(m_ntypes) * m_ntypes;
        m_rcutsq.assign(ntp, 0.0);
        for (size_t tp = 0; tp < ntp; ++tp) {
            // a pair without a table interacts with nothing (Python refuses pairs in use without one)
            const bool on = m_rcut[tp] > 0 && !m_tables[tp].U.empty();
            m_rcutsq[tp] = on ? m_rcut[tp] * m_rcut[tp] : 0.0;
        }
        m_dirty = false;
    }

    std::vector<PairTable> m_tables;  // ntypes^2
};

}  // namespace ha
