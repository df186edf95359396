#include "device/DeviceAdjoint.h"

#include <stdexcept>
#include <string>

#include "core/Format.h"
#include "device/DeviceOps.h"
#include "adjoint/AdjointForce.h"
#include "device/DeviceForce.h"
#include "device/DeviceNeighborList.h"
#include "device/DeviceRun.h"
#include "device/DeviceState.h"
#include "engine/System.h"

namespace ha {

DeviceStates::DeviceStates(const System& sys, uint64_t n)
    : m_n(n),
      m_fields(adjoint_method(sys).kind == Method::Brownian ? 1 : 3),
      m_N(sys.pd.N),
      m_backend(DeviceRun::backend(sys)) {
    if (n == 0) throw std::invalid_argument("DeviceStates: room for at least one state is needed");
    if (!sys.rigid.empty() || sys.aniso)
        throw std::invalid_argument(
            "the device's adjoint does not cover rigid bodies or rotational integration yet (the CPU's does)");
    const gpu::BackendScope scope(m_backend);
    m_data.resize(size_t(n) * m_fields * 3 * size_t(m_N));
}

void DeviceStates::check(uint64_t k0, uint64_t n, const System& sys, const char* what) const {
    if (k0 > m_n || n > m_n - k0)
        throw std::out_of_range(format("%s: states %llu..%llu of a block of %llu", what, (unsigned long long)k0,
                                       (unsigned long long)(k0 + n), (unsigned long long)m_n));
    if (sys.pd.N != m_N || (adjoint_method(sys).kind == Method::Brownian ? m_fields != 1 : m_fields != 3))
        throw std::invalid_argument(format("%s: the states were recorded for another system", what));
    if (DeviceRun::backend(sys) != m_backend)
        throw std::invalid_argument(format("%s: the states are on another device", what));
}

void DeviceRecorder::keep(DeviceState& d, uint64_t k, uint64_t t) const {
    // launched, with the slot from the device's clock (slot k0 + clock's step - (t - k)): the
    // same launch records every step, so a run can keep it once and run it again
    const uint32_t m = 3 * states->N(), F = uint32_t(states->fields());
    const double* src[3] = {d.pos.get(), d.vel.get(), d.accel.get()};
    const gpu::Clock clock{d.clock.get(), after ? -1 : 0};  // (after step t the clock reads t + 1)
    for (uint32_t f = 0; f < F; ++f)
        gpu::launch(m, gpu::RecordOp{src[f], states->at(0, 0), m, F, f, k0, t - k, clock}, "record state");
}

void device_save(System& sys, DeviceStates& s, uint64_t k) {
    s.check(k, 1, sys, "device_save");
    const size_t bytes = sys.pd.pos.size() * sizeof(double);
    gpu::copy(s.backend(), s.at(k, 0), sys.pd.pos.data(), bytes, gpu::Copy::ToDevice);
    if (s.fields() == 3) {
        gpu::copy(s.backend(), s.at(k, 1), sys.pd.vel.data(), bytes, gpu::Copy::ToDevice);
        gpu::copy(s.backend(), s.at(k, 2), sys.pd.accel.data(), bytes, gpu::Copy::ToDevice);
    }
}

void device_load(System& sys, const DeviceStates& s, uint64_t k) {
    s.check(k, 1, sys, "device_load");
    const size_t bytes = sys.pd.pos.size() * sizeof(double);
    gpu::copy(s.backend(), sys.pd.pos.data(), s.at(k, 0), bytes, gpu::Copy::ToHost);
    if (s.fields() == 3) {
        gpu::copy(s.backend(), sys.pd.vel.data(), s.at(k, 1), bytes, gpu::Copy::ToHost);
        gpu::copy(s.backend(), sys.pd.accel.data(), s.at(k, 2), bytes, gpu::Copy::ToHost);
    }
}

void device_states_download(const DeviceStates& s, uint64_t k0, uint64_t n, double* pos, double* vel, double* acc) {
    const size_t m = 3 * size_t(s.N());
    double* host[3] = {pos, vel, acc};
    for (uint64_t k = 0; k < n; ++k)
        for (int f = 0; f < s.fields(); ++f)
            gpu::copy(s.backend(), host[f] + k * m, s.at(k0 + k, f), m * sizeof(double), gpu::Copy::ToHost);
}

void device_states_upload(DeviceStates& s, uint64_t k0, uint64_t n, const double* pos, const double* vel,
                          const double* acc) {
    const size_t m = 3 * size_t(s.N());
    const double* host[3] = {pos, vel, acc};
    for (uint64_t k = 0; k < n; ++k)
        for (int f = 0; f < s.fields(); ++f)
            gpu::copy(s.backend(), s.at(k0 + k, f), host[f] + k * m, m * sizeof(double), gpu::Copy::ToDevice);
}

void device_advance_recording(System& sys, DeviceStates& s, uint64_t k0, uint64_t n, bool after) {
    s.check(k0, n, sys, "device_advance_recording");
    if (!sys.useGPU) throw std::invalid_argument("device_advance_recording: the system does not run on the device");
    const DeviceRecorder rec{&s, k0, after};
    device_run(sys).run(sys, n, &rec);
}

namespace {

// One step of the sweep (the state at t = t_first + k, latest first): every launch, none waiting
// for the host, each reading the step from the device's clock (t here), which the last one moves
// back: the steps of a sweep all launch the same ops, so a sweep keeps one step's and runs them n
// times (DeviceSweep::steps), and a batch runs those of several systems together (BatchRun.h).
void sweep_step(System& sys, DeviceState& d, const Method& m, uint64_t t_first, const DeviceStates& s, uint64_t k0,
                uint64_t k, const AdjointRequest& req, double clip) {
    SweepBuffers& b = d.sweep;
    ParticleData& pd = sys.pd;
    const uint32_t N = pd.N, nb = grad_blocks(N), ntypes = pd.ntypes;
    const double dt = sys.dt;
    const unsigned dim = pd.dimensions();
    const bool noise = (req.kT || req.gamma) && m.kind != Method::ConstantVolume;
    gpu::SweepRecord* st = b.record.get();
    double* kT = b.kT_gamma.get();
    double* gam = kT + 1;
    const uint64_t t = t_first + k;
    sys.timestep = t;
    const double T = m.kT(t);
    const gpu::Clock clock{d.clock.get(), 0};
    double* fields[3] = {d.pos.get(), d.vel.get(), d.accel.get()};
    for (int f = 0; f < s.fields(); ++f)
        gpu::launch(
            3 * N,
            gpu::LoadStateOp{s.at(0, 0), fields[f], 3 * N, uint32_t(s.fields()), uint32_t(f), k0, t_first, clock},
            "load state");
    const double* gamma = d.gamma[0]->get();
    const DeviceParticles dp{N, pd.box, d.pos.get(), d.postype.get()};
    auto jacobian = [&]() {  // lr += J(r)^T w at d.pos, force by force
        gpu::launch(N, gpu::PackOp{d.pos.get(), d.typeid_.get(), d.postype.get()}, "pack positions");
        for (size_t f = 0; f < sys.forces.size(); ++f)
            device_of(*sys.forces[f])
                .deviceJacobian(pd, dp, t, b.w.get(), b.lr.get(), req.params ? b.gparams[f]->get() : nullptr, st);
    };
    auto noise_grads = [&](bool brownian, const double* l) {
        gpu::launch(
            nb,
            gpu::NoiseBlockOp{st, brownian, N, ntypes, l, d.net_force.get(), b.vh.get(), d.mass.get(), d.typeid_.get(),
                              gamma, T, dt, dim, t, sys.seed, req.kT ? b.noise_kT.get() : nullptr,
                              req.gamma ? b.noise_gamma.get() : nullptr, clock, m.kT},
            "noise gradients");
        const double* kT_sum = req.kT ? gpu::launch_tree(st, b.noise_kT.get(), b.noise_kT2.get(), nb, 1, 1) : nullptr;
        const double* gam_sum =
            req.gamma ? gpu::launch_tree(st, b.noise_gamma.get(), b.noise_gamma2.get(), nb, ntypes, ntypes) : nullptr;
        gpu::launch(1, gpu::NoiseAddOp{st, ntypes, kT_sum, gam_sum, req.kT ? kT : nullptr, req.gamma ? gam : nullptr},
                    "noise gradients");
    };
    if (m.kind == Method::Brownian) {
        gpu::launch(N, gpu::BrownianWOp{st, dt, gamma, d.typeid_.get(), b.lr.get(), b.w.get()}, "Brownian adjoint");
        if (req.gamma) device_run(sys).computeNetForce(sys, t, true);  // F(r_t), for d/dgamma
        if (noise) noise_grads(true, b.lr.get());                      // (before lr is updated below)
        jacobian();
    } else {
        const bool langevin = m.kind == Method::Langevin;
        gpu::launch(N,
                    gpu::HalfStepOp{st, StepArgs{t, sys.seed, dt, T, dim}, clock, m.kT, pd.box, langevin, d.accel.get(),
                                    d.vel.get(), d.pos.get(), b.vh.get()},
                    "half step");
        gpu::launch(N,
                    gpu::LangevinPreOp{st, langevin, dt, dim, gamma, d.typeid_.get(), d.mass.get(), b.lv.get(),
                                       b.la.get(), b.lt.get(), b.lvh.get(), b.w.get()},
                    "Langevin adjoint");
        jacobian();  // at r'
        if (noise) noise_grads(false, b.lt.get());
        gpu::launch(N, gpu::LangevinPostOp{st, dt, b.lvh.get(), b.lr.get(), b.lv.get(), b.la.get()},
                    "Langevin adjoint");
    }
    gpu::launch(N, gpu::AdjointCheckOp{st, b.lr.get(), b.lv.get(), b.la.get()}, "adjoint check");
    gpu::launch(1, gpu::StopOp{st, t, clock}, "adjoint check");
    if (clip > 0) {
        gpu::launch(nb, gpu::NormBlockOp{st, N, b.lr.get(), b.lv.get(), b.la.get(), b.parts.get()}, "clip");
        const double* norm2 = gpu::launch_tree(st, b.parts.get(), b.parts2.get(), nb, 1, 1);
        gpu::launch(1, gpu::ClipScaleOp{st, norm2, clip}, "clip");
        gpu::launch(N, gpu::ScaleOp{st, b.lr.get(), b.lv.get(), b.la.get()}, "clip");
    }
    gpu::launch(1, gpu::TickOp{d.clock.get(), -1}, "adjoint step");  // (to the state before)
}

}  // namespace

DeviceSweep::DeviceSweep(System& sys_, uint64_t t_first_, const DeviceStates& s_, uint64_t k0_, uint64_t n_,
                         double* lr_, double* lv_, double* la_, AdjointGrads& g_, const AdjointRequest& req_,
                         double clip_)
    : sys(sys_),
      method(&adjoint_method(sys_)),
      t_first(t_first_),
      s(s_),
      k0(k0_),
      n(n_),
      lr(lr_),
      lv(lv_),
      la(la_),
      g(g_),
      req(req_),
      clip(clip_) {
    s.check(k0, n, sys, "device_adjoint_sweep");
}

gpu::Backend DeviceSweep::backend() const {
    return DeviceRun::backend(sys);
}

void DeviceSweep::begin() {
    ParticleData& pd = sys.pd;
    const uint32_t N = pd.N, nb = grad_blocks(N), ntypes = pd.ntypes;
    if (g.gamma.size() != ntypes) g.gamma.assign(ntypes, 0.0);
    if (g.params.size() != sys.forces.size()) g.params.assign(sys.forces.size(), {});
    DeviceState& d = device_run(sys).begin(sys, false);  // (each step copies its state in)
    check_selection(sys, req.select);
    for (size_t f = 0; f < sys.forces.size(); ++f)
        device_of(*sys.forces[f]).deviceAdjointStart(pd, req.params, req.select.empty() ? nullptr : &req.select[f]);
    const bool noise = (req.kT || req.gamma) && method->kind != Method::ConstantVolume;
    for (uint64_t k = 0; noise && k < n; ++k)  // (before anything runs: the steps' launches are kept)
        if (!(method->kT(t_first + k) > 0))
            throw std::invalid_argument(format("d/dkT and d/dgamma need kT > 0 (kT(%llu) = %g)",
                                               (unsigned long long)(t_first + k), method->kT(t_first + k)));
    SweepBuffers& b = d.sweep;
    for (auto* buf : {&b.w, &b.lt, &b.lvh, &b.vh}) buf->resize(3 * size_t(N));
    for (auto* buf : {&b.noise_kT, &b.noise_kT2, &b.parts, &b.parts2}) buf->resize(nb);
    b.noise_gamma.resize(size_t(nb) * ntypes);
    b.noise_gamma2.resize(size_t(nb) * ntypes);
    b.record.resize(1);
    b.gparams.resize(sys.forces.size());
    for (auto& p : b.gparams)
        if (!p) p.reset(new gpu::Buffer<double>());
}

void DeviceSweep::upload() {
    SweepBuffers& b = device_run(sys).state.sweep;
    const uint32_t N = sys.pd.N;
    b.lr.upload(lr, 3 * size_t(N));
    b.lv.upload(lv, 3 * size_t(N));
    b.la.upload(la, 3 * size_t(N));
    for (size_t f = 0; f < sys.forces.size(); ++f) {
        g.params[f].resize(adjoint_of(*sys.forces[f]).gradSize(), 0.0);
        b.gparams[f]->upload(g.params[f]);
    }
    std::vector<double> kT_gamma(1 + sys.pd.ntypes);
    kT_gamma[0] = g.kT;
    std::copy(g.gamma.begin(), g.gamma.end(), kT_gamma.begin() + 1);
    b.kT_gamma.upload(kT_gamma);
    const gpu::SweepRecord fresh{0, UINT32_MAX, 0, 1.0};
    b.record.upload(&fresh, 1);
    const uint64_t latest = t_first + n - 1;  // (the clock the steps read: the latest state first)
    device_run(sys).state.clock.upload(&latest, 1);
}

void DeviceSweep::keepStep(gpu::LaunchQueue& q) {
    const gpu::QueueScope keep(&q);
    sweep_step(sys, device_run(sys).state, *method, t_first, s, k0, n - 1, req, clip);
}

void DeviceSweep::steps() {
    std::vector<gpu::LaunchQueue> q(1);
    keepStep(q[0]);
    gpu::run_batch(q, n);
}

bool DeviceSweep::overflowed() {
    bool overflow = false;
    for (DeviceNeighborList* nl : device_run(sys).state.lists) overflow |= nl->overflowed();
    return overflow;
}

SweepStatus DeviceSweep::end() {
    DeviceState& d = device_run(sys).state;
    SweepBuffers& b = d.sweep;
    const uint32_t N = sys.pd.N;
    gpu::SweepRecord rec;
    b.record.download(&rec, 1);
    b.lr.download(lr, 3 * size_t(N));
    b.lv.download(lv, 3 * size_t(N));
    b.la.download(la, 3 * size_t(N));
    for (size_t f = 0; f < sys.forces.size(); ++f) b.gparams[f]->download(g.params[f]);
    std::vector<double> kT_gamma;
    b.kT_gamma.download(kT_gamma);
    g.kT = kT_gamma[0];
    std::copy(kT_gamma.begin() + 1, kT_gamma.end(), g.gamma.begin());
    for (DeviceNeighborList* nl : d.lists) nl->finish();
    if (rec.stopped) {
        sys.timestep = rec.step;
        return {int64_t(rec.step), int64_t(rec.bad_entry / 3)};
    }
    sys.timestep = t_first;
    return {};
}

SweepStatus device_adjoint_sweep(System& sys, uint64_t t_first, const DeviceStates& s, uint64_t k0, uint64_t n,
                                 double* lr, double* lv, double* la, AdjointGrads& g, const AdjointRequest& req,
                                 double clip) {
    DeviceSweep sw(sys, t_first, s, k0, n, lr, lv, la, g, req, clip);
    const gpu::BackendScope scope(sw.backend());
    sw.begin();
    for (;;) {  // (again, bitwise, if a neighbour list outgrew its arrays)
        sw.upload();
        sw.steps();
        if (!sw.overflowed()) break;
    }
    return sw.end();
}

}  // namespace ha
