// The discrete adjoint of rigid-body dynamics (System with bodies and/or rotational integration),
// for one method over every centre and free particle. The per-body maps (NO_SQUISH step one, the
// Langevin drag/noise torque and second kick, the Brownian rotation, the constituent offsets
// rotate(q, d)) are differentiated by evaluating their one templated implementation in dual
// numbers; constituents' forces reach the centres' (r, q) and the body-frame positions d through
// the transfer F_b = f_b + sum_k f_k, tau_b = sum_k u_k x f_k and the pair Jacobian at the sites.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>
#include "adjoint/Adjoint.h"

namespace ha {

// One step's state, per particle (constituents included, so a load needs no bookkeeping):
// Langevin/NVE: position 3, velocity 3, acceleration 3, orientation 4, angmom 4, net torque 3
// (the torque step one reads: Langevin's includes last step's drag and noise); Brownian:
// position 3, orientation 4.
size_t rigid_state_width(const System& sys);
bool has_rotations(const System& sys);  // rigid bodies or rotational integration: this adjoint's systems
// The one method the adjoint follows (over every centre and free particle), or a clear error.
const Method& rigid_method(const System& sys);
void rigid_save(const System& sys, double* out);
// Restore a saved state and place the constituents; `forces`: also F(t) and tau(t) (Brownian
// steps read them; Langevin/NVE steps must keep the stored torque, so they never recompute).
void rigid_load(System& sys, const double* in, bool forces);
void rigid_place(System& sys, bool forces);  // (rigid_load's last part, after the arrays are restored)
// Each constituent slot's (RigidBodies' order) first entry in the geometry adjoint, into slot;
// returns the geometry adjoint's size.
uint32_t site_slots(const System& sys, std::vector<uint32_t>& slot);
void rigid_advance_recording(System& sys, uint64_t n, double* states, bool after);

// Adjoints of the state (N x 3, 3, 3, 4, 4, 3; constituents' entries stay zero), of the body
// definitions' positions (per body type in type order, n_t x 3 each, concatenated), and the
// gradients with respect to the centres' principal moments (N x 3) and the method's rotational
// drag (ntypes x 3).
struct RigidAdjointState {
    double *r, *v, *a, *q, *p, *tau;
    double* geometry;
    double *inertia, *gamma_r;
};

SweepStatus rigid_adjoint_sweep(System& sys, uint64_t t_first, uint64_t n, const double* states, RigidAdjointState& L,
                                AdjointGrads& g, const AdjointRequest& req);

// At the system's current (placed) state: adjoint weights lF on the net forces (N x 3) and ltau on
// the centres' net torques (N x 3) pulled back to positions, orientations, geometry and (into g,
// if given) the pair parameters that sel selects. (prepRun's a0 = F/m and Langevin's first torque.)
void rigid_force_pullback(System& sys, const double* lF, const double* ltau, RigidAdjointState& L, AdjointGrads* g,
                          const ParamSelection& sel);
// d/d(positions of every particle) -> centres' (r, q), free particles' r and the geometry.
void rigid_position_pullback(System& sys, const double* dpos, RigidAdjointState& L);

}  // namespace ha
