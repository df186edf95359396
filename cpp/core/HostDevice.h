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
