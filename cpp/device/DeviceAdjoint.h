// The adjoint on the device (device.GPU): states recorded in device memory, and the backward
// sweep over them, with the ops of DeviceOps.h. The same maps as Adjoint.h, to the same bits.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "adjoint/Adjoint.h"
#include "adjoint/RigidAdjoint.h"
#include "device/GPU.h"

namespace ha {

class System;
struct DeviceState;
struct ParticleData;
struct SweepBuffers;

// The arrays of the particle data a state is made of: positions, and for Langevin/NVE velocities
// and accelerations; with rigid bodies or rotational integration also orientations, and for
// Langevin/NVE angular momenta and the torques step one reads (RigidAdjoint.h's state).
enum class StateField : uint8_t { Position, Velocity, Acceleration, Orientation, Angmom, Torque };
std::vector<StateField> state_fields(const System& sys);
uint32_t field_width(StateField f);  // values a particle
std::vector<double>& host_field(ParticleData& pd, StateField f);
double* device_field(DeviceState& d, StateField f);

// n states of a system in device memory: state k's field f (N x width doubles) at at(k, f).
class DeviceStates {
  public:
    DeviceStates(const System& sys, uint64_t n);  // on the system's device (GPU or host backend)
    uint64_t size() const { return m_n; }
    int fields() const { return int(m_fields.size()); }
    StateField field(int f) const { return m_fields[f]; }
    uint32_t width(int f) const { return field_width(m_fields[f]); }
    size_t offset(int f) const { return m_offset[f]; }
    size_t slot() const { return m_slot; }  // doubles a state
    uint32_t N() const { return m_N; }
    gpu::Backend backend() const { return m_backend; }
    double* at(uint64_t k, int f) const { return m_data.get() + k * m_slot + m_offset[f]; }
    void check(uint64_t k0, uint64_t n, const System& sys, const char* what) const;  // a clear error if out of range

  private:
    uint64_t m_n;
    std::vector<StateField> m_fields;
    std::vector<size_t> m_offset;
    size_t m_slot;
    uint32_t m_N;
    gpu::Backend m_backend;
    gpu::Buffer<double> m_data;
};

// Keeps the state before (after) step k of a device run, timestep t, in states slot k0 + k
// (DeviceRun::run).
struct DeviceRecorder {
    DeviceStates* states;
    uint64_t k0;
    bool after;
    void keep(DeviceState& d, uint64_t k, uint64_t t) const;
};

// The system's state to slot k / slot k to the system (its fields; then rigid bodies' constituents
// placed, and with `forces` the forces a step reads recomputed, as rigid_load and the host's
// engine do).
void device_save(System& sys, DeviceStates& s, uint64_t k);
void device_load(System& sys, const DeviceStates& s, uint64_t k, bool forces = false);
// Slots k0 .. k0 + n to / from host arrays, one a field (n x N x width doubles each).
void device_states_download(const DeviceStates& s, uint64_t k0, uint64_t n, const std::vector<double*>& host);
void device_states_upload(DeviceStates& s, uint64_t k0, uint64_t n, const std::vector<const double*>& host);
// n steps on the device, the state before (after) each written to slots k0, k0 + 1, ...
void device_advance_recording(System& sys, DeviceStates& s, uint64_t k0, uint64_t n, bool after);
// One system's sweep on the device in its phases, for device_adjoint_sweep and for a batch
// (BatchRun.h), which runs the steps of several at once: begin (the device's arrays), then
// upload (the adjoint and the gradients so far), steps (all n, the latest state first: one
// step's launches kept, keepStep, and run n times; they read the step from the device's clock),
// overflowed (if a list outgrew its arrays: upload and the steps again, to the same bits), end
// (the results to the host; the step and entry where it stopped, if it did).
// A system with rigid bodies or rotational integration sweeps with `rigid` (RigidAdjoint.h's
// adjoints, the host's; its r, v, a are lr, lv, la), as rigid_adjoint_sweep does.
struct DeviceSweep {
    DeviceSweep(System& sys, uint64_t t_first, const DeviceStates& s, uint64_t k0, uint64_t n, double* lr, double* lv,
                double* la, AdjointGrads& g, const AdjointRequest& req, double clip,
                const RigidAdjointState* rigid = nullptr);
    gpu::Backend backend() const;
    void begin();
    void upload();
    void keepStep(gpu::LaunchQueue& q);
    void steps();
    bool overflowed();
    SweepStatus end();
    // the rotations' adjoints: each device buffer with the host's array (none without rotations)
    std::vector<std::pair<gpu::Buffer<double>*, double*>> rotationAdjoints(SweepBuffers& b) const;

    System& sys;
    const Method* method;  // (the one the adjoint follows)
    uint64_t t_first;
    const DeviceStates& s;
    uint64_t k0, n;
    double *lr, *lv, *la;
    AdjointGrads& g;
    AdjointRequest req;
    double clip;
    const RigidAdjointState* rigid;
};

// adjoint_sweep on the device, the states at t_first + k read from slot k0 + k. lr, lv, la and
// g are the host's: sent before, brought back after.
SweepStatus device_adjoint_sweep(System& sys, uint64_t t_first, const DeviceStates& s, uint64_t k0, uint64_t n,
                                 double* lr, double* lv, double* la, AdjointGrads& g, const AdjointRequest& req,
                                 double clip, const RigidAdjointState* rigid = nullptr);

}  // namespace ha
