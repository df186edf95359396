#include "System.h"

#include <climits>
#include <cmath>
#include <set>
#include "../core/Format.h"
#include <stdexcept>

#include "GPU.h"
#include "TwoStep.h"

namespace ha {

struct DeviceState {
    gpu::Buffer<double> pos, vel, accel, mass, net_force, net_energy;
    gpu::Buffer<int32_t> image;
    gpu::Buffer<uint32_t> typeid_, flags;
    gpu::Buffer<PosType> postype;
    std::vector<std::unique_ptr<gpu::Buffer<uint32_t>>> members;
    std::vector<std::unique_ptr<gpu::Buffer<double>>> gamma;
};

System::System() = default;
System::~System() = default;

void System::advance(uint64_t n) {
    if (n > UINT64_MAX - timestep)
        throw std::overflow_error(format("cannot advance %llu steps from timestep %llu: the timestep would pass "
                                         "2^64 - 1", (unsigned long long)n, (unsigned long long)timestep));
    if (!useGPU) {
        stepGovernor.run(nthreads, n, [this](uint64_t) { step(); return false; });
        return;
    }
    if (!gpu::available()) throw std::runtime_error("device.GPU: no CUDA device is available");
    if (!m_dev) m_dev = std::make_unique<DeviceState>();
    DeviceState& d = *m_dev;
    d.pos.upload(pd.pos); d.vel.upload(pd.vel); d.accel.upload(pd.accel); d.mass.upload(pd.mass);
    d.net_force.upload(pd.net_force); d.net_energy.upload(pd.net_energy);
    d.image.upload(pd.image); d.typeid_.upload(pd.typeid_);
    d.postype.resize(pd.N);
    d.flags.resize(2);
    d.members.clear();
    d.gamma.clear();
    for (const Method& m : methods) {
        d.members.emplace_back(new gpu::Buffer<uint32_t>());
        d.members.back()->upload(m.members);
        d.gamma.emplace_back(new gpu::Buffer<double>());
        d.gamma.back()->upload(m.gamma);
    }
    auto bring_back = [&]() {
        d.pos.download(pd.pos); d.vel.download(pd.vel); d.accel.download(pd.accel); d.image.download(pd.image);
        d.net_force.download(pd.net_force); d.net_energy.download(pd.net_energy);
        for (auto& f : forces) {
            if (f->d_force.size()) { f->d_force.download(f->force); f->d_energy.download(f->energy); }
        }
    };
    try {
        for (uint64_t k = 0; k < n; ++k) stepDevice();
    } catch (...) {
        bring_back();
        throw;
    }
    bring_back();
}

void System::computeNetForceDevice(uint64_t t) {
    DeviceState& d = *m_dev;
    gpu::packPositions(pd.N, d.pos.get(), d.typeid_.get(), d.postype.get());
    const DeviceParticles dp{pd.N, pd.box, d.pos.get(), d.postype.get()};
    for (auto& f : forces) f->computeDevice(pd, dp, t, nthreads);
    gpu::zeroNet(pd.N, d.net_force.get(), d.net_energy.get());
    for (auto& f : forces) gpu::addForce(pd.N, f->d_force.get(), f->d_energy.get(), d.net_force.get(), d.net_energy.get());
    uint32_t bad[2];
    gpu::checkState(pd.N, d.pos.get(), d.net_force.get(), d.net_energy.get(), pd.box, d.flags.get(), bad);
    if (bad[0] != UINT32_MAX || bad[1] != UINT32_MAX) {
        // bring the data back and let the CPU check write the message
        d.pos.download(pd.pos); d.net_force.download(pd.net_force); d.net_energy.download(pd.net_energy);
        checkForces(t);
    }
}

void System::stepDevice() {
    DeviceState& d = *m_dev;
    const uint64_t t = timestep;
    const unsigned dim = pd.dimensions();
    for (size_t k = 0; k < methods.size(); ++k) {
        Method& m = methods[k];
        const StepArgs a{t, seed, dt, m.kT(t), dim};
        const uint32_t n = uint32_t(m.members.size());
        const uint32_t* mem = d.members[k]->get();
        if (m.kind == Method::Brownian) {
            m.velocity_pending = true;
            m.velocity_step = t;
            gpu::brownian(n, mem, a, pd.box, d.gamma[k]->get(), d.typeid_.get(), d.net_force.get(), d.pos.get(), d.image.get());
        } else if (m.kind == Method::Langevin) {
            gpu::langevinOne(n, mem, a, pd.box, d.accel.get(), d.pos.get(), d.image.get(), d.vel.get());
        } else {
            gpu::nveOne(n, mem, a, pd.box, d.accel.get(), d.pos.get(), d.image.get(), d.vel.get());
        }
    }
    computeNetForceDevice(t + 1);
    for (size_t kk = methods.size(); kk-- > 0;) {
        const Method& m = methods[kk];
        const StepArgs a{t, seed, dt, m.kT(t), dim};
        const uint32_t n = uint32_t(m.members.size());
        const uint32_t* mem = d.members[kk]->get();
        if (m.kind == Method::Langevin)
            gpu::langevinTwo(n, mem, a, d.gamma[kk]->get(), d.typeid_.get(), d.mass.get(), d.net_force.get(), d.accel.get(), d.vel.get());
        else if (m.kind == Method::ConstantVolume)
            gpu::nveTwo(n, mem, a, d.mass.get(), d.net_force.get(), d.accel.get(), d.vel.get());
    }
    timestep = t + 1;
}

void System::materializeVelocities() {
    for (Method& m : methods) {
        if (!m.velocity_pending) continue;
        const uint64_t t = m.velocity_step;
        const StepArgs a{t, seed, dt, m.kT(t), pd.dimensions()};
        for (uint32_t i : m.members) brownian_velocity(i, a, pd.mass[i], &pd.vel[3 * i]);
        m.velocity_pending = false;
    }
}

void System::prepRun() {
    if (!(dt > 0) || !std::isfinite(dt)) {
        throw std::invalid_argument(format("dt must be positive and finite, got %g", dt));
    }
    // Each neighbour list serves the largest r_cut any of its pair forces asks for.
    std::set<NeighborList*> seen;
    for (auto& f : forces) {
        auto pf = std::dynamic_pointer_cast<PairForce>(f);
        if (!pf || seen.count(pf->nlist().get())) continue;
        seen.insert(pf->nlist().get());
        std::vector<double> rc(size_t(pd.ntypes) * pd.ntypes, 0.0);
        for (auto& g : forces) {
            auto pg = std::dynamic_pointer_cast<PairForce>(g);
            if (!pg || pg->nlist() != pf->nlist()) continue;
            for (size_t k = 0; k < rc.size(); ++k) rc[k] = std::max(rc[k], pg->rcut()[k]);
        }
        pf->nlist()->setRcut(pd.ntypes, rc);
    }
    for (auto& f : forces) f->prepare(pd);
    for (auto& m : methods)
        for (uint32_t tag : m.members)
            if (m.kind != Method::Brownian && !(pd.mass[tag] > 0)) {
                throw std::invalid_argument(format(
                    "particle tag %u has mass %g: Langevin and ConstantVolume need mass > 0", tag, pd.mass[tag]));
            }
    computeNetForce(timestep);
    if (!pd.accel_set) {
        for (uint32_t i = 0; i < pd.N; ++i)
            for (int k = 0; k < 3; ++k) pd.accel[3 * i + k] = pd.net_force[3 * i + k] * (1.0 / pd.mass[i]);
        pd.accel_set = true;
    }
}

void System::computeNetForce(uint64_t t) {
    const uint32_t N = pd.N;
    pd.packPositions();
    for (auto& f : forces) f->compute(pd, t, nthreads);
    double* nf = pd.net_force.data();
    double* ne = pd.net_energy.data();
    const auto& fl = forces;
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, N))
    for (int64_t i = 0; i < int64_t(N); ++i) {
        double f[3] = {0, 0, 0}, e = 0;
        for (const auto& fc : fl) {
            for (int k = 0; k < 3; ++k) f[k] += fc->force[3 * i + k];
            e += fc->energy[i];
        }
        for (int k = 0; k < 3; ++k) nf[3 * i + k] = f[k];
        ne[i] = e;
    }
    checkForces(t);
}

void System::checkForces(uint64_t t) const {
    // Every position must be in the primary image: wrap moves one image per step, so a particle
    // that moved more than a box length (or became non-finite) is caught here.
    for (uint32_t i = 0; i < pd.N; ++i) {
        Vec3 f = pd.box.makeFraction(pd.position(i));
        const bool inside = f.x >= -1e-10 && f.x <= 1 + 1e-10 && f.y >= -1e-10 && f.y <= 1 + 1e-10 &&
                            (pd.box.is2D || (f.z >= -1e-10 && f.z <= 1 + 1e-10));
        if (!inside) {
            throw std::runtime_error(format("particle tag %u at (%g, %g, %g) is outside the box at step %llu (it moved "
                                            "more than a box length in one step, or its position is not finite: "
                                            "reduce dt?)",
                                            i, pd.pos[3 * i], pd.pos[3 * i + 1], pd.pos[3 * i + 2],
                                            (unsigned long long)t));
        }
    }
    // image counters are int32: a particle that crosses a face 2^31 times would wrap around
    for (uint32_t i = 0; i < pd.N; ++i)
        for (int k = 0; k < 3; ++k)
            if (pd.image[3 * i + k] == INT32_MAX || pd.image[3 * i + k] == INT32_MIN)
                throw std::overflow_error(format("particle tag %u's image counter along %c reached the int32 limit "
                                                 "%d at step %llu: its unwrapped position can no longer be tracked",
                                                 i, "xyz"[k], pd.image[3 * i + k], (unsigned long long)t));
    std::vector<uint32_t> bad;
    for (uint32_t i = 0; i < pd.N; ++i) {
        const double* f = &pd.net_force[3 * i];
        if (!std::isfinite(f[0]) || !std::isfinite(f[1]) || !std::isfinite(f[2]) || !std::isfinite(pd.net_energy[i]))
            bad.push_back(i);
    }
    if (bad.empty()) return;
    std::string s = format("non-finite force at step %llu on %zu particle(s), tags", (unsigned long long)t, bad.size());
    for (size_t k = 0; k < bad.size() && k < 10; ++k) s += format(k ? ", %u" : " %u", bad[k]);
    if (bad.size() > 10) s += ", ...";
    s += " (overlapping particles or too large a time step?)";
    throw std::runtime_error(s);
}

void System::step() {
    const uint64_t t = timestep;
    const unsigned dim = pd.dimensions();
    const BoxDim box = pd.box;
    for (Method& m : methods) {
        if (m.kind == Method::Brownian) {
            m.velocity_pending = true;
            m.velocity_step = t;
        }
        const StepArgs a{t, seed, dt, m.kT(t), dim};
        const uint32_t* mem = m.members.data();
        const int64_t n = int64_t(m.members.size());
        double *r = pd.pos.data(), *v = pd.vel.data(), *acc = pd.accel.data();
        int32_t* img = pd.image.data();
        const double* F = pd.net_force.data();
        if (m.kind == Method::Brownian) {
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, size_t(n)))
            for (int64_t k = 0; k < n; ++k) {
                uint32_t i = mem[k];
                brownian_step(i, a, box, m.gamma[pd.typeid_[i]], F + 3 * i, r + 3 * i, img + 3 * i);
            }
        } else {
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, size_t(n)))
            for (int64_t k = 0; k < n; ++k) {
                uint32_t i = mem[k];
                if (m.kind == Method::Langevin) langevin_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i);
                else nve_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i);
            }
        }
    }
    computeNetForce(t + 1);
    for (auto it = methods.rbegin(); it != methods.rend(); ++it) {
        const Method& m = *it;
        if (m.kind == Method::Brownian) continue;
        const StepArgs a{t, seed, dt, m.kT(t), dim};
        const uint32_t* mem = m.members.data();
        const int64_t n = int64_t(m.members.size());
        double *v = pd.vel.data(), *acc = pd.accel.data();
        const double* F = pd.net_force.data();
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, size_t(n)))
        for (int64_t k = 0; k < n; ++k) {
            uint32_t i = mem[k];
            if (m.kind == Method::Langevin) langevin_step_two(i, a, m.gamma[pd.typeid_[i]], pd.mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
            else nve_step_two(a, pd.mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
        }
    }
    timestep = t + 1;
}

}  // namespace ha
