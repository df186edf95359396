// Per-particle state, stored in tag order (memory index == tag: no sorting, so every array a
// user or the adjoint sees is already in tag order).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>
#include "core/BoxDim.h"
#include "core/HostDevice.h"

namespace ha {

// Position and type packed in one 32-byte record: one cache line serves a neighbour's data.
struct PosType {
    double x, y, z;
    uint32_t type, tag;
};

// Threads worth using for a loop over n particles: at least 128 particles each. Measured: at N = 100
// two threads never beat one, even on an idle machine (0.94-1.04x), and under load their barriers
// cost far more; from N = 1000 they pay 1.6x. Above the floor the ThreadGovernor decides by timing.
// (Results do not depend on the thread count.)
inline int threads_for(int nthreads, size_t n) {
    return int(std::max<size_t>(1, std::min<size_t>(nthreads, n / 128)));
}

struct ParticleData {
    uint32_t N = 0;
    uint32_t ntypes = 1;
    BoxDim box;
    std::vector<double> pos, vel, accel;         // N x 3
    std::vector<int32_t> image;                  // N x 3
    std::vector<uint32_t> typeid_;               // N
    std::vector<double> mass, charge, diameter;  // N
    std::vector<int32_t> body;                   // N
    std::vector<double> orientation, angmom;     // N x 4 (scalar first)
    std::vector<double> moment_inertia;          // N x 3
    std::vector<double> net_force, net_energy;   // N x 3, N
    std::vector<double> net_torque;              // N x 3, box frame (rigid bodies' centres)
    bool accel_set = false;                      // HOOMD: a = F/m is set by prepRun if false

    void resize(uint32_t n) {
        N = n;
        pos.assign(3 * n, 0.0);
        vel.assign(3 * n, 0.0);
        accel.assign(3 * n, 0.0);
        image.assign(3 * n, 0);
        typeid_.assign(n, 0);
        mass.assign(n, 1.0);
        charge.assign(n, 0.0);
        diameter.assign(n, 1.0);
        body.assign(n, -1);
        orientation.assign(4 * n, 0.0);
        for (uint32_t i = 0; i < n; ++i) orientation[4 * i] = 1.0;
        angmom.assign(4 * n, 0.0);
        moment_inertia.assign(3 * n, 0.0);
        net_force.assign(3 * n, 0.0);
        net_energy.assign(n, 0.0);
        net_torque.assign(3 * n, 0.0);
        accel_set = false;
    }

    unsigned dimensions() const { return box.is2D ? 2 : 3; }
    Vec3 position(uint32_t i) const { return {pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]}; }
    // Packed copy of positions and types, refreshed by packPositions() before force computes.
    std::vector<PosType> postype;
    void packPositions(int nthreads = 1) {
        postype.resize(N);
        PosType* pt = postype.data();
        const double* r = pos.data();
        const uint32_t* ty = typeid_.data();
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, N))
        for (int64_t i = 0; i < int64_t(N); ++i) pt[i] = {r[3 * i], r[3 * i + 1], r[3 * i + 2], ty[i], uint32_t(i)};
    }
};

// A quantity that depends on the timestep (HOOMD's Variant): Constant or Ramp.
struct Variant {
    enum Kind { Constant = 0, Ramp = 1 } kind = Constant;
    double A = 0, B = 0;
    uint64_t t_start = 0, t_ramp = 0;

    HA_HOSTDEVICE double operator()(uint64_t t) const {
        if (kind == Constant) return A;
        if (t < t_start) return A;
        if (t >= t_start + t_ramp) return B;
        double s = double(t - t_start) / double(t_ramp);
        return A * (1.0 - s) + B * s;
    }
};

}  // namespace ha
