// A system's run on the device (DeviceRun.h): the particle data sent once, every step's
// kernels launched without waiting for the host, the host looking between chunks of steps.
#include "device/DeviceRun.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/Format.h"
#include "device/DeviceAdjoint.h"
#include "device/DeviceForce.h"
#include "device/DeviceNeighborList.h"
#include "device/DeviceOps.h"

namespace ha {

DeviceRun& device_run(System& sys) {
    if (auto* r = dynamic_cast<DeviceRun*>(sys.accelerator.get())) return *r;
    sys.accelerator = std::make_unique<DeviceRun>();
    return static_cast<DeviceRun&>(*sys.accelerator);
}

// Steps between the host's looks at a device run: each look waits for the device and copies
// the state aside (13 doubles a particle, on the device).
static constexpr uint64_t kDeviceChunk = 128;

void DeviceRun::run(System& sys, uint64_t n, const DeviceRecorder* rec) {
    sys.checkAdvance(n);
    if (!sys.useGPU) throw std::logic_error("DeviceRun: the system does not run on the device");
    const gpu::BackendScope scope(backend(sys));
    DeviceState& d = begin(sys);
    uint64_t& timestep = sys.timestep;
    bool brought = false;
    auto bring_back = [&]() {
        if (!brought) bringBack(sys);
        brought = true;
    };
    // Steps run in chunks that never wait for the host; between chunks the host looks at what
    // the device noted. A chunk in which a list overflowed is replayed, from the state saved at
    // its start, with the larger arrays; one in which a particle left the box or a force became
    // non-finite is replayed one step at a time, to name the step. (Replays are bitwise: the
    // noise is a function of (seed, timestep, tag), and every valid list gives the same forces.)
    try {
        uint64_t done = 0, chunk = 1;  // the first step alone: its build sizes the arrays
        bool stepwise = false;
        d.save(timestep);
        while (done < n) {
            const uint64_t m = std::min(chunk, n - done);
            // every step launches the same ops with the same arguments (they read the step
            // from the device's clock): one step's are kept and run m times
            std::vector<gpu::LaunchQueue> step(1);
            {
                const gpu::QueueScope keep(&step[0]);
                if (rec && !rec->after) rec->keep(d, done, timestep);
                stepOne(sys);
                stepTwo(sys);
                if (rec && rec->after) rec->keep(d, done, timestep - 1);
            }
            gpu::run_batch(step, m);
            ran(sys, m);
            gpu::RunStatus rs;
            d.status.download(&rs, 1);
            bool overflow = false;
            for (DeviceNeighborList* nl : d.lists) overflow |= nl->overflowed();
            if (overflow) {
                timestep = d.restore();
                continue;
            }
            if (rs.outside != UINT32_MAX || rs.nonfinite != UINT32_MAX) {
                timestep = d.restore();
                if (m > 1) {
                    chunk = 1;
                    stepwise = true;
                    continue;
                }
                // this step: stop where the CPU stops, after the forces, and let its check speak,
                // with the CPU's note on the state before the step (System::steps)
                d.pos.download(sys.pd.pos);
                const std::string note = sys.failureNote();
                stepOne(sys);
                bring_back();
                try {
                    sys.checkForces(timestep + 1);  // throws, naming the step and the particles
                } catch (const StateError& e) {
                    throw StateError(e.what() + note);
                }
                throw std::logic_error("device.GPU: the device's state check and the host's disagree");
            }
            done += m;
            d.save(timestep);
            if (!stepwise) chunk = std::min(2 * chunk, kDeviceChunk);
        }
    } catch (...) {
        bring_back();
        throw;
    }
    bring_back();
}

void DeviceRun::computeNetForce(System& sys) {
    const gpu::BackendScope scope(backend(sys));
    DeviceState& d = begin(sys);
    try {
        for (;;) {  // (again if a list outgrew its arrays: they have grown)
            d.status.fillBytes(0xff);
            computeNetForce(sys, sys.timestep);
            bool overflow = false;
            for (DeviceNeighborList* nl : d.lists) overflow |= nl->overflowed();
            if (!overflow) break;
        }
    } catch (...) {
        bringBack(sys);
        throw;
    }
    bringBack(sys);
    sys.checkForces(sys.timestep);  // (the CPU's message, if the device's check fired)
}

void DeviceRun::ran(System& sys, uint64_t m) {
    sys.timestep += m - 1;  // (the step kept moved it on by one)
    for (Method& me : sys.methods)
        if (me.velocity_pending) me.velocity_step = sys.timestep - 1;  // (Brownian: the last step's)
}

gpu::Backend DeviceRun::backend(const System& sys) {
    const gpu::Backend be = sys.gpuHostBackend ? gpu::Backend::Host : gpu::Backend::CUDA;
    if (be == gpu::Backend::CUDA && !gpu::available())
        throw std::runtime_error("device.GPU: no CUDA device is available");
    for (const Method& m : sys.methods)
        if (m.kind == Method::ConstantVolume && m.thermostat.kind != Thermostat::None)
            throw std::runtime_error("device.GPU: ConstantVolume's thermostats run on the CPU only (so far)");
    return be;
}

DeviceState& DeviceRun::begin(System& sys, bool send_state) {
    DeviceState& d = state;
    const ParticleData& pd = sys.pd;
    d.lists.clear();
    for (auto& f : sys.forces) device_of(*f);  // (throws for forces without a device path, before anything changes)
    for (auto& f : sys.forces) {
        device_of(*f).deviceStart(pd);
        if (auto pf = std::dynamic_pointer_cast<PairForce>(f)) {
            DeviceNeighborList* nl = &device_list(*pf->nlist());
            if (std::find(d.lists.begin(), d.lists.end(), nl) == d.lists.end()) d.lists.push_back(nl);
        }
    }
    // each list once, however many forces share it (a second start would send its status again
    // and drop the build the first asked for)
    for (DeviceNeighborList* nl : d.lists) nl->start(pd);
    if (send_state) {
        d.pos.upload(pd.pos);
        d.vel.upload(pd.vel);
        d.accel.upload(pd.accel);
        d.net_force.upload(pd.net_force);
        d.net_energy.upload(pd.net_energy);
        d.image.upload(pd.image);
    } else {  // (the caller fills them)
        for (auto* b : {&d.pos, &d.vel, &d.accel, &d.net_force}) b->resize(3 * size_t(pd.N));
        d.net_energy.resize(pd.N);
        d.image.resize(3 * size_t(pd.N));
        d.image.fillBytes(0);  // (read by the state check of forces computed on the way)
    }
    d.clock.upload(&sys.timestep, 1);
    d.mass.upload(pd.mass);
    d.typeid_.upload(pd.typeid_);
    d.postype.resize(pd.N);
    d.status.resize(1);
    d.members.clear();
    d.gamma.clear();
    d.gamma_r.clear();
    for (const Method& m : sys.methods) {
        d.members.emplace_back(new gpu::Buffer<uint32_t>());
        d.members.back()->upload(m.members);
        d.gamma.emplace_back(new gpu::Buffer<double>());
        d.gamma.back()->upload(m.gamma);
        d.gamma_r.emplace_back(new gpu::Buffer<double>());
        d.gamma_r.back()->upload(m.gamma_r);
    }
    d.rotating = sys.aniso || !sys.rigid.empty();
    if (d.rotating) {
        d.orientation.upload(pd.orientation);
        d.angmom.upload(pd.angmom);
        d.net_torque.upload(pd.net_torque);
        d.moment_inertia.upload(pd.moment_inertia);
        // the bodies, slot by slot (RigidBodies' order: body by body, definition order)
        const RigidBodies& rb = sys.rigid;
        std::vector<uint32_t> site_body;
        std::vector<double> site_pos, site_orient;
        for (size_t b = 0; b < rb.centers.size(); ++b) {
            const auto& def = rb.defs[pd.typeid_[rb.centers[b]]];
            for (uint32_t k = 0; k < def.size(); ++k) {
                site_body.push_back(uint32_t(b));
                site_pos.insert(site_pos.end(), &def.pos[3 * k], &def.pos[3 * k] + 3);
                site_orient.insert(site_orient.end(), &def.orient[4 * k], &def.orient[4 * k] + 4);
            }
        }
        d.centers.upload(rb.centers);
        d.start.upload(rb.start);
        d.constituents.upload(rb.members);
        d.site_body.upload(site_body);
        d.site_pos.upload(site_pos);
        d.site_orient.upload(site_orient);
    }
    return d;
}

void DeviceRun::bringBack(System& sys) {
    DeviceState& d = state;
    ParticleData& pd = sys.pd;
    d.pos.download(pd.pos);
    d.vel.download(pd.vel);
    d.accel.download(pd.accel);
    d.image.download(pd.image);
    d.net_force.download(pd.net_force);
    d.net_energy.download(pd.net_energy);
    if (d.rotating) {
        d.orientation.download(pd.orientation);
        d.angmom.download(pd.angmom);
        d.net_torque.download(pd.net_torque);
    }
    for (auto& f : sys.forces) {
        DeviceForce* df = device_path(*f);
        if (df && df->d_force.size()) {
            df->d_force.download(f->force);
            df->d_energy.download(f->energy);
        }
    }
    for (DeviceNeighborList* nl : d.lists) nl->finish();
}

void DeviceRun::computeNetForce(System& sys, uint64_t t, bool clocked, int64_t offset, double* raw) {
    DeviceState& d = state;
    const ParticleData& pd = sys.pd;
    const uint32_t N = pd.N;
    gpu::launch(N, gpu::PackOp{d.pos.get(), d.typeid_.get(), d.postype.get()}, "pack positions");
    const DeviceParticles dp{N, pd.box, d.pos.get(), d.postype.get(),
                             clocked ? gpu::Clock{d.clock.get(), offset} : gpu::Clock{}};
    for (auto& f : sys.forces) device_of(*f).computeDevice(pd, dp, t);
    gpu::launch(N, gpu::ZeroNetOp{d.net_force.get(), d.net_energy.get()}, "zero net force");
    for (auto& f : sys.forces)
        gpu::launch(N,
                    gpu::AddForceOp{device_of(*f).d_force.get(), device_of(*f).d_energy.get(), d.net_force.get(),
                                    d.net_energy.get()},
                    "add force");
    if (raw) gpu::launch(3 * N, gpu::CopyOp{d.net_force.get(), raw}, "forces before the transfer");
    if (d.rotating) {  // [System::computeNetForce] torques from the bodies' constituents only
        gpu::launch(N, gpu::ZeroTorqueOp{d.net_torque.get()}, "zero torque");
        gpu::launch(
            uint32_t(sys.rigid.centers.size()),
            gpu::TransferOp{d.centers.get(), d.start.get(), d.constituents.get(), d.site_pos.get(), d.orientation.get(),
                            pd.box.is2D, d.net_force.get(), d.net_torque.get(), d.net_energy.get()},
            "rigid bodies: transfer");
    }
    gpu::launch(
        N, gpu::CheckStateOp{d.pos.get(), d.image.get(), d.net_force.get(), d.net_energy.get(), pd.box, d.status.get()},
        "state check");
}

void DeviceRun::stepOne(System& sys) {
    DeviceState& d = state;
    const ParticleData& pd = sys.pd;
    const uint64_t t = sys.timestep;
    const unsigned dim = pd.dimensions();
    for (size_t k = 0; k < sys.methods.size(); ++k) {
        Method& m = sys.methods[k];
        const StepArgs a{t, sys.seed, sys.dt, m.kT(t), dim};
        const uint32_t n = uint32_t(m.members.size());
        const uint32_t* mem = d.members[k]->get();
        const gpu::Clock clock{d.clock.get(), 0};
        if (m.kind == Method::Brownian) {
            m.velocity_pending = true;
            m.velocity_step = t;
            gpu::launch(n,
                        gpu::BrownianOp{mem, a, clock, m.kT, pd.box, d.gamma[k]->get(), d.typeid_.get(),
                                        d.net_force.get(), d.pos.get(), d.image.get()},
                        "Brownian step");
        } else {
            gpu::launch(n,
                        gpu::StepOneOp{mem, a, clock, m.kT, pd.box, m.kind == Method::Langevin, d.accel.get(),
                                       d.pos.get(), d.image.get(), d.vel.get()},
                        "step one");
        }
        if (sys.aniso)
            gpu::launch(
                n,
                gpu::RotateOneOp{mem, a, clock, m.kT, m.kind == Method::Brownian, d.gamma_r[k]->get(), d.typeid_.get(),
                                 d.moment_inertia.get(), d.net_torque.get(), d.orientation.get(), d.angmom.get()},
                "rotation step one");
    }
    if (!sys.rigid.empty())
        gpu::launch(uint32_t(sys.rigid.members.size()),
                    gpu::PlaceSitesOp{d.centers.get(), d.constituents.get(), d.site_body.get(), d.site_pos.get(),
                                      d.site_orient.get(), pd.box, d.pos.get(), d.image.get(), d.orientation.get()},
                    "rigid bodies: place");
    gpu::launch(1, gpu::TickOp{d.clock.get(), 1}, "step");  // the forces of step t + 1
    computeNetForce(sys, t + 1, true);
}

void DeviceRun::stepTwo(System& sys) {
    DeviceState& d = state;
    const ParticleData& pd = sys.pd;
    const uint64_t t = sys.timestep;
    const unsigned dim = pd.dimensions();
    for (size_t kk = sys.methods.size(); kk-- > 0;) {
        const Method& m = sys.methods[kk];
        const StepArgs a{t, sys.seed, sys.dt, m.kT(t), dim};
        const uint32_t n = uint32_t(m.members.size());
        const uint32_t* mem = d.members[kk]->get();
        const gpu::Clock clock{d.clock.get(), -1};  // (the clock has moved on to t + 1)
        if (m.kind == Method::Langevin)
            gpu::launch(n,
                        gpu::LangevinTwoOp{mem, a, clock, m.kT, d.gamma[kk]->get(), d.typeid_.get(), d.mass.get(),
                                           d.net_force.get(), d.accel.get(), d.vel.get()},
                        "Langevin step two");
        else if (m.kind == Method::ConstantVolume)
            gpu::launch(n,
                        gpu::NVETwoOp{mem, a, clock, m.kT, d.mass.get(), d.net_force.get(), d.accel.get(), d.vel.get()},
                        "NVE step two");
        if (sys.aniso && m.kind != Method::Brownian)
            gpu::launch(
                n,
                gpu::RotateTwoOp{mem, a, clock, m.kT, m.kind == Method::Langevin, d.gamma_r[kk]->get(), d.typeid_.get(),
                                 d.moment_inertia.get(), d.net_torque.get(), d.orientation.get(), d.angmom.get()},
                "rotation step two");
    }
    sys.timestep = t + 1;
}

}  // namespace ha
