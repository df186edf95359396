// The backend switch of GPU.h, and the host backend's memory: plain heap blocks, so the device
// path runs on the CPU exactly as it is written for the GPU.
#include "GPU.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace ha {
namespace gpu {

namespace {
thread_local Backend t_backend = Backend::CUDA;
}

Backend backend() { return t_backend; }
void setBackend(Backend b) { t_backend = b; }

void* alloc(Backend b, size_t bytes) {
    if (b == Backend::CUDA) return cuda::alloc(bytes);
    void* p = std::malloc(bytes);
    if (!p) throw std::bad_alloc();
    return p;
}
void release(Backend b, void* p) {
    if (!p) return;
    if (b == Backend::CUDA) cuda::release(p);
    else std::free(p);
}
void copy(Backend b, void* dst, const void* src, size_t bytes, Copy kind) {
    if (b == Backend::CUDA) cuda::copy(dst, src, bytes, kind);
    else std::memcpy(dst, src, bytes);
}
void fill(Backend b, void* p, int byte, size_t bytes) {
    if (b == Backend::CUDA) cuda::fill(p, byte, bytes);
    else std::memset(p, byte, bytes);
}

}  // namespace gpu
}  // namespace ha
