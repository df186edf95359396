#include "engine/System.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>
#include "core/Format.h"
#include <stdexcept>

#include "engine/RotationStep.h"
#include "engine/TwoStep.h"

namespace ha {

System::System() = default;
System::~System() = default;

void System::checkAdvance(uint64_t n) const {
    if (n > UINT64_MAX - timestep)
        throw std::overflow_error(
            format("cannot advance %llu steps from timestep %llu: the timestep would pass "
                   "2^64 - 1",
                   (unsigned long long)n, (unsigned long long)timestep));
}

void System::advance(uint64_t n) {
    checkAdvance(n);
    if (useGPU) {
        if (!accelerator) throw std::logic_error("advance: useGPU without a device runner (device/DeviceRun.h)");
        accelerator->advance(*this, n);
        return;
    }
    steps(n, [this](uint64_t) { step(); });
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
    for (const auto& m : methods)
        if (aniso && m.gamma_r.size() != 3 * size_t(pd.ntypes))
            throw std::invalid_argument("every method needs gamma_r (3 per type) for rotational integration");
    checkRotationalInput();
    if (!rigid.empty()) placeSites();
    try {
        updateNetForce();
    } catch (const StateError& e) {
        throw StateError(e.what() + failureNote());
    }
    if (!pd.accel_set) {
        for (uint32_t i = 0; i < pd.N; ++i)
            for (int k = 0; k < 3; ++k) pd.accel[3 * i + k] = pd.net_force[3 * i + k] * (1.0 / pd.mass[i]);
        pd.accel_set = true;
    }
}

void System::computeNetForce(uint64_t t) {
    sumForces(t);
    std::fill(pd.net_torque.begin(), pd.net_torque.end(), 0.0);  // (no force here makes torques)
    if (!rigid.empty()) transferComposite();
    checkForces(t);
}

void System::sumForces(uint64_t t) {
    const uint32_t N = pd.N;
    pd.packPositions(nthreads);
    try {
        for (auto& f : forces) f->compute(pd, t, nthreads);
    } catch (const OutsideBoxError& e) {  // a list build met it before checkForces could
        throwOutside(e.tag, t);
    }
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
}

void System::checkForces(uint64_t t) const {
    // Every position must be in the primary image: wrap moves one image per step, so a particle
    // that moved more than a box length (or became non-finite) is caught here.
    auto inside = [&](uint32_t i) {
        const Vec3 f = pd.box.makeFraction(pd.position(i));
        return f.x >= -1e-10 && f.x <= 1 + 1e-10 && f.y >= -1e-10 && f.y <= 1 + 1e-10 &&
               (pd.box.is2D || (f.z >= -1e-10 && f.z <= 1 + 1e-10));
    };
    // image counters are int32: a particle that crosses a face 2^31 times would wrap around
    auto image_ok = [&](uint32_t i, int k) {
        return pd.image[3 * i + k] != INT32_MAX && pd.image[3 * i + k] != INT32_MIN;
    };
    auto force_ok = [&](uint32_t i) {
        const double* f = &pd.net_force[3 * i];
        return std::isfinite(f[0]) && std::isfinite(f[1]) && std::isfinite(f[2]) && std::isfinite(pd.net_energy[i]);
    };
    // One parallel pass says whether anything is wrong; only then the serial passes below name
    // the offender (three serial passes over N were ~3% of a small system's step).
    int wrong = 0;
#pragma omp parallel for schedule(static) reduction(| : wrong) num_threads(threads_for(nthreads, pd.N))
    for (int64_t ii = 0; ii < int64_t(pd.N); ++ii) {
        const uint32_t i = uint32_t(ii);
        wrong |= int(!(inside(i) && image_ok(i, 0) && image_ok(i, 1) && image_ok(i, 2) && force_ok(i)));
    }
    if (!wrong) return;
    for (uint32_t i = 0; i < pd.N; ++i)
        if (!inside(i)) throwOutside(i, t);
    for (uint32_t i = 0; i < pd.N; ++i)
        for (int k = 0; k < 3; ++k)
            if (!image_ok(i, k))
                throw std::overflow_error(
                    format("particle tag %u's image counter along %c reached the int32 limit "
                           "%d at step %llu: its unwrapped position can no longer be tracked",
                           i, "xyz"[k], pd.image[3 * i + k], (unsigned long long)t));
    std::vector<uint32_t> bad;
    for (uint32_t i = 0; i < pd.N; ++i)
        if (!force_ok(i)) bad.push_back(i);
    if (bad.empty()) return;
    std::string s = format("non-finite force at step %llu on %zu particle(s), tags", (unsigned long long)t, bad.size());
    for (size_t k = 0; k < bad.size() && k < 10; ++k) s += format(k ? ", %u" : " %u", bad[k]);
    if (bad.size() > 10) s += ", ...";
    s += " (overlapping particles or too large a time step?).";
    throw StateError(s);
}

void System::throwOutside(uint32_t i, uint64_t t) const {
    throw StateError(
        format("particle tag %u at (%g, %g, %g) is outside the box at step %llu (it moved more than a "
               "box length in one step, or its position is not finite: reduce dt?).",
               i, pd.pos[3 * i], pd.pos[3 * i + 1], pd.pos[3 * i + 2], (unsigned long long)t));
}

// ---- after a failure -----------------------------------------------------------------------------

void System::saveStep(StepSave& s) const {
    // (assignments into kept vectors: no allocation after the first)
    s.t = timestep;
    s.full = true;
    s.pos = pd.pos;
    s.image = pd.image;
    s.net_force = pd.net_force;
    s.inertial = false;
    for (const Method& m : methods) s.inertial = s.inertial || m.kind != Method::Brownian;
    if (s.inertial) {  // (Brownian steps read neither)
        s.vel = pd.vel;
        s.accel = pd.accel;
    }
    if (aniso || !rigid.empty()) {
        s.orientation = pd.orientation;
        s.angmom = pd.angmom;
        s.net_torque = pd.net_torque;
    }
    s.thermostats.clear();
    for (const Method& m : methods) s.thermostats.push_back(m.thermostat);
}

void System::loadStep(const StepSave& s) {
    timestep = s.t;
    pd.pos = s.pos;
    pd.image = s.image;
    pd.net_force = s.net_force;
    if (s.inertial) {
        pd.vel = s.vel;
        pd.accel = s.accel;
    }
    if (aniso || !rigid.empty()) {
        pd.orientation = s.orientation;
        pd.angmom = s.angmom;
        pd.net_torque = s.net_torque;
    }
    for (size_t k = 0; k < methods.size() && k < s.thermostats.size(); ++k) methods[k].thermostat = s.thermostats[k];
}

void System::steps(uint64_t n, const std::function<void(uint64_t)>& fn) {
    // Every 64 steps one copy of what a step reads (a small share of one step's cost); only a
    // failure replays from it, to the state before the failed step (steps are bitwise
    // replayable: the noise is a function of (seed, timestep, tag)).
    // A call of one step keeps only the positions, all the note needs (Python loops of
    // advance(1) pay no more than one copy of them).
    StepSave& save = m_save;
    save.t = UINT64_MAX;  // (only this call's copies count)
    try {
        stepGovernor.run(nthreads, n, [&](uint64_t j) {
            if (j % 64 == 0) {
                if (n == 1) {
                    save.t = timestep;
                    save.full = false;
                    save.pos = pd.pos;
                } else {
                    saveStep(save);
                }
            }
            fn(j);
            return false;
        });
    } catch (const StateError& e) {
        const uint64_t failed = timestep;  // (step() advances the timestep only when it completes)
        if (save.t == UINT64_MAX || save.t > failed) throw;
        if (!save.full) {  // the positions before this very step
            std::swap(pd.pos, save.pos);
            const std::string note = failureNote();
            std::swap(pd.pos, save.pos);
            throw StateError(e.what() + note);
        }
        loadStep(save);
        while (timestep < failed) step();
        const std::string note = failureNote();
        try {
            step();
        } catch (const StateError& again) {
            throw StateError(again.what() + note);
        }
        throw std::logic_error(format("a step from timestep %llu failed (%s) but did not fail when replayed",
                                      (unsigned long long)failed, e.what()));
    }
}

std::string System::failureNote() const {
    const uint32_t N = pd.N, nt = pd.ntypes;
    if (contact.size() != size_t(nt) * nt || N < 2) return "";
    double rmax = 0;
    for (double c : contact) rmax = std::max(rmax, kNoteFraction * c);
    if (!(rmax > 0) || !std::isfinite(rmax)) return "";
    const BoxDim& box = pd.box;
    // cells at least rmax thick along each lattice direction, at most about 4N of them
    const Vec3 thick = box.nearestPlaneDistance();
    const double th[3] = {thick.x, thick.y, thick.z};
    int nc[3] = {1, 1, 1};
    for (int k = 0; k < (box.is2D ? 2 : 3); ++k) nc[k] = int(std::clamp(std::floor(th[k] / rmax), 1.0, 1024.0));
    while (double(nc[0]) * nc[1] * nc[2] > 4.0 * N + 64)
        for (int k = 0; k < 3; ++k) nc[k] = std::max(1, nc[k] / 2);
    const uint32_t ncells = uint32_t(nc[0]) * nc[1] * nc[2];
    std::vector<int64_t> cell(N, -1);
    std::vector<uint32_t> start(ncells + 1, 0);
    for (uint32_t i = 0; i < N; ++i) {
        const Vec3 f = box.makeFraction(pd.position(i));
        const double fr[3] = {f.x, f.y, box.is2D ? 0.5 : f.z};
        int c[3];
        bool in = true;
        for (int k = 0; k < 3; ++k) {
            in = in && fr[k] >= 0.0 && fr[k] <= 1.0;  // (false for NaN)
            c[k] = in ? std::min(nc[k] - 1, int(fr[k] * nc[k])) : 0;
        }
        if (!in) continue;  // the particle that left: no distances to it
        cell[i] = (int64_t(c[2]) * nc[1] + c[1]) * nc[0] + c[0];
        start[cell[i] + 1]++;
    }
    for (uint32_t c = 0; c < ncells; ++c) start[c + 1] += start[c];
    std::vector<uint32_t> members(start[ncells]), fill(start.begin(), start.end() - 1);
    for (uint32_t i = 0; i < N; ++i)
        if (cell[i] >= 0) members[fill[cell[i]]++] = i;
    uint64_t count = 0;
    double best = INFINITY, best_r = 0;
    uint32_t bi = 0, bj = 0;
    for (uint32_t i = 0; i < N; ++i) {
        if (cell[i] < 0) continue;
        const int c0[3] = {int(cell[i] % nc[0]), int((cell[i] / nc[0]) % nc[1]),
                           int(cell[i] / (int64_t(nc[0]) * nc[1]))};
        uint32_t seen[27];
        int ns = 0;
        for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                    const int x = (c0[0] + dx + nc[0]) % nc[0], y = (c0[1] + dy + nc[1]) % nc[1],
                              z = (c0[2] + dz + nc[2]) % nc[2];
                    const uint32_t cc = uint32_t((z * nc[1] + y) * nc[0] + x);
                    if (std::find(seen, seen + ns, cc) != seen + ns) continue;  // (fewer than 3 cells along an axis)
                    seen[ns++] = cc;
                    for (uint32_t q = start[cc]; q < start[cc + 1]; ++q) {
                        const uint32_t j = members[q];
                        if (j <= i || (pd.body[i] >= 0 && pd.body[i] == pd.body[j])) continue;
                        const double cd = contact[size_t(pd.typeid_[i]) * nt + pd.typeid_[j]];
                        if (!(cd > 0)) continue;
                        const Vec3 d =
                            box.minImage(Vec3{pd.pos[3 * j] - pd.pos[3 * i], pd.pos[3 * j + 1] - pd.pos[3 * i + 1],
                                              pd.pos[3 * j + 2] - pd.pos[3 * i + 2]});
                        const double r = std::sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
                        if (!(r < kNoteFraction * cd)) continue;
                        ++count;
                        if (r / cd < best) best = r / cd, best_r = r, bi = i, bj = j;
                    }
                }
    }
    if (count == 0)
        return format(" At step %llu no two particles were closer than %g of their contact distance.",
                      (unsigned long long)timestep, kNoteFraction);
    const size_t k = size_t(pd.typeid_[bi]) * nt + pd.typeid_[bj];
    auto who = [&](uint32_t i) {  // a rigid body's site says whose
        return pd.body[i] >= 0 && uint32_t(pd.body[i]) != i ? format("%u (a site of body %d)", i, pd.body[i])
                                                            : format("%u", i);
    };
    std::string s = format(
        " At step %llu particle tags %s and %s were %g apart, at (%g, %g, %g) and (%g, %g, %g): "
        "%.3g of their contact distance %g (%s)",
        (unsigned long long)timestep, who(bi).c_str(), who(bj).c_str(), best_r, pd.pos[3 * bi], pd.pos[3 * bi + 1],
        pd.pos[3 * bi + 2], pd.pos[3 * bj], pd.pos[3 * bj + 1], pd.pos[3 * bj + 2], best, contact[k],
        k < contactLabel.size() ? contactLabel[k].c_str() : "");
    if (count > 1)
        s += format("; %llu pairs in all were closer than %g of theirs", (unsigned long long)count, kNoteFraction);
    return s + ".";
}

void System::checkRotationalInput() const {
    // Where orientations and moments are used (rigid bodies' centres; every integrated particle
    // when rotations are integrated): a negative moment makes the rotational kinetic energy
    // unbounded below, and a quaternion of norm |q| != 1 scales a body's sites by |q|^2 (HOOMD
    // 4.8.2 does both without a word, and turns q = 0 into NaN at the first step).
    std::vector<char> used(pd.N, 0);
    for (uint32_t c : rigid.centers) used[c] = 1;
    if (aniso)
        for (const Method& m : methods)
            for (uint32_t i : m.members) used[i] = 1;
    for (uint32_t i = 0; i < pd.N; ++i) {
        if (!used[i]) continue;
        const double* I = &pd.moment_inertia[3 * i];
        if (!(I[0] >= 0 && I[1] >= 0 && I[2] >= 0))
            throw std::invalid_argument(
                format("particle tag %u%s has moment_inertia (%g, %g, %g): principal moments "
                       "must be >= 0 (0 freezes the rotation about that axis, as in HOOMD)",
                       i, rigid.center_index.size() > i && rigid.center_index[i] >= 0 ? " (a rigid body's centre)" : "",
                       I[0], I[1], I[2]));
        const double* q = &pd.orientation[4 * i];
        const double norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
        if (!(std::fabs(norm - 1.0) <= kOrientationTolerance))
            throw std::invalid_argument(
                format("particle tag %u%s has orientation (%g, %g, %g, %g) of norm %g: "
                       "orientations must be unit quaternions (|norm - 1| <= %g); normalise "
                       "them, q / |q|",
                       i, rigid.center_index.size() > i && rigid.center_index[i] >= 0 ? " (a rigid body's centre)" : "",
                       q[0], q[1], q[2], q[3], norm, kOrientationTolerance));
    }
}

void System::step() {
    const uint64_t t = timestep;
    if (thermostatLogOn) logThermostats(t);
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
            const std::array<double, 2> s1 = thermostatFactorsOne(m, a);
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, size_t(n)))
            for (int64_t k = 0; k < n; ++k) {
                uint32_t i = mem[k];
                if (m.kind == Method::Langevin)
                    langevin_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i);
                else
                    nve_step_one(a, box, acc + 3 * i, r + 3 * i, img + 3 * i, v + 3 * i, s1[0]);
            }
            if (aniso) rotateStepOne(m, a, s1[1]);
            thermostatAdvance(m, a);
            continue;
        }
        if (aniso) rotateStepOne(m, a);
    }
    if (!rigid.empty()) placeSites();
    computeNetForce(t + 1);
    for (auto it = methods.rbegin(); it != methods.rend(); ++it) {
        const Method& m = *it;
        if (m.kind == Method::Brownian) continue;
        const StepArgs a{t, seed, dt, m.kT(t), dim};
        const uint32_t* mem = m.members.data();
        const int64_t n = int64_t(m.members.size());
        double *v = pd.vel.data(), *acc = pd.accel.data();
        const double* F = pd.net_force.data();
        // [Thermostat::getRescalingFactorsTwo]: MTTK's factors, 1 for the others
        const std::array<double, 2> s2 =
            m.thermostat.kind == Thermostat::MTTK ? mttk_factors(m.thermostat, dt) : std::array<double, 2>{1.0, 1.0};
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, size_t(n)))
        for (int64_t k = 0; k < n; ++k) {
            uint32_t i = mem[k];
            if (m.kind == Method::Langevin)
                langevin_step_two(i, a, m.gamma[pd.typeid_[i]], pd.mass[i], F + 3 * i, acc + 3 * i, v + 3 * i);
            else
                nve_step_two(a, pd.mass[i], F + 3 * i, acc + 3 * i, v + 3 * i, s2[0]);
        }
        if (aniso) rotateStepTwo(m, a, s2[1]);
    }
    timestep = t + 1;
    if (thermostatLogOn) logThermostats(t + 1);
}

void System::logThermostats(uint64_t t) {
    std::vector<Thermostat>& at = thermostatLog[t];  // (a replay writes the same values again)
    at.clear();
    for (const Method& m : methods) at.push_back(m.thermostat);
}

bool System::restoreThermostats(uint64_t t) {
    const auto it = thermostatLog.find(t);
    if (it == thermostatLog.end() || it->second.size() != methods.size()) return false;
    for (size_t k = 0; k < methods.size(); ++k) methods[k].thermostat = it->second[k];
    return true;
}

// ---- rigid bodies ------------------------------------------------------------------------------

void System::setBodies(std::vector<RigidBodies::Definition> defs) {
    if (defs.size() != pd.ntypes)
        throw std::invalid_argument(format("setBodies: %zu body definitions for %u types", defs.size(), pd.ntypes));
    for (uint32_t t = 0; t < pd.ntypes; ++t)
        for (uint32_t c : defs[t].types) {
            if (c >= pd.ntypes) throw std::invalid_argument(format("body of type %u: constituent type id %u", t, c));
            if (defs[c].size())
                throw std::invalid_argument(
                    format("body of type %u: its constituent type %u is itself a body type (nested bodies)", t, c));
        }
    RigidBodies rb;
    rb.defs = std::move(defs);
    rb.center_index.assign(pd.N, -1);
    // [ForceComposite::validateRigidBodies]: centres have body == tag and a body type; constituents
    // follow their centre's tag, in body-definition order, and every body is complete.
    std::vector<std::vector<uint32_t>> of(pd.N);
    for (uint32_t i = 0; i < pd.N; ++i) {
        const int32_t b = pd.body[i];
        const bool body_type = rb.defs[pd.typeid_[i]].size() > 0;
        if (b < 0) {
            if (body_type)
                throw std::invalid_argument(
                    format("particle tag %u has a body type but body = -1: call Rigid.create_bodies", i));
            continue;
        }
        if (uint32_t(b) >= pd.N)
            throw std::invalid_argument(format("particle tag %u has body %d, not a particle tag", i, b));
        if (uint32_t(b) == i) {
            if (!body_type)
                throw std::invalid_argument(
                    format("particle tag %u is a central particle (body = tag) but its type %u has no body definition",
                           i, pd.typeid_[i]));
            rb.center_index[i] = int32_t(rb.centers.size());
            rb.centers.push_back(i);
            continue;
        }
        if (pd.body[b] != b)
            throw std::invalid_argument(
                format("particle tag %u belongs to body %d, whose particle is not a central particle (body[body[i]] != "
                       "body[i])",
                       i, b));
        if (uint32_t(b) > i)
            throw std::invalid_argument(
                format("constituent tag %u precedes its central particle %d: a central particle's tag must be smaller "
                       "than its constituents'",
                       i, b));
        of[b].push_back(i);
    }
    rb.start.push_back(0);
    for (uint32_t c : rb.centers) {
        const auto& d = rb.defs[pd.typeid_[c]];
        if (of[c].size() != d.size())
            throw std::invalid_argument(
                format("Incomplete rigid body with only %zu constituent particles instead of %zu for body %u",
                       of[c].size(), d.size(), c));
        for (size_t k = 0; k < d.size(); ++k) {
            if (pd.typeid_[of[c][k]] != d.types[k])
                throw std::invalid_argument(
                    format("constituent %zu of body %u (tag %u) has type id %u, the body definition says %u", k, c,
                           of[c][k], pd.typeid_[of[c][k]], d.types[k]));
            rb.members.push_back(of[c][k]);
        }
        rb.start.push_back(uint32_t(rb.members.size()));
    }
    rigid = std::move(rb);
}

void System::placeSites() {
    for (size_t b = 0; b < rigid.centers.size(); ++b) {
        const uint32_t c = rigid.centers[b];
        const auto& def = rigid.defs[pd.typeid_[c]];
        const Q4<double> q = {pd.orientation[4 * c], pd.orientation[4 * c + 1], pd.orientation[4 * c + 2],
                              pd.orientation[4 * c + 3]};
        for (uint32_t k = 0; k < def.size(); ++k) {
            const uint32_t j = rigid.members[rigid.start[b] + k];
            place_site(pd.box, &pd.pos[3 * c], &pd.image[3 * c], q, &def.pos[3 * k], &def.orient[4 * k], &pd.pos[3 * j],
                       &pd.image[3 * j], &pd.orientation[4 * j]);
            pd.typeid_[j] = def.types[k];
        }
    }
}

void System::transferComposite() {
    for (size_t b = 0; b < rigid.centers.size(); ++b) {
        const uint32_t c = rigid.centers[b];
        const Q4<double> q = {pd.orientation[4 * c], pd.orientation[4 * c + 1], pd.orientation[4 * c + 2],
                              pd.orientation[4 * c + 3]};
        transfer_body(c, &rigid.members[rigid.start[b]], rigid.start[b + 1] - rigid.start[b],
                      rigid.defs[pd.typeid_[c]].pos.data(), q, pd.box.is2D, pd.net_force.data(), pd.net_torque.data(),
                      pd.net_energy.data());
    }
}

void System::rotateStepOne(Method& m, const StepArgs& a, double scale) {
    for (uint32_t i : m.members)
        rotate_one(i, m.kind == Method::Brownian, a, &m.gamma_r[3 * pd.typeid_[i]], &pd.moment_inertia[3 * i],
                   &pd.net_torque[3 * i], &pd.orientation[4 * i], &pd.angmom[4 * i], scale);
}

void System::rotateStepTwo(const Method& m, const StepArgs& a, double scale) {
    if (m.kind == Method::Brownian) return;
    for (uint32_t i : m.members)
        rotate_two(i, m.kind == Method::Langevin, a, &m.gamma_r[3 * pd.typeid_[i]], &pd.moment_inertia[3 * i],
                   &pd.net_torque[3 * i], &pd.orientation[4 * i], &pd.angmom[4 * i], scale);
}

// ---- box resize (update.BoxResize) --------------------------------------------------------------

bool System::resizeBox(const std::array<double, 6>& L, const std::vector<uint32_t>& members) {
    const BoxDim cur = pd.box;
    if (cur.Lx == L[0] && cur.Ly == L[1] && cur.Lz == L[2] && cur.xy == L[3] && cur.xz == L[4] && cur.yz == L[5])
        return false;
    const BoxDim next(L[0], L[1], L[2], L[3], L[4], L[5]);
    for (uint32_t i : members) {
        double* r = &pd.pos[3 * size_t(i)];
        const Vec3 p = next.makeCoordinates(cur.makeFraction({r[0], r[1], r[2]}));
        r[0] = p.x;
        r[1] = p.y;
        r[2] = p.z;
    }
    pd.box = next;
    for (uint32_t i = 0; i < pd.N; ++i) {
        double* r = &pd.pos[3 * size_t(i)];
        next.wrapInto({r[0], r[1], r[2]}, r, &pd.image[3 * size_t(i)]);
    }
    return true;
}

// ---- thermostats (ConstantVolume) ----------------------------------------------------------------

// [ComputeThermo::computeProperties] over the method's particles, in tag order: 1/2 sum m v^2 and,
// when rotations are integrated, 1/2 sum_axes s_k^2 / I_k with s = 1/2 conj(q) p (axes with I > 0).
KineticEnergies System::kineticEnergies(const Method& m) const {
    KineticEnergies k;
    for (uint32_t i : m.members) {
        const double* v = &pd.vel[3 * i];
        k.trans += pd.mass[i] * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    }
    k.trans *= 0.5;
    if (!aniso) return k;
    for (uint32_t i : m.members) {
        const Q4<double> q = {pd.orientation[4 * i], pd.orientation[4 * i + 1], pd.orientation[4 * i + 2],
                              pd.orientation[4 * i + 3]};
        const Q4<double> p = {pd.angmom[4 * i], pd.angmom[4 * i + 1], pd.angmom[4 * i + 2], pd.angmom[4 * i + 3]};
        const double* I = &pd.moment_inertia[3 * i];
        double terms[3];
        rotational_terms(q, p, I, terms);
        for (int a = 0; a < 3; ++a)
            if (I[a] > 0) k.rot += terms[a];  // (axis by axis, as HOOMD-blue sums)
    }
    k.rot /= 2.0;
    return k;
}

ThermostatInputs System::thermostatInputs(const Method& m, const StepArgs& a) const {
    const Thermostat& th = m.thermostat;
    ThermostatInputs in;
    in.k = kineticEnergies(m);
    if ((th.trans_dof != 0 && in.k.trans == 0) || (th.rot_dof != 0 && aniso && in.k.rot == 0))
        throw StateError(
            format("ConstantVolume's %s thermostat at step %llu: the kinetic energy of its particles "
                   "is 0 (translational %g, rotational %g), and a rescaling cannot give them any: draw "
                   "momenta first (State.thermalize_particle_momenta)",
                   th.kind == Thermostat::Bussi ? "Bussi" : "Berendsen", (unsigned long long)a.timestep, in.k.trans,
                   in.k.rot));
    if (th.kind == Thermostat::Bussi) {
        // [BussiThermostat::getRescalingFactorsOne]: one stream, keyed by the group's first tag
        RandomGenerator rng(rng_id::BussiThermostat, a.timestep, a.seed, m.members.empty() ? 0 : m.members[0]);
        in.trans = bussi_draws(th.trans_dof, rng);
        in.rot = bussi_draws(th.rot_dof, rng);
    }
    return in;
}

std::array<double, 2> System::thermostatFactorsOne(const Method& m, const StepArgs& a) const {
    const Thermostat& th = m.thermostat;
    if (m.kind != Method::ConstantVolume || th.kind == Thermostat::None) return {1.0, 1.0};
    if (th.kind == Thermostat::MTTK) return mttk_factors(th, a.dt);
    if (th.kind == Thermostat::Bussi && a.dt == 0.0) return {1.0, 1.0};
    return thermostatFactors(m, a, thermostatInputs(m, a));
}

std::array<double, 2> System::thermostatFactors(const Method& m, const StepArgs& a, const ThermostatInputs& in) const {
    const Thermostat& th = m.thermostat;
    if (th.kind == Thermostat::Bussi)
        return {bussi_rescale(in.k.trans, th.trans_dof, a.dt, th.tau, a.kT, in.trans),
                bussi_rescale(aniso ? in.k.rot : 0.0, th.rot_dof, a.dt, th.tau, a.kT, in.rot)};
    const double T_rot = aniso ? thermo_temperature(in.k.rot, th.rot_dof) : 0.0;
    return {berendsen_rescale(a.dt, th.tau, a.kT, thermo_temperature(in.k.trans, th.trans_dof)),
            berendsen_rescale(a.dt, th.tau, a.kT, T_rot)};
}

void System::thermostatAdvance(Method& m, const StepArgs& a) {
    if (m.kind != Method::ConstantVolume || m.thermostat.kind != Thermostat::MTTK) return;
    mttk_advance(m.thermostat, a.dt, a.kT, kineticEnergies(m), aniso);
}

// As HOOMD-blue 4.8.2's ParticleGroup::thermalizeParticleMomenta, operation for operation (a fresh
// HOOMD-blue state holds its particles in tag order, as this engine always does): per member, a
// generator keyed (ParticleGroupThermalize, timestep, seed) and counted by tag draws the velocity
// (zero for a rigid body's constituent; no z in 2D), then, for a particle with rotational degrees
// of freedom, one normal per axis with a nonzero moment (p = 2 q (0, p_body)); then the members'
// mean momentum is removed from the free particles and body centres.
void System::thermalizeMomenta(const std::vector<uint32_t>& tags, double kT) {
    materializeVelocities();  // a Brownian step's velocities, which HOOMD-blue holds by now
    const bool three = pd.dimensions() > 2;
    double total[3] = {0.0, 0.0, 0.0};
    for (uint32_t j : tags) {
        RandomGenerator rng(rng_id::ParticleGroupThermalize, timestep, seed, j);
        const double mass = pd.mass[j];
        const double sigma = std::sqrt(kT / mass);
        const int32_t body = pd.body[j];  // -1: none; below -1: floppy (HOOMD: >= MIN_FLOPPY)
        const bool centre_or_free = uint32_t(body) == j || body < 0;
        double* v = &pd.vel[3 * j];
        if (!centre_or_free) {
            v[0] = v[1] = v[2] = 0.0;
        } else {
            v[0] = rng.normal(sigma);
            v[1] = rng.normal(sigma);
            v[2] = three ? rng.normal(sigma) : 0.0;
        }
        for (int c = 0; c < 3; ++c) total[c] += mass * v[c];
        double p[3] = {0.0, 0.0, 0.0};
        const double* I = &pd.moment_inertia[3 * j];
        if (centre_or_free)
            for (int c = 0; c < 3; ++c)
                if (I[c] > 0) p[c] = rng.normal(std::sqrt(kT * I[c]));
        const double* q = &pd.orientation[4 * j];
        const double s = 2.0 * q[0], x = 2.0 * q[1], y = 2.0 * q[2], z = 2.0 * q[3];  // 2 q
        double* L = &pd.angmom[4 * j];  // (2 q) (0, p): (-v.p, s p + v x p)
        L[0] = -(x * p[0] + y * p[1] + z * p[2]);
        L[1] = s * p[0] + (y * p[2] - z * p[1]);
        L[2] = s * p[1] + (z * p[0] - x * p[2]);
        L[3] = s * p[2] + (x * p[1] - y * p[0]);
    }
    const double n = double(tags.size());
    const double com[3] = {total[0] / n, total[1] / n, total[2] / n};
    for (uint32_t j : tags) {
        const int32_t body = pd.body[j];
        if (uint32_t(body) != j && body != -1) continue;
        double* v = &pd.vel[3 * j];
        v[0] = v[0] - com[0] / pd.mass[j];
        v[1] = v[1] - com[1] / pd.mass[j];
        v[2] = three ? v[2] - com[2] / pd.mass[j] : 0.0;
    }
}

}  // namespace ha
