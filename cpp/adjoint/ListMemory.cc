// A neighbour list's recorded lists and earlier states (ListMemory.h).
#include "adjoint/ListMemory.h"

namespace ha {

bool ListMemory::buildFromEarlier(NeighborList& nl, const ParticleData& pd, int nthreads) {
    const size_t n = m_n_earlier;
    if (n == 0 || nl.movedBeyond(pd, m_earlier[n - 1], nthreads)) return false;
    // the earliest state within buffer/2 of this one, by bisection (displacements grow with the
    // time between states; where they do not, the state found is valid, only not the earliest)
    size_t lo = 0, hi = n - 1;  // hi: within reach
    if (!nl.movedBeyond(pd, m_earlier[0], nthreads)) hi = 0;
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        (nl.movedBeyond(pd, m_earlier[mid], nthreads) ? lo : hi) = mid;
    }
    nl.build(pd, m_earlier[hi], nthreads);
    ++m_n_from_earlier;
    return true;
}

void ListMemory::startRecording(NeighborList& nl, size_t max_bytes) {
    stopRecording();
    m_recording = true;
    m_rec_cap = max_bytes;
    if (!nl.rebuildPending() && nl.builtN() > 0) record(nl, 1);  // the list in use now (built before recording began)
}

void ListMemory::stopRecording() {
    m_recording = false;
    m_recorded.clear();
    m_recorded.shrink_to_fit();
    m_rec_bytes = m_rec_cap = m_rec_cursor = 0;
    m_cursor_active = false;
}

void ListMemory::built(NeighborList& nl, int nthreads) {
    m_cursor_active = false;
    if (m_recording) record(nl, nthreads);
}

void ListMemory::record(const NeighborList& nl, int nthreads) {
    const uint32_t N = nl.builtN(), S = nl.stride();
    const uint32_t* count = nl.countList().data();
    const uint32_t* rows = nl.neighbors();
    size_t total = 0;
    for (uint32_t i = 0; i < N; ++i) total += count[i];
    const size_t bytes = (size_t(N) + 1 + total) * sizeof(uint32_t) + nl.lastPositions().size() * sizeof(double);
    if (m_rec_bytes + bytes > m_rec_cap) return;
    Recorded r;
    r.start.resize(size_t(N) + 1, 0);
    for (uint32_t i = 0; i < N; ++i) r.start[i + 1] = r.start[i] + count[i];
    r.entries.reset(new uint32_t[total]);
    uint32_t* e = r.entries.get();
    const uint32_t* st = r.start.data();
    // (a list of a few MB every few steps: serial, its copy and page faults cost a two-thread step ~5%)
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, N))
    for (int64_t i = 0; i < int64_t(N); ++i) std::copy_n(&rows[size_t(i) * S], count[i], e + st[i]);
    r.pos = nl.lastPositions();
    r.box = nl.builtBox();
    m_recorded.push_back(std::move(r));
    m_rec_bytes += bytes;
    m_rec_cursor = m_recorded.size() - 1;
    m_cursor_active = true;
}

bool ListMemory::restore(NeighborList& nl, const ParticleData& pd, int nthreads) {
    // The backward sweep visits states in reverse order: try the list used last, then its
    // neighbours in time (each try is one pass over the particles).
    const int64_t n = int64_t(m_recorded.size());
    for (int64_t d : {0, -1, 1, -2}) {
        const int64_t idx = int64_t(m_rec_cursor) + d;
        if (idx < 0 || idx >= n || (d == 0 && m_cursor_active)) continue;  // (the list that just failed)
        const Recorded& r = m_recorded[size_t(idx)];
        if (r.pos.size() != pd.pos.size() || !same_box(r.box, pd.box)) continue;
        if (nl.movedBeyond(pd, r.pos.data(), nthreads)) continue;
        nl.adopt(pd, r.start.data(), r.entries.get(), r.pos, nthreads);
        ++m_n_restores;
        m_rec_cursor = size_t(idx);
        m_cursor_active = true;
        return true;
    }
    return false;
}

}  // namespace ha
