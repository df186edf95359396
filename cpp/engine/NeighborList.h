// Full Verlet neighbour list built from a cell list (HOOMD's nlist.Cell semantics: r_list =
// r_cut + buffer per type pair, rebuilt when any particle has moved buffer/2 since the last
// build). Each particle's neighbours are stored in a fixed order that does not depend on the
// number of threads, so every per-particle sum over them is bitwise reproducible.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include "engine/Attachment.h"
#include "engine/PairForceKernel.h"
#include "engine/ParticleData.h"

namespace ha {

// A list build found a particle outside the box (System::sumForces names the step).
struct OutsideBoxError : std::runtime_error {
    uint32_t tag;
    OutsideBoxError(const std::string& what, uint32_t i) : std::runtime_error(what), tag(i) {}
};

// Cells per lattice direction, each at least `width` thick, capped at `max_cells` in all so that
// a huge or dilute box does not ask for more cells than its particles warrant (a box of edge
// 1e12 would overflow the counts): wider cells are still correct, they only hold more candidates.
inline void cell_counts(const BoxDim& box, double width, double max_cells, int* nc) {
    const Vec3 d = box.nearestPlaneDistance();
    double nd[3] = {std::floor(d.x / width), std::floor(d.y / width), box.is2D ? 1.0 : std::floor(d.z / width)};
    for (double& v : nd) v = v >= 1.0 ? std::min(v, 1048576.0) : 1.0;
    while (nd[0] * nd[1] * nd[2] > max_cells) {
        const int k = nd[0] >= nd[1] && nd[0] >= nd[2] ? 0 : (nd[1] >= nd[2] ? 1 : 2);
        nd[k] = std::max(1.0, std::floor(nd[k] / 2));
    }
    for (int k = 0; k < 3; ++k) nc[k] = int(nd[k]);
}

inline bool same_box(const BoxDim& a, const BoxDim& b) {
    return a.Lx == b.Lx && a.Ly == b.Ly && a.Lz == b.Lz && a.xy == b.xy && a.xz == b.xz && a.yz == b.yz;
}

class NeighborList {
  public:
    explicit NeighborList(double buffer) : m_buffer(buffer) {}

    double buffer() const { return m_buffer; }
    void setBuffer(double b) {
        m_buffer = b;
        m_force_rebuild = true;
        ++m_rebuild_requests;
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
    void forceRebuild() {
        m_force_rebuild = true;
        ++m_rebuild_requests;
    }
    // Rebuild if any particle moved buffer/2 since the last build, whatever the timestep (the
    // adjoint visits states in any order; sorted lists make forces independent of when).
    void ensureCurrent(const ParticleData& pd, int nthreads);
    void build(const ParticleData& pd, int nthreads) { build(pd, pd.pos.data(), nthreads); }

    // Where a list may come from other than a build at the current positions: the adjoint's
    // recorded lists and earlier states (adjoint/ListMemory.h). ensureCurrent asks it to restore
    // a list valid for the current positions before it builds; a rebuild (update or
    // ensureCurrent) asks it to build from an earlier state; every build is reported to it.
    // Any valid list gives the same forces (rows are sorted), so where a list comes from never
    // changes a result. The list owns its source and knows nothing else of it.
    class Source {
      public:
        virtual ~Source() = default;
        virtual bool restore(NeighborList& nl, const ParticleData& pd, int nthreads) = 0;
        virtual bool buildFromEarlier(NeighborList& nl, const ParticleData& pd, int nthreads) = 0;
        virtual void built(NeighborList& nl, int nthreads) = 0;
    };
    std::unique_ptr<Source> source;
    // (for a source) a list for pd's particles and box at positions `pos`; whether any particle
    // is buffer/2 or more away from `ref`; and taking over a list kept elsewhere (CSR rows:
    // particle i's neighbours are entries[start[i]..start[i+1]), built at positions `pos`)
    void build(const ParticleData& pd, const double* pos, int nthreads);
    bool movedBeyond(const ParticleData& pd, const double* ref, int nthreads) const;
    void adopt(const ParticleData& pd, const uint32_t* start, const uint32_t* entries, const std::vector<double>& pos,
               int nthreads);

    // A copy of the list kept elsewhere (the device's, device/DeviceNeighborList.h) is attached
    // here; the list owns it and knows nothing of it. What such a copy reads of the host's:
    // the list radii (r_list^2 per type pair, and the largest r_list, recomputed), the last
    // build (its particles, box, positions and step: a host list may be handed over rather than
    // built again), a count of the rebuilds asked for (setBuffer, forceRebuild, new cutoffs)
    // and a version that changes with every host build or restore.
    std::unique_ptr<Attachment> attachment;
    double listRadii();
    const std::vector<double>& rlistsq() const { return m_rlistsq; }
    uint32_t ntypes() const { return m_ntypes; }
    void checkBox(const BoxDim& box) const;
    bool rebuildPending() const { return m_force_rebuild; }
    uint64_t rebuildRequests() const { return m_rebuild_requests; }
    uint64_t version() const { return m_version; }
    uint32_t builtN() const { return m_N; }
    const std::vector<uint32_t>& countList() const { return m_count; }
    const BoxDim& builtBox() const { return m_box; }
    const std::vector<double>& lastPositions() const { return m_last_pos; }
    uint64_t lastBuild() const { return m_last_build; }
    void addBuilds(uint64_t n) { m_n_builds += n; }  // (builds made elsewhere: numBuilds counts them)

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

    // Pair slots, for loops that evaluate each pair once: particle i's upper entries (j > i,
    // the tail of its sorted list) own slots upper0[i], upper0[i] + 1, ...; each lower entry
    // (j < i) records in lowerSlot[i * stride + k] the slot where j owns the pair. Computed on
    // first use after each build.
    const std::vector<uint32_t>& upper0() {
        updatePairSlots();
        return m_upper0;
    }
    const std::vector<uint32_t>& lowerSlot() {
        updatePairSlots();
        return m_lower_slot;
    }
    // Pairs (i, j), i < j, in the list: for tests against brute force.
    std::vector<uint32_t> pairs() const;
    // Every listed pair is listed from both sides (tests).
    bool isSymmetric() const;

  private:
    bool needsRebuild(const ParticleData& pd, uint64_t t, int nthreads) const;
    // Whether any particle is buffer/2 or more away from `ref` (positions a list was built at).
    bool movedBeyond(const ParticleData& pd, const std::vector<double>& ref, int nthreads) const {
        return movedBeyond(pd, ref.data(), nthreads);
    }
    // build(pd), or from an earlier state (source)
    void rebuild(const ParticleData& pd, int nthreads);
    // The runs of `sorted` (cell order) around cell ci and their image shifts (see build).
    int stencil(uint32_t ci, const int* nc, const Vec3* a, int oz_lo, int oz_hi, bool ahead, uint32_t* begin,
                uint32_t* end, Vec3* shift) const;
    // build()'s one-thread path (each pair searched once); returns the largest row
    uint32_t buildHalf(const std::vector<PosType>& sorted, const int* nc, const Vec3* a, int oz_lo, int oz_hi,
                       bool hint, uint32_t prev_stride);
    void updatePairSlots();

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
    BoxDim m_box;  // the box of the last build
    uint64_t m_last_build = 0;
    uint64_t m_n_builds = 0;
    bool m_force_rebuild = true;
    std::vector<uint32_t> m_upper0, m_lower_slot;
    uint64_t m_version = 0;  // changes with every build or restore (pair slots follow it, and a copy elsewhere)
    uint64_t m_slot_version = UINT64_MAX;
    uint64_t m_rebuild_requests = 0;
    // cell list scratch
    std::vector<uint32_t> m_cell_start, m_cell_of;
};

}  // namespace ha
