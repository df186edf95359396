// A batch of systems advanced together on the device (BatchRun.h): DeviceRun::run's chunks of
// steps, with every system's launches of a step run as one kernel per op.
#include "device/BatchRun.h"

#include <algorithm>
#include <stdexcept>

#include "device/DeviceNeighborList.h"
#include "device/DeviceRun.h"
#include "device/GPU.h"

namespace ha {

namespace {
// Steps between the host's looks at the batch (as DeviceRun's chunks: 1, 2, 4, ... up to this).
constexpr uint64_t kBatchChunk = 128;
}  // namespace

namespace {

// batch_advance with recorders (null: none)
std::vector<BatchFailure> batch_run(const std::vector<System*>& systems, const std::vector<DeviceRecorder>* recorders,
                                    uint64_t n) {
    std::vector<BatchFailure> failures;
    if (systems.empty()) return failures;
    for (System* s : systems) {
        s->checkAdvance(n);
        if (!s->useGPU) throw std::invalid_argument("batch_advance: every system must run on the device (device.GPU)");
    }
    const gpu::Backend be = DeviceRun::backend(*systems[0]);
    for (System* s : systems)
        if (DeviceRun::backend(*s) != be)
            throw std::invalid_argument("batch_advance: the systems run on different device backends");
    const gpu::BackendScope scope(be);
    std::vector<size_t> alive(systems.size());
    for (size_t r = 0; r < alive.size(); ++r) alive[r] = r;
    std::vector<bool> on_device(systems.size(), false);
    auto begin_all = [&]() {
        for (size_t r : alive) {
            device_run(*systems[r]).begin(*systems[r]);
            on_device[r] = true;
        }
    };
    auto bring_back_all = [&]() {
        for (size_t r = 0; r < systems.size(); ++r)
            if (on_device[r]) {
                device_run(*systems[r]).bringBack(*systems[r]);
                on_device[r] = false;
            }
    };
    std::vector<gpu::LaunchQueue> queues;
    // recorder r, its slots from step `done` of this call on
    auto recorder = [&](size_t r, uint64_t done) {
        DeviceRecorder rec = (*recorders)[r];
        rec.k0 += done;
        return rec;
    };
    // m steps of the systems `which` from step `done` of this call, their launches batched
    // (one step of each is kept, and run m times: the launches are the same every step)
    auto steps = [&](const std::vector<size_t>& which, uint64_t done, uint64_t m) {
        queues.resize(which.size());
        for (size_t q = 0; q < which.size(); ++q) {
            System& s = *systems[which[q]];
            const gpu::QueueScope keep(&queues[q]);
            const DeviceRecorder* rec = recorders ? &(*recorders)[which[q]] : nullptr;
            if (rec && !rec->after) rec->keep(device_run(s).state, done, s.timestep);
            device_run(s).stepOne(s);
            device_run(s).stepTwo(s);
            if (rec && rec->after) rec->keep(device_run(s).state, done, s.timestep - 1);
        }
        gpu::run_batch(queues, m);
        for (size_t r : which) DeviceRun::ran(*systems[r], m);
    };
    try {
        begin_all();
        uint64_t done = 0, chunk = 1;  // the first step alone: its list builds size the arrays
        while (done < n && !alive.empty()) {
            const uint64_t m = std::min(chunk, n - done);
            // the chunk; a system whose list outgrew its arrays replays it from its start with the
            // larger arrays, alone (the others keep their steps: no list is rebuilt for them)
            std::vector<size_t> run = alive;
            while (!run.empty()) {
                for (size_t r : run) device_run(*systems[r]).state.save(systems[r]->timestep);
                steps(run, done, m);
                std::vector<size_t> again;
                for (size_t r : run) {
                    DeviceState& d = device_run(*systems[r]).state;
                    bool overflow = false;
                    for (DeviceNeighborList* nl : d.lists) overflow |= nl->overflowed();
                    if (overflow) {
                        systems[r]->timestep = d.restore();
                        again.push_back(r);
                    }
                }
                run.swap(again);
            }
            // a system that failed in the chunk runs it again alone, from its start, on its own
            // run, which names the failing step and particles as it does for a run of it alone
            std::vector<size_t> still;
            for (size_t r : alive) {
                DeviceRun& dr = device_run(*systems[r]);
                gpu::RunStatus rs;
                dr.state.status.download(&rs, 1);
                if (rs.outside == UINT32_MAX && rs.nonfinite == UINT32_MAX) {
                    still.push_back(r);
                    continue;
                }
                systems[r]->timestep = dr.state.restore();
                dr.bringBack(*systems[r]);
                on_device[r] = false;
                try {
                    if (recorders) {
                        const DeviceRecorder rec = recorder(r, done);
                        dr.run(*systems[r], m, &rec);
                    } else {
                        dr.run(*systems[r], m, nullptr);
                    }
                    dr.begin(*systems[r]);  // (the device's check and its own run disagree: go on)
                    on_device[r] = true;
                    still.push_back(r);
                } catch (const StateError& e) {
                    failures.push_back({r, e.what()});
                }
            }
            alive.swap(still);
            done += m;
            chunk = std::min(2 * chunk, kBatchChunk);
        }
    } catch (...) {
        bring_back_all();
        throw;
    }
    bring_back_all();
    return failures;
}

}  // namespace

std::vector<BatchFailure> batch_advance(const std::vector<System*>& systems, uint64_t n) {
    return batch_run(systems, nullptr, n);
}

std::vector<BatchFailure> batch_advance_recording(const std::vector<System*>& systems,
                                                  const std::vector<DeviceRecorder>& recorders, uint64_t n) {
    if (recorders.size() != systems.size())
        throw std::invalid_argument("batch_advance_recording: one recorder per system");
    for (size_t r = 0; r < systems.size(); ++r)
        recorders[r].states->check(recorders[r].k0, n, *systems[r], "batch recording");
    return batch_run(systems, &recorders, n);
}

std::vector<SweepStatus> batch_adjoint_sweep(std::vector<DeviceSweep>& sweeps) {
    std::vector<SweepStatus> out(sweeps.size());
    if (sweeps.empty()) return out;
    const uint64_t n = sweeps[0].n;
    const gpu::Backend be = sweeps[0].backend();
    for (const DeviceSweep& sw : sweeps)
        if (sw.n != n || sw.backend() != be)
            throw std::invalid_argument("batch_adjoint_sweep: the sweeps differ in steps or device backend");
    const gpu::BackendScope scope(be);
    for (DeviceSweep& sw : sweeps) sw.begin();
    std::vector<size_t> run(sweeps.size());
    for (size_t r = 0; r < run.size(); ++r) run[r] = r;
    std::vector<gpu::LaunchQueue> queues;
    while (!run.empty()) {  // (a sweep whose list outgrew its arrays runs again, alone, to the same bits)
        for (size_t r : run) sweeps[r].upload();
        queues.resize(run.size());
        for (size_t q = 0; q < run.size(); ++q) sweeps[run[q]].keepStep(queues[q]);
        gpu::run_batch(queues, n);  // (every step launches the same ops: one kept, run n times)
        std::vector<size_t> again;
        for (size_t r : run)
            if (sweeps[r].overflowed()) again.push_back(r);
        run.swap(again);
    }
    for (size_t r = 0; r < sweeps.size(); ++r) out[r] = sweeps[r].end();
    return out;
}

}  // namespace ha
