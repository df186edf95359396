// CUDA kernels: one thread per particle, each calling the per-particle functions that the CPU
// path calls. No physics is written here.
#include <cuda_runtime.h>

#include <cstdio>
#include "core/Format.h"

#include "md/GPU.h"
#include "md/evaluators/All.h"

namespace ha {
namespace gpu {

namespace {
constexpr int kBlock = 256;
inline unsigned grid(uint32_t n) { return (n + kBlock - 1) / kBlock; }

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        throw std::runtime_error(format("CUDA error in %s: %s", what, cudaGetErrorString(e)));
    }
}
void checkLaunch(const char* what) { check(cudaGetLastError(), what); }
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

void* alloc(size_t bytes) {
    void* p = nullptr;
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
}
void release(void* p) {
    if (p) cudaFree(p);
}
void copyToDevice(void* dst, const void* src, size_t bytes) {
    check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "copy to device");
}
void copyToHost(void* dst, const void* src, size_t bytes) {
    check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "copy to host");
}

__global__ void k_pack(uint32_t N, const double* pos, const uint32_t* tid, PosType* out) {
    uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < N) out[i] = {pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], tid[i], i};
}
void packPositions(uint32_t N, const double* pos, const uint32_t* typeid_, PosType* out) {
    k_pack<<<grid(N), kBlock>>>(N, pos, typeid_, out);
    checkLaunch("pack positions");
}

template <class E, bool TRICLINIC>
__global__ void k_pair(uint32_t N, const PosType* p, BoxDim box, NeighborView nb, PairTables tab, double* force,
                       double* energy) {
    uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < N) pair_force_particle<E, false, TRICLINIC>(i, p, box, nb, tab, force, energy, nullptr);
}
template <class E>
void pairForces(uint32_t N, const PosType* p, const BoxDim& box, const NeighborView& nb, const PairTables& tab,
                double* force, double* energy) {
    if (box.triclinic()) k_pair<E, true><<<grid(N), kBlock>>>(N, p, box, nb, tab, force, energy);
    else k_pair<E, false><<<grid(N), kBlock>>>(N, p, box, nb, tab, force, energy);
    checkLaunch("pair forces");
}
#define HA_INSTANTIATE(E, NAME)                                                                               \
    template void pairForces<E>(uint32_t, const PosType*, const BoxDim&, const NeighborView&, const PairTables&, \
                                double*, double*);
HA_FOR_EACH_PAIR_EVALUATOR(HA_INSTANTIATE)
#undef HA_INSTANTIATE

__global__ void k_zero_net(uint32_t N, double* nf, double* ne) {
    uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < N) {
        nf[3 * i] = nf[3 * i + 1] = nf[3 * i + 2] = 0.0;
        ne[i] = 0.0;
    }
}
void zeroNet(uint32_t N, double* net_force, double* net_energy) {
    k_zero_net<<<grid(N), kBlock>>>(N, net_force, net_energy);
    checkLaunch("zero net force");
}

__global__ void k_add(uint32_t N, const double* f, const double* e, double* nf, double* ne) {
    uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < N) {
        for (int k = 0; k < 3; ++k) nf[3 * i + k] += f[3 * i + k];
        ne[i] += e[i];
    }
}
void addForce(uint32_t N, const double* force, const double* energy, double* net_force, double* net_energy) {
    k_add<<<grid(N), kBlock>>>(N, force, energy, net_force, net_energy);
    checkLaunch("add force");
}

__global__ void k_check(uint32_t N, const double* pos, const double* nf, const double* ne, BoxDim box, uint32_t* flags) {
    uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N) return;
    Vec3 f = box.makeFraction({pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]});
    const double lo = -1e-10, hi = 1 + 1e-10;
    bool inside = f.x >= lo && f.x <= hi && f.y >= lo && f.y <= hi && (box.is2D || (f.z >= lo && f.z <= hi));
    if (!inside) atomicMin(&flags[0], i);
    if (!isfinite(nf[3 * i]) || !isfinite(nf[3 * i + 1]) || !isfinite(nf[3 * i + 2]) || !isfinite(ne[i]))
        atomicMin(&flags[1], i);
}
void checkState(uint32_t N, const double* pos, const double* net_force, const double* net_energy, const BoxDim& box,
                uint32_t* flags, uint32_t* host_flags) {
    check(cudaMemset(flags, 0xff, 2 * sizeof(uint32_t)), "cudaMemset");
    k_check<<<grid(N), kBlock>>>(N, pos, net_force, net_energy, box, flags);
    checkLaunch("state check");
    copyToHost(host_flags, flags, 2 * sizeof(uint32_t));
}

__global__ void k_moved(uint32_t N, const double* pos, const double* last, BoxDim box, double maxsq, uint32_t* flag) {
    uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N) return;
    Vec3 d = box.minImage({pos[3 * i] - last[3 * i], pos[3 * i + 1] - last[3 * i + 1], pos[3 * i + 2] - last[3 * i + 2]});
    if (d.x * d.x + d.y * d.y + d.z * d.z >= maxsq) *flag = 1;
}
bool movedBeyond(uint32_t N, const double* pos, const double* last_pos, const BoxDim& box, double maxsq, uint32_t* flag) {
    check(cudaMemset(flag, 0, sizeof(uint32_t)), "cudaMemset");
    k_moved<<<grid(N), kBlock>>>(N, pos, last_pos, box, maxsq, flag);
    checkLaunch("displacement check");
    uint32_t h = 0;
    copyToHost(&h, flag, sizeof(uint32_t));
    return h != 0;
}

// One thread per member of an integration method; Op applies the shared per-particle update.
template <class Op>
__global__ void k_members(uint32_t n, const uint32_t* mem, Op op) {
    uint32_t k = blockIdx.x * blockDim.x + threadIdx.x;
    if (k < n) op(mem[k]);
}
template <class Op>
void launch_members(uint32_t n, const uint32_t* mem, const Op& op, const char* what) {
    if (n == 0) return;
    k_members<<<grid(n), kBlock>>>(n, mem, op);
    checkLaunch(what);
}

struct BrownianOp {
    StepArgs a; BoxDim box; const double* gamma; const uint32_t* tid; const double* F; double* r; int32_t* img;
    __device__ void operator()(uint32_t i) const { brownian_step(i, a, box, gamma[tid[i]], F + 3 * i, r + 3 * i, img + 3 * i); }
};
struct LangevinOneOp {
    StepArgs a; BoxDim box; const double* acc; double* r; int32_t* img; double* v;
    __device__ void operator()(uint32_t i) const { langevin_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i); }
};
struct LangevinTwoOp {
    StepArgs a; const double* gamma; const uint32_t* tid; const double* mass; const double* F; double* acc; double* v;
    __device__ void operator()(uint32_t i) const {
        langevin_step_two(i, a, gamma[tid[i]], mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
    }
};
struct NVEOneOp {
    StepArgs a; BoxDim box; const double* acc; double* r; int32_t* img; double* v;
    __device__ void operator()(uint32_t i) const { nve_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i); }
};
struct NVETwoOp {
    StepArgs a; const double* mass; const double* F; double* acc; double* v;
    __device__ void operator()(uint32_t i) const { nve_step_two(a, mass[i], F + 3 * i, acc + 3 * i, v + 3 * i); }
};

void brownian(uint32_t n, const uint32_t* members, const StepArgs& a, const BoxDim& box, const double* gamma,
              const uint32_t* typeid_, const double* F, double* r, int32_t* img) {
    launch_members(n, members, BrownianOp{a, box, gamma, typeid_, F, r, img}, "Brownian step");
}
void langevinOne(uint32_t n, const uint32_t* members, const StepArgs& a, const BoxDim& box, const double* acc, double* r,
                 int32_t* img, double* v) {
    launch_members(n, members, LangevinOneOp{a, box, acc, r, img, v}, "Langevin step one");
}
void langevinTwo(uint32_t n, const uint32_t* members, const StepArgs& a, const double* gamma, const uint32_t* typeid_,
                 const double* mass, const double* F, double* acc, double* v) {
    launch_members(n, members, LangevinTwoOp{a, gamma, typeid_, mass, F, acc, v}, "Langevin step two");
}
void nveOne(uint32_t n, const uint32_t* members, const StepArgs& a, const BoxDim& box, const double* acc, double* r,
            int32_t* img, double* v) {
    launch_members(n, members, NVEOneOp{a, box, acc, r, img, v}, "NVE step one");
}
void nveTwo(uint32_t n, const uint32_t* members, const StepArgs& a, const double* mass, const double* F, double* acc,
            double* v) {
    launch_members(n, members, NVETwoOp{a, mass, F, acc, v}, "NVE step two");
}

}  // namespace gpu
}  // namespace ha
