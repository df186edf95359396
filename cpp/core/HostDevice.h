// Qualifiers that let one header be compiled for the host and for CUDA devices.
#pragma once
#ifdef __CUDACC__
#define HA_HOSTDEVICE __host__ __device__ inline
#define HA_EVALUATOR __host__ __device__ __forceinline__
#else
#define HA_HOSTDEVICE inline
// Evaluators are small and called once per pair: inlining lets dual numbers live in registers.
#define HA_EVALUATOR __attribute__((always_inline)) inline
#endif

// Atomics for kernels that several device threads may run at once. The host backend runs a
// kernel's threads one after another (GPU.h), so there they are plain read-modify-writes.
#include <cstdint>
namespace ha {
#ifdef __CUDA_ARCH__
HA_HOSTDEVICE uint32_t atomic_add(uint32_t* p, uint32_t v) {
    return atomicAdd(p, v);
}
HA_HOSTDEVICE void atomic_min(uint32_t* p, uint32_t v) {
    atomicMin(p, v);
}
HA_HOSTDEVICE void atomic_max(uint32_t* p, uint32_t v) {
    atomicMax(p, v);
}
#else
HA_HOSTDEVICE uint32_t atomic_add(uint32_t* p, uint32_t v) {
    const uint32_t old = *p;
    *p = old + v;
    return old;
}
HA_HOSTDEVICE void atomic_min(uint32_t* p, uint32_t v) {
    *p = v < *p ? v : *p;
}
HA_HOSTDEVICE void atomic_max(uint32_t* p, uint32_t v) {
    *p = v > *p ? v : *p;
}
#endif
}  // namespace ha
