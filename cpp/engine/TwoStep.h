// Per-particle update equations of HOOMD-blue v4.8.2's integration methods (TwoStepBD,
// TwoStepLangevin, TwoStepConstantVolume), in HOOMD's evaluation order.
// Each is a pure function of (state, forces, seed, timestep, tag): the noise is regenerated from
// the counter-based generator, so a step can be replayed exactly by the adjoint.
#pragma once
#include <cmath>
#include <cstdint>
#include "core/BoxDim.h"
#include "core/HostDevice.h"
#include "core/RandomNumbers.h"

namespace ha {

struct StepArgs {
    uint64_t timestep;
    uint16_t seed;
    double dt;
    double kT;  // kT(timestep)
    unsigned dim;
};

// Brownian: r += (F + F_R) dt / gamma with F_R uniform in [-1,1] * sqrt(6 gamma kT / dt).
HA_HOSTDEVICE void brownian_step(uint32_t tag, const StepArgs& a, const BoxDim& box, double gamma, const double* F,
                                 double* r, int32_t* img) {
    RandomGenerator rng(rng_id::TwoStepBD, a.timestep, a.seed, tag);
    double rx = rng.uniform(-1.0, 1.0);
    double ry = rng.uniform(-1.0, 1.0);
    double rz = rng.uniform(-1.0, 1.0);
    double coeff = std::sqrt(3.0 * 2.0 * gamma * a.kT / a.dt);
    double Frx = rx * coeff, Fry = ry * coeff, Frz = rz * coeff;
    if (a.dim < 3) Frz = 0;
    Vec3 p = {r[0] + (F[0] + Frx) * a.dt / gamma, r[1] + (F[1] + Fry) * a.dt / gamma,
              r[2] + (F[2] + Frz) * a.dt / gamma};
    box.wrapInto(p, r, img);
}

// Brownian velocities: Maxwell-Boltzmann draws that continue the step's random stream after the
// three uniforms. They never feed back into the positions, so the engine draws them only when
// someone reads the velocities (half the random numbers and no sin/log per step).
HA_HOSTDEVICE void brownian_velocity(uint32_t tag, const StepArgs& a, double mass, double* v) {
    RandomGenerator rng(rng_id::TwoStepBD, a.timestep, a.seed, tag);
    rng();
    rng();
    rng();
    double sigma = std::sqrt(a.kT / mass);
    v[0] = rng.normal(sigma);
    v[1] = rng.normal(sigma);
    v[2] = a.dim == 3 ? rng.normal(sigma) : 0.0;
}

// Langevin step one: drift with the stored acceleration (which includes last step's drag and noise).
HA_HOSTDEVICE void langevin_step_one(const StepArgs& a, const BoxDim& box, const double* acc, double* r, int32_t* img,
                                     double* v) {
    Vec3 p = {r[0] + (v[0] * a.dt + ((0.5 * acc[0]) * a.dt) * a.dt),
              r[1] + (v[1] * a.dt + ((0.5 * acc[1]) * a.dt) * a.dt),
              r[2] + (v[2] * a.dt + ((0.5 * acc[2]) * a.dt) * a.dt)};
    box.wrapInto(p, r, img);
    for (int k = 0; k < 3; ++k) v[k] = v[k] + (0.5 * acc[k]) * a.dt;
}

// Langevin step two: a = (F + u sqrt(6 gamma kT/dt) - gamma v) / m, then the second half kick.
HA_HOSTDEVICE void langevin_step_two(uint32_t tag, const StepArgs& a, double gamma, double mass, const double* F,
                                     double* acc, double* v) {
    RandomGenerator rng(rng_id::TwoStepLangevin, a.timestep, a.seed, tag);
    double u[3];
    u[0] = rng.uniform(-1.0, 1.0);
    u[1] = rng.uniform(-1.0, 1.0);
    u[2] = rng.uniform(-1.0, 1.0);
    double coeff = std::sqrt(6.0 * gamma * a.kT / a.dt);
    double minv = 1.0 / mass;
    for (int k = 0; k < 3; ++k) {
        double f = u[k] * coeff - gamma * v[k];
        if (k == 2 && a.dim < 3) f = 0;
        acc[k] = (F[k] + f) * minv;
        v[k] = v[k] + (0.5 * acc[k]) * a.dt;
    }
}

// ConstantVolume velocity Verlet; `scale` is a thermostat's factor (engine/Thermostat.h: 1 without
// one, which changes no bit).
HA_HOSTDEVICE void nve_step_one(const StepArgs& a, const BoxDim& box, const double* acc, double* r, int32_t* img,
                                double* v, double scale = 1.0) {
    for (int k = 0; k < 3; ++k) v[k] = (v[k] + (0.5 * acc[k]) * a.dt) * scale;
    Vec3 p = {r[0] + a.dt * v[0], r[1] + a.dt * v[1], r[2] + a.dt * v[2]};
    box.wrapInto(p, r, img);
}

HA_HOSTDEVICE void nve_step_two(const StepArgs& a, double mass, const double* F, double* acc, double* v,
                                double scale = 1.0) {
    double minv = 1.0 / mass;
    for (int k = 0; k < 3; ++k) {
        acc[k] = F[k] * minv;
        v[k] = v[k] * scale + (0.5 * a.dt) * acc[k];
    }
}

}  // namespace ha
