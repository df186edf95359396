// The device copy of a neighbour list (DeviceNeighborList.h).
#include "device/DeviceNeighborList.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace ha {

void DeviceNeighborList::takeRequests() {
    if (m_host.rebuildRequests() == m_requests) return;
    m_requests = m_host.rebuildRequests();
    forceBuild();
}

void DeviceNeighborList::forceBuild() {
    m_step = UINT64_MAX;
    if (d_status.size() == 0) {  // (not started: start() hands the flag over)
        m_force = true;
        return;
    }
    const uint32_t one = 1;  // the flag alone: the rest of the record is the device's
    gpu::copy(gpu::backend(), reinterpret_cast<char*>(d_status.get()) + offsetof(gpu::ListStatus, force), &one,
              sizeof one, gpu::Copy::ToDevice);
}

void DeviceNeighborList::start(const ParticleData& pd) {
    m_host.checkBox(pd.box);
    takeRequests();
    const uint32_t N = pd.N;
    const BoxDim& box = pd.box;
    const double rlist = m_host.listRadii();
    d_rlistsq.upload(m_host.rlistsq());
    // cells at least r_list thick along each lattice direction (a 3x3x3 stencil), no more of
    // them than particles
    int nc[3];
    cell_counts(box, rlist, std::max(64.0, double(N)), nc);
    const uint32_t ncells = uint32_t(nc[0]) * nc[1] * nc[2];
    if (!same_box(box, m_box) || d_count.size() != N || m_host.filterBody != m_filter_body || columns != m_columns)
        m_force = true;
    m_columns = columns;
    m_box = box;
    m_filter_body = m_host.filterBody;
    // first sizes: twice the mean cell occupancy and twice the mean number of neighbours, with
    // room to spare for small systems; overflows grow them (overflowed)
    const double volume = box.is2D ? box.Lx * box.Ly : box.Lx * box.Ly * box.Lz;
    const double ball = box.is2D ? M_PI * rlist * rlist : 4.0 / 3.0 * M_PI * rlist * rlist * rlist;
    if (!m_sizes_fixed) {
        const uint32_t cap = uint32_t(std::ceil(2.0 * N / ncells)) + 8;
        const uint32_t stride = std::min<uint32_t>(N, uint32_t(std::ceil(2.0 * N * ball / volume)) + 16);
        m_grid.cap = std::max(m_grid.cap, cap);
        m_stride = std::max(m_stride, (stride + 7) / 8 * 8);
    }
    if (nc[0] != m_grid.nc[0] || nc[1] != m_grid.nc[1] || nc[2] != m_grid.nc[2]) m_force = true;
    for (int k = 0; k < 3; ++k) m_grid.nc[k] = nc[k];
    d_cell_count.resize(ncells);
    d_cell_members.resize(size_t(ncells) * m_grid.cap);
    if (d_nlist.size() != size_t(N) * m_stride) m_force = true;
    d_nlist.resize(size_t(N) * m_stride);
    d_count.resize(N);
    d_last_pos.resize(3 * size_t(N));
    if (m_host.filterBody)
        d_body.upload(pd.body);
    else
        d_body.resize(0);
    // A list the host built since (prepRun builds one) is sent rather than built again, so that
    // the device rebuilds on the steps the CPU would.
    const std::vector<uint32_t>& hcount = m_host.countList();
    if (m_host.version() != m_host_version && !m_host.rebuildPending() && N > 0 && m_host.builtN() == N &&
        hcount.size() == N && same_box(m_host.builtBox(), box) &&
        *std::max_element(hcount.begin(), hcount.end()) <= m_stride) {
        const uint32_t* hlist = m_host.neighbors();
        const uint32_t hstride = m_host.stride();
        std::vector<uint32_t> lists(size_t(N) * m_stride);
        for (uint32_t i = 0; i < N; ++i)
            for (uint32_t k = 0; k < hcount[i]; ++k)
                lists[m_columns ? size_t(k) * N + i : size_t(i) * m_stride + k] = hlist[size_t(i) * hstride + k];
        d_nlist.upload(lists);
        d_count.upload(hcount);
        d_last_pos.upload(m_host.lastPositions());
        m_last_build = m_host.lastBuild();
        m_force = false;
        m_host_version = m_host.version();
    }
    const gpu::ListStatus st{0, 0, m_force ? 1u : 0u, 0, 0, m_last_build, 0};
    d_status.upload(&st, 1);
    m_force = false;  // (now the device's flag)
    d_saved.resize(1);
    m_step = UINT64_MAX;
}

void DeviceNeighborList::update(const ParticleData& pd, const PosType* d_p, uint64_t t, bool ensure, gpu::Clock clock) {
    takeRequests();
    if (!ensure && t == m_step) return;  // shared by several forces
    m_step = ensure ? UINT64_MAX : t;
    const uint32_t N = pd.N;
    const bool always = m_host.buffer() < 1e-6 || !m_host.checkDist;  // (and a forced build: the device's flag)
    gpu::ListStatus* st = d_status.get();
    const uint64_t delay = ensure ? 0 : uint64_t(std::max(m_host.rebuildCheckDelay, 0));
    gpu::launch(1, gpu::ArmBuildOp{st, t, delay, always, clock}, "neighbour list: arm");
    const double maxsq = (m_host.buffer() / 2.0) * (m_host.buffer() / 2.0);
    if (!always) gpu::launch(N, gpu::MovedOp{d_p, d_last_pos.get(), pd.box, maxsq, st}, "neighbour list: moved");
    gpu::launch(uint32_t(d_cell_count.size()), gpu::ClearCellsOp{st, d_cell_count.get()}, "neighbour list: clear");
    gpu::launch(N, gpu::BinOp{st, d_p, pd.box, m_grid, d_cell_count.get(), d_cell_members.get()},
                "neighbour list: bin");
    gpu::launch(N,
                gpu::RowOp{st, d_p, pd.box, m_grid, d_cell_count.get(), d_cell_members.get(), d_rlistsq.get(),
                           m_host.ntypes(), d_body.size() ? d_body.get() : nullptr, d_nlist.get(), d_count.get(),
                           m_columns ? 1 : m_stride, m_columns ? N : 1, m_stride, d_last_pos.get()},
                "neighbour list: rows");
    gpu::launch(1, gpu::FinishBuildOp{st, t, !ensure, clock}, "neighbour list: finish");
}

bool DeviceNeighborList::overflowed() {
    gpu::ListStatus st;
    d_status.download(&st, 1);
    if (st.need_cap == 0 && st.need_stride == 0) return false;
    // grow with room to spare: a replay costs a chunk of steps
    if (st.need_cap > m_grid.cap) m_grid.cap = st.need_cap + st.need_cap / 4 + 4;
    if (st.need_stride > m_stride) m_stride = (st.need_stride + st.need_stride / 4 + 15) / 8 * 8;
    d_cell_members.resize(d_cell_count.size() * m_grid.cap);
    d_nlist.resize(d_count.size() * m_stride);
    st.need_cap = st.need_stride = 0;  // (noted and dealt with)
    st.force = 1;                      // (the replay builds with the larger arrays)
    d_status.upload(&st, 1);
    m_step = UINT64_MAX;
    return true;
}

void DeviceNeighborList::save() {
    d_saved.copyFrom(d_status);
}

void DeviceNeighborList::restore() {
    d_status.copyFrom(d_saved);
    forceBuild();
}

void DeviceNeighborList::finish() {
    gpu::ListStatus st;
    d_status.download(&st, 1);
    m_host.addBuilds(st.builds);
    m_last_build = st.last_build;
    if (st.builds) m_host_version = m_host.version();
}

}  // namespace ha
