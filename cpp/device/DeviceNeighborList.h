// A neighbour list's copy on the device, for GPU runs (System::advance through DeviceRun) and
// device sweeps: built on the device by the same launches every step (DeviceOps.h), so that no
// step waits for the host. Overflowing cells or rows are noted on the device; the run looks
// between chunks of steps (overflowed), and replays a chunk that overflowed from its saved start
// (save / restore). Attached to its host list (engine/NeighborList.h), which it reads settings
// and hand-overs from: the engine knows nothing of it.
#pragma once
#include <cstdint>

#include "device/DeviceOps.h"
#include "device/GPU.h"
#include "engine/NeighborList.h"

namespace ha {

class DeviceNeighborList : public Attachment {
  public:
    explicit DeviceNeighborList(NeighborList& host) : m_host(host) {}

    void start(const ParticleData& pd);  // before a run: the box, cutoffs and arrays
    // (ensure: as ensureCurrent, whatever the timestep and rebuild_check_delay: the sweep's)
    // (clock: where the list's ops read the step, for launches kept and run again: DeviceRun)
    void update(const ParticleData& pd, const PosType* d_p, uint64_t t, bool ensure = false, gpu::Clock clock = {});
    bool overflowed();  // since the last save; if so the arrays have grown
    void save();
    void restore();  // the saved record; the next update builds
    void finish();   // after a run: the host list's numBuilds counts the run's builds
    NeighborView view() const {
        const uint32_t N = uint32_t(d_count.size());
        return m_columns ? NeighborView{d_nlist.get(), d_count.get(), 1, N}
                         : NeighborView{d_nlist.get(), d_count.get(), m_stride, 1};
    }
    // The lists as columns (the default: a warp's threads read adjacent words) or as rows, like
    // the CPU's; the same forces either way (benchmarks compare them). Read at the start of a run.
    bool columns = true;
    uint32_t stride() const { return m_stride; }
    uint32_t cellCapacity() const { return m_grid.cap; }
    // (tests) start the device arrays this small, to exercise the growth and replay
    void setSizes(uint32_t stride, uint32_t cap) {
        m_stride = stride;
        m_grid.cap = cap;
        m_sizes_fixed = true;
        m_force = true;
    }

  private:
    void takeRequests();  // a rebuild the host list was asked for: the next update builds
    void forceBuild();    // the next update builds (the device's flag: the launches stay the same)

    NeighborList& m_host;
    gpu::Buffer<uint32_t> d_nlist, d_count, d_cell_count, d_cell_members;
    gpu::Buffer<double> d_last_pos, d_rlistsq;
    gpu::Buffer<int32_t> d_body;
    gpu::Buffer<gpu::ListStatus> d_status, d_saved;
    gpu::CellGrid m_grid{{0, 0, 0}, 0};
    uint32_t m_stride = 0;
    uint64_t m_step = UINT64_MAX;
    uint64_t m_last_build = 0;
    uint64_t m_requests = 0;      // the host list's rebuild requests seen
    uint64_t m_host_version = 0;  // the host list's version when the device last built or took it
    bool m_force = true;          // the next update builds (start() hands it to the device)
    bool m_sizes_fixed = false;
    bool m_filter_body = false;
    bool m_columns = true;           // the layout of the arrays
    BoxDim m_box{0, 0, 0, 0, 0, 0};  // the box of the arrays
};

// The device copy of a list (made on first use).
inline DeviceNeighborList& device_list(NeighborList& nl) {
    if (auto* d = dynamic_cast<DeviceNeighborList*>(nl.attachment.get())) return *d;
    nl.attachment = std::make_unique<DeviceNeighborList>(nl);
    return static_cast<DeviceNeighborList&>(*nl.attachment);
}

}  // namespace ha
