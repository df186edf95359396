#include "System.h"

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

#include "TwoStep.h"

namespace ha {

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
        std::ostringstream s;
        s << "dt must be positive and finite, got " << dt;
        throw std::invalid_argument(s.str());
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
                std::ostringstream s;
                s << "particle tag " << tag << " has mass " << pd.mass[tag] << ": Langevin and ConstantVolume need mass > 0";
                throw std::invalid_argument(s.str());
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
            std::ostringstream s;
            s << "particle tag " << i << " at (" << pd.pos[3 * i] << ", " << pd.pos[3 * i + 1] << ", " << pd.pos[3 * i + 2]
              << ") is outside the box at step " << t
              << " (it moved more than a box length in one step, or its position is not finite: reduce dt?)";
            throw std::runtime_error(s.str());
        }
    }
    std::vector<uint32_t> bad;
    for (uint32_t i = 0; i < pd.N; ++i) {
        const double* f = &pd.net_force[3 * i];
        if (!std::isfinite(f[0]) || !std::isfinite(f[1]) || !std::isfinite(f[2]) || !std::isfinite(pd.net_energy[i]))
            bad.push_back(i);
    }
    if (bad.empty()) return;
    std::ostringstream s;
    s << "non-finite force at step " << t << " on " << bad.size() << " particle(s), tags";
    for (size_t k = 0; k < bad.size() && k < 10; ++k) s << (k ? ", " : " ") << bad[k];
    if (bad.size() > 10) s << ", ...";
    s << " (overlapping particles or too large a time step?)";
    throw std::runtime_error(s.str());
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
