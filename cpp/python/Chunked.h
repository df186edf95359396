// Long calls from Python: run in chunks with the GIL released, Ctrl-C honoured between chunks.
// The one place this loop and its chunk rule are written; every binding that may run for more
// than a moment goes through run_chunked.
#pragma once

#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace ha::python {

namespace py = pybind11;

// What one step of a chunk costs, relative to a host forward step of the same particles.
enum class StepCost {
    HostForward,    // a step (with or without recording its state)
    HostAdjoint,    // a step of a reverse sweep (about twice a forward step)
    DeviceForward,  // a step on the device (each call also moves the particle data both ways)
    DeviceAdjoint,  // a step of a device sweep
};

// (tests) steps per chunk for every call from now on; 0: the chunk rule
inline uint64_t& chunk_steps_override() {
    static uint64_t n = 0;
    return n;
}

// The chunk rule: steps = clamp(W / (N c), m, 100000), W = 2e6 particle-steps (a fraction of a
// second on one host core), c the relative cost of a step, m the fewest steps a call is worth
// (1 on the host; 1000 on the device, whose calls each copy the particle data in and out).
inline uint64_t chunk_steps(uint32_t N, StepCost cost) {
    if (chunk_steps_override() > 0) return chunk_steps_override();
    constexpr double W = 2e6;
    constexpr uint64_t most = 100000;
    double c = 1.0;
    uint64_t fewest = 1;
    switch (cost) {
        case StepCost::HostForward:
            break;
        case StepCost::HostAdjoint:
            c = 2.0;
            break;
        case StepCost::DeviceForward:
            c = 0.002;
            fewest = 1000;
            break;
        case StepCost::DeviceAdjoint:
            c = 0.004;
            fewest = 1000;
            break;
    }
    const double steps = W / (double(std::max<uint32_t>(1, N)) * c);
    return std::clamp<uint64_t>(uint64_t(steps), fewest, most);
}

enum class Order { Forward, Backward };  // Backward: the latest chunk first (reverse sweeps)

// Calls fn(first, k) for consecutive chunks [first, first + k) covering [0, n), at most `chunk`
// steps each, in `order`, without the GIL; between chunks checks for Ctrl-C (and other signals)
// and raises the Python exception. fn returns void, or bool: true stops (the sweep stopped at a
// non-finite adjoint), and run_chunked then returns true.
template <class Fn>
bool run_chunked(uint64_t n, uint64_t chunk, Order order, Fn&& fn) {
    chunk = std::max<uint64_t>(1, chunk);
    for (uint64_t done = 0; done < n;) {
        const uint64_t k = std::min(chunk, n - done);
        const uint64_t first = order == Order::Forward ? done : n - done - k;
        bool stop = false;
        {
            py::gil_scoped_release release;
            if constexpr (std::is_void_v<decltype(fn(first, k))>)
                fn(first, k);
            else
                stop = fn(first, k);
        }
        if (stop) return true;
        done += k;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
    return false;
}

}  // namespace ha::python
