// The particle data on the device during a GPU run or a device sweep (System::deviceBegin),
// and the state a run replays from (System.cc).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "DeviceOps.h"
#include "GPU.h"
#include "NeighborList.h"
#include "ParticleData.h"

namespace ha {

struct DeviceState {
    gpu::Buffer<double> pos, vel, accel, mass, net_force, net_energy;
    gpu::Buffer<int32_t> image;
    gpu::Buffer<uint32_t> typeid_;
    gpu::Buffer<PosType> postype;
    gpu::Buffer<gpu::RunStatus> status;
    std::vector<std::unique_ptr<gpu::Buffer<uint32_t>>> members;
    std::vector<std::unique_ptr<gpu::Buffer<double>>> gamma;
    std::vector<NeighborList*> lists;
    // the state at the start of the chunk of steps in progress, which is replayed from here if
    // a neighbour list overflowed in it (or to find the step that went wrong)
    gpu::Buffer<double> s_pos, s_vel, s_accel, s_net_force, s_net_energy;
    gpu::Buffer<int32_t> s_image;
    uint64_t s_timestep = 0;

    void save(uint64_t t) {
        s_pos.copyFrom(pos); s_vel.copyFrom(vel); s_accel.copyFrom(accel);
        s_net_force.copyFrom(net_force); s_net_energy.copyFrom(net_energy); s_image.copyFrom(image);
        s_timestep = t;
        for (NeighborList* nl : lists) nl->deviceSave();
        status.fillBytes(0xff);
    }
    uint64_t restore() {
        pos.copyFrom(s_pos); vel.copyFrom(s_vel); accel.copyFrom(s_accel);
        net_force.copyFrom(s_net_force); net_energy.copyFrom(s_net_energy); image.copyFrom(s_image);
        for (NeighborList* nl : lists) nl->deviceRestore();
        status.fillBytes(0xff);
        return s_timestep;
    }
};

}  // namespace ha
