// What the device runs, as ops: op(i) is one device thread's work for index i (gpu::launch).
// Each calls the per-particle functions the CPU path calls, so no physics is written here; the
// host backend calls the same ops in a loop (GPU.h).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/BoxDim.h"
#include "core/HostDevice.h"
#include "adjoint/AdjointStep.h"
#include "adjoint/BarForceAdjoint.h"
#include "device/GPU.h"
#include "engine/PairForceKernel.h"
#include "adjoint/PairJacobianKernel.h"
#include "adjoint/RigidAdjointStep.h"
#include "engine/ParticleData.h"
#include "engine/Rigid.h"
#include "engine/TwoStep.h"
#include "engine/evaluators/All.h"

namespace ha {
namespace gpu {

HA_HOSTDEVICE bool is_finite(double x) {
#ifdef __CUDA_ARCH__
    return isfinite(x);
#else
    return std::isfinite(x);
#endif
}

// What a device run leaves for the host to look at between its checks (DeviceRun::run): the
// lowest offending tag of each kind, UINT32_MAX while there is none.
struct RunStatus {
    uint32_t outside;    // outside the box, or an image counter at the end of its range
    uint32_t nonfinite;  // a non-finite net force or energy
};

struct PackOp {
    const double* pos;
    const uint32_t* tid;
    PosType* out;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        out[i] = {pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], tid[i], i};
    }
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

// dst[i] = src[i]: a device-to-device copy as an op, so that in a batch it takes its place among
// the launches (gpu::copy runs at once, before the kept launches of the same step).
struct CopyOp {
    const double* src;
    double* dst;
    HA_HOSTDEVICE void operator()(uint32_t i) const { dst[i] = src[i]; }
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

// The timestep a step's ops read: the device's clock (DeviceState::clock, which TickOp moves on
// after step one), so that every step launches the same ops with the same arguments and a run
// can keep a step's launches once and run them again, step after step (DeviceRun.cc). Read as
// *now + offset; null: the timestep the op was given (the sweep's ops, whose steps the host sets).
struct Clock {
    const uint64_t* now = nullptr;
    int64_t offset = 0;
    HA_HOSTDEVICE uint64_t at(uint64_t given) const { return now ? uint64_t(int64_t(*now) + offset) : given; }
};
// a at the clock's step, with kT the method's variant there (as the host evaluates it)
HA_HOSTDEVICE StepArgs clocked(StepArgs a, const Clock& c, const Variant& kT) {
    if (c.now) {
        a.timestep = c.at(a.timestep);
        a.kT = kT(a.timestep);
    }
    return a;
}
struct TickOp {  // the clock moves on (a forward step: +1; the sweep goes back: -1)
    uint64_t* now;
    int64_t by;
    HA_HOSTDEVICE void operator()(uint32_t) const { *now = uint64_t(int64_t(*now) + by); }
};

// Integration methods: one thread per member (the index is into the method's member list).
struct BrownianOp {
    const uint32_t* mem;
    StepArgs a;
    Clock clock;
    Variant kT;
    BoxDim box;
    const double* gamma;
    const uint32_t* tid;
    const double* F;
    double* r;
    int32_t* img;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        brownian_step(i, clocked(a, clock, kT), box, gamma[tid[i]], F + 3 * i, r + 3 * i, img + 3 * i);
    }
};
// Langevin and NVE step one (the same drift; Langevin's noise and drag are in step two).
struct StepOneOp {
    const uint32_t* mem;
    StepArgs a;
    Clock clock;
    Variant kT;
    BoxDim box;
    bool langevin;
    const double* acc;
    double* r;
    int32_t* img;
    double* v;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        const StepArgs b = clocked(a, clock, kT);
        if (langevin)
            langevin_step_one(b, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i);
        else
            nve_step_one(b, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i);
    }
};
struct LangevinTwoOp {
    const uint32_t* mem;
    StepArgs a;
    Clock clock;
    Variant kT;
    const double* gamma;
    const uint32_t* tid;
    const double *mass, *F;
    double *acc, *v;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        langevin_step_two(i, clocked(a, clock, kT), gamma[tid[i]], mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
    }
};
struct NVETwoOp {
    const uint32_t* mem;
    StepArgs a;
    Clock clock;
    Variant kT;
    const double *mass, *F;
    double *acc, *v;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        nve_step_two(clocked(a, clock, kT), mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
    }
};
// One field of the state into its slot of a DeviceStates block: slot k0 + (the clock's step - t0),
// so that the recording is the same launch every step.
struct RecordOp {
    const double* src;
    double* data;  // the block's storage: slot k's field at k slot + off
    size_t slot, off;
    uint64_t k0, t0;
    Clock clock;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        const uint64_t k = k0 + (clock.at(t0) - t0);
        data[k * slot + off + i] = src[i];
    }
};

// ---- Rigid bodies and rotations (engine/Rigid.h's per-body and per-particle functions) ----
// Constituent slot s (of all bodies, in body order): placed from its centre.
struct PlaceSitesOp {
    const uint32_t *centers, *members, *site_body;
    const double *site_pos, *site_orient;
    BoxDim box;
    double* pos;
    int32_t* img;
    double* orient;
    HA_HOSTDEVICE void operator()(uint32_t s) const {
        const uint32_t c = centers[site_body[s]], j = members[s];
        const Q4<double> q = {orient[4 * c], orient[4 * c + 1], orient[4 * c + 2], orient[4 * c + 3]};
        place_site(box, pos + 3 * c, img + 3 * c, q, site_pos + 3 * s, site_orient + 4 * s, pos + 3 * j, img + 3 * j,
                   orient + 4 * j);
    }
};
struct ZeroTorqueOp {
    double* nt;
    HA_HOSTDEVICE void operator()(uint32_t i) const { nt[3 * i] = nt[3 * i + 1] = nt[3 * i + 2] = 0.0; }
};
// Body b: its constituents' forces and torques to its centre.
struct TransferOp {
    const uint32_t *centers, *start, *members;
    const double *site_pos, *orient;
    bool flat;
    double *nf, *nt, *ne;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        const uint32_t c = centers[b];
        const Q4<double> q = {orient[4 * c], orient[4 * c + 1], orient[4 * c + 2], orient[4 * c + 3]};
        transfer_body(c, members + start[b], start[b + 1] - start[b], site_pos + 3 * start[b], q, flat, nf, nt, ne);
    }
};
// A method's member k: its rotation in step one (rotate_one) or two (rotate_two).
struct RotateOneOp {
    const uint32_t* mem;
    StepArgs a;
    Clock clock;
    Variant kT;
    bool brownian;
    const double* gamma_r;  // per type x 3
    const uint32_t* tid;
    const double *I, *tau;
    double *q, *p;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        rotate_one(i, brownian, clocked(a, clock, kT), gamma_r + 3 * tid[i], I + 3 * i, tau + 3 * i, q + 4 * i,
                   p + 4 * i, 1.0);
    }
};
struct RotateTwoOp {
    const uint32_t* mem;
    StepArgs a;
    Clock clock;
    Variant kT;
    bool langevin;
    const double* gamma_r;
    const uint32_t* tid;
    const double* I;
    double* tau;
    const double* q;
    double* p;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        const uint32_t i = mem[k];
        rotate_two(i, langevin, clocked(a, clock, kT), gamma_r + 3 * tid[i], I + 3 * i, tau + 3 * i, q + 4 * i,
                   p + 4 * i, 1.0);
    }
};

// ---- Neighbour lists built on the device (DeviceNeighborList::update) ----
// Every step runs the same five launches; whether they build is decided on the device (`build`),
// so no step waits for the host. Rows are sorted by tag, as the CPU's are: any valid list then
// gives the same forces, to the bit, whichever order the cells were filled in.

// A neighbour list's device-side record. Overflows are noted, not fatal: the host looks
// between chunks of steps and replays a chunk that overflowed with larger arrays.
struct ListStatus {
    uint32_t build;        // this step builds
    uint32_t check;        // this step looks whether it must build
    uint32_t force;        // the next step builds, whatever the check says (set by the host)
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
    // (compared before the conversion: a particle far outside, which the state check will
    // report, must not make an int of 1e33 -- undefined, INT_MIN in practice: a write far out)
    return x < double(n) ? int(x) : n - 1;
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

// One thread: whether this step builds (always, or once when the host asked for it (`force`:
// a run's start, a replay, grown arrays), or only if the rebuild check is due and finds a
// particle beyond buffer/2: MovedOp), as HOOMD's nlist.Cell decides.
struct ArmBuildOp {
    ListStatus* st;
    uint64_t t, delay;
    bool always;
    Clock clock;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        const bool now = always || st->force;
        const uint64_t step = clock.at(t);
        st->force = 0;
        st->build = now ? 1u : 0u;
        st->check = !now && !(step >= st->last_build && step < st->last_build + delay);
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
        if (slot < g.cap)
            cell_members[size_t(cell) * g.cap + slot] = i;
        else
            atomic_max(&st->need_cap, slot + 1);
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
    uint32_t stride, step, cap;  // row i at nlist + i stride, entries step apart, cap of them
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
        auto at = [&](uint32_t k) -> uint32_t& { return row[size_t(k) * step]; };
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
                            if (n < cap) at(n) = j;
                            ++n;
                        }
                    }
                }
        if (n > cap) {
            atomic_max(&st->need_stride, n);
            n = cap;
        }
        for (uint32_t k = 1; k < n; ++k) {  // insertion sort: rows are short
            const uint32_t v = at(k);
            uint32_t q = k;
            for (; q > 0 && at(q - 1) > v; --q) at(q) = at(q - 1);
            at(q) = v;
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
    bool stamp;  // (the sweep's builds, like the CPU's ensureCurrent, leave last_build alone)
    Clock clock;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        if (st->build) {
            if (stamp) st->last_build = clock.at(t);
            ++st->builds;
        }
    }
};

// ---- The adjoint sweep on the device (DeviceAdjoint.cc) ----
// Each op is one step of Adjoint.cc's adjoint_step or adjoint_sweep, with the same per-entry
// functions (AdjointStep.h, PairJacobianKernel.h) and the same blocked reductions, so the bits
// are the CPU's. Once an adjoint is not finite the sweep stops: every later op does nothing, and
// the host reads the adjoint as the CPU leaves it.
struct SweepRecord {
    uint32_t stopped;    // a step left a non-finite adjoint
    uint32_t bad_entry;  // its first non-finite entry (3 tag + k), UINT32_MAX: none yet
    uint64_t step;       // that step
    double scale;        // this step's clip factor
};

// (mem: the indices are into a member list, as the rigid sweep's are; null: particles)
struct BrownianWOp {
    const SweepRecord* st;
    const uint32_t* mem;
    double dt;
    const double* gamma;
    const uint32_t* type;
    const double* lr;
    double* w;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        if (st->stopped) return;
        const uint32_t i = mem ? mem[k] : k;
        for (int k = 0; k < 3; ++k) w[3 * i + k] = brownian_adjoint_w(dt, gamma[type[i]], lr[3 * i + k]);
    }
};
// Langevin/NVE step one from the state (pos: r -> r'; vh: v -> the half-step velocity), as
// Adjoint.cc's half_step.
struct HalfStepOp {
    const SweepRecord* st;
    const uint32_t* mem;
    StepArgs a;
    Clock clock;
    Variant kT;
    BoxDim box;
    bool langevin;
    const double *acc, *vel;
    double *pos, *vh;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        if (st->stopped) return;
        const uint32_t i = mem ? mem[k] : k;
        int32_t img[3] = {0, 0, 0};
        double* v = vh + 3 * i;
        for (int k = 0; k < 3; ++k) v[k] = vel[3 * i + k];
        const StepArgs b = clocked(a, clock, kT);
        if (langevin)
            langevin_step_one(b, box, acc + 3 * i, pos + 3 * i, img, v);
        else
            nve_step_one(b, box, acc + 3 * i, pos + 3 * i, img, v);
    }
};
// One field of the state from its slot of a DeviceStates block: slot k0 + (the clock's step -
// t0), RecordOp's way back (the sweep's steps, latest first).
struct LoadStateOp {
    const double* data;
    double* dst;
    size_t slot, off;
    uint64_t k0, t0;
    Clock clock;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        const uint64_t k = k0 + (clock.at(t0) - t0);
        dst[i] = data[k * slot + off + i];
    }
};
struct LangevinPreOp {
    const SweepRecord* st;
    const uint32_t* mem;
    bool langevin;
    double dt;
    unsigned dim;
    const double* gamma;
    const uint32_t* type;
    const double *mass, *lv, *la;
    double *lt, *lvh, *w;
    HA_HOSTDEVICE void operator()(uint32_t m) const {
        if (st->stopped) return;
        const uint32_t i = mem ? mem[m] : m;
        for (uint32_t k = 0; k < 3; ++k) {
            const size_t q = 3 * size_t(i) + k;
            const bool drag = langevin && !(k == 2 && dim < 3);
            langevin_adjoint_pre(drag, dt, langevin ? gamma[type[i]] : 0.0, 1.0 / mass[i], lv[q], la[q], lt[q], lvh[q],
                                 w[q]);
        }
    }
};
struct LangevinPostOp {
    const SweepRecord* st;
    const uint32_t* mem;
    double dt;
    const double *lvh, *lr;
    double *lv, *la;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        if (st->stopped) return;
        const uint32_t i = mem ? mem[k] : k;
        for (int k = 0; k < 3; ++k)
            langevin_adjoint_post(dt, lvh[3 * i + k], lr[3 * i + k], lv[3 * i + k], la[3 * i + k]);
    }
};
// d/dkT and d/dgamma: block b's terms (Brownian: l = lr, F = F(r_t); Langevin: l = lt, vh).
struct NoiseBlockOp {
    const SweepRecord* st;
    bool brownian;
    uint32_t N, ntypes;
    const double *l, *F, *vh, *mass;
    const uint32_t* type;
    const double* gamma;
    double T, dt;
    unsigned dim;
    uint64_t t;
    uint16_t seed;
    double *kTb, *gamb;  // null: not wanted
    Clock clock;         // (the step; T then the variant's there)
    Variant kTv;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (st->stopped) return;
        double* kT = kTb ? kTb + b : nullptr;
        double* gam = gamb ? gamb + size_t(b) * ntypes : nullptr;
        if (kT) *kT = 0.0;
        for (uint32_t ty = 0; gam && ty < ntypes; ++ty) gam[ty] = 0.0;
        const uint64_t step = clock.at(t);
        const double Tt = clock.now ? kTv(step) : T;
        if (brownian)
            bd_noise_block(b, N, l, F, type, gamma, Tt, dt, dim, step, seed, kT, gam);
        else
            langevin_noise_block(b, N, l, vh, mass, type, gamma, Tt, dt, dim, step, seed, kT, gam);
    }
};
// One level of a tree of sums (AdjointStep.h's tree_pair): a thread an addition.
struct TreeLevelOp {
    const SweepRecord* st;
    const double* from;
    double* to;
    uint32_t n;
    size_t stride;
    uint32_t width;
    HA_HOSTDEVICE void operator()(uint32_t j) const {
        if (!st->stopped) tree_pair(from, to, n, stride, j / width, j % width);
    }
};
// tree_sum on the device: a launch a level, reading a and writing b in turn; returns where the
// sums end, a or b. The levels are padded to a multiple of four with levels of one entry, which
// copy it (the same sums): systems of different sizes then launch the same ops and run as one
// batch (up to 1024 particles four levels, up to 16384 eight, ...).
inline double* launch_tree(const SweepRecord* st, double* a, double* b, uint32_t n, size_t stride, uint32_t width) {
    const uint32_t levels = tree_levels(n), padded = levels == 0 ? 4 : (levels + 3) / 4 * 4;
    for (uint32_t l = 0; l < padded; ++l, n = (n + 1) / 2) {
        launch((n + 1) / 2 * width, TreeLevelOp{st, a, b, n, stride, width}, "tree sums");
        double* t = a;
        a = b;
        b = t;
    }
    return a;
}
struct NoiseAddOp {  // one thread: the blocks' sums (the trees' ends) into kT and gamma
    const SweepRecord* st;
    uint32_t ntypes;
    const double *kT_sum, *gam_sum;
    double *kT, *gam;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        if (st->stopped) return;
        if (kT) *kT += kT_sum[0];
        for (uint32_t ty = 0; gam && ty < ntypes; ++ty) gam[ty] += gam_sum[ty];
    }
};
// What the sweep's pair ops read: the positions, the list, the cutoffs, the dual parameters and
// the vector J^T is applied to.
template <int Q>
struct PairAdjointArgs {
    const SweepRecord* st;
    const PosType* p;
    BoxDim box;
    NeighborView nb;
    uint32_t ntypes;
    const double* rcutsq;
    const ParamDual<Q>* dderived;
    const double* w;
};
// out += J(r)^T w for one pair force, one thread a particle (pair_jacobian_full); with gpart
// (one type) each particle's parameter terms, which ParamBlockSumOp adds up by blocks.
template <class E, int Q>
struct JacobianOp {
    PairAdjointArgs<Q> a;
    double *out, *gpart;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        if (!a.st->stopped)
            pair_jacobian_full<E, Q>(i, a.p, a.box, a.nb, a.ntypes, a.rcutsq, a.dderived, a.w, out, gpart);
    }
};
struct ParamBlockSumOp {
    const SweepRecord* st;
    uint32_t N, Q;
    size_t stride;
    const double* gpart;
    double* gb;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (st->stopped) return;
        const uint32_t i1 = (b + 1) * kGradBlock < N ? (b + 1) * kGradBlock : N;
        for (uint32_t q = 0; q < Q; ++q) {
            double acc = 0.0;
            for (uint32_t i = b * kGradBlock; i < i1; ++i) acc += gpart[size_t(i) * Q + q];
            gb[b * stride + q] = acc;
        }
    }
};
// Several types: block b's parameter terms pair by pair into its accumulators, as the CPU's
// pass 1 adds them (pair_jacobian_upper without pair slots).
template <class E, int Q>
struct ParamBlockOp {
    PairAdjointArgs<Q> a;
    uint32_t N;
    size_t stride;
    double* gb;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (a.st->stopped) return;
        double* gacc = gb + b * stride;
        for (size_t k = 0; k < size_t(a.ntypes) * a.ntypes * Q; ++k) gacc[k] = 0.0;
        const double* ws[1] = {a.w};
        const uint32_t i1 = (b + 1) * kGradBlock < N ? (b + 1) * kGradBlock : N;
        for (uint32_t i = b * kGradBlock; i < i1; ++i)
            pair_jacobian_upper<E, Q, true, false>(i, a.p, a.box, a.nb, a.ntypes, a.rcutsq, a.dderived, 1, ws, nullptr,
                                                   nullptr, 0, gacc, nullptr);
    }
};
struct ParamAddOp {  // one thread: the blocks' sums (the tree's end) into the force's parameter gradient
    const SweepRecord* st;
    uint32_t ntp, Q, nsel, P;
    const int* sel;
    const double* sum;
    double* gparams;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        if (st->stopped) return;
        for (uint32_t tp = 0; tp < ntp; ++tp)
            for (uint32_t q = 0; q < nsel; ++q) gparams[tp * P + sel[q]] += sum[tp * Q + q];
    }
};
// After each step: the first non-finite or overflowing entry (adjoint_entry_ok), if any (then
// StopOp stops the sweep there).
struct AdjointCheckOp {
    SweepRecord* st;
    const double *lr, *lv, *la;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        if (st->stopped) return;
        for (uint32_t k = 0; k < 3; ++k) {
            const size_t q = 3 * size_t(i) + k;
            if (!adjoint_entry_ok(lr[q]) || !adjoint_entry_ok(lv[q]) || !adjoint_entry_ok(la[q]))
                atomic_min(&st->bad_entry, uint32_t(q));
        }
    }
};
struct StopOp {
    SweepRecord* st;
    uint64_t t;
    Clock clock;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        if (!st->stopped && st->bad_entry != UINT32_MAX) {
            st->stopped = 1;
            st->step = clock.at(t);
        }
    }
};
// The clipped sweep: the norm by blocks, the factor, the scaling.
struct NormBlockOp {
    const SweepRecord* st;
    uint32_t N;
    const double *lr, *lv, *la;
    double* parts;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (!st->stopped) parts[b] = norm2_block(b, N, lr, lv, la);
    }
};
struct ClipScaleOp {
    SweepRecord* st;
    const double* norm2;  // (the blocks' parts summed: launch_tree)
    double clip;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        if (!st->stopped) st->scale = clip_scale(*norm2, clip);
    }
};
struct ScaleOp {
    const SweepRecord* st;
    double *lr, *lv, *la;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        if (st->stopped || st->scale == 1.0) return;
        const double s = st->scale;
        for (int k = 0; k < 3; ++k) {
            lr[3 * i + k] *= s;
            lv[3 * i + k] *= s;
            la[3 * i + k] *= s;
        }
    }
};

// ---- Bar forces (engine/BarForce.h): one thread runs the host's loop over the (bar, point)
// pairs, in its order (they are few) ----
struct BarForceOp {
    BoxDim box;
    const double* pos;
    const uint32_t* triples;  // (end a, end b, point) per pair
    uint32_t n;
    double p[3];  // epsilon, sigma, alpha
    double *force, *energy;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        for (uint32_t k = 0; k < n; ++k)
            bar_pair_add(box, pos, triples[3 * k], triples[3 * k + 1], triples[3 * k + 2], p, force, energy);
    }
};
struct BarJacobianOp {
    const SweepRecord* st;
    BoxDim box;
    const double* pos;
    const uint32_t* triples;
    uint32_t n;
    double p[3];
    const double* w;
    double *out, *gparams;
    HA_HOSTDEVICE void operator()(uint32_t) const {
        if (st->stopped) return;
        for (uint32_t k = 0; k < n; ++k)
            bar_pair_jacobian(box, pos, triples[3 * k], triples[3 * k + 1], triples[3 * k + 2], p, w, out, gparams,
                              nullptr);
    }
};

// ---- The rigid-body adjoint on the device (RigidAdjoint.cc's steps with RigidAdjointStep.h's
// pieces; `rot`: the particles that rotate, as the CPU's step loops over them) ----
struct ZeroOp {
    double* p;
    HA_HOSTDEVICE void operator()(uint32_t i) const { p[i] = 0.0; }
};
// Step two's rotation of rot[k] pulled back (q', p_half, tau_b at t + 1 in the device's state).
struct RotTwoAdjointOp {
    const SweepRecord* st;
    const uint32_t* rot;
    StepArgs a;
    Clock clock;
    Variant kT;
    bool langevin;
    const double* gamma_r;
    const uint32_t* tid;
    const double *I, *q, *p, *tau, *Ltau, *Lp;
    double *lq1, *lph, *lts, *lI, *grp;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        if (st->stopped) return;
        const uint32_t i = rot[k];
        double ls2 = 0;  // (a thermostat's: none on the device)
        rotation_two_pullback(i, clocked(a, clock, kT), langevin, gamma_r + 3 * tid[i], I + 3 * i, q + 4 * i, p + 4 * i,
                              tau + 3 * i, 1.0, Ltau + 3 * i, Lp + 4 * i, lq1 + 4 * i, lph + 4 * i, lts + 3 * i,
                              lI + 3 * i, grp + 3 * i, &ls2);
    }
};
// dst += src for the entries of particle idx[k] (width values each): the rotations' lq1 into Lq,
// J^T w into the members' Lr.
struct IndexedAddOp {
    const SweepRecord* st;
    const uint32_t* idx;
    uint32_t width;
    const double* src;
    double* dst;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        if (st->stopped) return;
        const size_t i = size_t(width) * idx[k];
        for (uint32_t c = 0; c < width; ++c) dst[i + c] += src[i + c];
    }
};
// Constituent slot s: w = lF + ltau x u of its centre (lF: the centres' entries of w).
struct SiteWeightOp {
    const SweepRecord* st;
    const uint32_t *centers, *members, *site_body;
    const double *site_pos, *orient, *lts;
    double* w;
    HA_HOSTDEVICE void operator()(uint32_t s) const {
        if (st->stopped) return;
        const uint32_t c = centers[site_body[s]];
        site_weight(orient + 4 * c, site_pos + 3 * s, w + 3 * c, lts + 3 * c, w + 3 * members[s]);
    }
};
// Body b: its constituents' adjoints (out = J^T w there, raw their own forces) onto its centre,
// constituent by constituent, and each one's part of the geometry's (geo, zeroed).
struct BodyAdjointOp {
    const SweepRecord* st;
    const uint32_t *centers, *start, *members;
    const double *site_pos, *orient, *out, *raw, *lts;
    double *Lr, *Lq, *geo;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (st->stopped) return;
        const uint32_t c = centers[b];
        for (uint32_t s = start[b]; s < start[b + 1]; ++s) {
            const uint32_t j = members[s];
            site_pullback(orient + 4 * c, site_pos + 3 * s, out + 3 * j, raw + 3 * j, lts + 3 * c, Lr + 3 * c,
                          Lq + 4 * c, geo + 3 * s);
        }
    }
};
// Step one's rotation of rot[k] pulled back (q, p, tau~: the state's).
struct RotOneAdjointOp {
    const SweepRecord* st;
    const uint32_t* rot;
    double dt;
    const double *I, *q0, *p0, *tau0, *lph;
    double *Lq, *Lp, *Ltau, *lI;
    HA_HOSTDEVICE void operator()(uint32_t k) const {
        if (st->stopped) return;
        const uint32_t i = rot[k];
        double ls1 = 0;
        rotation_one_pullback(dt, I + 3 * i, q0 + 4 * i, p0 + 4 * i, tau0 + 3 * i, 1.0, Lq + 4 * i, lph + 4 * i,
                              Lp + 4 * i, Ltau + 3 * i, lI + 3 * i, &ls1);
    }
};
struct NoRotationOp {  // centre b without rotational integration: its p and torque adjoints are 0
    const SweepRecord* st;
    const uint32_t* centers;
    double *Lp, *Ltau;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (st->stopped) return;
        const uint32_t c = centers[b];
        for (int k = 0; k < 4; ++k) Lp[4 * c + k] = 0.0;
        for (int k = 0; k < 3; ++k) Ltau[3 * c + k] = 0.0;
    }
};
// Centre b's Brownian rotation pulled back (q and tau_b at t: the device's state).
struct BrownianRotAdjointOp {
    const SweepRecord* st;
    const uint32_t* centers;
    StepArgs a;
    Clock clock;
    Variant kT;
    const double* gamma_r;
    const uint32_t* tid;
    const double *I, *q, *tau;
    double *Lq, *lts, *grp;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (st->stopped) return;
        const uint32_t c = centers[b];
        const double* gr = gamma_r + 3 * tid[c];
        if (any_positive(gr))
            brownian_rotation_pullback(c, clocked(a, clock, kT), gr, I + 3 * c, q + 4 * c, tau + 3 * c, Lq + 4 * c,
                                       lts + 3 * c, grp + 3 * c);
    }
};
// Sums over bodies (RigidAdjointStep.h's scatter_block, then launch_tree and AddSumsOp).
struct ScatterBlockOp {
    const SweepRecord* st;
    uint32_t n;
    const double* v;
    uint32_t width;
    const uint32_t* slot;
    uint32_t scale, G;
    double* out;
    HA_HOSTDEVICE void operator()(uint32_t b) const {
        if (!st->stopped) scatter_block(b, n, v, width, slot, scale, G, out + size_t(b) * G);
    }
};
struct AddSumsOp {
    const SweepRecord* st;
    const double* sum;
    double* acc;
    HA_HOSTDEVICE void operator()(uint32_t e) const {
        if (!st->stopped) acc[e] += sum[e];
    }
};
// After each step: the first particle with a non-finite or overflowing adjoint (3 its index).
struct RigidCheckOp {
    SweepRecord* st;
    const double *lr, *lv, *la, *lq, *lp, *lt;
    HA_HOSTDEVICE void operator()(uint32_t i) const {
        if (st->stopped) return;
        bool ok = true;
        for (int c = 0; c < 3; ++c)
            ok = ok && adjoint_entry_ok(lr[3 * i + c]) && adjoint_entry_ok(lv[3 * i + c]) &&
                 adjoint_entry_ok(la[3 * i + c]) && adjoint_entry_ok(lt[3 * i + c]);
        for (int c = 0; c < 4; ++c) ok = ok && adjoint_entry_ok(lq[4 * i + c]) && adjoint_entry_ok(lp[4 * i + c]);
        if (!ok) atomic_min(&st->bad_entry, 3 * i);
    }
};

}  // namespace gpu
}  // namespace ha

// Every op type launched, for the explicit instantiations of gpu::cuda::launch; the pair-force
// ops are instantiated for each evaluator (HA_FOR_EACH_PAIR_EVALUATOR) and both box kinds.
// clang-format off (one op per line)
#define HA_DEVICE_OPS(X)    \
    X(PackOp)               \
    X(CopyOp)               \
    X(TickOp)               \
    X(RecordOp)             \
    X(LoadStateOp)          \
    X(PlaceSitesOp)         \
    X(ZeroTorqueOp)         \
    X(TransferOp)           \
    X(RotateOneOp)          \
    X(RotateTwoOp)          \
    X(ZeroNetOp)            \
    X(AddForceOp)           \
    X(CheckStateOp)         \
    X(BrownianOp)           \
    X(StepOneOp)            \
    X(LangevinTwoOp)        \
    X(NVETwoOp)             \
    X(ArmBuildOp)           \
    X(MovedOp)              \
    X(ClearCellsOp)         \
    X(BinOp)                \
    X(RowOp)                \
    X(FinishBuildOp)        \
    X(BrownianWOp)          \
    X(HalfStepOp)           \
    X(LangevinPreOp)        \
    X(LangevinPostOp)       \
    X(NoiseBlockOp)         \
    X(NoiseAddOp)           \
    X(TreeLevelOp)          \
    X(ParamBlockSumOp)      \
    X(ParamAddOp)           \
    X(AdjointCheckOp)       \
    X(StopOp)               \
    X(NormBlockOp)          \
    X(ClipScaleOp)          \
    X(ScaleOp)              \
    X(ZeroOp)               \
    X(RotTwoAdjointOp)      \
    X(IndexedAddOp)         \
    X(SiteWeightOp)         \
    X(BodyAdjointOp)        \
    X(RotOneAdjointOp)      \
    X(NoRotationOp)         \
    X(BrownianRotAdjointOp) \
    X(ScatterBlockOp)       \
    X(AddSumsOp)            \
    X(RigidCheckOp)         \
    X(BarForceOp)           \
    X(BarJacobianOp)
// clang-format on
#define HA_DEVICE_PAIR_OPS(X, E) X(PairForceOp<E, false>) X(PairForceOp<E, true>)
// The adjoint's pair ops come in the dual widths PairForceT's with_width picks: 0, 1, 2, 4 or P
// (dual_width). Slot k of the five is the op for the k-th of them, or a distinct no-op where
// that width came up before (few parameters), so every width is instantiated exactly once.
#include <type_traits>
namespace ha {
namespace gpu {
template <class E, int k>
struct WidthSlot {
    static constexpr int P = E::n_params;
    static constexpr int n = k == 0 ? 0 : k == 1 ? 1 : k == 2 ? 2 : k == 3 ? 4 : P;
    static constexpr int value = dual_width(P, n < P ? n : P);
    static constexpr bool fresh = k == 0 || (value != WidthSlot<E, (k > 0 ? k - 1 : 0)>::value &&
                                             (k < 2 || value != WidthSlot<E, (k > 1 ? k - 2 : 0)>::value) &&
                                             (k < 3 || value != WidthSlot<E, (k > 2 ? k - 3 : 0)>::value) &&
                                             (k < 4 || value != WidthSlot<E, 0>::value));
};
template <class E, int k, template <class, int> class Op>
struct SlotNoOp {
    HA_HOSTDEVICE void operator()(uint32_t) const {}
};
template <class E, int k, template <class, int> class Op>
using AdjointOpSlot = std::conditional_t<WidthSlot<E, k>::fresh, Op<E, WidthSlot<E, k>::value>, SlotNoOp<E, k, Op>>;
}  // namespace gpu
}  // namespace ha
// clang-format off (one op per line)
#define HA_DEVICE_ADJOINT_OPS(X, E)      \
    X(AdjointOpSlot<E, 0, JacobianOp>)   \
    X(AdjointOpSlot<E, 1, JacobianOp>)   \
    X(AdjointOpSlot<E, 2, JacobianOp>)   \
    X(AdjointOpSlot<E, 3, JacobianOp>)   \
    X(AdjointOpSlot<E, 4, JacobianOp>)   \
    X(AdjointOpSlot<E, 0, ParamBlockOp>) \
    X(AdjointOpSlot<E, 1, ParamBlockOp>) \
    X(AdjointOpSlot<E, 2, ParamBlockOp>) \
    X(AdjointOpSlot<E, 3, ParamBlockOp>) \
    X(AdjointOpSlot<E, 4, ParamBlockOp>)
// clang-format on
