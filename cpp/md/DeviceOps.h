// What the device runs, as ops: op(i) is one device thread's work for index i (gpu::launch).
// Each calls the per-particle functions the CPU path calls, so no physics is written here; the
// host backend calls the same ops in a loop (GPU.h).
#pragma once
#include <cmath>
#include <cstdint>

#include "../core/BoxDim.h"
#include "../core/HostDevice.h"
#include "PairForceKernel.h"
#include "ParticleData.h"
#include "TwoStep.h"
#include "evaluators/All.h"

namespace ha {
namespace gpu {

HA_HOSTDEVICE bool is_finite(double x) {
#ifdef __CUDA_ARCH__
    return isfinite(x);
#else
    return std::isfinite(x);
#endif
}

// What a device run leaves for the host to look at between its checks (System::advance): the
// lowest offending tag of each kind, UINT32_MAX while there is none.
struct RunStatus {
    uint32_t outside;    // outside the box, or an image counter at the end of its range
    uint32_t nonfinite;  // a non-finite net force or energy
};

struct PackOp {
    const double* pos;
    const uint32_t* tid;
    PosType* out;
    HA_HOSTDEVICE void operator()(uint32_t i) const { out[i] = {pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], tid[i], i}; }
};

template <class E, bool TRICLINIC>
struct PairForceOp {
    const PosType* p;
    BoxDim box;
    NeighborView nb;
    PairTables tab;
    double *force, *energy;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        pair_force_particle<E, false, TRICLINIC>(i, p, box, nb, tab, force, energy, nullptr);
    }
};

struct ZeroNetOp {
    double *nf, *ne;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        nf[3 * i] = nf[3 * i + 1] = nf[3 * i + 2] = 0.0;
        ne[i] = 0.0;
    }
};

struct AddForceOp {
    const double *f, *e;
    double *nf, *ne;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        for (int k = 0; k < 3; ++k) nf[3 * i + k] += f[3 * i + k];
        ne[i] += e[i];
    }
};

// The checks of System::checkForces, recorded instead of thrown (the host names the step).
struct CheckStateOp {
    const double* pos;
    const int32_t* img;
    const double *nf, *ne;
    BoxDim box;
    RunStatus* st;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        const Vec3 f = box.makeFraction({pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]});
        const double lo = -1e-10, hi = 1 + 1e-10;
        bool ok = f.x >= lo && f.x <= hi && f.y >= lo && f.y <= hi && (box.is2D || (f.z >= lo && f.z <= hi));
        for (int k = 0; k < 3; ++k) ok = ok && img[3 * i + k] != INT32_MAX && img[3 * i + k] != INT32_MIN;
        if (!ok) atomic_min(&st->outside, i);
        if (!is_finite(nf[3 * i]) || !is_finite(nf[3 * i + 1]) || !is_finite(nf[3 * i + 2]) || !is_finite(ne[i]))
            atomic_min(&st->nonfinite, i);
    }
};

// Integration methods: one thread per member (the index is into the method's member list).
struct BrownianOp {
    const uint32_t* mem;
    StepArgs a;
    BoxDim box;
    const double* gamma;
    const uint32_t* tid;
    const double* F;
    double* r;
    int32_t* img;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        brownian_step(i, a, box, gamma[tid[i]], F + 3 * i, r + 3 * i, img + 3 * i);
    }
};
struct LangevinOneOp {
    const uint32_t* mem;
    StepArgs a;
    BoxDim box;
    const double* acc;
    double* r;
    int32_t* img;
    double* v;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        langevin_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i);
    }
};
struct LangevinTwoOp {
    const uint32_t* mem;
    StepArgs a;
    const double* gamma;
    const uint32_t* tid;
    const double *mass, *F;
    double *acc, *v;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        langevin_step_two(i, a, gamma[tid[i]], mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
    }
};
struct NVEOneOp {
    const uint32_t* mem;
    StepArgs a;
    BoxDim box;
    const double* acc;
    double* r;
    int32_t* img;
    double* v;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        nve_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i);
    }
};
struct NVETwoOp {
    const uint32_t* mem;
    StepArgs a;
    const double *mass, *F;
    double *acc, *v;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        nve_step_two(a, mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
    }
};

// ---- Neighbour lists built on the device (NeighborList::updateDevice) ----
// Every step runs the same five launches; whether they build is decided on the device (`build`),
// so no step waits for the host. Rows are sorted by tag, as the CPU's are: any valid list then
// gives the same forces, to the bit, whichever order the cells were filled in.

// A neighbour list's device-side record. Overflows are noted, not fatal: the host looks
// between chunks of steps and replays a chunk that overflowed with larger arrays.
struct ListStatus {
    uint32_t build;        // this step builds
    uint32_t check;        // this step looks whether it must build
    uint32_t need_cap;     // a cell overflowed: the capacity it needed (0: none)
    uint32_t need_stride;  // a row overflowed: the length it needed (0: none)
    uint64_t last_build;   // timestep of the last build
    uint64_t builds;       // builds so far (NeighborList::numBuilds)
};

// Cells at least r_list wide along each lattice direction (or all of them, where fewer than
// three fit), each holding up to `cap` tags.
struct CellGrid {
    int nc[3];
    uint32_t cap;
};

HA_HOSTDEVICE int cell_coord(double f, int n) {
    const double x = f * n;
    if (!(x >= 0)) return 0;  // (and NaN: the state check reports the particle)
    const int c = int(x);
    return c >= n ? n - 1 : c;
}
HA_HOSTDEVICE uint32_t cell_of(const BoxDim& box, const CellGrid& g, const PosType& p, int* c) {
    const Vec3 f = box.makeFraction({p.x, p.y, p.z});
    c[0] = cell_coord(f.x, g.nc[0]);
    c[1] = cell_coord(f.y, g.nc[1]);
    c[2] = cell_coord(f.z, g.nc[2]);
    return uint32_t((c[2] * g.nc[1] + c[1]) * g.nc[0] + c[0]);
}
// The distinct cells at most one away from c along a direction with n cells.
HA_HOSTDEVICE int stencil_cells(int c, int n, int* out) {
    if (n <= 2) {
        for (int k = 0; k < n; ++k) out[k] = k;
        return n;
    }
    out[0] = c == 0 ? n - 1 : c - 1;
    out[1] = c;
    out[2] = c + 1 == n ? 0 : c + 1;
    return 3;
}

// One thread: whether this step builds (always, or only if the rebuild check is due and finds a
// particle beyond buffer/2: MovedOp), as HOOMD's nlist.Cell decides.
struct ArmBuildOp {
    ListStatus* st;
    uint64_t t, delay;
    bool always;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        st->build = always ? 1u : 0u;
        st->check = !always && !(t >= st->last_build && t < st->last_build + delay);
    }
};
struct MovedOp {
    const PosType* p;
    const double* last;
    BoxDim box;
    double maxsq;
    ListStatus* st;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        if (!st->check) return;
        const Vec3 d = box.minImage({p[i].x - last[3 * i], p[i].y - last[3 * i + 1], p[i].z - last[3 * i + 2]});
        if (d.x * d.x + d.y * d.y + d.z * d.z >= maxsq) st->build = 1;  // (every writer writes 1)
    }
};
struct ClearCellsOp {
    const ListStatus* st;
    uint32_t* cell_count;
    HA_HOSTDEVICE void operator()(uint32_t c) const {
        if (st->build) cell_count[c] = 0;
    }
};
struct BinOp {
    ListStatus* st;
    const PosType* p;
    BoxDim box;
    CellGrid g;
    uint32_t *cell_count, *cell_members;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        if (!st->build) return;
        int c[3];
        const uint32_t cell = cell_of(box, g, p[i], c);
        const uint32_t slot = atomic_add(&cell_count[cell], 1u);
        if (slot < g.cap) cell_members[size_t(cell) * g.cap + slot] = i;
        else atomic_max(&st->need_cap, slot + 1);
    }
};
// Row i: every j within r_list of i (min image), ascending, and the positions it was built at.
struct RowOp {
    ListStatus* st;
    const PosType* p;
    BoxDim box;
    CellGrid g;
    const uint32_t *cell_count, *cell_members;
    const double* rlistsq;  // ntypes^2; negative: the pair never enters
    uint32_t ntypes;
    const int32_t* body;  // exclusions=['body'], or null
    uint32_t* nlist;
    uint32_t* count;
    uint32_t stride;
    double* last;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        if (!st->build) return;
        const PosType pi = p[i];
        int c[3], cx[3], cy[3], cz[3];
        cell_of(box, g, pi, c);
        const int nx = stencil_cells(c[0], g.nc[0], cx), ny = stencil_cells(c[1], g.nc[1], cy),
                  nz = stencil_cells(c[2], g.nc[2], cz);
        const int32_t bi = body ? body[i] : -1;
        uint32_t* row = nlist + size_t(i) * stride;
        uint32_t n = 0;
        for (int a = 0; a < nz; ++a)
            for (int b = 0; b < ny; ++b)
                for (int e = 0; e < nx; ++e) {
                    const uint32_t cell = uint32_t((cz[a] * g.nc[1] + cy[b]) * g.nc[0] + cx[e]);
                    const uint32_t m = cell_count[cell] < g.cap ? cell_count[cell] : g.cap;
                    const uint32_t* members = cell_members + size_t(cell) * g.cap;
                    for (uint32_t s = 0; s < m; ++s) {
                        const uint32_t j = members[s];
                        if (j == i || (bi >= 0 && body[j] == bi)) continue;
                        const PosType pj = p[j];
                        const Vec3 d = box.minImage({pi.x - pj.x, pi.y - pj.y, pi.z - pj.z});
                        if (d.x * d.x + d.y * d.y + d.z * d.z < rlistsq[pi.type * ntypes + pj.type]) {
                            if (n < stride) row[n] = j;
                            ++n;
                        }
                    }
                }
        if (n > stride) {
            atomic_max(&st->need_stride, n);
            n = stride;
        }
        for (uint32_t k = 1; k < n; ++k) {  // insertion sort: rows are short
            const uint32_t v = row[k];
            uint32_t q = k;
            for (; q > 0 && row[q - 1] > v; --q) row[q] = row[q - 1];
            row[q] = v;
        }
        count[i] = n;
        last[3 * i] = pi.x;
        last[3 * i + 1] = pi.y;
        last[3 * i + 2] = pi.z;
    }
};
struct FinishBuildOp {
    ListStatus* st;
    uint64_t t;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        if (st->build) {
            st->last_build = t;
            ++st->builds;
        }
    }
};

}  // namespace gpu
}  // namespace ha

// Every op type launched, for the explicit instantiations of gpu::cuda::launch; the pair-force
// ops are instantiated for each evaluator (HA_FOR_EACH_PAIR_EVALUATOR) and both box kinds.
#define HA_DEVICE_OPS(X)                                                                                 \
    X(PackOp) X(ZeroNetOp) X(AddForceOp) X(CheckStateOp) X(BrownianOp) X(LangevinOneOp) X(LangevinTwoOp) \
    X(NVEOneOp) X(NVETwoOp) X(ArmBuildOp) X(MovedOp) X(ClearCellsOp) X(BinOp) X(RowOp) X(FinishBuildOp)
#define HA_DEVICE_PAIR_OPS(X, E) X(PairForceOp<E, false>) X(PairForceOp<E, true>)
