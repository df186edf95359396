// Host-side interface to the CUDA kernels in cuda/. Nothing here includes CUDA headers, so the
// C++ core compiles with or without a CUDA toolkit; every kernel is a thin loop around the same
// per-particle functions the CPU path calls (PairForceKernel.h, TwoStep.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/BoxDim.h"
#include "ParticleData.h"
#include "PairForceKernel.h"
#include "TwoStep.h"

namespace ha {
namespace gpu {

bool available();         // a CUDA device can be used
std::string deviceName();
void* alloc(size_t bytes);
void release(void* p);
void copyToDevice(void* dst, const void* src, size_t bytes);
void copyToHost(void* dst, const void* src, size_t bytes);

// A device array that follows a host std::vector's size.
template <class T>
class Buffer {
  public:
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { release(m_p); }
    void resize(size_t n) {
        if (n == m_n) return;
        release(m_p);
        m_p = n ? static_cast<T*>(alloc(n * sizeof(T))) : nullptr;
        m_n = n;
    }
    void upload(const std::vector<T>& v) {
        resize(v.size());
        if (m_n) copyToDevice(m_p, v.data(), m_n * sizeof(T));
    }
    void download(std::vector<T>& v) const {
        v.resize(m_n);
        if (m_n) copyToHost(v.data(), m_p, m_n * sizeof(T));
    }
    T* get() const { return m_p; }
    size_t size() const { return m_n; }

  private:
    T* m_p = nullptr;
    size_t m_n = 0;
};

// --- kernels (cuda/Kernels.cu) ---
void packPositions(uint32_t N, const double* pos, const uint32_t* typeid_, PosType* out);
template <class E>
void pairForces(uint32_t N, const PosType* p, const BoxDim& box, const NeighborView& nb, const PairTables& tab,
                double* force, double* energy);
void zeroNet(uint32_t N, double* net_force, double* net_energy);
void addForce(uint32_t N, const double* force, const double* energy, double* net_force, double* net_energy);
// Index of the first particle outside the box / with a non-finite force (or UINT32_MAX), per flag.
void checkState(uint32_t N, const double* pos, const double* net_force, const double* net_energy, const BoxDim& box,
                uint32_t* flags /* device, 2 entries */, uint32_t* host_flags);
bool movedBeyond(uint32_t N, const double* pos, const double* last_pos, const BoxDim& box, double maxsq, uint32_t* flag);
void brownian(uint32_t n, const uint32_t* members, const StepArgs& a, const BoxDim& box, const double* gamma,
              const uint32_t* typeid_, const double* F, double* r, int32_t* img);
void langevinOne(uint32_t n, const uint32_t* members, const StepArgs& a, const BoxDim& box, const double* acc, double* r,
                 int32_t* img, double* v);
void langevinTwo(uint32_t n, const uint32_t* members, const StepArgs& a, const double* gamma, const uint32_t* typeid_,
                 const double* mass, const double* F, double* acc, double* v);
void nveOne(uint32_t n, const uint32_t* members, const StepArgs& a, const BoxDim& box, const double* acc, double* r,
            int32_t* img, double* v);
void nveTwo(uint32_t n, const uint32_t* members, const StepArgs& a, const double* mass, const double* F, double* acc,
            double* v);

}  // namespace gpu
}  // namespace ha
