// Energy, gradient, Hessian and third-derivative tensor of small clusters in free space (all
// pairs, no box), for a batch of configurations, with derivatives of each with respect to one
// pair parameter per type pair. Used by transition-state searches and Kramers rates, where N is
// small and exact higher derivatives matter more than neighbour lists.
#pragma once
#include <cstdint>
#include <string>

namespace ha {

struct ClusterArgs {
    uint32_t M = 0, N = 0, ntypes = 0;
    const double* x = nullptr;       // (M, N, 3)
    const uint32_t* type = nullptr;  // (N)
    const double* params = nullptr;  // (ntypes, ntypes, n_params), the potential's user parameters
    const double* rcutsq = nullptr;  // (ntypes, ntypes)
    bool shift = false;
    int order = 1;  // 1: energy and gradient; 2: + Hessian; 3: + third derivatives
    int wrt = -1;   // parameter index to differentiate by (per type pair), or -1
    // outputs (zeroed by the caller; null when not wanted)
    double* energy = nullptr;  // (M)
    double* grad = nullptr;    // (M, 3N)
    double* hess = nullptr;    // (M, 3N, 3N)        order >= 2
    double* third = nullptr;   // (M, 3N, 3N, 3N)    order >= 3
    double* dE = nullptr;      // (M, nt, nt)        wrt >= 0; type pair (t, u) stored at t <= u
    double* dG = nullptr;      // (M, nt, nt, 3N)
    double* dH = nullptr;      // (M, nt, nt, 3N, 3N)  order >= 2
};

// Throws std::invalid_argument for an unknown potential name.
void cluster_derivatives(const std::string& potential, const ClusterArgs& a);

}  // namespace ha
