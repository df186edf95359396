#include "device/DeviceAdjoint.h"

#include <stdexcept>
#include <string>

#include "core/Format.h"
#include "device/DeviceOps.h"
#include "adjoint/AdjointForce.h"
#include "adjoint/RigidAdjoint.h"
#include "adjoint/RigidAdjointStep.h"
#include "device/DeviceForce.h"
#include "device/DeviceNeighborList.h"
#include "device/DeviceRun.h"
#include "device/DeviceState.h"
#include "engine/System.h"

namespace ha {

std::vector<StateField> state_fields(const System& sys) {
    using F = StateField;
    const bool brownian = sys.methods.size() == 1 && sys.methods[0].kind == Method::Brownian;
    if (has_rotations(sys))
        return brownian
                   ? std::vector<F>{F::Position, F::Orientation}
                   : std::vector<F>{F::Position, F::Velocity, F::Acceleration, F::Orientation, F::Angmom, F::Torque};
    return brownian ? std::vector<F>{F::Position} : std::vector<F>{F::Position, F::Velocity, F::Acceleration};
}

uint32_t field_width(StateField f) {
    return f == StateField::Orientation || f == StateField::Angmom ? 4 : 3;
}

std::vector<double>& host_field(ParticleData& pd, StateField f) {
    switch (f) {
        case StateField::Position:
            return pd.pos;
        case StateField::Velocity:
            return pd.vel;
        case StateField::Acceleration:
            return pd.accel;
        case StateField::Orientation:
            return pd.orientation;
        case StateField::Angmom:
            return pd.angmom;
        case StateField::Torque:
            return pd.net_torque;
    }
    throw std::logic_error("host_field: no such field");
}

double* device_field(DeviceState& d, StateField f) {
    switch (f) {
        case StateField::Position:
            return d.pos.get();
        case StateField::Velocity:
            return d.vel.get();
        case StateField::Acceleration:
            return d.accel.get();
        case StateField::Orientation:
            return d.orientation.get();
        case StateField::Angmom:
            return d.angmom.get();
        case StateField::Torque:
            return d.net_torque.get();
    }
    throw std::logic_error("device_field: no such field");
}

DeviceStates::DeviceStates(const System& sys, uint64_t n)
    : m_n(n), m_fields(state_fields(sys)), m_slot(0), m_N(sys.pd.N), m_backend(DeviceRun::backend(sys)) {
    if (n == 0) throw std::invalid_argument("DeviceStates: room for at least one state is needed");
    if (has_rotations(sys))
        rigid_method(sys);  // (a clear error now for a system the adjoint cannot follow)
    else
        adjoint_method(sys);
    for (StateField f : m_fields) {
        m_offset.push_back(m_slot);
        m_slot += size_t(field_width(f)) * m_N;
    }
    const gpu::BackendScope scope(m_backend);
    m_data.resize(size_t(n) * m_slot);
}

void DeviceStates::check(uint64_t k0, uint64_t n, const System& sys, const char* what) const {
    if (k0 > m_n || n > m_n - k0)
        throw std::out_of_range(format("%s: states %llu..%llu of a block of %llu", what, (unsigned long long)k0,
                                       (unsigned long long)(k0 + n), (unsigned long long)m_n));
    if (sys.pd.N != m_N || state_fields(sys) != m_fields)
        throw std::invalid_argument(format("%s: the states were recorded for another system", what));
    if (DeviceRun::backend(sys) != m_backend)
        throw std::invalid_argument(format("%s: the states are on another device", what));
}

void DeviceRecorder::keep(DeviceState& d, uint64_t k, uint64_t t) const {
    // launched, with the slot from the device's clock (slot k0 + clock's step - (t - k)): the
    // same launch records every step, so a run can keep it once and run it again
    const gpu::Clock clock{d.clock.get(), after ? -1 : 0};  // (after step t the clock reads t + 1)
    for (int f = 0; f < states->fields(); ++f)
        gpu::launch(states->width(f) * states->N(),
                    gpu::RecordOp{device_field(d, states->field(f)), states->at(0, 0), states->slot(),
                                  states->offset(f), k0, t - k, clock},
                    "record state");
}

void device_save(System& sys, DeviceStates& s, uint64_t k) {
    s.check(k, 1, sys, "device_save");
    for (int f = 0; f < s.fields(); ++f) {
        const std::vector<double>& h = host_field(sys.pd, s.field(f));
        gpu::copy(s.backend(), s.at(k, f), h.data(), h.size() * sizeof(double), gpu::Copy::ToDevice);
    }
}

void device_load(System& sys, const DeviceStates& s, uint64_t k, bool forces) {
    s.check(k, 1, sys, "device_load");
    for (int f = 0; f < s.fields(); ++f) {
        std::vector<double>& h = host_field(sys.pd, s.field(f));
        gpu::copy(s.backend(), h.data(), s.at(k, f), h.size() * sizeof(double), gpu::Copy::ToHost);
    }
    if (has_rotations(sys))
        rigid_place(sys, forces);
    else if (forces)
        sys.updateNetForce();
}

void device_states_download(const DeviceStates& s, uint64_t k0, uint64_t n, const std::vector<double*>& host) {
    for (uint64_t k = 0; k < n; ++k)
        for (int f = 0; f < s.fields(); ++f) {
            const size_t m = size_t(s.width(f)) * s.N();
            gpu::copy(s.backend(), host[f] + k * m, s.at(k0 + k, f), m * sizeof(double), gpu::Copy::ToHost);
        }
}

void device_states_upload(DeviceStates& s, uint64_t k0, uint64_t n, const std::vector<const double*>& host) {
    for (uint64_t k = 0; k < n; ++k)
        for (int f = 0; f < s.fields(); ++f) {
            const size_t m = size_t(s.width(f)) * s.N();
            gpu::copy(s.backend(), s.at(k0 + k, f), host[f] + k * m, m * sizeof(double), gpu::Copy::ToDevice);
        }
}

void device_advance_recording(System& sys, DeviceStates& s, uint64_t k0, uint64_t n, bool after) {
    s.check(k0, n, sys, "device_advance_recording");
    if (!sys.useGPU) throw std::invalid_argument("device_advance_recording: the system does not run on the device");
    const DeviceRecorder rec{&s, k0, after};
    device_run(sys).run(sys, n, &rec);
}

namespace {

// The state at the clock's step from its slot into the device's arrays.
void load_state(DeviceState& d, const DeviceStates& s, uint64_t k0, uint64_t t_first, gpu::Clock clock) {
    for (int f = 0; f < s.fields(); ++f)
        gpu::launch(
            s.width(f) * s.N(),
            gpu::LoadStateOp{s.at(0, 0), device_field(d, s.field(f)), s.slot(), s.offset(f), k0, t_first, clock},
            "load state");
}

// acc += the sums over n entries' parts (RigidAdjointStep.h: blocks, then the tree), G values.
void launch_body_sums(const gpu::SweepRecord* st, uint32_t n, const double* v, uint32_t width, const uint32_t* slot,
                      uint32_t scale, uint32_t G, gpu::Buffer<double>& blocks, gpu::Buffer<double>& blocks2,
                      double* acc) {
    if (n == 0 || G == 0) return;
    const uint32_t nb = grad_blocks(n);
    gpu::launch(nb, gpu::ScatterBlockOp{st, n, v, width, slot, scale, G, blocks.get()}, "body sums: blocks");
    const double* sum = gpu::launch_tree(st, blocks.get(), blocks2.get(), nb, G, G);
    gpu::launch(G, gpu::AddSumsOp{st, sum, acc}, "body sums: total");
}

// One step of the rigid sweep (RigidAdjoint.cc's rigid_adjoint_step, the same pieces in the same
// order), as sweep_step below: every launch reads the step from the device's clock.
void rigid_sweep_step(System& sys, DeviceState& d, const Method& m, uint64_t t_first, const DeviceStates& s,
                      uint64_t k0, uint64_t k, const AdjointRequest& req) {
    SweepBuffers& b = d.sweep;
    ParticleData& pd = sys.pd;
    const RigidBodies& rb = sys.rigid;
    const uint32_t N = pd.N, nm = uint32_t(m.members.size()), nbodies = uint32_t(rb.centers.size());
    const uint32_t nsites = uint32_t(rb.members.size()), nrot = uint32_t(sys.aniso ? nm : 0);
    const double dt = sys.dt;
    const uint64_t t = t_first + k;
    sys.timestep = t;
    const StepArgs a{t, sys.seed, dt, m.kT(t), pd.dimensions()};
    gpu::SweepRecord* st = b.record.get();
    const gpu::Clock clock{d.clock.get(), 0};
    const uint32_t* mem = d.members[0]->get();
    const double* gamma = d.gamma[0]->get();
    const double* gamma_r = d.gamma_r[0]->get();
    load_state(d, s, k0, t_first, clock);
    for (gpu::Buffer<double>* z : {&b.lts, &b.lq1, &b.lph, &b.grp, &b.geo})
        gpu::launch(uint32_t(z->size()), gpu::ZeroOp{z->get()}, "rigid adjoint: zero");
    auto place = [&]() {
        gpu::launch(nsites,
                    gpu::PlaceSitesOp{d.centers.get(), d.constituents.get(), d.site_body.get(), d.site_pos.get(),
                                      d.site_orient.get(), pd.box, d.pos.get(), d.image.get(), d.orientation.get()},
                    "rigid bodies: place");
    };
    // the pull-back through the transfer and the Jacobian at the placed state (w: lF at the
    // members, the constituents' entries written here)
    auto pullback_forces = [&]() {
        gpu::launch(nsites,
                    gpu::SiteWeightOp{st, d.centers.get(), d.constituents.get(), d.site_body.get(), d.site_pos.get(),
                                      d.orientation.get(), b.lts.get(), b.w.get()},
                    "rigid adjoint: site weights");
        gpu::launch(3 * N, gpu::ZeroOp{b.out.get()}, "rigid adjoint: zero");
        // (the positions were packed by the forces just computed, at these positions)
        const DeviceParticles dp{N, pd.box, d.pos.get(), d.postype.get()};
        for (size_t f = 0; f < sys.forces.size(); ++f)
            device_of(*sys.forces[f])
                .deviceJacobian(pd, dp, t, b.w.get(), b.out.get(), req.params ? b.gparams[f]->get() : nullptr, st);
        gpu::launch(nm, gpu::IndexedAddOp{st, mem, 3, b.out.get(), b.lr.get()}, "rigid adjoint: members");
        gpu::launch(nbodies,
                    gpu::BodyAdjointOp{st, d.centers.get(), d.start.get(), d.constituents.get(), d.site_pos.get(),
                                       d.orientation.get(), b.out.get(), b.raw.get(), b.lts.get(), b.lr.get(),
                                       b.Lq.get(), b.geo.get()},
                    "rigid adjoint: bodies");
        launch_body_sums(st, nsites, b.geo.get(), 3, b.site_slot.get(), 1, uint32_t(b.Lgeo.size()), b.geo_blocks,
                         b.geo_blocks2, b.Lgeo.get());
    };
    auto gamma_r_sums = [&]() {
        launch_body_sums(st, N, b.grp.get(), 3, d.typeid_.get(), 3, 3 * pd.ntypes, b.gr_blocks, b.gr_blocks2,
                         b.Lgr.get());
    };
    if (m.kind == Method::Brownian) {
        place();
        device_run(sys).computeNetForce(sys, t, true, 0, b.raw.get());  // F(t), tau(t)
        gpu::launch(nm, gpu::BrownianWOp{st, mem, dt, gamma, d.typeid_.get(), b.lr.get(), b.w.get()},
                    "Brownian adjoint");
        if (sys.aniso) {
            gpu::launch(nbodies,
                        gpu::BrownianRotAdjointOp{st, d.centers.get(), a, clock, m.kT, gamma_r, d.typeid_.get(),
                                                  d.moment_inertia.get(), d.orientation.get(), d.net_torque.get(),
                                                  b.Lq.get(), b.lts.get(), b.grp.get()},
                        "rigid adjoint: Brownian rotation");
            gamma_r_sums();
        }
        pullback_forces();
    } else {
        // forward again: step one (translation, rotation), the sites, the forces at t + 1
        const bool langevin = m.kind == Method::Langevin;
        for (auto [field, copy] : {std::pair{d.orientation.get(), b.q0.get()}, std::pair{d.angmom.get(), b.p0.get()},
                                   std::pair{d.net_torque.get(), b.tau0.get()}})
            gpu::launch(uint32_t(field == d.net_torque.get() ? 3 * N : 4 * N), gpu::CopyOp{field, copy},
                        "rigid adjoint: the state's rotations");
        gpu::launch(nm,
                    gpu::HalfStepOp{st, mem, a, clock, m.kT, pd.box, langevin, d.accel.get(), d.vel.get(), d.pos.get(),
                                    b.vh.get()},
                    "half step");
        if (sys.aniso)
            gpu::launch(nm,
                        gpu::RotateOneOp{mem, a, clock, m.kT, false, gamma_r, d.typeid_.get(), d.moment_inertia.get(),
                                         d.net_torque.get(), d.orientation.get(), d.angmom.get()},
                        "rotation step one");
        place();
        device_run(sys).computeNetForce(sys, t + 1, true, 1, b.raw.get());
        // backward: step two's rotation, then its translation
        if (sys.aniso) {
            gpu::launch(nrot,
                        gpu::RotTwoAdjointOp{st, mem, a, clock, m.kT, langevin, gamma_r, d.typeid_.get(),
                                             d.moment_inertia.get(), d.orientation.get(), d.angmom.get(),
                                             d.net_torque.get(), b.Ltau.get(), b.Lp.get(), b.lq1.get(), b.lph.get(),
                                             b.lts.get(), b.LI.get(), b.grp.get()},
                        "rigid adjoint: rotation step two");
            gamma_r_sums();
        }
        gpu::launch(nm,
                    gpu::LangevinPreOp{st, mem, langevin, dt, a.dim, gamma, d.typeid_.get(), d.mass.get(), b.lv.get(),
                                       b.la.get(), b.lt.get(), b.lvh.get(), b.w.get()},
                    "Langevin adjoint");
        const uint32_t* rot = sys.aniso ? mem : d.centers.get();
        gpu::launch(sys.aniso ? nm : nbodies, gpu::IndexedAddOp{st, rot, 4, b.lq1.get(), b.Lq.get()},
                    "rigid adjoint: q'");
        pullback_forces();
        if (sys.aniso)
            gpu::launch(nrot,
                        gpu::RotOneAdjointOp{st, mem, dt, d.moment_inertia.get(), b.q0.get(), b.p0.get(), b.tau0.get(),
                                             b.lph.get(), b.Lq.get(), b.Lp.get(), b.Ltau.get(), b.LI.get()},
                        "rigid adjoint: rotation step one");
        else
            gpu::launch(nbodies, gpu::NoRotationOp{st, d.centers.get(), b.Lp.get(), b.Ltau.get()},
                        "rigid adjoint: no rotation");
        gpu::launch(nm, gpu::LangevinPostOp{st, mem, dt, b.lvh.get(), b.lr.get(), b.lv.get(), b.la.get()},
                    "Langevin adjoint");
    }
    gpu::launch(N, gpu::RigidCheckOp{st, b.lr.get(), b.lv.get(), b.la.get(), b.Lq.get(), b.Lp.get(), b.Ltau.get()},
                "adjoint check");
    gpu::launch(1, gpu::StopOp{st, t, clock}, "adjoint check");
    gpu::launch(1, gpu::TickOp{d.clock.get(), -1}, "adjoint step");  // (to the state before)
}

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
    load_state(d, s, k0, t_first, clock);
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
        gpu::launch(N, gpu::BrownianWOp{st, nullptr, dt, gamma, d.typeid_.get(), b.lr.get(), b.w.get()},
                    "Brownian adjoint");
        if (req.gamma) device_run(sys).computeNetForce(sys, t, true);  // F(r_t), for d/dgamma
        if (noise) noise_grads(true, b.lr.get());                      // (before lr is updated below)
        jacobian();
    } else {
        const bool langevin = m.kind == Method::Langevin;
        gpu::launch(N,
                    gpu::HalfStepOp{st, nullptr, StepArgs{t, sys.seed, dt, T, dim}, clock, m.kT, pd.box, langevin,
                                    d.accel.get(), d.vel.get(), d.pos.get(), b.vh.get()},
                    "half step");
        gpu::launch(N,
                    gpu::LangevinPreOp{st, nullptr, langevin, dt, dim, gamma, d.typeid_.get(), d.mass.get(), b.lv.get(),
                                       b.la.get(), b.lt.get(), b.lvh.get(), b.w.get()},
                    "Langevin adjoint");
        jacobian();  // at r'
        if (noise) noise_grads(false, b.lt.get());
        gpu::launch(N, gpu::LangevinPostOp{st, nullptr, dt, b.lvh.get(), b.lr.get(), b.lv.get(), b.la.get()},
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
                         double clip_, const RigidAdjointState* rigid_)
    : sys(sys_),
      method(has_rotations(sys_) ? &rigid_method(sys_) : &adjoint_method(sys_)),
      t_first(t_first_),
      s(s_),
      k0(k0_),
      n(n_),
      lr(lr_),
      lv(lv_),
      la(la_),
      g(g_),
      req(req_),
      clip(clip_),
      rigid(rigid_) {
    s.check(k0, n, sys, "device_adjoint_sweep");
    if (has_rotations(sys) != (rigid != nullptr))
        throw std::invalid_argument(has_rotations(sys)
                                        ? "device_adjoint_sweep: a system with rotations needs their adjoints"
                                        : "device_adjoint_sweep: rigid adjoints for a system without rotations");
    if (rigid && (req.kT || req.gamma))
        throw std::invalid_argument(
            "d/dkT and d/dgamma are not available with rigid bodies or rotational integration yet");
    if (rigid && clip > 0)
        throw std::invalid_argument("clip is not available with rigid bodies or rotational integration");
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
    if (!rigid) return;
    const size_t n3 = 3 * size_t(N), n4 = 4 * size_t(N);
    std::vector<uint32_t> slot;
    const uint32_t G = site_slots(sys, slot);
    for (auto* buf : {&b.lts, &b.Ltau, &b.LI, &b.tau0, &b.raw, &b.out, &b.grp}) buf->resize(n3);
    for (auto* buf : {&b.Lq, &b.Lp, &b.lq1, &b.lph, &b.q0, &b.p0}) buf->resize(n4);
    b.Lgr.resize(3 * size_t(ntypes));
    b.Lgeo.resize(G);
    b.geo.resize(3 * slot.size());
    b.site_slot.upload(slot);
    b.gr_blocks.resize(size_t(nb) * 3 * ntypes);
    b.gr_blocks2.resize(size_t(nb) * 3 * ntypes);
    b.geo_blocks.resize(size_t(grad_blocks(uint32_t(slot.size()))) * G);
    b.geo_blocks2.resize(size_t(grad_blocks(uint32_t(slot.size()))) * G);
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
    for (auto [buf, host] : rotationAdjoints(b)) buf->upload(host, buf->size());
    const gpu::SweepRecord fresh{0, UINT32_MAX, 0, 1.0};
    b.record.upload(&fresh, 1);
    const uint64_t latest = t_first + n - 1;  // (the clock the steps read: the latest state first)
    device_run(sys).state.clock.upload(&latest, 1);
}

std::vector<std::pair<gpu::Buffer<double>*, double*>> DeviceSweep::rotationAdjoints(SweepBuffers& b) const {
    if (!rigid) return {};  // (the buffers sized by begin)
    return {{&b.Lq, rigid->q},       {&b.Lp, rigid->p},        {&b.Ltau, rigid->tau},
            {&b.LI, rigid->inertia}, {&b.Lgr, rigid->gamma_r}, {&b.Lgeo, rigid->geometry}};
}

void DeviceSweep::keepStep(gpu::LaunchQueue& q) {
    const gpu::QueueScope keep(&q);
    if (rigid)
        rigid_sweep_step(sys, device_run(sys).state, *method, t_first, s, k0, n - 1, req);
    else
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
    for (auto [buf, host] : rotationAdjoints(b)) buf->download(host, buf->size());
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
                                 double clip, const RigidAdjointState* rigid) {
    DeviceSweep sw(sys, t_first, s, k0, n, lr, lv, la, g, req, clip, rigid);
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
