// Many systems advanced together on the device (an Ensemble's replicas): each step of every
// system is its own DeviceRun step (DeviceRun.h), but their launches are kept (gpu::LaunchQueue)
// and run op by op as one kernel for the whole batch (gpu::run_batch). A batch of 100-particle
// replicas thus fills a device that one of them leaves idle, and each replica computes exactly
// what it computes alone: the same ops on its own arrays.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "device/DeviceAdjoint.h"
#include "engine/System.h"

namespace ha {

// A system of the batch that failed (a particle left the box, a non-finite force): its index in
// the batch and the error its own run raises (the step and the particles); it stops there, as a
// run of it alone would, while the others go on.
struct BatchFailure {
    size_t index;
    std::string what;
};

// n steps of every system (each on the device: useGPU, all on one backend), as System::advance
// would take each alone; the data go to the device at the start and come back at the end.
std::vector<BatchFailure> batch_advance(const std::vector<System*>& systems, uint64_t n);

// The same, keeping the state before (after) each step k of system r in recorders[r]'s slot
// k0 + k, as device_advance_recording does for one.
std::vector<BatchFailure> batch_advance_recording(const std::vector<System*>& systems,
                                                  const std::vector<DeviceRecorder>& recorders, uint64_t n);

// The sweeps (DeviceAdjoint.h), all of n steps on one backend, step by step together; each ends
// as it would alone (a sweep that stops at a non-finite adjoint says so in its status).
std::vector<SweepStatus> batch_adjoint_sweep(std::vector<DeviceSweep>& sweeps);

}  // namespace ha
