// Device memory and kernel launches behind one interface with two backends:
//  - CUDA (Kernels.cu): a kernel is one device thread per index calling an op;
//  - Host: the same op called for each index in turn, on the CPU, in plain memory. It runs the
//    whole device path (kernels, device neighbour lists, deferred checks and replays) where no
//    GPU is, so that CI tests every line of it except the launch itself.
// The ops (DeviceOps.h) call the per-particle functions of the CPU path: no physics is written
// for the device. Nothing here includes CUDA headers, so the core compiles without a toolkit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/HostDevice.h"

namespace ha {
namespace gpu {

enum class Backend : uint8_t { CUDA, Host };
// The backend of this thread's device work: DeviceRun::run sets it for its run (BackendScope).
Backend backend();
void setBackend(Backend b);
struct BackendScope {
    Backend saved;
    explicit BackendScope(Backend b) : saved(backend()) { setBackend(b); }
    ~BackendScope() { setBackend(saved); }
};

bool available();  // a CUDA device can be used
std::string deviceName();

enum class Copy : uint8_t { ToDevice, ToHost, OnDevice };
void* alloc(Backend b, size_t bytes);
void release(Backend b, void* p);
void copy(Backend b, void* dst, const void* src, size_t bytes, Copy kind);
void fill(Backend b, void* p, int byte, size_t bytes);

// Per-kernel timing, for finding where a device run spends its time: while on, every launch
// waits for the device before and after itself (so the times add up, at a cost to the total).
struct ProfileEntry {
    uint64_t calls = 0;
    double seconds = 0;
};
void setProfiling(bool on);  // (also clears the record)
bool profiling();
std::vector<std::pair<std::string, ProfileEntry>> profile();  // by kernel name, in first-launch order
void profileAdd(const char* what, double seconds);
double wallSeconds();

// The CUDA backend (Kernels.cu; GPUUnavailable.cc when built without CUDA).
namespace cuda {
void synchronize();
void* alloc(size_t bytes);
void release(void* p);
void copy(void* dst, const void* src, size_t bytes, Copy kind);
void fill(void* p, int byte, size_t bytes);
template <class Op>
void launch(uint32_t n, const Op& op, const char* what);  // instantiated for HA_DEVICE_OPS
}  // namespace cuda

// ---- Batches: one kernel for the same op of many systems (device/BatchRun.h) ----
// While a LaunchQueue is current on this thread (QueueScope), launch() keeps the op instead of
// running it (its bytes: ops are trivially copyable). run_batch then runs the k-th kept launch of
// every queue as one kernel, Batched<Op>: index g of it is system r's op at g - first[r]. Each
// system's ops are the ones its own run launches, so each computes what it computes alone.
struct QueuedLaunch {
    uint32_t n;
    const char* what;
    std::vector<unsigned char> bytes;
    // launches the batch of this op type: ops (R of them) and first (R + 1) in device memory
    void (*run)(uint32_t total, const char* what, const unsigned char* ops, const uint32_t* first, uint32_t R);
};
using LaunchQueue = std::vector<QueuedLaunch>;
LaunchQueue*& current_queue();  // (this thread's; null: launches run)
struct QueueScope {
    LaunchQueue* saved;
    explicit QueueScope(LaunchQueue* q) : saved(current_queue()) { current_queue() = q; }
    ~QueueScope() { current_queue() = saved; }
};
// Runs the queues' launches: those of queues that hold the same ops in the same order (systems
// with the same methods and forces) position by position, one kernel each, with one upload of
// all their ops. Clears the queues.
// repeats: run them that many times over, in order (a chunk of steps whose launches are the
// same every step: DeviceRun keeps one step's and runs it for all; one upload for all).
void run_batch(std::vector<LaunchQueue>& queues, uint64_t repeats = 1);

template <class Op>
struct Batched {
    const Op* ops;
    const uint32_t* first;  // system r's indices are [first[r], first[r + 1]); first[R] = total
    uint32_t R;
    HA_HOSTDEVICE void operator()(uint32_t g) const {
        uint32_t lo = 0, hi = R;  // first[lo] <= g < first[hi]
        while (hi - lo > 1) {
            const uint32_t mid = (lo + hi) / 2;
            if (first[mid] <= g)
                lo = mid;
            else
                hi = mid;
        }
        ops[lo](g - first[lo]);
    }
};

// op(i) for i in [0, n) on the current backend, now: as one kernel, in stream order after the
// work launched before it (so a launch needs no synchronisation).
template <class Op>
void launch_now(uint32_t n, const Op& op, const char* what) {
    if (n == 0) return;
    const bool host = backend() == Backend::Host, timed = profiling();
    double t0 = 0;
    if (timed) {
        if (!host) cuda::synchronize();
        t0 = wallSeconds();
    }
    if (host)
        for (uint32_t i = 0; i < n; ++i) op(i);
    else
        cuda::launch(n, op, what);
    if (timed) {
        if (!host) cuda::synchronize();
        profileAdd(what, wallSeconds() - t0);
    }
}

template <class Op>
void run_batched(uint32_t total, const char* what, const unsigned char* ops, const uint32_t* first, uint32_t R) {
    launch_now(total, Batched<Op>{reinterpret_cast<const Op*>(ops), first, R}, what);
}

// op(i) for i in [0, n): now, or kept in this thread's LaunchQueue for a batch.
template <class Op>
void launch(uint32_t n, const Op& op, const char* what) {
    if (LaunchQueue* q = current_queue()) {  // (kept even with n = 0: the queues stay aligned)
        const unsigned char* b = reinterpret_cast<const unsigned char*>(&op);
        q->push_back(QueuedLaunch{n, what, std::vector<unsigned char>(b, b + sizeof(Op)), &run_batched<Op>});
        return;
    }
    launch_now(n, op, what);
}

// A device array (on the backend current when it is sized).
template <class T>
class Buffer {
  public:
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { release(m_backend, m_p); }
    void resize(size_t n) {
        if (n == m_n && m_backend == backend()) return;
        release(m_backend, m_p);
        m_p = nullptr;
        m_n = 0;
        m_backend = backend();
        if (n) m_p = static_cast<T*>(alloc(m_backend, n * sizeof(T)));
        m_n = n;
    }
    void upload(const std::vector<T>& v) { upload(v.data(), v.size()); }
    void upload(const T* v, size_t n) {
        resize(n);
        if (m_n) copy(m_backend, m_p, v, m_n * sizeof(T), Copy::ToDevice);
    }
    void download(std::vector<T>& v) const {
        v.resize(m_n);
        if (m_n) copy(m_backend, v.data(), m_p, m_n * sizeof(T), Copy::ToHost);
    }
    void download(T* v, size_t n) const {  // the first n entries
        if (n) copy(m_backend, v, m_p, n * sizeof(T), Copy::ToHost);
    }
    void copyFrom(const Buffer& other) {  // device to device
        resize(other.size());
        if (m_n) copy(m_backend, m_p, other.get(), m_n * sizeof(T), Copy::OnDevice);
    }
    void fillBytes(int byte) {
        if (m_n) fill(m_backend, m_p, byte, m_n * sizeof(T));
    }
    T* get() const { return m_p; }
    size_t size() const { return m_n; }

  private:
    T* m_p = nullptr;
    size_t m_n = 0;
    Backend m_backend = Backend::CUDA;
};

}  // namespace gpu
}  // namespace ha
