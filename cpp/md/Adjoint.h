// The discrete adjoint (and tangent) of one integration step, for a system integrated by a
// single method over all particles. Noise is regenerated from (seed, timestep, tag), forces are
// recomputed from the stored state, so nothing but states needs to be recorded.
#pragma once
#include <cstdint>
#include <vector>

namespace ha {

class System;

struct AdjointGrads {
    std::vector<std::vector<double>> params;  // per force: ntypes^2 x P, w . dF/dtheta summed
    double kT = 0;
    std::vector<double> gamma;                // per type
};

struct AdjointRequest {
    bool params = true, kT = false, gamma = false;
};

// Backward through step t -> t+1. On entry the system holds the state at step t (positions;
// velocities and accelerations for Langevin/NVE) and lr, lv, la (N x 3 each) hold the adjoints
// of the state at t+1; on exit they hold the adjoints of the state at t.
void adjoint_step(System& sys, double* lr, double* lv, double* la, AdjointGrads& g, const AdjointRequest& req);

// Forward (tangent) through step t -> t+1 from the state the system holds at t: the tangents
// dr, dv, da of the state and ptan (per force, ntypes^2 x P) of the parameters, dkT of kT and
// dgamma (per type) of the drag, are mapped to the tangents at t+1.
void tangent_step(System& sys, double* dr, double* dv, double* da, const std::vector<const double*>& ptan, double dkT,
                  const double* dgamma);

// out += J_F(r) w and the parameter products, at the state the system holds.
void force_jacobian(System& sys, const double* w, double* out, AdjointGrads* g, std::vector<std::vector<double>>* eparams,
                    const std::vector<const double*>* ptan);

}  // namespace ha
