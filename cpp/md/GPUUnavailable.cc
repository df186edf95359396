// Built without CUDA: the GPU entry points report that clearly (the CPU path needs none of them).
#include "GPU.h"
#include "evaluators/All.h"

namespace ha {
namespace gpu {

namespace {
[[noreturn]] void unavailable() {
    throw std::runtime_error("hoomd-adjoint was built without CUDA: rebuild with a CUDA toolkit "
                             "(CMake option HA_ENABLE_CUDA=ON) to run on a GPU");
}
}  // namespace

bool available() { return false; }
std::string deviceName() { unavailable(); }
void* alloc(size_t) { unavailable(); }
void release(void* p) { (void)p; }
void copyToDevice(void*, const void*, size_t) { unavailable(); }
void copyToHost(void*, const void*, size_t) { unavailable(); }
void packPositions(uint32_t, const double*, const uint32_t*, PosType*) { unavailable(); }
template <class E>
void pairForces(uint32_t, const PosType*, const BoxDim&, const NeighborView&, const PairTables&, double*, double*) {
    unavailable();
}
#define HA_INSTANTIATE(E, NAME)                                                                               \
    template void pairForces<E>(uint32_t, const PosType*, const BoxDim&, const NeighborView&, const PairTables&, \
                                double*, double*);
HA_FOR_EACH_PAIR_EVALUATOR(HA_INSTANTIATE)
#undef HA_INSTANTIATE
void zeroNet(uint32_t, double*, double*) { unavailable(); }
void addForce(uint32_t, const double*, const double*, double*, double*) { unavailable(); }
void checkState(uint32_t, const double*, const double*, const double*, const BoxDim&, uint32_t*, uint32_t*) { unavailable(); }
bool movedBeyond(uint32_t, const double*, const double*, const BoxDim&, double, uint32_t*) { unavailable(); }
void brownian(uint32_t, const uint32_t*, const StepArgs&, const BoxDim&, const double*, const uint32_t*, const double*,
              double*, int32_t*) { unavailable(); }
void langevinOne(uint32_t, const uint32_t*, const StepArgs&, const BoxDim&, const double*, double*, int32_t*, double*) {
    unavailable();
}
void langevinTwo(uint32_t, const uint32_t*, const StepArgs&, const double*, const uint32_t*, const double*, const double*,
                 double*, double*) { unavailable(); }
void nveOne(uint32_t, const uint32_t*, const StepArgs&, const BoxDim&, const double*, double*, int32_t*, double*) {
    unavailable();
}
void nveTwo(uint32_t, const uint32_t*, const StepArgs&, const double*, const double*, double*, double*) { unavailable(); }

}  // namespace gpu
}  // namespace ha
