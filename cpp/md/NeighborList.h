// Full Verlet neighbour list built from a cell list (HOOMD's nlist.Cell semantics: r_list =
// r_cut + buffer per type pair, rebuilt when any particle has moved buffer/2 since the last
// build). Each particle's neighbours are stored in a fixed order that does not depend on the
// number of threads, so every per-particle sum over them is bitwise reproducible.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include "DeviceOps.h"
#include "GPU.h"
#include "PairForceKernel.h"
#include "ParticleData.h"

namespace ha {

// A list build found a particle outside the box (System::sumForces names the step).
struct OutsideBoxError : std::runtime_error {
    uint32_t tag;
    OutsideBoxError(const std::string& what, uint32_t i) : std::runtime_error(what), tag(i) {}
};

class NeighborList {
  public:
    explicit NeighborList(double buffer) : m_buffer(buffer) {}

    double buffer() const { return m_buffer; }
    void setBuffer(double b) {
        m_buffer = b;
        m_force_rebuild = m_device_force = true;
    }
    int rebuildCheckDelay = 1;
    bool checkDist = true;
    // exclusions=['body']: pairs within one rigid body (same body >= 0) are not listed
    bool filterBody = false;

    // r_cut for each type pair (ntypes x ntypes, symmetric): the maximum over the forces that use
    // this list. A pair with r_cut <= 0 never enters.
    void setRcut(uint32_t ntypes, const std::vector<double>& rcut);
    const std::vector<double>& rcut() const { return m_rcut; }

    // Bring the list up to date for step t (a no-op if nothing has moved far enough).
    void update(const ParticleData& pd, uint64_t t, int nthreads);
    void forceRebuild() { m_force_rebuild = m_device_force = true; }
    // Rebuild if any particle moved buffer/2 since the last build, whatever the timestep (the
    // adjoint visits states in any order; sorted lists make forces independent of when).
    void ensureCurrent(const ParticleData& pd, int nthreads);
    void build(const ParticleData& pd, int nthreads) { build(pd, pd.pos.data(), nthreads); }

    // States the adjoint holds from before the one it is at (positions, 3N each, earliest first;
    // empty: none). The backward sweep walks down in time, so where update or ensureCurrent must
    // build, they build from the earliest of these whose list is valid now: that list serves
    // the states below as well as this one, about twice as many as a list built here. (Any
    // valid list gives the same forces.) The caller keeps the states alive while they are set.
    void setEarlierStates(std::vector<const double*> states) {
        m_earlier = std::move(states);
        m_n_earlier = m_earlier.size();
    }
    const std::vector<const double*>& earlierStates() const { return m_earlier; }
    // Only the first n of them count (a sweep sets them all once and walks down the count).
    void useEarlierStates(size_t n) { m_n_earlier = std::min(n, m_earlier.size()); }

    // Recording, for the adjoint's backward sweep: while on, every build keeps a compact copy of
    // the list and of the positions it was built at (up to `max_bytes` in all), and
    // ensureCurrent restores a recorded list that is valid for the current positions instead of
    // building one. Sorted lists make the forces independent of which valid list is used.
    void startRecording(size_t max_bytes);
    void stopRecording();  // and free the recorded lists
    size_t recordedBytes() const { return m_rec_bytes; }
    size_t numRecorded() const { return m_recorded.size(); }
    uint64_t numRestores() const { return m_n_restores; }
    // GPU runs (System::advance): the list lives and is built on the device, by the same
    // launches every step (DeviceOps.h), so that no step waits for the host. Overflowing cells
    // or rows are noted on the device; the run looks between chunks of steps (deviceOverflowed),
    // and replays a chunk that overflowed from its saved start (deviceSave/deviceRestore).
    void deviceStart(const ParticleData& pd);  // before a run: the box, cutoffs and arrays
    // (ensure: as ensureCurrent, whatever the timestep and rebuild_check_delay: the sweep's)
    void updateDevice(const ParticleData& pd, const PosType* d_p, uint64_t t, bool ensure = false);
    bool deviceOverflowed();  // since the last save; if so the arrays have grown
    void deviceSave();
    void deviceRestore();     // the saved record; the next update builds
    void deviceFinish();      // after a run: numBuilds counts the run's builds
    NeighborView deviceView() const {
        const uint32_t N = uint32_t(d_count.size());
        return m_dev_columns ? NeighborView{d_nlist.get(), d_count.get(), 1, N}
                             : NeighborView{d_nlist.get(), d_count.get(), m_dev_stride, 1};
    }
    // The device's lists as columns (the default: a warp's threads read adjacent words) or as
    // rows, like the CPU's; the same forces either way (benchmarks compare them). Read at the
    // start of a run.
    bool deviceColumns = true;
    uint32_t deviceStride() const { return m_dev_stride; }
    uint32_t deviceCellCapacity() const { return m_grid.cap; }
    // (tests) start the device arrays this small, to exercise the growth and replay
    void setDeviceSizes(uint32_t stride, uint32_t cap) {
        m_dev_stride = stride;
        m_grid.cap = cap;
        m_dev_sizes_fixed = true;
        m_device_force = true;
    }

    const uint32_t* neighbors() const { return m_nlist.data(); }
    // The current list with rows in the order of the last build's cells and entries as
    // positions in that order (each row keeps its ascending-tag order): with positions copied
    // into it, a loop over it reads memory that is close in space. Built on first use after
    // each build or restore.
    struct Spatial {
        const uint32_t* order;  // position m holds tag order[m]
        NeighborView view;      // rows and entries in positions
    };
    Spatial spatial(int nthreads);
    // Whether the last build found tags scattered in space (then the spatial order pays).
    bool scattered() const;
    const uint32_t* counts() const { return m_count.data(); }
    uint32_t stride() const { return m_stride; }
    uint64_t numBuilds() const { return m_n_builds; }
    uint64_t numBuildsFromEarlier() const { return m_n_from_earlier; }  // (setEarlierStates)

    // Pair slots, for loops that evaluate each pair once: particle i's upper entries (j > i,
    // the tail of its sorted list) own slots upper0[i], upper0[i] + 1, ...; each lower entry
    // (j < i) records in lowerSlot[i * stride + k] the slot where j owns the pair. Computed on
    // first use after each build.
    const std::vector<uint32_t>& upper0() { updatePairSlots(); return m_upper0; }
    const std::vector<uint32_t>& lowerSlot() { updatePairSlots(); return m_lower_slot; }
    // Pairs (i, j), i < j, in the list: for tests against brute force.
    std::vector<uint32_t> pairs() const;
    // Every listed pair is listed from both sides (tests).
    bool isSymmetric() const;

  private:
    bool needsRebuild(const ParticleData& pd, uint64_t t, int nthreads) const;
    // m_rlistsq from the cutoffs and the buffer (r_list^2 per type pair; negative: never);
    // returns the largest r_list
    double listRadii();
    // Whether any particle is buffer/2 or more away from `ref` (positions a list was built at).
    bool movedBeyond(const ParticleData& pd, const std::vector<double>& ref, int nthreads) const {
        return movedBeyond(pd, ref.data(), nthreads);
    }
    bool movedBeyond(const ParticleData& pd, const double* ref, int nthreads) const;
    // A list for pd's particles and box at positions `pos`.
    void build(const ParticleData& pd, const double* pos, int nthreads);
    // build(pd), or from an earlier state (setEarlierStates)
    void rebuild(const ParticleData& pd, int nthreads);
    bool restoreRecorded(const ParticleData& pd, int nthreads);
    // The runs of `sorted` (cell order) around cell ci and their image shifts (see build).
    int stencil(uint32_t ci, const int* nc, const Vec3* a, int oz_lo, int oz_hi, bool ahead, uint32_t* begin,
                uint32_t* end, Vec3* shift) const;
    // build()'s one-thread path (each pair searched once); returns the largest row
    uint32_t buildHalf(const std::vector<PosType>& sorted, const int* nc, const Vec3* a, int oz_lo, int oz_hi, bool hint,
                       uint32_t prev_stride);
    void record(int nthreads);
    void updatePairSlots();
    void checkBox(const BoxDim& box) const;

    double m_buffer;
    uint32_t m_ntypes = 0;
    std::vector<double> m_rcut, m_rlistsq;
    std::vector<uint32_t> m_nlist, m_count;
    std::vector<uint32_t> m_prev_nlist, m_prev_count;  // the list before the last build (a sorting hint)
    std::vector<uint32_t> m_order, m_rank, m_snlist, m_scount;
    std::vector<int32_t> m_body;  // the bodies of the last build, for 'body' exclusions
    uint64_t m_spatial_version = UINT64_MAX;
    bool m_scattered = false;
    uint32_t m_stride = 32;
    uint32_t m_N = 0;
    std::vector<double> m_last_pos;
    std::vector<const double*> m_earlier;
    size_t m_n_earlier = 0;  // how many of m_earlier count
    BoxDim m_box;  // the box of the last build
    uint64_t m_last_build = 0;
    uint64_t m_n_builds = 0, m_n_from_earlier = 0;
    bool m_force_rebuild = true;
    std::vector<uint32_t> m_upper0, m_lower_slot;
    uint64_t m_version = 0;  // changes with every build or restore (pair slots follow it)
    uint64_t m_slot_version = UINT64_MAX;
    struct Recorded {
        std::vector<uint32_t> start;  // CSR: particle i's neighbours are entries[start[i]..start[i+1])
        std::unique_ptr<uint32_t[]> entries;  // not zeroed: the parallel copy is the pages' first touch
        std::vector<double> pos;
        BoxDim box;
    };
    std::vector<Recorded> m_recorded;
    bool m_recording = false;
    size_t m_rec_cap = 0, m_rec_bytes = 0, m_rec_cursor = 0;
    bool m_cursor_active = false;  // the list in use is m_recorded[m_rec_cursor]
    uint64_t m_n_restores = 0;
    // the device list (deviceStart)
    gpu::Buffer<uint32_t> d_nlist, d_count, d_cell_count, d_cell_members;
    gpu::Buffer<double> d_last_pos, d_rlistsq;
    gpu::Buffer<int32_t> d_body;
    gpu::Buffer<gpu::ListStatus> d_status, d_saved;
    gpu::CellGrid m_grid{{0, 0, 0}, 0};
    uint32_t m_dev_stride = 0;
    uint64_t m_device_step = UINT64_MAX;
    uint64_t m_dev_last_build = 0;
    bool m_device_force = true;  // the next device update builds
    bool m_dev_sizes_fixed = false;
    bool m_dev_filter_body = false;
    bool m_dev_columns = true;  // the layout of the device arrays
    bool m_host_newer = false;  // the host built or restored a list since the device last built
    BoxDim m_dev_box{0, 0, 0, 0, 0, 0};  // the box of the device arrays
    // cell list scratch
    std::vector<uint32_t> m_cell_start, m_cell_of;
};

}  // namespace ha
