// The backend switch of GPU.h, and the host backend's memory: plain heap blocks, so the device
// path runs on the CPU exactly as it is written for the GPU.
#include "device/GPU.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <map>
#include <new>
#include <stdexcept>
#include <string>

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

LaunchQueue*& current_queue() {
    thread_local LaunchQueue* q = nullptr;
    return q;
}

namespace {
// The queues (all of one signature: the same ops in the same order) as one kernel per position,
// with one upload of all their ops: for each position the R ops, then first[0..R].
void run_group(std::vector<LaunchQueue>& queues, const std::vector<size_t>& group, uint64_t repeats) {
    const size_t L = queues[group[0]].size();
    const uint32_t R = uint32_t(group.size());
    auto up = [](size_t x) { return (x + 63) / 64 * 64; };  // (sections 64-byte aligned)
    std::vector<size_t> at_ops(L), at_first(L);
    size_t bytes = 0;
    for (size_t j = 0; j < L; ++j) {
        at_ops[j] = bytes;
        bytes = up(bytes + R * queues[group[0]][j].bytes.size());
        at_first[j] = bytes;
        bytes = up(bytes + (R + 1) * sizeof(uint32_t));
    }
    std::vector<unsigned char> host(bytes);
    std::vector<uint32_t> total(L);
    for (size_t j = 0; j < L; ++j) {
        const size_t w = queues[group[0]][j].bytes.size();
        uint32_t first = 0;
        for (uint32_t r = 0; r < R; ++r) {
            const QueuedLaunch& e = queues[group[r]][j];
            std::memcpy(&host[at_ops[j] + r * w], e.bytes.data(), w);
            std::memcpy(&host[at_first[j] + r * sizeof(uint32_t)], &first, sizeof(uint32_t));
            if (uint64_t(first) + e.n > UINT32_MAX) throw std::length_error("run_batch: more than 2^32 indices");
            first += e.n;
        }
        std::memcpy(&host[at_first[j] + R * sizeof(uint32_t)], &first, sizeof(uint32_t));
        total[j] = first;
    }
    // (one upload: a copy on the default stream waits for the kernels before it, which may
    // still read the last block)
    thread_local Buffer<unsigned char> block;
    block.upload(host);
    for (uint64_t rep = 0; rep < repeats; ++rep)
        for (size_t j = 0; j < L; ++j) {
            const QueuedLaunch& a = queues[group[0]][j];
            a.run(total[j], a.what, block.get() + at_ops[j],
                  reinterpret_cast<const uint32_t*>(block.get() + at_first[j]), R);
        }
}
}  // namespace

void run_batch(std::vector<LaunchQueue>& queues, uint64_t repeats) {
    // systems whose steps launch the same ops (the same methods and forces) go together; a
    // batch of one kind (an Ensemble's replicas) is one group
    std::map<std::vector<std::pair<const void*, size_t>>, std::vector<size_t>> groups;
    for (size_t q = 0; q < queues.size(); ++q) {
        std::vector<std::pair<const void*, size_t>> signature;
        for (const QueuedLaunch& e : queues[q])
            signature.emplace_back(reinterpret_cast<const void*>(e.run), e.bytes.size());
        groups[signature].push_back(q);
    }
    for (const auto& g : groups)
        if (!g.first.empty()) run_group(queues, g.second, repeats);
    for (LaunchQueue& q : queues) q.clear();
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
// Copies and fills show in a profile by name: those within the device and fills are device work
// (on the host backend CPU loops like the kernels; on CUDA they run on the device), those to or
// from the host are the transfers a run makes (their count shows whether a step makes any).
template <class F>
void device_work(Backend b, const char* what, F&& f) {
    if (!profiling()) return f();
    if (b == Backend::CUDA) cuda::synchronize();
    const double t0 = wallSeconds();
    f();
    if (b == Backend::CUDA) cuda::synchronize();
    profileAdd(what, wallSeconds() - t0);
}

void copy(Backend b, void* dst, const void* src, size_t bytes, Copy kind) {
    auto run = [&]() {
        if (b == Backend::CUDA)
            cuda::copy(dst, src, bytes, kind);
        else
            std::memcpy(dst, src, bytes);
    };
    device_work(b,
                kind == Copy::OnDevice   ? "copies on the device"
                : kind == Copy::ToDevice ? "copies to the device"
                                         : "copies to the host",
                run);
}
void fill(Backend b, void* p, int byte, size_t bytes) {
    device_work(b, "fills on the device", [&]() {
        if (b == Backend::CUDA)
            cuda::fill(p, byte, bytes);
        else
            std::memset(p, byte, bytes);
    });
}

}  // namespace gpu
}  // namespace ha
