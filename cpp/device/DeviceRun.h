// A system's run on the device: System::advance with useGPU goes here (the engine's Accelerator
// hook), and so do the device's recording runs and sweeps (DeviceAdjoint.cc), which reach the
// device copies of the particle data through it. Kept with the system (device_run).
#pragma once
#include <cstdint>

#include "device/DeviceState.h"
#include "device/GPU.h"
#include "engine/System.h"

namespace ha {

struct DeviceRecorder;  // keeps the states of a device run (DeviceAdjoint.h)

class DeviceRun : public System::Accelerator {
  public:
    void advance(System& sys, uint64_t n) override { run(sys, n, nullptr); }
    // prepRun's net force at the current step, on the device (its lists built there, on the steps
    // the CPU would build), brought to the host; the host's check names any failure.
    void computeNetForce(System& sys) override;
    // n steps on the device (data stay there for the whole call; rec, if given, keeps each
    // step's state on the device).
    void run(System& sys, uint64_t n, const DeviceRecorder* rec);

    // backend checks that the system can run on the device (hold a gpu::BackendScope with it),
    // begin sends the particle data and readies the forces and lists, bringBack brings the
    // results to the particle data. Between them the device copies (state) are current.
    // (send_state = false: the positions, velocities, accelerations, forces and images are only
    // sized, for a caller that fills them itself.)
    static gpu::Backend backend(const System& sys);
    DeviceState& begin(System& sys, bool send_state = true);
    void bringBack(System& sys);
    // (clocked: inside a run's step, where the ops read the step from the device's clock, plus
    // offset; raw: also the forces before rigid bodies' transfer, N x 3, for the adjoint)
    void computeNetForce(System& sys, uint64_t t, bool clocked = false, int64_t offset = 0, double* raw = nullptr);
    void stepOne(System& sys);  // the methods' first halves and the forces
    void stepTwo(System& sys);  // the second halves; the timestep advances
    // The host's account of a step's launches kept and run m times: the timestep and what the
    // methods note of their last step.
    static void ran(System& sys, uint64_t m);

    DeviceState state;
};

// The device run of a system (made on first use).
DeviceRun& device_run(System& sys);

}  // namespace ha
