// The embedded engine: particle data, forces and integration methods, stepped with HOOMD-blue's
// schedule (IntegratorTwoStep::update):
//   methods' step one (list order) -> net force at t+1 -> methods' step two (reverse order).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>
#include "core/ThreadGovernor.h"
#include "engine/Force.h"
#include "engine/ParticleData.h"
#include "engine/Rigid.h"
#include "engine/Thermostat.h"
#include "engine/TwoStep.h"

namespace ha {

struct Method {
    enum Kind { Brownian = 0, Langevin = 1, ConstantVolume = 2 };
    Kind kind = Brownian;
    std::vector<uint32_t> members;  // tags, ascending
    Variant kT;
    std::vector<double> gamma;    // per type
    std::vector<double> gamma_r;  // per type x 3 (rotational drag, body frame)
    Thermostat thermostat;        // ConstantVolume's (kind None: NVE); its set point is kT
    // Brownian: the step whose velocities have not been drawn yet (see brownian_velocity).
    bool velocity_pending = false;
    uint64_t velocity_step = 0;
};

// A state no step can go on from: a particle outside the box or a non-finite force. Its
// message names the step and the particle (and, from advance, the closest pair: failureNote).
struct StateError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What step() reads, kept every few steps so that a failed step can be replayed up to the state
// before it (System::steps).
struct StepSave {
    uint64_t t = UINT64_MAX;  // UINT64_MAX: nothing kept
    bool full = true;         // false: only the positions (of the step that failed, if one did)
    bool inertial = false;    // vel and accel kept (a method other than Brownian)
    std::vector<double> pos, vel, accel, net_force, orientation, angmom, net_torque;
    std::vector<int32_t> image;
    std::vector<Thermostat> thermostats;  // each method's (MTTK's variables change every step)
};

// How far an orientation's norm may be from 1 where it is used: float32 GSD frames (~1e-7) and
// finite-difference steps pass, a typo or an unnormalised draw does not.
constexpr double kOrientationTolerance = 1e-3;
// A failed step's note names the closest pair of particles nearer than this fraction of their
// contact distance (System::contact). At 0.8 sigma two LJ particles hold 43 epsilon and push
// with 760 epsilon/sigma: a Brownian step of dt = 0.005 (gamma = 1) moves them 3.8 sigma, and
// at kT = epsilon the Boltzmann factor is e^-43. (0.5 missed a blow-up whose pair was 0.6 sigma
// apart.) For softer potentials (Morse with a small alpha r0) it is only the closest pair, given
// with its fraction for the reader to judge.
constexpr double kNoteFraction = 0.8;

class System {
  public:
    System();
    ~System();
    ParticleData pd;
    uint64_t timestep = 0;
    uint16_t seed = 0;
    double dt = 0.005;
    int nthreads = 1;
    // Threads per step, chosen by timing between one and nthreads (forward steps and adjoint
    // steps each keep their own timings).
    ThreadGovernor stepGovernor, adjointGovernor;
    bool useGPU = false;          // run advance() on the GPU (same kernels' physics as the CPU path)
    bool gpuHostBackend = false;  // ... with the device code run on the CPU (GPU.h: tests)
    std::vector<std::shared_ptr<Force>> forces;
    std::vector<Method> methods;
    // Rigid bodies (hoomd.md.constrain.Rigid) and whether orientations and angular momenta are
    // integrated (Integrator.integrate_rotational_dof).
    RigidBodies rigid;
    bool aniso = false;
    // Contact distance per type pair (ntypes x ntypes; 0: none) and what it is ("LJ sigma for
    // (A, B)"), set with the forces (Integrator): a failure names the closest pair nearer than
    // kNoteFraction of it.
    std::vector<double> contact;
    std::vector<std::string> contactLabel;
    // After a failed step: the closest pair at the current state nearer than kNoteFraction of its
    // contact distance (tags, positions, distance), or that there is none; "" without contact
    // distances.
    // Particles outside the box are left out. Only run after a failure: one cell-list pass.
    std::string failureNote() const;
    // n steps, fn(j) making step j with step() (and whatever else the caller keeps); the state is
    // kept every 64 steps (one copy, outside the steps' loops), and a StateError is rethrown with
    // the failureNote of the state before the failed step (replayed from the copy).
    void steps(uint64_t n, const std::function<void(uint64_t)>& fn);

    // Body definitions per type (empty: not a body); the molecules are read from pd.body and
    // checked as HOOMD's validateRigidBodies does. Throws, changing nothing, on a bad body.
    void setBodies(std::vector<RigidBodies::Definition> defs);
    // HOOMD's updateCompositeParticles: constituents from their centre's position and orientation.
    void placeSites();
    // HOOMD's ForceComposite::computeForces: constituents' forces (and torques r x F) onto centres.
    void transferComposite();

    // HOOMD's ParticleGroup::thermalizeParticleMomenta (State.thermalize_particle_momenta) for the
    // particles with the given tags (ascending): momenta drawn at kT, the group's centre-of-mass
    // momentum removed.
    void thermalizeMomenta(const std::vector<uint32_t>& tags, double kT);
    // HOOMD-blue 4.8.2's BoxResizeUpdater::update to the box L (Lx, Ly, Lz, xy, xz, yz): the
    // members' positions keep their fractional coordinates, then every particle is wrapped into
    // the new box (images updated). False, and nothing changed, when L is the current box.
    bool resizeBox(const std::array<double, 6>& L, const std::vector<uint32_t>& members);
    // HOOMD's Integrator::prepRun: net force at the current step; a = F/m unless already set.
    void prepRun();
    // One full step t -> t+1 on the CPU.
    void step();
    // n steps, on the device (accelerator) when useGPU.
    void advance(uint64_t n);
    // Throws if n steps would take the timestep past 2^64 - 1.
    void checkAdvance(uint64_t n) const;
    // Runs advance() elsewhere when useGPU (a GPU: device/DeviceRun.h, which keeps its state
    // here). The engine owns it and knows nothing else of it.
    class Accelerator {
      public:
        virtual ~Accelerator() = default;
        virtual void advance(System& sys, uint64_t n) = 0;
        // The net force at the current step into the particle data (and each force's arrays),
        // computed where the run will compute it: prepRun's forces, without host work of O(N)
        // beyond the copies (a host neighbour list and pair sum cost a GPU run's every start).
        virtual void computeNetForce(System& sys) = 0;
    };
    std::unique_ptr<Accelerator> accelerator;
    // Throws a StateError naming the step and the particles if the forces at step t are not
    // finite or a particle left the box (the check after every step).
    void checkForces(uint64_t t) const;
    void computeNetForce(uint64_t t);
    // The net force at the current step, where runs compute it: on the device with useGPU
    // (Accelerator::computeNetForce), else here.
    void updateNetForce() {
        if (useGPU && accelerator)
            accelerator->computeNetForce(*this);
        else
            computeNetForce(timestep);
    }
    // The sum of the forces per particle into pd.net_force (constituents' own, before transfer).
    void sumForces(uint64_t t);
    // A ConstantVolume thermostat's factors (translation, rotation) at the first half step of step
    // a.timestep (1, 1 without one); thermostatAdvance moves MTTK's variables after it.
    std::array<double, 2> thermostatFactorsOne(const Method& m, const StepArgs& a) const;
    // What a Bussi or Berendsen thermostat's factors at step one of step a.timestep are made of:
    // the method's kinetic energies and Bussi's draws (the adjoint differentiates the factors).
    ThermostatInputs thermostatInputs(const Method& m, const StepArgs& a) const;
    // A Bussi or Berendsen thermostat's factors from those inputs.
    std::array<double, 2> thermostatFactors(const Method& m, const StepArgs& a, const ThermostatInputs& in) const;
    KineticEnergies kineticEnergies(const Method& m) const;
    // Draw the Brownian velocities of the last step, if anyone is about to read them.
    void materializeVelocities();
    // MTTK's variables at each step's start, by timestep, kept while thermostatLogOn (a gradient
    // through MTTK): the state stores keep particle arrays only, so a replay from a checkpoint and
    // the adjoint's steps read xi back from here (restoreThermostats; false: none kept for t).
    bool thermostatLogOn = false;
    std::unordered_map<uint64_t, std::vector<Thermostat>> thermostatLog;
    bool restoreThermostats(uint64_t t);
    void dropPendingVelocities() {
        for (auto& m : methods) m.velocity_pending = false;
    }

  private:
    [[noreturn]] void throwOutside(uint32_t i, uint64_t t) const;
    // prepRun: moments >= 0 and unit orientations where they are used (see System.cc)
    void checkRotationalInput() const;
    void saveStep(StepSave& s) const;
    void loadStep(const StepSave& s);
    void rotateStepOne(Method& m, const StepArgs& a, double scale = 1.0);
    void rotateStepTwo(const Method& m, const StepArgs& a, double scale = 1.0);
    void thermostatAdvance(Method& m, const StepArgs& a);
    void logThermostats(uint64_t t);
    StepSave m_save;  // steps(): the last copy (kept to reuse its memory)
};

}  // namespace ha
