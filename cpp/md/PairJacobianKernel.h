// The pair loop of the adjoint: products with the force Jacobian and parameter derivatives.
// For F_i = sum_j f(r_ij^2) d_ij (d_ij = r_i - r_j, f = force/r), the Jacobian is symmetric:
//   (J w)_i = sum_j [ f (w_i - w_j) + 2 f' d_ij (d_ij . (w_i - w_j)) ],   f' = df/d(r^2),
// and w . dF/dtheta = sum_i sum_j (df_ij/dtheta) (w_i . d_ij). f' and df/dtheta come from
// evaluating the same evaluator in dual numbers (slot 0: r^2, slots 1..P: the parameters).
#pragma once
#include <cstdint>
#include "../core/BoxDim.h"
#include "../core/Dual.h"
#include "../core/HostDevice.h"
#include "PairForceKernel.h"

namespace ha {

template <class E>
using PairDual = Dual<1 + E::n_params>;

// out_i += (J w)_i [+ sum_k df/dtheta_k ptan_k d_ij]; gacc[tp * P + k] += w_i . dF_i/dtheta_k;
// eacc[tp * P + k] += dU_i/dtheta_k (half of each pair energy, unshifted: the caller adds the
// shift's derivative).
template <class E, bool TRICLINIC>
HA_HOSTDEVICE void pair_jacobian_particle(uint32_t i, const PosType* p, const BoxDim& box, const NeighborView& nb,
                                          uint32_t ntypes, const double* rcutsq, const PairDual<E>* dderived,
                                          const double* w, double* out, double* gacc, double* eacc, const double* ptan) {
    constexpr int P = E::n_params;
    using D = PairDual<E>;
    const PosType pi = p[i];
    const uint32_t row = pi.type * ntypes;
    const double wix = w[3 * i], wiy = w[3 * i + 1], wiz = w[3 * i + 2];
    double ox = 0, oy = 0, oz = 0;
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    for (uint32_t k = 0; k < n; ++k) {
        const uint32_t j = list[k];
        const PosType pj = p[j];
        const Vec3 dx = box.template minImageWrapped<TRICLINIC>({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
        const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        const uint32_t tp = row + pj.type;
        if (!(rsq < rcutsq[tp])) continue;
        D f, V;
        if (!E::eval(D::variable(rsq, 0), D(rcutsq[tp]), dderived + size_t(tp) * E::n_derived, f, V)) continue;
        const double dwx = wix - w[3 * j], dwy = wiy - w[3 * j + 1], dwz = wiz - w[3 * j + 2];
        const double s = 2.0 * f.d[0] * (dx.x * dwx + dx.y * dwy + dx.z * dwz);
        double c = s;
        if (ptan)
            for (int q = 0; q < P; ++q) c += f.d[1 + q] * ptan[tp * P + q];
        ox += f.v * dwx + c * dx.x;
        oy += f.v * dwy + c * dx.y;
        oz += f.v * dwz + c * dx.z;
        if (gacc) {
            const double sw = wix * dx.x + wiy * dx.y + wiz * dx.z;
            for (int q = 0; q < P; ++q) gacc[tp * P + q] += f.d[1 + q] * sw;
        }
        if (eacc)
            for (int q = 0; q < P; ++q) eacc[tp * P + q] += 0.5 * V.d[1 + q];
    }
    out[3 * i] += ox;
    out[3 * i + 1] += oy;
    out[3 * i + 2] += oz;
}

}  // namespace ha
