// The discrete adjoint (and tangent) of one integration step, for a system integrated by a
// single method over all particles. Noise is regenerated from (seed, timestep, tag), forces are
// recomputed from the stored state, so nothing but states needs to be recorded.
#pragma once
#include <cstdint>
#include <vector>

namespace ha {

class System;
struct Method;

// The one integration method the adjoint differentiates (it must integrate every particle;
// rigid bodies have their own adjoint): a clear error otherwise.
const Method& adjoint_method(const System& sys);

struct AdjointGrads {
    std::vector<std::vector<double>> params;  // per force: ntypes^2 x P, w . dF/dtheta summed
    double kT = 0;                            // (ConstantVolume: its thermostat's kT)
    std::vector<double> gamma;                // per type
    double tau = 0;                           // a ConstantVolume thermostat's time constant
    // the adjoint of MTTK's xi at the sweep's current step: carried from one sweep to the next
    // like lr, lv and la (and, at the end, d loss / d xi at the window's start)
    double xi = 0;
    double xi_rot = 0;  // (MTTK's rotational xi, the same way)
};

// The parameters a pass differentiates, one list per force (sys.forces' order) of indices into
// its parameters (AdjointForce::paramCount()); empty: every parameter of every force. The dual
// numbers are only as wide as a force's list needs, so fewer is faster; the gradients keep their
// full layout, with the entries not selected left untouched. It travels with each call: nothing
// is set on the forces.
using ParamSelection = std::vector<std::vector<int>>;

// A clear error unless sel is empty or has one list per force, each of distinct indices in range.
void check_selection(System& sys, const ParamSelection& sel);

struct AdjointRequest {
    bool params = true, kT = false, gamma = false;
    bool lookBack = true;   // adjoint_sweep: lists may be built from the block's earlier states
    ParamSelection select;  // the parameters differentiated (empty: all)
};

// Backward through step t -> t+1. On entry the system holds the state at step t (positions;
// velocities and accelerations for Langevin/NVE) and lr, lv, la (N x 3 each) hold the adjoints
// of the state at t+1; on exit they hold the adjoints of the state at t.
void adjoint_step(System& sys, double* lr, double* lv, double* la, AdjointGrads& g, const AdjointRequest& req);

// The adjoint's forward pass: n steps (System::advance), the state before (after) step k written
// to pos + 3Nk, and to vel + 3Nk, acc + 3Nk unless those are null.
void advance_recording(System& sys, uint64_t n, double* pos, double* vel, double* acc, bool after);

// Backward through steps t_first + n - 1 down to t_first, loading the state at t_first + k from
// pos/vel/acc + 3Nk (vel, acc: null for Brownian dynamics). With clip > 0 the adjoint's norm is
// limited to clip after every step. Stops at the first step whose adjoint is not finite or has
// an entry beyond kAdjointLimit (AdjointStep.h).
struct SweepStatus {
    int64_t step = -1, particle = -1;  // the failing step and tag, or -1
};
SweepStatus adjoint_sweep(System& sys, uint64_t t_first, uint64_t n, const double* pos, const double* vel,
                          const double* acc, double* lr, double* lv, double* la, AdjointGrads& g,
                          const AdjointRequest& req, double clip);

// Parameter tangents: [force][tangent] -> ntypes^2 x P array (or null).
using PTan = std::vector<std::vector<const double*>>;

// One tangent of the state (dr, dv, da: N x 3 each) with its kT and drag (per type) components.
struct Tangent {
    double *dr, *dv, *da;
    double dkT = 0;  // (ConstantVolume: its thermostat's kT)
    const double* dgamma = nullptr;
    double dtau = 0;  // a ConstantVolume thermostat's tau
};

// Forward (tangent) through step t -> t+1 from the state the system holds at t, for several
// tangents at once (each pair is evaluated once for all of them); ptan's entries outside sel
// are ignored.
void tangent_step(System& sys, std::vector<Tangent>& tan, const PTan& ptan, const ParamSelection& sel);

// Forward mode's run between two frames: n steps (System::advance), each after its tangent_step,
// the tangents carried from the state at the start to the state at the end.
void tangent_advance(System& sys, uint64_t n, std::vector<Tangent>& tan, const PTan& ptan, const ParamSelection& sel);

// out[k] += J_F(r) w[k] and the parameter products (the entries sel selects; null: all), at the
// state the system holds.
void force_jacobian(System& sys, int K, const double* const* w, double* const* out, AdjointGrads* g,
                    std::vector<std::vector<double>>* eparams, const PTan* ptan, const ParamSelection* sel);

}  // namespace ha
