// make_pair_force for every evaluator of evaluators/All.h (the xplor forms: PairForcesXplor.cc).
#include "device/PairForces.h"

#include "device/PairForceDevice.h"
#include "engine/evaluators/All.h"

namespace ha {

std::shared_ptr<PairForce> make_pair_force(const std::string& name, std::shared_ptr<NeighborList> nlist,
                                           uint32_t ntypes) {
#define HA_MAKE(E, NAME) \
    if (name == NAME) return std::make_shared<PairForceDeviceT<E>>(std::move(nlist), ntypes);
    HA_FOR_EACH_PAIR_EVALUATOR(HA_MAKE)
#undef HA_MAKE
    if (auto f = make_xplor_pair_force(name, nlist, ntypes)) return f;
    throw std::invalid_argument("unknown pair potential '" + name + "'");
}

}  // namespace ha
