// The particle data on the device during a GPU run or a device sweep (DeviceRun::begin), and
// the state a run replays from (DeviceRun.cc).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "device/DeviceOps.h"
#include "device/GPU.h"
#include "device/DeviceNeighborList.h"
#include "engine/ParticleData.h"

namespace ha {

// The adjoint sweep's arrays on the device (DeviceAdjoint.cc): kept with the system between
// sweeps (sized once), one set per system, so that a batch sweeps each on its own.
struct SweepBuffers {
    gpu::Buffer<double> lr, lv, la, w, lt, lvh, vh, noise_kT, noise_gamma, parts, kT_gamma;
    gpu::Buffer<double> noise_kT2, noise_gamma2, parts2;  // (the trees' other halves: launch_tree)
    gpu::Buffer<gpu::SweepRecord> record;
    std::vector<std::unique_ptr<gpu::Buffer<double>>> gparams;  // per force
    // rigid bodies and rotations (RigidAdjoint.h): the adjoints of orientations, angular
    // momenta, torques, moments, rotational drags and geometry; a step's scratch (its torque
    // adjoint lts, lq1, lph, the state's q, p, tau, the constituents' own forces, J^T w, the
    // drags' and the geometry's parts and their blocks); the geometry slot of each constituent
    // slot
    gpu::Buffer<double> Lq, Lp, Ltau, LI, Lgr, Lgeo;
    gpu::Buffer<double> lts, lq1, lph, q0, p0, tau0, raw, out, grp, geo, gr_blocks, gr_blocks2, geo_blocks, geo_blocks2;
    gpu::Buffer<uint32_t> site_slot;
};

struct DeviceState {
    gpu::Buffer<double> pos, vel, accel, mass, net_force, net_energy;
    gpu::Buffer<int32_t> image;
    gpu::Buffer<uint32_t> typeid_;
    gpu::Buffer<PosType> postype;
    gpu::Buffer<gpu::RunStatus> status;
    gpu::Buffer<uint64_t> clock;  // the step the device is at (gpu::Clock: the steps' ops read it)
    std::vector<std::unique_ptr<gpu::Buffer<uint32_t>>> members;
    std::vector<std::unique_ptr<gpu::Buffer<double>>> gamma, gamma_r;
    // rigid bodies and rotations (sent when the system has them): each particle's orientation,
    // angular momentum, torque and moments; the bodies (centres, their constituents' slots from
    // start[b], and each slot's body, body-frame position and orientation)
    bool rotating = false;
    gpu::Buffer<double> orientation, angmom, net_torque, moment_inertia, site_pos, site_orient;
    gpu::Buffer<uint32_t> centers, start, constituents, site_body;
    std::vector<DeviceNeighborList*> lists;
    // the state at the start of the chunk of steps in progress, which is replayed from here if
    // a neighbour list overflowed in it (or to find the step that went wrong)
    gpu::Buffer<double> s_pos, s_vel, s_accel, s_net_force, s_net_energy, s_orientation, s_angmom, s_net_torque;
    gpu::Buffer<int32_t> s_image;
    uint64_t s_timestep = 0;
    SweepBuffers sweep;

    void save(uint64_t t) {
        s_pos.copyFrom(pos);
        s_vel.copyFrom(vel);
        s_accel.copyFrom(accel);
        s_net_force.copyFrom(net_force);
        s_net_energy.copyFrom(net_energy);
        s_image.copyFrom(image);
        if (rotating) {
            s_orientation.copyFrom(orientation);
            s_angmom.copyFrom(angmom);
            s_net_torque.copyFrom(net_torque);
        }
        s_timestep = t;
        for (DeviceNeighborList* nl : lists) nl->save();
        status.fillBytes(0xff);
    }
    uint64_t restore() {
        pos.copyFrom(s_pos);
        vel.copyFrom(s_vel);
        accel.copyFrom(s_accel);
        net_force.copyFrom(s_net_force);
        net_energy.copyFrom(s_net_energy);
        image.copyFrom(s_image);
        if (rotating) {
            orientation.copyFrom(s_orientation);
            angmom.copyFrom(s_angmom);
            net_torque.copyFrom(s_net_torque);
        }
        for (DeviceNeighborList* nl : lists) nl->restore();
        status.fillBytes(0xff);
        clock.upload(&s_timestep, 1);
        return s_timestep;
    }
};

}  // namespace ha
