// The pair forces the bindings make: each with every path (host and device, forward and adjoint).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "engine/Force.h"

namespace ha {

// A pair force for the evaluator named `name` (evaluators/All.h); throws for an unknown name.
std::shared_ptr<PairForce> make_pair_force(const std::string& name, std::shared_ptr<NeighborList> nlist,
                                           uint32_t ntypes);

// The same for the "<name>/xplor" forms (evaluators/All.h); null for any other name.
std::shared_ptr<PairForce> make_xplor_pair_force(const std::string& name, std::shared_ptr<NeighborList> nlist,
                                                 uint32_t ntypes);

}  // namespace ha
