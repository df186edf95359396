// What a force needs to run on the device (System::advance on a GPU: DeviceRun.h) and in the
// device's adjoint sweep (DeviceAdjoint.cc). Forces with a device path implement this beside
// engine/Force.h (device/PairForces.cc); the device finds it with device_of.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/BoxDim.h"
#include "device/DeviceOps.h"
#include "device/GPU.h"
#include "engine/Force.h"
#include "engine/ParticleData.h"

namespace ha {
namespace gpu {
struct SweepRecord;  // (DeviceOps.h)
}

// Device copies of what a force reads (see DeviceRun).
struct DeviceParticles {
    uint32_t N;
    BoxDim box;
    const double* pos;       // N x 3
    const PosType* postype;  // N
    gpu::Clock clock = {};   // where the step is read in a run's steps (null: the t given)
};

class DeviceForce {
  public:
    virtual ~DeviceForce() = default;
    // The force on the device, into d_force/d_energy: deviceStart once before a run (sends what
    // the force reads and sizes its arrays), then computeDevice at every step, which must not
    // wait for the host.
    virtual void deviceStart(const ParticleData& pd) = 0;
    virtual void computeDevice(const ParticleData& pd, const DeviceParticles& dp, uint64_t t) = 0;
    gpu::Buffer<double> d_force, d_energy;
    // The adjoint sweep on the device (DeviceAdjoint.cc): deviceAdjointStart once a sweep (after
    // deviceStart), deviceJacobian at each step: out += J_F(r)^T w at the packed positions dp,
    // and with gparams (device, the adjoint's gradSize()) the step's w . dF/dtheta added to it,
    // for the parameters sel selects (null: all; the sweep's AdjointRequest::select).
    // No waiting for the host; nothing happens once the sweep has stopped (st).
    // (Forces without them say so at deviceAdjointStart, before the sweep begins.)
    virtual void deviceAdjointStart(const ParticleData&, bool /*params*/, const std::vector<int>* /*sel*/) {
        throw std::runtime_error("device.GPU: this force has no adjoint on the device (so far)");
    }
    virtual void deviceJacobian(const ParticleData&, const DeviceParticles&, uint64_t, const double*, double*, double*,
                                const gpu::SweepRecord*) {}
};

// The device path of a force, or null.
inline DeviceForce* device_path(Force& f) {
    return dynamic_cast<DeviceForce*>(&f);
}

// The device path of a force; a clear error for a force without one.
inline DeviceForce& device_of(Force& f) {
    if (DeviceForce* d = device_path(f)) return *d;
    throw std::runtime_error(std::string("device.GPU: ") + f.kind() + " run on the CPU only (so far)");
}

}  // namespace ha
