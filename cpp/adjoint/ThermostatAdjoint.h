// What the adjoint needs of a ConstantVolume thermostat at one step, for translation and rotation:
// engine/Thermostat.h's templates evaluated in dual numbers. Bussi and Berendsen multiply the
// velocities (angular momenta) by s(K, kT, tau) of the kinetic energy at the step's start; MTTK by
// s1 = exp(-xi dt/2) at step one and s2 = exp(-xi' dt/2) at step two, where xi' follows from xi
// and the kinetic energy after step one. (Used by adjoint/Adjoint.cc and adjoint/RigidAdjoint.cc.)
#pragma once
#include <array>

#include "core/Dual.h"
#include "engine/System.h"

namespace ha {

// A factor and its derivatives with respect to the kinetic energy it rescales, kT and tau.
struct FactorSens {
    double s = 1.0, dK = 0, dkT = 0, dtau = 0;
};

// Bussi or Berendsen: the step-one factors (translation, rotation) of step a.timestep, with the
// forward map's own bits and the step's own draws. Rotation: (1, 0, 0, 0) without rotational
// integration.
inline std::array<FactorSens, 2> rescale_sensitivity(const System& sys, const Method& m, const StepArgs& a) {
    const Thermostat& th = m.thermostat;
    std::array<FactorSens, 2> out;
    if (th.kind == Thermostat::Bussi && a.dt == 0.0) return out;
    const ThermostatInputs in = sys.thermostatInputs(m, a);
    const std::array<double, 2> s = sys.thermostatFactors(m, a, in);
    using D = Dual<3>;  // K, kT, tau
    const D kT = D::variable(a.kT, 1), tau = D::variable(th.tau, 2);
    for (int r = 0; r < (sys.aniso ? 2 : 1); ++r) {
        const double dof = r == 0 ? th.trans_dof : th.rot_dof;
        const D K = D::variable(r == 0 ? in.k.trans : in.k.rot, 0);
        const D f = th.kind == Thermostat::Bussi ? bussi_rescale(K, dof, a.dt, tau, kT, r == 0 ? in.trans : in.rot)
                                                 : berendsen_rescale(a.dt, tau, kT, thermo_temperature(K, dof));
        out[r] = {s[r], f.d[0], f.d[1], f.d[2]};
    }
    return out;
}

// MTTK's factors at one step and xi' with its derivatives (with respect to xi, K, kT, tau).
struct XiSens {
    double s1 = 1, s2 = 1, dxi = 1, dK = 0, dkT = 0, dtau = 0;
};

// From the thermostat's variables at the step's start and the kinetic energies after step one
// (translation, rotation; rotation only with rotational integration).
inline std::array<XiSens, 2> mttk_sensitivity(const Thermostat& th, double dt, double kT, double K_trans, double K_rot,
                                              bool aniso) {
    using D = Dual<4>;  // xi, K, kT, tau
    const D kTd = D::variable(kT, 2), tau = D::variable(th.tau, 3);
    const D x = mttk_next_xi(D::variable(th.xi, 0), D::variable(K_trans, 1), th.trans_dof, dt, tau, kTd);
    Thermostat next = th;
    next.xi = x.v;
    D xr = D::variable(th.xi_rot, 0);
    if (aniso) {
        xr = mttk_next_xi_rot(D::variable(th.xi_rot, 0), D::variable(K_rot, 1), th.rot_dof, dt, tau, kTd);
        next.xi_rot = xr.v;
    }
    const std::array<double, 2> s1 = mttk_factors(th, dt), s2 = mttk_factors(next, dt);
    return {XiSens{s1[0], s2[0], x.d[0], x.d[1], x.d[2], x.d[3]},
            XiSens{s1[1], s2[1], xr.d[0], xr.d[1], xr.d[2], xr.d[3]}};
}

// The translational kinetic energy of the method's particles at velocities v (N x 3), summed as
// System::kineticEnergies sums it.
inline double translational_energy(const ParticleData& pd, const Method& m, const double* v) {
    double K = 0;
    for (uint32_t i : m.members) {
        const double* vi = v + 3 * size_t(i);
        K += pd.mass[i] * (vi[0] * vi[0] + vi[1] * vi[1] + vi[2] * vi[2]);
    }
    return 0.5 * K;
}

// lK times d(rotational kinetic energy of particle i)/d(q, p), added into lq and lp (4 each).
inline void rotational_energy_pullback(const ParticleData& pd, uint32_t i, double lK, double* lq, double* lp) {
    using D = Dual<8>;
    const double* qa = &pd.orientation[4 * size_t(i)];
    const double* pa = &pd.angmom[4 * size_t(i)];
    const Q4<D> q = {D::variable(qa[0], 0), D::variable(qa[1], 1), D::variable(qa[2], 2), D::variable(qa[3], 3)};
    const Q4<D> p = {D::variable(pa[0], 4), D::variable(pa[1], 5), D::variable(pa[2], 6), D::variable(pa[3], 7)};
    D t[3];
    rotational_terms(q, p, &pd.moment_inertia[3 * size_t(i)], t);
    const D K = 0.5 * (t[0] + t[1] + t[2]);
    for (int k = 0; k < 4; ++k) {
        lq[k] += lK * K.d[k];
        lp[k] += lK * K.d[4 + k];
    }
}

}  // namespace ha
