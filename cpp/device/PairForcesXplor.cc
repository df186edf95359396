// make_pair_force's potentials in HOOMD-blue's mode="xplor" (evaluators/EvaluatorXplor.h).
#include "device/PairForceDevice.h"
#include "device/PairForces.h"
#include "engine/evaluators/All.h"

namespace ha {

std::shared_ptr<PairForce> make_xplor_pair_force(const std::string& name, std::shared_ptr<NeighborList> nlist,
                                                 uint32_t ntypes) {
#define HA_MAKE(E, NAME) \
    if (name == NAME) return std::make_shared<PairForceDeviceT<E>>(std::move(nlist), ntypes);
    HA_FOR_EACH_XPLOR_EVALUATOR(HA_MAKE)
#undef HA_MAKE
    return nullptr;
}

}  // namespace ha
