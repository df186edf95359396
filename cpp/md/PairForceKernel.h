// The one generic pair loop: per particle, over its full neighbour list, in a fixed order.
// Used by the CPU (OpenMP over particles) and CUDA (one thread per particle) paths alike.
#pragma once
#include <cstdint>
#include "../core/BoxDim.h"
#include "../core/HostDevice.h"

namespace ha {

struct PairTables {
    uint32_t ntypes;
    const double* rcutsq;   // ntypes^2
    const double* derived;  // ntypes^2 x E::n_derived
    const double* eshift;   // ntypes^2: V(r_cut) subtracted in shift mode, else 0
};

struct NeighborView {
    const uint32_t* nlist;
    const uint32_t* count;
    uint32_t stride;
};

// Force on i (F_i = sum_j f_r(r_ij^2) r_ij), half of each pair energy, and half of each pair
// virial (xx, xy, xz, yy, yz, zz), exactly as HOOMD's PotentialPair accumulates them.
template <class E>
HA_HOSTDEVICE void pair_force_particle(uint32_t i, const double* pos, const uint32_t* typeid_, const BoxDim& box,
                                       const NeighborView& nb, const PairTables& tab, double* force, double* energy,
                                       double* virial) {
    const double pix = pos[3 * i], piy = pos[3 * i + 1], piz = pos[3 * i + 2];
    const uint32_t ti = typeid_[i];
    double fx = 0, fy = 0, fz = 0, e = 0;
    double v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0, v5 = 0;
    const uint32_t n = nb.count[i];
    const uint32_t* list = nb.nlist + size_t(i) * nb.stride;
    for (uint32_t k = 0; k < n; ++k) {
        const uint32_t j = list[k];
        Vec3 dx = box.minImage({pix - pos[3 * j], piy - pos[3 * j + 1], piz - pos[3 * j + 2]});
        const double rsq = dx.x * dx.x + dx.y * dx.y + dx.z * dx.z;
        const uint32_t tp = ti * tab.ntypes + typeid_[j];
        const double rcutsq = tab.rcutsq[tp];
        if (!(rsq < rcutsq)) continue;
        double force_divr = 0, pair_eng = 0;
        if (!E::eval(rsq, rcutsq, tab.derived + tp * E::n_derived, force_divr, pair_eng)) continue;
        pair_eng -= tab.eshift[tp];
        fx += dx.x * force_divr;
        fy += dx.y * force_divr;
        fz += dx.z * force_divr;
        e += pair_eng * 0.5;
        const double fh = force_divr * 0.5;
        v0 += fh * dx.x * dx.x;
        v1 += fh * dx.x * dx.y;
        v2 += fh * dx.x * dx.z;
        v3 += fh * dx.y * dx.y;
        v4 += fh * dx.y * dx.z;
        v5 += fh * dx.z * dx.z;
    }
    force[3 * i] = fx;
    force[3 * i + 1] = fy;
    force[3 * i + 2] = fz;
    energy[i] = e;
    double* w = virial + 6 * size_t(i);
    w[0] = v0; w[1] = v1; w[2] = v2; w[3] = v3; w[4] = v4; w[5] = v5;
}

}  // namespace ha
