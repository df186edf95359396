// Built without CUDA: the CUDA backend reports that clearly (the CPU path and the host backend
// need none of it).
#include "device/GPU.h"
#include "device/DeviceOps.h"

namespace ha {
namespace gpu {

namespace {
[[noreturn]] void unavailable() {
    throw std::runtime_error(
        "hoomd-adjoint was built without CUDA: rebuild with a CUDA toolkit "
        "(CMake option HA_ENABLE_CUDA=ON) to run on a GPU");
}
}  // namespace

bool available() {
    return false;
}
std::string deviceName() {
    unavailable();
}

namespace cuda {
void synchronize() {
    unavailable();
}
void* alloc(size_t) {
    unavailable();
}
void release(void*) {}
void copy(void*, const void*, size_t, Copy) {
    unavailable();
}
void fill(void*, int, size_t) {
    unavailable();
}
template <class Op>
void launch(uint32_t, const Op&, const char*) {
    unavailable();
}
// each op alone and in batches (gpu::Batched: one kernel for the op of many systems)
#define HA_INSTANTIATE(...)                                                       \
    template void launch<__VA_ARGS__>(uint32_t, const __VA_ARGS__&, const char*); \
    template void launch<Batched<__VA_ARGS__>>(uint32_t, const Batched<__VA_ARGS__>&, const char*);
#define HA_INSTANTIATE_PAIR(E, NAME) HA_DEVICE_PAIR_OPS(HA_INSTANTIATE, E) HA_DEVICE_ADJOINT_OPS(HA_INSTANTIATE, E)
HA_DEVICE_OPS(HA_INSTANTIATE)
HA_FOR_EACH_PAIR_EVALUATOR(HA_INSTANTIATE_PAIR)
HA_FOR_EACH_XPLOR_EVALUATOR(HA_INSTANTIATE_PAIR)
}  // namespace cuda

}  // namespace gpu
}  // namespace ha
