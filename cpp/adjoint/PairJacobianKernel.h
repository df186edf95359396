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
#include "core/BoxDim.h"
#include "core/Dual.h"
#include "core/HostDevice.h"
#include "engine/PairForceKernel.h"

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

// The dual widths compiled for an evaluator with P parameters when n of them are wanted (the
// CPU's with_width and the device's instantiations): 0, 1, 2, 4 or P.
constexpr int dual_width(int P, int n) {
    return n == 0 ? 0 : (n == 1 && P > 1) ? 1 : (n <= 2 && P > 2) ? 2 : (n <= 4 && P > 4) ? 4 : P;
}

// Pass 1 for particle i: for each neighbour j > i (upper entries, slots from `slot0`), write
// c_ij for each of K vectors w[k] into buf[k] (3 doubles a slot; zero beyond the cutoff; with
// buf null, nothing: the parameter sums alone). With
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
    const uint32_t* list = nb.row(i);
    size_t slot = slot0;
    // this particle's parameter terms, summed in list order and then added to the block's sums
    // (the order every path keeps, whatever order it visits particles in)
    double gsum[Q > 0 ? Q : 1] = {};
    for (uint32_t k = lower_bound_tag(nb, i, i); k < n; ++k, ++slot) {
        const uint32_t j = list[size_t(k) * nb.step];
        const PosType pj = p[j];
        const Vec3 dx = box.template minImageWrapped<TRICLINIC>({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
        const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        const uint32_t tp = row + pj.type;
        D f, V;
        const bool inside = rsq < rcutsq[tp] && E::eval(RadialDual::variable(rsq, 0), RadialDual(rcutsq[tp]),
                                                        dderived + size_t(tp) * E::n_derived, f, V);
        double sw = 0;  // (w_0,i - w_0,j) . d_ij
        for (int t = 0; t < K; ++t) {
            double* c = buf ? buf[t] + 3 * slot : nullptr;  // (no buf: the parameter terms alone)
            if (!inside) {
                if (c) c[0] = c[1] = c[2] = 0.0;
                continue;
            }
            const double* wt = w[t];
            const double dwx = wt[3 * i] - wt[3 * j], dwy = wt[3 * i + 1] - wt[3 * j + 1],
                         dwz = wt[3 * i + 2] - wt[3 * j + 2];
            const double dot = dx.x * dwx + dx.y * dwy + dx.z * dwz;
            if (t == 0) sw = dot;
            if (!c) continue;
            double s = 2.0 * f.d[0] * dot;
            if (ptan && ptan[t])
                for (int q = 0; q < Q; ++q) s += f.d[1 + q] * ptan[t][tp * Q + q];
            c[0] = f.v * dwx + s * dx.x;
            c[1] = f.v * dwy + s * dx.y;
            c[2] = f.v * dwz + s * dx.z;
        }
        if (!inside) continue;
        if (gacc) {
            if (ntypes == 1)
                for (int q = 0; q < Q; ++q) gsum[q] += f.d[1 + q] * sw;
            else
                for (int q = 0; q < Q; ++q) gacc[tp * Q + q] += f.d[1 + q] * sw;
        }
        if constexpr (ENERGY)  // (otherwise V is never read, and the compiler drops its arithmetic)
            for (int q = 0; q < Q; ++q) eacc[tp * Q + q] += V.d[1 + q];
    }
    if (gacc && ntypes == 1)
        for (int q = 0; q < Q; ++q) gacc[q] += gsum[q];
}

#if defined(HA_HAVE_LANES)
// Pairs k .. k+3 of a row (fewer at its end) evaluated in dual numbers over Lanes: d_ij, f with
// its derivatives, which lanes are within the cutoff (and the potential on), and the neighbours.
template <class E, int Q>
struct JacobianChunk {
    using L = Lanes;
    using DL = SDual<0, 1 + Q, L>;
    uint32_t m;  // pairs in use
    L wx, wy, wz;
    DL f;
    decltype(L{} < L{}) inside;
    uint32_t jj[4];
    HA_EVALUATOR JacobianChunk(const LaneOrigin& origin, const PosType* p, const uint32_t* list, uint32_t k, uint32_t n,
                               const BoxDim& box, double rcutsq, const ParamDual<Q>* d) {
        using RL = SDual<0, 1, L>;
        const L rc = {rcutsq, rcutsq, rcutsq, rcutsq};
        m = n - k < 4 ? n - k : 4;
        const L rsq = lane_displacements(origin, p, list + k, m, box, wx, wy, wz);
        const auto in = rsq < rc;
        DL V;
        const bool ok = E::eval(RL::variable(in ? rsq : rc, 0), RL(rc), d, f, V);
        const decltype(in) none = in ^ in;
        inside = ok ? in : none;
        for (uint32_t c = 0; c < 4; ++c) jj[c] = list[k + (c < m ? c : m - 1)];
    }
};

// c_ij for four pairs of the particle in row i of one adjoint vector wt: f (w_i - w_j) + s d_ij,
// s = 2 f' d_ij.(w_i - w_j) (+ sum_q df/dtheta_q pt[q] with parameter tangents pt), zero outside
// the cutoff. (wx, wy, wz) are d_ij; returns d_ij.(w_i - w_j), which the parameter sums use.
template <int Q, class DL, class Mask>
HA_EVALUATOR Lanes pair_c_lanes(const double* wt, size_t i, const uint32_t* jj, Lanes wx, Lanes wy, Lanes wz,
                                const DL& f, Mask inside, const double* pt, Lanes& cx, Lanes& cy, Lanes& cz) {
    using L = Lanes;
    const L zero = {0, 0, 0, 0};
    const L wix = {wt[3 * i], wt[3 * i], wt[3 * i], wt[3 * i]};
    const L wiy = {wt[3 * i + 1], wt[3 * i + 1], wt[3 * i + 1], wt[3 * i + 1]};
    const L wiz = {wt[3 * i + 2], wt[3 * i + 2], wt[3 * i + 2], wt[3 * i + 2]};
    const L dwx = wix - L{wt[3 * jj[0]], wt[3 * jj[1]], wt[3 * jj[2]], wt[3 * jj[3]]};
    const L dwy = wiy - L{wt[3 * jj[0] + 1], wt[3 * jj[1] + 1], wt[3 * jj[2] + 1], wt[3 * jj[3] + 1]};
    const L dwz = wiz - L{wt[3 * jj[0] + 2], wt[3 * jj[1] + 2], wt[3 * jj[2] + 2], wt[3 * jj[3] + 2]};
    const L dot = wx * dwx + wy * dwy + wz * dwz;
    L sv = 2.0 * f.d[0] * dot;
    if (pt)
        for (int q = 0; q < Q; ++q) sv += f.d[1 + q] * pt[q];
    cx = inside ? f.v * dwx + sv * wx : zero;
    cy = inside ? f.v * dwy + sv * wy : zero;
    cz = inside ? f.v * dwz + sv * wz : zero;
    return dot;
}

// Pass 1 in Lanes, for one type pair in an orthorhombic box without energy derivatives: the
// evaluator runs in dual numbers over Lanes on four pairs at once (each lane with the operations
// of the scalar duals: the same f, f' and df/dtheta bits), then each pair's c_ij and parameter
// terms are formed exactly as in pair_jacobian_upper.
template <class E, int Q>
HA_SIMD_CLONES void pair_jacobian_upper_lanes(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                              double rcutsq, const ParamDual<Q>* dderived, int K,
                                              const double* const* w, const double* const* ptan, double* const* buf,
                                              uint32_t slot0, double* gacc) {
    using L = Lanes;
    ParamDual<Q> d[E::n_derived];  // a local copy: the slots written below cannot alias it
    for (int q = 0; q < E::n_derived; ++q) d[q] = dderived[q];
    const PosType pi = p[i];
    const LaneOrigin origin(pi);
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    size_t slot = slot0;
    double gsum[Q > 0 ? Q : 1] = {};  // this particle's parameter terms, as pair_jacobian_upper
    for (uint32_t k = lower_bound_tag(nb, i, i); k < n; k += 4) {
        // pairs beyond the cutoff (or a potential switched off) give c = 0 and add +0.0 to the
        // parameter sums, which start at +0.0 and so never change a bit that way
        const JacobianChunk<E, Q> ch(origin, p, list, k, n, box, rcutsq, d);
        const uint32_t m = ch.m;
        const auto& f = ch.f;
        const auto inside = ch.inside;
        const L zero = {0, 0, 0, 0};
        L sw = zero;  // (w_0,i - w_0,j) . d_ij
        for (int t = 0; t < K; ++t) {
            L cx, cy, cz;
            const L dot =
                pair_c_lanes<Q>(w[t], i, ch.jj, ch.wx, ch.wy, ch.wz, f, inside, ptan ? ptan[t] : nullptr, cx, cy, cz);
            if (t == 0) sw = dot;
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
                for (uint32_t c = 0; c < m; ++c) gsum[q] += term[c];  // in list order, as the scalar loop
            }
        slot += m;
    }
    if (gacc)
        for (int q = 0; q < Q; ++q) gacc[q] += gsum[q];
}
#endif

#if !defined(__CUDACC__)
// Both passes at once for particle m of a system held in the neighbour list's spatial order
// (positions ps and adjoint vectors ws by position; the rows keep their ascending-tag
// order, entries are positions): large systems whose tags are scattered in space, where the
// pair-once passes would read scattered memory. Every pair of the full list is evaluated from
// this side, as pair_jacobian_upper_lanes does, and c_ij added to the row's sum in list order:
// c_ij = -c_ji exactly, so the sum has the bits of the gather's. The parameter terms of the pairs
// with a higher tag go to this particle's own sum, in list order (others add +0.0): the bits of
// pair_jacobian_upper_lanes's per-particle sum. Both go to the particle's tag: out[t] (added, as
// the gather adds) and gpart (Q per tag, written).
template <class E, int Q>
HA_SIMD_CLONES void pair_jacobian_spatial_lanes(uint32_t m, const PosType* ps, const BoxDim& box,
                                                const NeighborView& nb, double rcutsq, const ParamDual<Q>* dderived,
                                                int K, const double* const* ws, double* const* out, double* gpart) {
    using L = Lanes;
    ParamDual<Q> d[E::n_derived];
    for (int q = 0; q < E::n_derived; ++q) d[q] = dderived[q];
    const PosType pm = ps[m];
    const LaneOrigin origin(pm);
    const L zero = {0, 0, 0, 0};
    const uint32_t n = nb.count[m];
    const uint32_t* list = nb.nlist + size_t(m) * nb.stride;
    double gsum[Q > 0 ? Q : 1] = {};
    constexpr int KMAX = 4;  // vectors summed in registers at once (more: further passes)
    for (int t0 = 0; t0 < K; t0 += KMAX) {
        const int kn = K - t0 < KMAX ? K - t0 : KMAX;
        L acc[KMAX] = {zero, zero, zero, zero};
        for (uint32_t k = 0; k < n; k += 4) {
            const JacobianChunk<E, Q> ch(origin, ps, list, k, n, box, rcutsq, d);
            const uint32_t cnt = ch.m;
            const auto& f = ch.f;
            const auto inside = ch.inside;
            const uint32_t* jj = ch.jj;
            L sw = zero;
            for (int tt = 0; tt < kn; ++tt) {
                L cx, cy, cz, cw = zero;
                const L dot = pair_c_lanes<Q>(ws[t0 + tt], m, jj, ch.wx, ch.wy, ch.wz, f, inside, nullptr, cx, cy, cz);
                if (t0 + tt == 0) sw = dot;
                transpose(cx, cy, cz, cw);  // one row (c_x, c_y, c_z, 0) per pair, added in list order
                acc[tt] = acc[tt] + cx;
                if (cnt > 1) acc[tt] = acc[tt] + cy;
                if (cnt > 2) acc[tt] = acc[tt] + cz;
                if (cnt > 3) acc[tt] = acc[tt] + cw;
            }
            if (gpart && t0 == 0)
                for (int q = 0; q < Q; ++q) {
                    const L term = inside ? f.d[1 + q] * sw : zero;
                    for (uint32_t c = 0; c < cnt; ++c)
                        if (ps[jj[c]].tag > pm.tag) gsum[q] += term[c];
                }
        }
        for (int tt = 0; tt < kn; ++tt) {
            double* o = out[t0 + tt] + 3 * size_t(pm.tag);
            o[0] += acc[tt][0];
            o[1] += acc[tt][1];
            o[2] += acc[tt][2];
        }
    }
    if (gpart)
        for (int q = 0; q < Q; ++q) gpart[size_t(pm.tag) * Q + q] = gsum[q];
}
#endif

// Both passes at once for particle i, one vector w (the device's loop: a thread a particle, no
// pair slots): every pair of the full list evaluated from i's side and c_ij added to out_i in
// list order. c_ji = -c_ij exactly, so this has the bits of pass 1 and pass 2. With gpart (one
// type only), the parameter terms of the pairs j > i summed in list order into gpart[Q i ..],
// pair_jacobian_upper's per-particle sum.
template <class E, int Q>
HA_HOSTDEVICE void pair_jacobian_full(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                      uint32_t ntypes, const double* rcutsq, const ParamDual<Q>* dderived,
                                      const double* w, double* out, double* gpart) {
    using D = PairDual<Q>;
    const PosType pi = p[i];
    const uint32_t row = pi.type * ntypes;
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.row(i);
    double ox = 0, oy = 0, oz = 0;
    double gsum[Q > 0 ? Q : 1] = {};
    for (uint32_t k = 0; k < n; ++k) {
        const uint32_t j = list[size_t(k) * nb.step];
        const PosType pj = p[j];
        const Vec3 dx = box.minImageWrapped({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
        const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        const uint32_t tp = row + pj.type;
        D f, V;
        if (!(rsq < rcutsq[tp] && E::eval(RadialDual::variable(rsq, 0), RadialDual(rcutsq[tp]),
                                          dderived + size_t(tp) * E::n_derived, f, V)))
            continue;
        const double dwx = w[3 * i] - w[3 * j], dwy = w[3 * i + 1] - w[3 * j + 1], dwz = w[3 * i + 2] - w[3 * j + 2];
        const double dot = dx.x * dwx + dx.y * dwy + dx.z * dwz;
        const double s = 2.0 * f.d[0] * dot;
        ox += f.v * dwx + s * dx.x;
        oy += f.v * dwy + s * dx.y;
        oz += f.v * dwz + s * dx.z;
        if (gpart && j > i)
            for (int q = 0; q < Q; ++q) gsum[q] += f.d[1 + q] * dot;
    }
    out[3 * i] += ox;
    out[3 * i + 1] += oy;
    out[3 * i + 2] += oz;
    if (gpart)
        for (int q = 0; q < Q; ++q) gpart[size_t(i) * Q + q] = gsum[q];
}

// Pass 2 for particle i: out[k]_i += sum_j c_ij in ascending j, reading c_ij from i's own
// upper slots (j > i, from upper0[i]) and -c_ji from j's (j < i, at lower_slot[entry]).
HA_HOSTDEVICE void pair_jacobian_gather(uint32_t i, const NeighborView& nb, const uint32_t* upper0,
                                        const uint32_t* lower_slot, int K, const double* const* buf,
                                        double* const* out) {
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
