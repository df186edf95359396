#include "engine/NeighborList.h"
#include "engine/PairForceKernel.h"

#include <algorithm>
#include <cmath>
#include "core/Format.h"
#include <stdexcept>

namespace ha {

namespace {
inline int floordiv(int a, int n) {
    return a >= 0 ? a / n : -((-a + n - 1) / n);
}

// Sorts the n distinct tags in `found`, given `old` (ascending, the particle's previous list):
// most tags were there before, so they are taken in old's order, and only the few new ones are
// sorted and merged in. Bit tests, not comparisons: few branches to mispredict, unlike a sort of
// ~100 random tags. The result is the sorted set, whatever the hint. `bits` is all clear on
// entry and on return; `out` holds n.
void sort_with_hint(uint32_t* found, uint32_t n, const uint32_t* old, uint32_t nold, uint64_t* bits, uint32_t* out) {
    for (uint32_t k = 0; k < n; ++k) bits[found[k] >> 6] |= uint64_t(1) << (found[k] & 63);
    // the tags of src whose bit is set, in src's order, into dst (clearing their bits)
    auto take_marked = [bits](const uint32_t* src, uint32_t count, uint32_t* dst) {
        uint32_t kept = 0;
        for (uint32_t k = 0; k < count; ++k) {
            const uint32_t t = src[k];
            uint64_t& w = bits[t >> 6];
            const uint64_t b = uint64_t(1) << (t & 63);
            dst[kept] = t;
            kept += uint32_t((w & b) != 0);
            w &= ~b;
        }
        return kept;
    };
    const uint32_t nk = take_marked(old, nold, out);  // old neighbours still within r_list, in order
    uint32_t* fresh = out + nk;
    const uint32_t nf = take_marked(found, n, fresh);  // the new ones
    std::sort(fresh, fresh + nf);
    std::merge(out, out + nk, fresh, fresh + nf, found);
}

// The candidates of pi (tag pi.tag) in the stencil's runs of `sorted` that lie within r_list,
// appended to `found` in run order without branching (a hit advances the count: within r_list is
// a coin flip for the branch predictor, and most candidates miss). Returns how many.
// (p_i - p_j) - shift is exactly antisymmetric in i <-> j, so every pair is listed from both
// sides or from neither (pair slots rely on it); Lanes compute it with the same operations.
HA_SIMD_CLONES uint32_t list_candidates(const PosType& pi, const PosType* sorted, int ns, const uint32_t* st_begin,
                                        const uint32_t* st_end, const Vec3* st_shift, const double* rl_row,
                                        const int32_t* body, int32_t bi, uint32_t* found) {
    const uint32_t i = pi.tag;
    uint32_t n = 0;
    auto take = [&](const PosType& pj, bool within) {
        found[n] = pj.tag;
        n += uint32_t(within) & uint32_t(pj.tag != i) & uint32_t(bi < 0 || body == nullptr || body[pj.tag] != bi);
    };
    for (int q = 0; q < ns; ++q) {
        const double shx = st_shift[q].x, shy = st_shift[q].y, shz = st_shift[q].z;
        uint32_t k = st_begin[q];
        const uint32_t end = st_end[q];
#if defined(HA_HAVE_LANES)
        if (simd_enabled()) {
            using L = Lanes;
            const L pix = {pi.x, pi.x, pi.x, pi.x}, piy = {pi.y, pi.y, pi.y, pi.y}, piz = {pi.z, pi.z, pi.z, pi.z};
            const L sx = {shx, shx, shx, shx}, sy = {shy, shy, shy, shy}, sz = {shz, shz, shz, shz};
            for (; k + 4 <= end; k += 4) {
                L x = load_lanes(&sorted[k]), y = load_lanes(&sorted[k + 1]), z = load_lanes(&sorted[k + 2]),
                  w = load_lanes(&sorted[k + 3]);
                transpose(x, y, z, w);
                const L dx = (pix - x) - sx, dy = (piy - y) - sy, dz = (piz - z) - sz;
                const L rsq = dx * dx + dy * dy + dz * dz;
                const L rl = {rl_row[sorted[k].type], rl_row[sorted[k + 1].type], rl_row[sorted[k + 2].type],
                              rl_row[sorted[k + 3].type]};
                const auto hit = rsq <= rl;
                for (int c = 0; c < 4; ++c) take(sorted[k + c], hit[c] != 0);
            }
        }
#endif
        for (; k < end; ++k) {
            const PosType& pj = sorted[k];
            const double dx = (pi.x - pj.x) - shx, dy = (pi.y - pj.y) - shy, dz = (pi.z - pj.z) - shz;
            const double rsq = dx * dx + dy * dy + dz * dz;
            take(pj, rsq <= rl_row[pj.type]);
        }
    }
    return n;
}
}  // namespace

void NeighborList::setRcut(uint32_t ntypes, const std::vector<double>& rcut) {
    if (ntypes != m_ntypes || rcut != m_rcut) {
        m_force_rebuild = true;
        ++m_rebuild_requests;
    }
    m_ntypes = ntypes;
    m_rcut = rcut;
}

void NeighborList::checkBox(const BoxDim& box) const {
    double rmax = 0;
    for (double r : m_rcut) rmax = std::max(rmax, r);
    double rlist = rmax + m_buffer;
    Vec3 d = box.nearestPlaneDistance();
    double dist[3] = {d.x, d.y, d.z};
    const char* axis = "xyz";
    for (unsigned k = 0; k < (box.is2D ? 2u : 3u); ++k) {
        if (!std::isfinite(dist[k]) || !(dist[k] > 0))
            throw std::invalid_argument(
                format("the box's thickness along %c is %g: box lengths must be positive and "
                       "small enough that their products are finite (below about 1e100)",
                       axis[k], dist[k]));
        if (2.0 * rlist >= dist[k]) {
            throw std::invalid_argument(
                format("r_cut + buffer = %g + %g = %g is too large for the box: it must be less than half the box "
                       "thickness along %c (%g)",
                       rmax, m_buffer, rlist, axis[k], dist[k] / 2.0));
        }
    }
}

bool NeighborList::needsRebuild(const ParticleData& pd, uint64_t t, int nthreads) const {
    if (m_force_rebuild || pd.N != m_N) return true;
    // (a timestep before the last build means the adjoint is replaying: always check)
    if (t >= m_last_build && t < m_last_build + uint64_t(std::max(rebuildCheckDelay, 0))) return false;
    if (m_buffer < 1e-6) return true;
    if (!checkDist) return true;
    return movedBeyond(pd, m_last_pos, nthreads);
}

bool NeighborList::movedBeyond(const ParticleData& pd, const double* ref, int nthreads) const {
    const double maxsq = (m_buffer / 2.0) * (m_buffer / 2.0);
    int moved = 0;
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, pd.N)) reduction(| : moved)
    for (int64_t i = 0; i < int64_t(pd.N); ++i) {
        Vec3 dx = pd.box.minImage(
            {pd.pos[3 * i] - ref[3 * i], pd.pos[3 * i + 1] - ref[3 * i + 1], pd.pos[3 * i + 2] - ref[3 * i + 2]});
        if (dx.x * dx.x + dx.y * dx.y + dx.z * dx.z >= maxsq) moved |= 1;
    }
    return moved != 0;
}

void NeighborList::ensureCurrent(const ParticleData& pd, int nthreads) {
    if (m_force_rebuild || pd.N != m_N || pd.pos.size() != m_last_pos.size() || m_buffer < 1e-6) {
        build(pd, nthreads);
        return;
    }
    if (!movedBeyond(pd, m_last_pos, nthreads)) return;
    if (!(source && source->restore(*this, pd, nthreads))) rebuild(pd, nthreads);
}

void NeighborList::rebuild(const ParticleData& pd, int nthreads) {
    const bool same = !m_force_rebuild && pd.N == m_N && m_buffer >= 1e-6;
    if (source && same && source->buildFromEarlier(*this, pd, nthreads)) return;
    build(pd, nthreads);
}

void NeighborList::adopt(const ParticleData& pd, const uint32_t* start, const uint32_t* entries,
                         const std::vector<double>& pos, int nthreads) {
    uint32_t maxcount = 0;
    for (uint32_t i = 0; i < pd.N; ++i) maxcount = std::max(maxcount, start[i + 1] - start[i]);
    m_stride = std::max(m_stride, maxcount);
    m_nlist.resize(size_t(pd.N) * m_stride);
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, pd.N))
    for (int64_t i = 0; i < int64_t(pd.N); ++i) {
        m_count[i] = start[i + 1] - start[i];
        std::copy(entries + start[i], entries + start[i + 1], &m_nlist[size_t(i) * m_stride]);
    }
    m_last_pos = pos;
    ++m_version;
}

void NeighborList::update(const ParticleData& pd, uint64_t t, int nthreads) {
    if (needsRebuild(pd, t, nthreads)) {
        rebuild(pd, nthreads);
        m_last_build = t;
    }
}

int NeighborList::stencil(uint32_t ci, const int* nc, const Vec3* a, int oz_lo, int oz_hi, bool ahead, uint32_t* begin,
                          uint32_t* end, Vec3* shift) const {
    // The stencil of cell ci: neighbouring cells and the image shift each is seen through (a cell
    // across the face at 0 is seen shifted by -a_k). Cells along x are adjacent in `sorted`, so
    // a stencil row is one or a few runs of particles (split where it crosses a periodic face):
    // ~25 runs of ~13 candidates rather than 125 cells of ~3, whose short loops cost more than
    // the candidates. `ahead`: only offsets (x, y, z) with z > 0, or z = 0 and y > 0, or
    // z = y = 0 and x > 0 (each pair's other offset is the negation, behind; offset 0, the cell
    // itself, is left to the caller).
    const int cx = ci % nc[0], cy = (ci / nc[0]) % nc[1], cz = ci / (nc[0] * nc[1]);
    int ns = 0;
    for (int oz = oz_lo; oz <= oz_hi; ++oz)
        for (int oy = -2; oy <= 2; ++oy) {
            if (ahead && (oz < 0 || (oz == 0 && oy < 0))) continue;
            int y = cy + oy, z = cz + oz;
            const int sy = floordiv(y, nc[1]), sz = floordiv(z, nc[2]);
            y -= sy * nc[1];
            z -= sz * nc[2];
            const uint32_t row = uint32_t((z * nc[1] + y) * nc[0]);
            for (int ox = (ahead && oz == 0 && oy == 0) ? 1 : -2; ox <= 2;) {
                const int sx = floordiv(cx + ox, nc[0]);
                const int x0 = cx + ox - sx * nc[0];
                int x1 = x0;
                while (ox < 2 && floordiv(cx + ox + 1, nc[0]) == sx) {
                    ++ox;
                    ++x1;
                }
                ++ox;
                const uint32_t b = m_cell_start[row + x0], e = m_cell_start[row + x1 + 1];
                if (b == e) continue;
                begin[ns] = b;
                end[ns] = e;
                shift[ns] = {sx * a[0].x + sy * a[1].x + sz * a[2].x, sy * a[1].y + sz * a[2].y, sz * a[2].z};
                ++ns;
            }
        }
    return ns;
}

uint32_t NeighborList::buildHalf(const std::vector<PosType>& sorted, const int* nc, const Vec3* a, int oz_lo, int oz_hi,
                                 bool hint, uint32_t prev_stride) {
    const uint32_t N = m_N, S = m_stride, nt = m_ntypes;
    const uint32_t ncells = uint32_t(nc[0]) * nc[1] * nc[2];
    std::fill(m_count.begin(), m_count.end(), 0u);
    uint32_t* rows = m_nlist.data();
    std::vector<uint32_t> scratch;
    for (uint32_t ci = 0; ci < ncells; ++ci) {
        const uint32_t cb = m_cell_start[ci], ce = m_cell_start[ci + 1];
        if (cb == ce) continue;
        // the stencil ahead of this cell, and one more run: the rest of the cell (below)
        uint32_t st_begin[76], st_end[76];
        Vec3 st_shift[76];
        const int ns = stencil(ci, nc, a, oz_lo, oz_hi, true, st_begin, st_end, st_shift);
        uint32_t ncand = ce - cb;
        for (int q = 0; q < ns; ++q) ncand += st_end[q] - st_begin[q];
        if (scratch.size() < ncand + 1) scratch.resize(ncand + 1);
        for (uint32_t m = cb; m < ce; ++m) {
            const PosType pi = sorted[m];
            const uint32_t i = pi.tag;
            st_begin[ns] = m + 1;  // the rest of this cell
            st_end[ns] = ce;
            st_shift[ns] = {0, 0, 0};
            const int32_t bi = filterBody ? m_body[i] : -1;
            const uint32_t n =
                list_candidates(pi, sorted.data(), ns + 1, st_begin, st_end, st_shift, &m_rlistsq[size_t(pi.type) * nt],
                                filterBody ? m_body.data() : nullptr, bi, scratch.data());
            for (uint32_t k = 0; k < n; ++k) {
                const uint32_t j = scratch[k];
                uint32_t& ni = m_count[i];
                if (ni < S) rows[size_t(i) * S + ni] = j;
                ++ni;
                uint32_t& nj = m_count[j];
                if (nj < S) rows[size_t(j) * S + nj] = i;
                ++nj;
            }
        }
    }
    uint32_t maxcount = 0;
    for (uint32_t i = 0; i < N; ++i) maxcount = std::max(maxcount, m_count[i]);
    if (maxcount > S) return maxcount;  // too narrow: the caller widens the rows and calls again
    // ascending tags in every row (see build)
    std::vector<uint32_t> row(maxcount + 1), merged(maxcount + 1);
    std::vector<uint64_t> bits(hint ? (N + 63) / 64 : 0, 0);
    for (uint32_t i = 0; i < N; ++i) {
        const uint32_t n = m_count[i];
        uint32_t* r = rows + size_t(i) * S;
        if (hint) {
            std::copy(r, r + n, row.data());
            sort_with_hint(row.data(), n, &m_prev_nlist[size_t(i) * prev_stride],
                           std::min(m_prev_count[i], prev_stride), bits.data(), merged.data());
            std::copy(row.data(), row.data() + n, r);
        } else {
            std::sort(r, r + n);
        }
    }
    return maxcount;
}

double NeighborList::listRadii() {
    double rmax = 0;
    m_rlistsq.assign(m_rcut.size(), -1.0);
    for (size_t k = 0; k < m_rcut.size(); ++k) {
        rmax = std::max(rmax, m_rcut[k]);
        if (m_rcut[k] > 0) m_rlistsq[k] = (m_rcut[k] + m_buffer) * (m_rcut[k] + m_buffer);
    }
    return rmax + m_buffer;
}

void NeighborList::build(const ParticleData& pd, const double* pos, int nthreads) {
    const BoxDim& box = pd.box;
    checkBox(box);
    const uint32_t N = pd.N, nt = m_ntypes;
    const int32_t* body = pd.body.data();
    if (filterBody) m_body.assign(pd.body.begin(), pd.body.end());
    const double rlist = listRadii();

    // Cells in fractional coordinates, each at least r_list/2 thick along every lattice
    // direction, so every neighbour lies within two cells (a 5x5x5 stencil: 40% fewer candidates
    // than 3x3x3 cells of width r_list). Distinct stencil offsets are distinct periodic images,
    // so small boxes need no special case.
    int nc[3];
    cell_counts(box, rlist / 2, std::max(64.0, 4.0 * double(N)), nc);
    const uint32_t ncells = uint32_t(nc[0]) * nc[1] * nc[2];
    m_cell_of.resize(N);
    std::vector<uint32_t> count(ncells + 1, 0);
    for (uint32_t i = 0; i < N; ++i) {
        Vec3 f = box.makeFraction({pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]});
        double fr[3] = {f.x, f.y, f.z};
        int c[3];
        for (int k = 0; k < 3; ++k) {
            if (!(fr[k] >= -1e-10 && fr[k] <= 1.0 + 1e-10)) {
                throw OutsideBoxError(format("particle tag %u at (%g, %g, %g) is outside the box (it moved more "
                                             "than a box length in one step, or its position is not finite)",
                                             i, pos[3 * i], pos[3 * i + 1], pos[3 * i + 2]),
                                      i);
            }
            c[k] = std::min(nc[k] - 1, std::max(0, int(fr[k] * nc[k])));
        }
        m_cell_of[i] = uint32_t((c[2] * nc[1] + c[1]) * nc[0] + c[0]);
        count[m_cell_of[i] + 1]++;
    }
    m_cell_start.assign(ncells + 1, 0);
    for (uint32_t c = 0; c < ncells; ++c) m_cell_start[c + 1] = m_cell_start[c] + count[c + 1];
    // Particles sorted by cell (ascending tag within a cell), packed for streaming reads.
    std::vector<PosType> sorted(N);
    {
        std::vector<uint32_t> fill(m_cell_start.begin(), m_cell_start.end() - 1);
        for (uint32_t i = 0; i < N; ++i)
            sorted[fill[m_cell_of[i]]++] = {pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], pd.typeid_[i], i};
    }
    m_order.resize(N);
    uint64_t jumps = 0;  // how far apart in tag order particles adjacent in space are
    for (uint32_t m = 0; m < N; ++m) {
        m_order[m] = sorted[m].tag;
        if (m) jumps += m_order[m] > m_order[m - 1] ? m_order[m] - m_order[m - 1] : m_order[m - 1] - m_order[m];
    }
    // tags scattered in space: neighbours' data lie far apart in tag order (a lattice's own
    // numbering keeps them within a few rows)
    m_scattered = N > 1 && jumps > uint64_t(N - 1) * 1024;

    // Lattice vectors: a neighbouring cell across a periodic face is seen through one image.
    const Vec3 a[3] = {{box.Lx, 0, 0}, {box.xy * box.Ly, box.Ly, 0}, {box.xz * box.Lz, box.yz * box.Lz, box.Lz}};
    const int oz_lo = box.is2D ? 0 : -2, oz_hi = box.is2D ? 0 : 2;

    // the previous list (same particles) is the hint that replaces most of the sorting below
    const bool hint = m_N == N && m_count.size() == N && !m_nlist.empty();
    m_prev_nlist.swap(m_nlist);
    m_prev_count.swap(m_count);
    const uint32_t prev_stride = m_stride;
    m_N = N;
    m_count.assign(N, 0);
    uint32_t maxcount;
    // One thread: each pair is searched once, from the half of the stencil ahead of its cell,
    // and entered in both rows (half the distance checks); several threads: every particle
    // searches the whole stencil for its own row. The rows are sorted sets either way: the
    // same lists.
    const bool half = threads_for(nthreads, N) == 1;
    for (;;) {
        m_nlist.resize(size_t(N) * m_stride);
        maxcount = 0;
        if (half) {
            maxcount = buildHalf(sorted, nc, a, oz_lo, oz_hi, hint, prev_stride);
            if (maxcount <= m_stride) break;
            m_stride = maxcount + 8;
            continue;
        }
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads_for(nthreads, N)) reduction(max : maxcount)
        for (int64_t cc = 0; cc < int64_t(ncells); ++cc) {
            const uint32_t ci = uint32_t(cc);
            if (m_cell_start[ci] == m_cell_start[ci + 1]) continue;
            uint32_t st_begin[75], st_end[75];
            Vec3 st_shift[75];
            const int ns = stencil(ci, nc, a, oz_lo, oz_hi, false, st_begin, st_end, st_shift);
            // Candidates are appended without branching (a hit advances the count): within r_list
            // is a coin flip for the compiler's branch predictor, and most candidates miss.
            uint32_t ncand = 0;
            for (int q = 0; q < ns; ++q) ncand += st_end[q] - st_begin[q];
            thread_local std::vector<uint32_t> scratch, merged;
            thread_local std::vector<uint64_t> bits;  // one bit per tag, all clear between particles
            if (scratch.size() < ncand + 1) scratch.resize(ncand + 1);
            if (merged.size() < ncand + 1) merged.resize(ncand + 1);
            if (hint && bits.size() < (N + 63) / 64) bits.assign((N + 63) / 64, 0);
            uint32_t* found = scratch.data();
            for (uint32_t m = m_cell_start[ci]; m < m_cell_start[ci + 1]; ++m) {
                const PosType pi = sorted[m];
                const uint32_t i = pi.tag;
                const double* rl_row = &m_rlistsq[size_t(pi.type) * nt];
                // 'body' exclusion: particles of one rigid body never interact [NeighborListBinned.cc:143-146]
                const int32_t bi = filterBody ? body[i] : -1;
                const uint32_t n = list_candidates(pi, sorted.data(), ns, st_begin, st_end, st_shift, rl_row,
                                                   filterBody ? body : nullptr, bi, found);
                // ascending tags: each force sum has one order, whenever and however the list
                // was built (exact replay for the adjoint; results independent of the buffer)
                if (hint)
                    sort_with_hint(found, n, &m_prev_nlist[size_t(i) * prev_stride],
                                   std::min(m_prev_count[i], prev_stride), bits.data(), merged.data());
                else
                    std::sort(found, found + n);
                if (n <= m_stride) std::copy(found, found + n, &m_nlist[size_t(i) * m_stride]);
                m_count[i] = n;
                maxcount = std::max(maxcount, n);
            }
        }
        if (maxcount <= m_stride) break;
        m_stride = maxcount + 8;  // overflow: grow and rebuild (deterministic)
    }
    m_last_pos.assign(pos, pos + 3 * size_t(N));
    m_box = box;
    m_force_rebuild = false;
    ++m_n_builds;
    ++m_version;
    if (source) source->built(*this, nthreads);
}

bool NeighborList::scattered() const {
    return m_scattered;
}

NeighborList::Spatial NeighborList::spatial(int nthreads) {
    const uint32_t N = m_N;
    if (m_spatial_version != m_version || m_scount.size() != N) {
        if (m_order.size() != N) {
            m_order.resize(N);
            for (uint32_t m = 0; m < N; ++m) m_order[m] = m;
        }
        m_rank.resize(N);
        for (uint32_t m = 0; m < N; ++m) m_rank[m_order[m]] = m;
        m_snlist.resize(size_t(N) * m_stride);
        m_scount.resize(N);
        const uint32_t* order = m_order.data();
        const uint32_t* rank = m_rank.data();
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, N))
        for (int64_t m = 0; m < int64_t(N); ++m) {
            const uint32_t i = order[m], n = m_count[i];
            const uint32_t* row = &m_nlist[size_t(i) * m_stride];
            uint32_t* out = &m_snlist[size_t(m) * m_stride];
            for (uint32_t k = 0; k < n; ++k) out[k] = rank[row[k]];
            m_scount[m] = n;
        }
        m_spatial_version = m_version;
    }
    return {m_order.data(), {m_snlist.data(), m_scount.data(), m_stride}};
}

void NeighborList::updatePairSlots() {
    if (m_slot_version == m_version) return;
    m_slot_version = m_version;
    const NeighborView nb{m_nlist.data(), m_count.data(), m_stride};
    m_upper0.assign(size_t(m_N) + 1, 0);
    std::vector<uint32_t> first_upper(m_N);
    for (uint32_t i = 0; i < m_N; ++i) {
        first_upper[i] = lower_bound_tag(nb, i, i);
        m_upper0[i + 1] = m_upper0[i] + (m_count[i] - first_upper[i]);
    }
    // Lists are symmetric and sorted: visiting i in ascending order meets each j's lower
    // entries (the i < j in j's list) in j's own order.
    m_lower_slot.resize(size_t(m_N) * m_stride);
    std::vector<uint32_t> cursor(m_N, 0);
    for (uint32_t i = 0; i < m_N; ++i) {
        const uint32_t* list = &m_nlist[size_t(i) * m_stride];
        uint32_t slot = m_upper0[i];
        for (uint32_t k = first_upper[i]; k < m_count[i]; ++k, ++slot) {
            const uint32_t j = list[k];
            m_lower_slot[size_t(j) * m_stride + cursor[j]++] = slot;
        }
    }
}

bool NeighborList::isSymmetric() const {
    const NeighborView nb{m_nlist.data(), m_count.data(), m_stride};
    for (uint32_t i = 0; i < m_N; ++i)
        for (uint32_t k = 0; k < m_count[i]; ++k) {
            const uint32_t j = m_nlist[size_t(i) * m_stride + k];
            const uint32_t q = lower_bound_tag(nb, j, i);
            if (q >= m_count[j] || m_nlist[size_t(j) * m_stride + q] != i) return false;
        }
    return true;
}

std::vector<uint32_t> NeighborList::pairs() const {
    std::vector<uint32_t> out;
    for (uint32_t i = 0; i < m_N; ++i)
        for (uint32_t k = 0; k < m_count[i]; ++k) {
            uint32_t j = m_nlist[size_t(i) * m_stride + k];
            if (i < j) {
                out.push_back(i);
                out.push_back(j);
            }
        }
    return out;
}

}  // namespace ha
