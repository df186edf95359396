// The backend switch of GPU.h, and the host backend's memory: plain heap blocks, so the device
// path runs on the CPU exactly as it is written for the GPU.
#include "device/GPU.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

namespace ha {
namespace gpu {

namespace {
thread_local Backend t_backend = Backend::CUDA;
bool g_profiling = false;
std::mutex g_profile_mutex;  // (replicas may launch from several threads)
std::vector<std::pair<std::string, ProfileEntry>> g_profile;
}  // namespace

void setProfiling(bool on) {
    std::lock_guard<std::mutex> lock(g_profile_mutex);
    g_profiling = on;
    g_profile.clear();
}
bool profiling() {
    return g_profiling;
}
std::vector<std::pair<std::string, ProfileEntry>> profile() {
    std::lock_guard<std::mutex> lock(g_profile_mutex);
    return g_profile;
}
void profileAdd(const char* what, double seconds) {
    std::lock_guard<std::mutex> lock(g_profile_mutex);
    for (auto& e : g_profile)
        if (e.first == what) {
            ++e.second.calls;
            e.second.seconds += seconds;
            return;
        }
    g_profile.push_back({what, ProfileEntry{1, seconds}});
}
double wallSeconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Backend backend() {
    return t_backend;
}
void setBackend(Backend b) {
    t_backend = b;
}

void* alloc(Backend b, size_t bytes) {
    if (b == Backend::CUDA) return cuda::alloc(bytes);
    void* p = std::malloc(bytes);
    if (!p) throw std::bad_alloc();
    return p;
}
void release(Backend b, void* p) {
    if (!p) return;
    if (b == Backend::CUDA)
        cuda::release(p);
    else
        std::free(p);
}
void copy(Backend b, void* dst, const void* src, size_t bytes, Copy kind) {
    if (b == Backend::CUDA)
        cuda::copy(dst, src, bytes, kind);
    else
        std::memcpy(dst, src, bytes);
}
void fill(Backend b, void* p, int byte, size_t bytes) {
    if (b == Backend::CUDA)
        cuda::fill(p, byte, bytes);
    else
        std::memset(p, byte, bytes);
}

}  // namespace gpu
}  // namespace ha
