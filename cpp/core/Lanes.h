// Four doubles side by side (GCC/Clang vector extensions): the host's vector units run the
// evaluators' text (and dual numbers over it) on four pairs at once. See docs/performance.md.
#pragma once
#include <cmath>
#include "Exp.h"
#include "HostDevice.h"

namespace ha {

using std::log;
using std::sqrt;

#if !defined(__CUDACC__) && (defined(__GNUC__) || defined(__clang__))
#define HA_HAVE_LANES 1
// Four pairs side by side (GCC/Clang vector extensions): evaluators whose branches depend on
// their parameters only (not on r) are evaluated in Lanes by the host's vector units. The
// lane-wise functions round exactly as the scalar ones: exp is Exp.h's text in vector form,
// log and sqrt call the scalar functions lane by lane.
typedef double Lanes __attribute__((vector_size(32)));
typedef unsigned long long LaneBits __attribute__((vector_size(32)));
HA_EVALUATOR Lanes exp(Lanes x) {
    using namespace exp_detail;
    Lanes kd = inv_ln2_n * x + shift;
    LaneBits ki;
    __builtin_memcpy(&ki, &kd, sizeof ki);
    kd -= shift;
    const Lanes r = x + kd * neg_ln2_hi_n + kd * neg_ln2_lo_n;
    const LaneBits idx = 2 * (ki % 128);
    const Lanes tail = {from_bits(table[idx[0]]), from_bits(table[idx[1]]), from_bits(table[idx[2]]),
                        from_bits(table[idx[3]])};
    const LaneBits sbits =
        LaneBits{table[idx[0] + 1], table[idx[1] + 1], table[idx[2] + 1], table[idx[3] + 1]} + (ki << 45);
    Lanes scale;
    __builtin_memcpy(&scale, &sbits, sizeof scale);
    const Lanes r2 = r * r;
    const Lanes tmp = tail + r + r2 * (c2 + r * c3) + r2 * r2 * (c4 + r * c5);
    Lanes e = scale + scale * tmp;
    for (int c = 0; c < 4; ++c)  // as the scalar form: std::exp outside |x| < 512 (and for NaN)
        if (!(std::fabs(x[c]) < 512.0)) e[c] = std::exp(x[c]);
    return e;
}
HA_EVALUATOR Lanes log(Lanes x) {
    return Lanes{std::log(x[0]), std::log(x[1]), std::log(x[2]), std::log(x[3])};
}
HA_EVALUATOR Lanes sqrt(Lanes x) {
    return Lanes{std::sqrt(x[0]), std::sqrt(x[1]), std::sqrt(x[2]), std::sqrt(x[3])};
}

// Rows to columns: (a, b, c, d) become (a0 b0 c0 d0), (a1 b1 c1 d1), ... (moves only, no arithmetic).
typedef long long LaneIndex __attribute__((vector_size(32)));
#if defined(__clang__)
#define HA_SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define HA_SHUFFLE(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, LaneIndex{i0, i1, i2, i3})
#endif
HA_EVALUATOR void transpose(Lanes& a, Lanes& b, Lanes& c, Lanes& d) {
    const Lanes ab_lo = HA_SHUFFLE(a, b, 0, 4, 2, 6), ab_hi = HA_SHUFFLE(a, b, 1, 5, 3, 7);
    const Lanes cd_lo = HA_SHUFFLE(c, d, 0, 4, 2, 6), cd_hi = HA_SHUFFLE(c, d, 1, 5, 3, 7);
    a = HA_SHUFFLE(ab_lo, cd_lo, 0, 1, 4, 5);
    b = HA_SHUFFLE(ab_hi, cd_hi, 0, 1, 4, 5);
    c = HA_SHUFFLE(ab_lo, cd_lo, 2, 3, 6, 7);
    d = HA_SHUFFLE(ab_hi, cd_hi, 2, 3, 6, 7);
}
#undef HA_SHUFFLE
HA_EVALUATOR Lanes load_lanes(const void* at) {
    Lanes v;
    __builtin_memcpy(&v, at, sizeof v);
    return v;
}
HA_EVALUATOR void store_lanes(void* at, Lanes v) {
    __builtin_memcpy(at, &v, sizeof v);
}
#endif

}  // namespace ha
