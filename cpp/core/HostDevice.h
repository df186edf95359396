// Qualifiers that let one header be compiled for the host and for CUDA devices.
#pragma once
#ifdef __CUDACC__
#define HA_HOSTDEVICE __host__ __device__ inline
#else
#define HA_HOSTDEVICE inline
#endif
