// The one generic pair loop: per particle, over its full neighbour list, in a fixed order.
// Used by the CPU (OpenMP over particles) and CUDA (one thread per particle) paths alike.
#pragma once
#include <cstdint>
#include "core/BoxDim.h"
#include "core/HostDevice.h"
#include "engine/ParticleData.h"
#include "core/Simd.h"
#include "engine/evaluators/EvaluatorMath.h"

namespace ha {

struct PairTables {
    uint32_t ntypes;
    const double* rcutsq;   // ntypes^2
    const double* derived;  // ntypes^2 x E::n_derived
    const double* eshift;   // ntypes^2: V(r_cut) subtracted in shift mode, else 0
};

// Particle i's neighbours are row(i)[0], row(i)[step], ... (count[i] of them). The CPU's lists
// are rows (step 1); the device's are columns (rows start one apart, entries N apart), so that
// the threads of a warp, one a particle, read adjacent words. (The Lanes loops are CPU-only and
// read rows.)
struct NeighborView {
    const uint32_t* nlist;
    const uint32_t* count;
    uint32_t stride;    // from one row's start to the next
    uint32_t step = 1;  // from one entry of a row to the next
    HA_HOSTDEVICE const uint32_t* row(uint32_t i) const { return nlist + size_t(i) * stride; }
};

// Position of tag q in j's sorted neighbour list (the first entry >= q).
HA_HOSTDEVICE uint32_t lower_bound_tag(const NeighborView& nb, uint32_t j, uint32_t q) {
    const uint32_t* list = nb.row(j);
    uint32_t lo = 0, hi = nb.count[j];
    while (lo < hi) {
        const uint32_t mid = (lo + hi) / 2;
        if (list[size_t(mid) * nb.step] < q)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

// Pass 1 of the pair-once loop: for each neighbour j > i, store (F_ij, V_ij - shift) in the
// pair's slot (zeros beyond the cutoff). Pass 2 (pair_force_gather) sums them in ascending j,
// the order of pair_force_particle, with the same bits: d_ji = -d_ij exactly.
template <class E, bool TRICLINIC>
HA_HOSTDEVICE void pair_force_upper(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                    const PairTables& tab, uint32_t slot, double* buf) {
    const PosType pi = p[i];
    const uint32_t row = pi.type * tab.ntypes;
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    for (uint32_t k = lower_bound_tag(nb, i, i); k < n; ++k, ++slot) {
        const PosType pj = p[list[k]];
        const Vec3 dx = box.template minImageWrapped<TRICLINIC>({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
        const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        const uint32_t tp = row + pj.type;
        const double rcutsq = tab.rcutsq[tp];
        double* b = buf + 4 * size_t(slot);
        double force_divr = 0, pair_eng = 0;
        if (rsq < rcutsq && E::eval(rsq, rcutsq, tab.derived + tp * E::n_derived, force_divr, pair_eng)) {
            b[0] = dx.x * force_divr;
            b[1] = dx.y * force_divr;
            b[2] = dx.z * force_divr;
            b[3] = pair_eng - tab.eshift[tp];
        } else {
            b[0] = b[1] = b[2] = b[3] = 0.0;
        }
    }
}

// Whether a type pair is shifted by V(r_cut) whatever the force's mode (xplor with r_on > r_cut).
template <class E, class = void>
struct evaluator_shifts {
    static bool at(const double*, double) { return false; }
};
template <class E>
struct evaluator_shifts<E, decltype(void(E::shifts(nullptr, 0.0)))> {
    static bool at(const double* d, double rcutsq) { return E::shifts(d, rcutsq); }
};

#if !defined(__CUDACC__)
// Host code compiled for several instruction sets, picked at load time (one wheel runs everywhere).
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && defined(__linux__)
#define HA_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HA_SIMD_CLONES
#endif

// Evaluators opt in to Lanes with `static constexpr bool lanes = true`: their branches depend on
// the parameters only, and their math maps to vector instructions (exp included: core/Exp.h has
// the same bits in Lanes as in double). The force pass and the adjoint's pair pass both use them.
template <class E, class = void>
struct lanes_ok {
    static constexpr bool value = false;
};
template <class E>
struct lanes_ok<E, decltype(void(E::lanes))> {
    static constexpr bool value = E::lanes;
};

#if defined(HA_HAVE_LANES)
// Pairs k .. k+m-1 (m <= 4) of particle i's list, as lanes: the displacements r_i - r_j in an
// orthorhombic box and their r^2. Positions come in as rows (x, y, z, type|tag) and are turned
// into x, y, z lanes; a chunk of fewer than four repeats its last pair in the lanes it does not
// fill. Each lane goes through the operations of BoxDim::minImageWrapped<false> (same bits).
struct LaneOrigin {
    Lanes x, y, z;
    explicit LaneOrigin(const PosType& pi)
        : x{pi.x, pi.x, pi.x, pi.x}, y{pi.y, pi.y, pi.y, pi.y}, z{pi.z, pi.z, pi.z, pi.z} {}
};
HA_EVALUATOR Lanes lane_displacements(const LaneOrigin& o, const PosType* p, const uint32_t* list, uint32_t m,
                                      const BoxDim& box, Lanes& wx, Lanes& wy, Lanes& wz) {
    const double magic = 6755399441055744.0;  // BoxDim::round_nearest
    Lanes px = load_lanes(&p[list[0]]), py = load_lanes(&p[list[m > 1 ? 1 : 0]]);
    Lanes pz = load_lanes(&p[list[m > 2 ? 2 : m - 1]]), pw = load_lanes(&p[list[m > 3 ? 3 : m - 1]]);
    transpose(px, py, pz, pw);
    wx = o.x - px;
    wy = o.y - py;
    wz = o.z - pz;
    wz -= ((wz * box.Linvz + magic) - magic) * box.Lz;
    wy -= ((wy * box.Linvy + magic) - magic) * box.Ly;
    wx -= ((wx * box.Linvx + magic) - magic) * box.Lx;
    return wx * wx + wy * wy + wz * wz;
}

// Pass 1 for a system with one type pair (the common case) in an orthorhombic box, four pairs at
// a time: the evaluator's text runs on Lanes (pairs beyond the cutoff are evaluated at r_cut and
// zeroed, without branches). Every lane goes through exactly the operations of pair_force_upper
// (no contraction, no reordering), so the slots hold the same bits as the scalar path.
template <class E>
HA_SIMD_CLONES void pair_force_upper_lanes(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                           const PairTables& tab, uint32_t slot, double* buf) {
    using L = Lanes;
    const PosType pi = p[i];
    const double rcutsq = tab.rcutsq[0], eshift = tab.eshift[0];
    double d[E::n_derived];  // a local copy: the slots written below cannot alias it
    for (int q = 0; q < E::n_derived; ++q) d[q] = tab.derived[q];
    const LaneOrigin origin(pi);
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    for (uint32_t k = lower_bound_tag(nb, i, i); k < n; k += 4, slot += 4) {
        const uint32_t m = n - k < 4 ? n - k : 4;
        L wx, wy, wz;
        const L rsq = lane_displacements(origin, p, list + k, m, box, wx, wy, wz);
        const L rc = {rcutsq, rcutsq, rcutsq, rcutsq};
        const auto in = rsq < rc;
        L force_divr = {0, 0, 0, 0}, pair_eng = {0, 0, 0, 0};
        const bool ok = E::eval(in ? rsq : rc, rc, d, force_divr, pair_eng);  // false: parameters say "off"
        const L zero = {0, 0, 0, 0};
        L fx = ok ? (in ? wx * force_divr : zero) : zero;
        L fy = ok ? (in ? wy * force_divr : zero) : zero;
        L fz = ok ? (in ? wz * force_divr : zero) : zero;
        L en = ok ? (in ? pair_eng - eshift : zero) : zero;
        transpose(fx, fy, fz, en);  // one slot (F_ij, V_ij) per row
        double* out = buf + 4 * size_t(slot);
        store_lanes(out, fx);
        if (m > 1) store_lanes(out + 4, fy);
        if (m > 2) store_lanes(out + 8, fz);
        if (m > 3) store_lanes(out + 12, en);
    }
}

// The whole force on i in Lanes from its full list (every pair evaluated from both sides, no pair
// buffer): for large systems, where the buffer of pass 1 no longer fits in the caches. Each row
// (F_ij, V_ij) is added in list order with the operations of pair_force_particle; pairs beyond
// the cutoff add +0.0 (a sum that starts at +0.0 is never -0.0, so that changes no bit), and
// F_ji = -F_ij exactly, so the result has the bits of the pair-once loop as well.
template <class E>
HA_SIMD_CLONES void pair_force_particle_lanes(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                              const PairTables& tab, double* force, double* energy) {
    using L = Lanes;
    const PosType pi = p[i];
    const double rcutsq = tab.rcutsq[0], eshift = tab.eshift[0];
    double d[E::n_derived];
    for (int q = 0; q < E::n_derived; ++q) d[q] = tab.derived[q];
    const LaneOrigin origin(pi);
    const L rc = {rcutsq, rcutsq, rcutsq, rcutsq}, zero = {0, 0, 0, 0};
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    L acc = zero;
    for (uint32_t k = 0; k < n; k += 4) {
        const uint32_t m = n - k < 4 ? n - k : 4;
        L wx, wy, wz;
        const L rsq = lane_displacements(origin, p, list + k, m, box, wx, wy, wz);
        const auto in = rsq < rc;
        L force_divr = zero, pair_eng = zero;
        const bool ok = E::eval(in ? rsq : rc, rc, d, force_divr, pair_eng);
        L fx = ok ? (in ? wx * force_divr : zero) : zero;
        L fy = ok ? (in ? wy * force_divr : zero) : zero;
        L fz = ok ? (in ? wz * force_divr : zero) : zero;
        L en = ok ? (in ? (pair_eng - eshift) * 0.5 : zero) : zero;  // each particle takes half a pair's energy
        transpose(fx, fy, fz, en);
        acc = acc + fx;
        if (m > 1) acc = acc + fy;
        if (m > 2) acc = acc + fz;
        if (m > 3) acc = acc + en;
    }
    force[3 * i] = acc[0];
    force[3 * i + 1] = acc[1];
    force[3 * i + 2] = acc[2];
    energy[i] = acc[3];
}

// Pass 2 in Lanes: (F_x, F_y, F_z, V) of a slot is one row, so each neighbour adds one vector;
// the lanes accumulate in list order, with the operations of pair_force_gather (-b = b * -1
// and b * 1 = b exactly), so the sums have its bits.
HA_SIMD_CLONES inline void pair_force_gather_lanes(uint32_t i, const NeighborView& nb, const uint32_t* upper0,
                                                   const uint32_t* lower_slot, const double* buf, double* force,
                                                   double* energy) {
    const uint32_t n = nb.count[i];
    const uint32_t* lower = lower_slot + size_t(i) * nb.stride;
    const uint32_t nlow = lower_bound_tag(nb, i, i);  // the list is sorted: j < i come first
    const Lanes lo = {-1.0, -1.0, -1.0, 0.5}, hi = {1.0, 1.0, 1.0, 0.5};
    Lanes acc = {0, 0, 0, 0};
    for (uint32_t k = 0; k < nlow; ++k) acc = acc + load_lanes(buf + 4 * size_t(lower[k])) * lo;
    const double* own = buf + 4 * size_t(upper0[i]);
    for (uint32_t k = nlow; k < n; ++k, own += 4) acc = acc + load_lanes(own) * hi;
    force[3 * i] = acc[0];
    force[3 * i + 1] = acc[1];
    force[3 * i + 2] = acc[2];
    energy[i] = acc[3];
}
#endif
#endif

HA_HOSTDEVICE void pair_force_gather(uint32_t i, const NeighborView& nb, const uint32_t* upper0,
                                     const uint32_t* lower_slot, const double* buf, double* force, double* energy) {
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    const uint32_t* lower = lower_slot + size_t(i) * nb.stride;
    double fx = 0, fy = 0, fz = 0, e = 0;
    size_t own = upper0[i];
    for (uint32_t k = 0; k < n; ++k) {
        const double* b;
        if (list[k] < i) {
            b = buf + 4 * size_t(lower[k]);
            fx -= b[0];
            fy -= b[1];
            fz -= b[2];
        } else {
            b = buf + 4 * own++;
            fx += b[0];
            fy += b[1];
            fz += b[2];
        }
        e += b[3] * 0.5;
    }
    force[3 * i] = fx;
    force[3 * i + 1] = fy;
    force[3 * i + 2] = fz;
    energy[i] = e;
}

// Force on i (F_i = sum_j f_r(r_ij^2) r_ij) and half of each pair energy, as HOOMD's PotentialPair
// accumulates them; with VIRIAL also half of each pair virial (xx, xy, xz, yy, yz, zz).
template <class E, bool VIRIAL, bool TRICLINIC>
HA_HOSTDEVICE void pair_force_particle(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                       const PairTables& tab, double* force, double* energy, double* virial) {
    const PosType pi = p[i];
    const uint32_t row = pi.type * tab.ntypes;
    double fx = 0, fy = 0, fz = 0, e = 0;
    double v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0, v5 = 0;
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.row(i);
    for (uint32_t k = 0; k < n; ++k) {
        const PosType pj = p[list[size_t(k) * nb.step]];
        const Vec3 dx = box.template minImageWrapped<TRICLINIC>({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
        const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        const uint32_t tp = row + pj.type;
        const double rcutsq = tab.rcutsq[tp];
        if (!(rsq < rcutsq)) continue;
        double force_divr = 0, pair_eng = 0;
        if (!E::eval(rsq, rcutsq, tab.derived + tp * E::n_derived, force_divr, pair_eng)) continue;
        pair_eng -= tab.eshift[tp];
        fx += dx.x * force_divr;
        fy += dx.y * force_divr;
        fz += dx.z * force_divr;
        e += pair_eng * 0.5;
        if (VIRIAL) {
            const double fh = force_divr * 0.5;
            v0 += fh * dx.x * dx.x;
            v1 += fh * dx.x * dx.y;
            v2 += fh * dx.x * dx.z;
            v3 += fh * dx.y * dx.y;
            v4 += fh * dx.y * dx.z;
            v5 += fh * dx.z * dx.z;
        }
    }
    force[3 * i] = fx;
    force[3 * i + 1] = fy;
    force[3 * i + 2] = fz;
    energy[i] = e;
    if (VIRIAL) {
        double* w = virial + 6 * size_t(i);
        w[0] = v0;
        w[1] = v1;
        w[2] = v2;
        w[3] = v3;
        w[4] = v4;
        w[5] = v5;
    }
}

}  // namespace ha
