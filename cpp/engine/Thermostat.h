// ConstantVolume's velocity-rescaling thermostats, as HOOMD-blue 4.8.2's md/Thermostat.h: each
// step, velocities (and angular momenta) are multiplied by a factor after the first half kick
// (factors_one) and before the second (factors_two). Bussi's factor is random: a function of
// (seed, timestep, the group's first tag), replayable like every other draw of the engine.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include "core/HostDevice.h"
#include "core/Quaternion.h"
#include "core/RandomNumbers.h"
#include "engine/evaluators/EvaluatorMath.h"

namespace ha {

struct Thermostat {
    enum Kind { None = 0, Bussi = 1, Berendsen = 2, MTTK = 3 };
    Kind kind = None;
    double tau = 0;
    // the method group's degrees of freedom as HOOMD-blue's IntegratorTwoStep counts them
    double trans_dof = 0, rot_dof = 0;
    // MTTK's thermostat variables (translational, rotational)
    double xi = 0, eta = 0, xi_rot = 0, eta_rot = 0;
};

// The kinetic energies of a group: 1/2 sum m v^2 and 1/2 sum_axes L^2 / I.
struct KineticEnergies {
    double trans = 0, rot = 0;
};

// Temperature 2 K / dof as HOOMD-blue's ComputeThermo forms it (0 without degrees of freedom).
template <class T>
T thermo_temperature(const T& K, double dof) {
    return dof > 0 ? 2.0 / dof * K : T(0.0);
}

// Bussi's draws for one set of degrees of freedom [BussiThermostat::compute_rescale_factor]: the
// normal, then 2 Gamma((dof - 1) / 2) when dof > 1, from the same stream (none when dof = 0).
struct BussiDraws {
    double normal = 0, gamma = 0;
};
inline BussiDraws bussi_draws(double dof, RandomGenerator& rng) {
    BussiDraws d;
    if (dof == 0) return d;
    d.normal = rng.normal(1.0);
    if (dof > 1.0) d.gamma = 2.0 * rng.gamma((dof - 1.0) / 2.0, 1.0);
    return d;
}

// Bussi's factor from the kinetic energy K, the set point and tau (double: the forward map's bits;
// dual numbers: its derivatives, for the adjoint). dof = 0: 1.
template <class T>
T bussi_rescale(const T& K, double dof, double dt, const T& tau, const T& set_T, const BussiDraws& d) {
    using std::exp;
    using std::sqrt;
    if (dof == 0) return T(1.0);
    T decay(0.0);
    if (value_of(tau) != 0.0) decay = exp(-dt / tau);
    const T v = set_T / 2.0 / K;
    const T term1 = v * (1.0 - decay) * (d.gamma + d.normal * d.normal);
    // (with decay = 0 the square root is 0, whose derivative the duals would make NaN; 0 + term1
    // + 0 has the bits of HOOMD-blue's 0 + term1 +- 0)
    const T term2 = value_of(decay) == 0.0 ? T(0.0) : 2.0 * d.normal * sqrt(v * (1.0 - decay) * decay);
    return sqrt(decay + term1 + term2);
}

// [BerendsenThermostat::getRescalingFactorsOne], for one set of degrees of freedom.
template <class T>
T berendsen_rescale(double dt, const T& tau, const T& set_T, const T& current_T) {
    using std::sqrt;
    return sqrt(1.0 + dt / tau * (set_T / current_T - 1.0));
}

// What step one's factors of a Bussi or Berendsen thermostat are made of.
struct ThermostatInputs {
    KineticEnergies k;
    BussiDraws trans, rot;  // (Bussi)
};

// A particle's rotational kinetic energy terms [ComputeThermo::computeProperties]: s = 1/2 conj(q) p
// (the body-frame angular momentum) and s_k^2 / I_k for each axis with I_k > 0 (0 for the others);
// the energy is half their sum. T: double, or dual numbers (the adjoint).
template <class T>
void rotational_terms(const Q4<T>& q, const Q4<T>& p, const double I[3], T out[3]) {
    const Q4<T> sq = qmul(qscale(T(0.5), qconj(q)), p);
    out[0] = I[0] > 0 ? sq.x * sq.x / I[0] : T(0.0);
    out[1] = I[1] > 0 ? sq.y * sq.y / I[1] : T(0.0);
    out[2] = I[2] > 0 ? sq.z * sq.z / I[2] : T(0.0);
}

// MTTK's xi after a step from xi before it and the translational kinetic energy K after the first
// half step [MTTKThermostat::advanceThermostat], and the half-way xi' that eta integrates. T:
// double (the forward map's bits), or dual numbers (the adjoint's derivatives).
template <class T>
T mttk_next_xi(const T& xi, const T& K, double dof, double dt, const T& tau, const T& set_T, T* xi_prime = nullptr) {
    const T T_trans = thermo_temperature(K, dof);
    const T half = 1.0 / 2.0 * dt / tau / tau * (T_trans / set_T - 1.0);
    const T xp = xi + half;
    if (xi_prime) *xi_prime = xp;
    return xp + half;
}

// The same for the rotational xi, from the rotational kinetic energy (HOOMD-blue's arithmetic:
// 2 K / dof / kT rather than the temperature over kT).
template <class T>
T mttk_next_xi_rot(const T& xi, const T& K, double dof, double dt, const T& tau, const T& set_T,
                   T* xi_prime = nullptr) {
    const T half = 1.0 / 2.0 * dt / tau / tau * (2.0 * K / dof / set_T - 1.0);
    const T xp = xi + half;
    if (xi_prime) *xi_prime = xp;
    return xp + half;
}

// [MTTKThermostat::advanceThermostat] from the kinetic energies after the first half step.
inline void mttk_advance(Thermostat& th, double dt, double set_T, const KineticEnergies& k, bool aniso) {
    double xi_prime = 0;
    th.xi = mttk_next_xi(th.xi, k.trans, th.trans_dof, dt, th.tau, set_T, &xi_prime);
    th.eta += xi_prime * dt;
    if (aniso) {
        double xi_prime_rot = 0;
        th.xi_rot = mttk_next_xi_rot(th.xi_rot, k.rot, th.rot_dof, dt, th.tau, set_T, &xi_prime_rot);
        th.eta_rot += xi_prime_rot * dt;
    }
}

// [MTTKThermostat::getRescalingFactorsOne/Two]: the same factors at both half steps.
inline std::array<double, 2> mttk_factors(const Thermostat& th, double dt) {
    return {std::exp(-1.0 / 2.0 * th.xi * dt), std::exp(-th.xi_rot * dt / 2.0)};
}

}  // namespace ha
