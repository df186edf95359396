// The pair loops of the adjoint: products with the force Jacobian and parameter derivatives.
// For F_i = sum_j f(r_ij^2) d_ij (d_ij = r_i - r_j, f = force/r), the Jacobian is symmetric:
//   (J w)_i = sum_j c_ij,  c_ij = f (w_i - w_j) + 2 f' d_ij (d_ij . (w_i - w_j)),  f' = df/d(r^2),
// and c_ji = -c_ij exactly. f' and df/dtheta come from evaluating the same evaluator in dual
// numbers (slot 0: r^2, slots 1..P: the parameters), which is the expensive part: each pair is
// evaluated once (pass 1, over the j > i half of the sorted list), its c_ij stored, and every
// particle then sums its c_ij in ascending j (pass 2) -- the same order, and so the same bits,
// as a loop over the full list.
#pragma once
#include <cstdint>
#include "../core/BoxDim.h"
#include "../core/Dual.h"
#include "../core/HostDevice.h"
#include "PairForceKernel.h"

namespace ha {

// Slot 0 carries d/d(r^2); slots 1..Q the selected parameters (none when no parameter
// derivative is wanted: the narrower the duals, the cheaper the pair loop).
template <int Q>
using PairDual = Dual<1 + Q>;
// What the evaluators see: r^2 (and r_cut^2) carry slot 0 only, the parameters slots 1..Q only,
// so the radial arithmetic runs on one slot (see Dual.h).
using RadialDual = SDual<0, 1>;
template <int Q>
using ParamDual = SDual<1, 1 + Q>;


// Pass 1 for particle i: for each neighbour j > i (upper entries, slots from `slot0`), write
// c_ij for each of K vectors w[k] into buf[k] (3 doubles a slot; zero beyond the cutoff). With
// gacc, add df/dtheta (w_0,i - w_0,j) . d_ij (the pair's whole contribution to w_0 . dF/dtheta);
// with eacc, dV/dtheta (unshifted); with ptan[k], add (sum_q df/dtheta_q ptan_k,q) d_ij to c.
// gacc, eacc and ptan[k] are ntypes^2 x Q arrays in the order of the dual slots; eacc is used
// (and must not be null) exactly when ENERGY.
template <class E, int Q, bool TRICLINIC, bool ENERGY>
HA_HOSTDEVICE void pair_jacobian_upper(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                       uint32_t ntypes, const double* rcutsq, const ParamDual<Q>* dderived, int K,
                                       const double* const* w, const double* const* ptan, double* const* buf,
                                       uint32_t slot0, double* gacc, double* eacc) {
    using D = PairDual<Q>;
    const PosType pi = p[i];
    const uint32_t row = pi.type * ntypes;
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    size_t slot = slot0;
    for (uint32_t k = lower_bound_tag(nb, i, i); k < n; ++k, ++slot) {
        const uint32_t j = list[k];
        const PosType pj = p[j];
        const Vec3 dx = box.template minImageWrapped<TRICLINIC>({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
        const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        const uint32_t tp = row + pj.type;
        D f, V;
        const bool inside = rsq < rcutsq[tp] &&
                            E::eval(RadialDual::variable(rsq, 0), RadialDual(rcutsq[tp]), dderived + size_t(tp) * E::n_derived, f, V);
        double sw = 0;  // (w_0,i - w_0,j) . d_ij
        for (int t = 0; t < K; ++t) {
            double* c = buf[t] + 3 * slot;
            if (!inside) {
                c[0] = c[1] = c[2] = 0.0;
                continue;
            }
            const double* wt = w[t];
            const double dwx = wt[3 * i] - wt[3 * j], dwy = wt[3 * i + 1] - wt[3 * j + 1], dwz = wt[3 * i + 2] - wt[3 * j + 2];
            const double dot = dx.x * dwx + dx.y * dwy + dx.z * dwz;
            if (t == 0) sw = dot;
            double s = 2.0 * f.d[0] * dot;
            if (ptan && ptan[t])
                for (int q = 0; q < Q; ++q) s += f.d[1 + q] * ptan[t][tp * Q + q];
            c[0] = f.v * dwx + s * dx.x;
            c[1] = f.v * dwy + s * dx.y;
            c[2] = f.v * dwz + s * dx.z;
        }
        if (!inside) continue;
        if (gacc)
            for (int q = 0; q < Q; ++q) gacc[tp * Q + q] += f.d[1 + q] * sw;
        if constexpr (ENERGY)  // (otherwise V is never read, and the compiler drops its arithmetic)
            for (int q = 0; q < Q; ++q) eacc[tp * Q + q] += V.d[1 + q];
    }
}

#if defined(HA_HAVE_LANES)
// Pass 1 in Lanes, for one type pair in an orthorhombic box without energy derivatives: the
// evaluator runs in dual numbers over Lanes on four pairs at once (each lane with the operations
// of the scalar duals: the same f, f' and df/dtheta bits), then each pair's c_ij and parameter
// terms are formed exactly as in pair_jacobian_upper.
template <class E, int Q>
HA_SIMD_CLONES void pair_jacobian_upper_lanes(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                              double rcutsq, const ParamDual<Q>* dderived, int K,
                                              const double* const* w, const double* const* ptan,
                                              double* const* buf, uint32_t slot0, double* gacc) {
    using L = Lanes;
    using RL = SDual<0, 1, L>;
    using DL = SDual<0, 1 + Q, L>;
    ParamDual<Q> d[E::n_derived];  // a local copy: the slots written below cannot alias it
    for (int q = 0; q < E::n_derived; ++q) d[q] = dderived[q];
    const PosType pi = p[i];
    const LaneOrigin origin(pi);
    const L rc = {rcutsq, rcutsq, rcutsq, rcutsq};
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    size_t slot = slot0;
    for (uint32_t k = lower_bound_tag(nb, i, i); k < n; k += 4) {
        const uint32_t m = n - k < 4 ? n - k : 4;
        L wx, wy, wz;
        const L rsq = lane_displacements(origin, p, list + k, m, box, wx, wy, wz);
        const auto in = rsq < rc;
        DL f, V;
        const bool ok = E::eval(RL::variable(in ? rsq : rc, 0), RL(rc), d, f, V);
        // pairs beyond the cutoff (or a potential switched off) give c = 0 and add +0.0 to the
        // parameter sums, which start at +0.0 and so never change a bit that way
        const L zero = {0, 0, 0, 0};
        const decltype(in) none = in ^ in, inside = ok ? in : none;
        uint32_t jj[4];
        for (uint32_t c = 0; c < 4; ++c) jj[c] = list[k + (c < m ? c : m - 1)];
        L sw = zero;  // (w_0,i - w_0,j) . d_ij
        for (int t = 0; t < K; ++t) {
            const double* wt = w[t];
            const L wix = {wt[3 * i], wt[3 * i], wt[3 * i], wt[3 * i]};
            const L wiy = {wt[3 * i + 1], wt[3 * i + 1], wt[3 * i + 1], wt[3 * i + 1]};
            const L wiz = {wt[3 * i + 2], wt[3 * i + 2], wt[3 * i + 2], wt[3 * i + 2]};
            const L dwx = wix - L{wt[3 * jj[0]], wt[3 * jj[1]], wt[3 * jj[2]], wt[3 * jj[3]]};
            const L dwy = wiy - L{wt[3 * jj[0] + 1], wt[3 * jj[1] + 1], wt[3 * jj[2] + 1], wt[3 * jj[3] + 1]};
            const L dwz = wiz - L{wt[3 * jj[0] + 2], wt[3 * jj[1] + 2], wt[3 * jj[2] + 2], wt[3 * jj[3] + 2]};
            const L dot = wx * dwx + wy * dwy + wz * dwz;
            if (t == 0) sw = dot;
            L sv = 2.0 * f.d[0] * dot;
            if (ptan && ptan[t])
                for (int q = 0; q < Q; ++q) sv += f.d[1 + q] * ptan[t][q];
            const L cx = inside ? f.v * dwx + sv * wx : zero;
            const L cy = inside ? f.v * dwy + sv * wy : zero;
            const L cz = inside ? f.v * dwz + sv * wz : zero;
            double* cc = buf[t] + 3 * slot;
            for (uint32_t c = 0; c < m; ++c) {
                cc[3 * c] = cx[c];
                cc[3 * c + 1] = cy[c];
                cc[3 * c + 2] = cz[c];
            }
        }
        if (gacc)
            for (int q = 0; q < Q; ++q) {
                const L term = inside ? f.d[1 + q] * sw : zero;
                for (uint32_t c = 0; c < m; ++c) gacc[q] += term[c];  // in list order, as the scalar loop
            }
        slot += m;
    }
}
#endif

// Pass 2 for particle i: out[k]_i += sum_j c_ij in ascending j, reading c_ij from i's own
// upper slots (j > i, from upper0[i]) and -c_ji from j's (j < i, at lower_slot[entry]).
HA_HOSTDEVICE void pair_jacobian_gather(uint32_t i, const NeighborView& nb, const uint32_t* upper0,
                                        const uint32_t* lower_slot, int K, const double* const* buf, double* const* out) {
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    const uint32_t* lower = lower_slot + size_t(i) * nb.stride;
    for (int t = 0; t < K; ++t) {
        double ox = 0, oy = 0, oz = 0;
        const double* b = buf[t];
        size_t own = upper0[i];
        for (uint32_t k = 0; k < n; ++k) {
            if (list[k] < i) {
                const size_t s = lower[k];
                ox -= b[3 * s];
                oy -= b[3 * s + 1];
                oz -= b[3 * s + 2];
            } else {
                ox += b[3 * own];
                oy += b[3 * own + 1];
                oz += b[3 * own + 2];
                ++own;
            }
        }
        out[t][3 * i] += ox;
        out[t][3 * i + 1] += oy;
        out[t][3 * i + 2] += oz;
    }
}

}  // namespace ha
