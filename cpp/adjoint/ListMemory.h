// A neighbour list's memory for the adjoint (the list's Source, engine/NeighborList.h):
//  - recording: while on, every build keeps a compact copy of the list and of the positions it
//    was built at (up to max_bytes in all), and ensureCurrent restores a recorded list that is
//    valid for the current positions instead of building one;
//  - earlier states: the states the adjoint holds from before the one it is at (positions, 3N
//    each, earliest first). The backward sweep walks down in time, so where the list must be
//    built, it is built from the earliest of these whose list is valid now: that list serves
//    the states below as well as this one, about twice as many as a list built here. The caller
//    keeps the states alive while they are set.
// Any valid list gives the same forces (sorted rows): neither changes a result, only its cost.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/NeighborList.h"

namespace ha {

class ListMemory : public NeighborList::Source {
  public:
    void startRecording(NeighborList& nl, size_t max_bytes);
    void stopRecording();  // and free the recorded lists
    size_t recordedBytes() const { return m_rec_bytes; }
    size_t numRecorded() const { return m_recorded.size(); }
    uint64_t numRestores() const { return m_n_restores; }

    void setEarlierStates(std::vector<const double*> states) {
        m_earlier = std::move(states);
        m_n_earlier = m_earlier.size();
    }
    const std::vector<const double*>& earlierStates() const { return m_earlier; }
    // Only the first n of them count (a sweep sets them all once and walks down the count).
    void useEarlierStates(size_t n) { m_n_earlier = std::min(n, m_earlier.size()); }
    uint64_t numBuildsFromEarlier() const { return m_n_from_earlier; }

    bool restore(NeighborList& nl, const ParticleData& pd, int nthreads) override;
    bool buildFromEarlier(NeighborList& nl, const ParticleData& pd, int nthreads) override;
    void built(NeighborList& nl, int nthreads) override;

  private:
    void record(const NeighborList& nl, int nthreads);

    std::vector<const double*> m_earlier;
    size_t m_n_earlier = 0;  // how many of m_earlier count
    uint64_t m_n_from_earlier = 0;
    struct Recorded {
        std::vector<uint32_t> start;          // CSR: particle i's neighbours are entries[start[i]..start[i+1])
        std::unique_ptr<uint32_t[]> entries;  // not zeroed: the parallel copy is the pages' first touch
        std::vector<double> pos;
        BoxDim box;
    };
    std::vector<Recorded> m_recorded;
    bool m_recording = false;
    size_t m_rec_cap = 0, m_rec_bytes = 0, m_rec_cursor = 0;
    bool m_cursor_active = false;  // the list in use is m_recorded[m_rec_cursor]
    uint64_t m_n_restores = 0;
};

// The list's memory (made on first use).
inline ListMemory& list_memory(NeighborList& nl) {
    if (auto* m = dynamic_cast<ListMemory*>(nl.source.get())) return *m;
    nl.source = std::make_unique<ListMemory>();
    return static_cast<ListMemory&>(*nl.source);
}

}  // namespace ha
