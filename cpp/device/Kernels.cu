// The CUDA backend of GPU.h: memory, copies, and one kernel template that runs an op (DeviceOps.h)
// with one thread per index. No physics is written here.
#include <cuda_runtime.h>

#include "core/Format.h"
#include "device/DeviceOps.h"
#include "device/GPU.h"

namespace ha {
namespace gpu {

namespace {
constexpr int kBlock = 256;
inline unsigned grid(uint32_t n) {
    return (n + kBlock - 1) / kBlock;
}

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw std::runtime_error(format("CUDA error in %s: %s", what, cudaGetErrorString(e)));
}

template <class Op>
__global__ void k_launch(uint32_t n, Op op) {
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) op(i);
}
}  // namespace

bool available() {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

std::string deviceName() {
    cudaDeviceProp prop;
    check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    return prop.name;
}

namespace cuda {
void synchronize() {
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}
void* alloc(size_t bytes) {
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
}
void release(void* p) {
    cudaFree(p);
}
void copy(void* dst, const void* src, size_t bytes, Copy kind) {
    const cudaMemcpyKind k = kind == Copy::ToDevice ? cudaMemcpyHostToDevice
                             : kind == Copy::ToHost ? cudaMemcpyDeviceToHost
                                                    : cudaMemcpyDeviceToDevice;
    check(cudaMemcpy(dst, src, bytes, k), "cudaMemcpy");
}
void fill(void* p, int byte, size_t bytes) {
    check(cudaMemset(p, byte, bytes), "cudaMemset");
}

template <class Op>
void launch(uint32_t n, const Op& op, const char* what) {
    k_launch<<<grid(n), kBlock>>>(n, op);
    check(cudaGetLastError(), what);
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
