#include "adjoint/RigidAdjoint.h"

#include <array>
#include <cmath>
#include <stdexcept>

#include "core/Dual.h"
#include "core/Format.h"
#include "adjoint/AdjointStep.h"
#include "adjoint/RigidAdjointStep.h"
#include "adjoint/ThermostatAdjoint.h"
#include "engine/RotationStep.h"
#include "engine/System.h"

namespace ha {

namespace {

Q4<double> quat_at(const std::vector<double>& a, uint32_t i) {
    return {a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]};
}

// acc (G values) += the sums over n entries of their parts (width values each, entry i's into
// acc[scale slot[i] ...]), by blocks and tree as the device sums them (RigidAdjointStep.h).
void add_block_sums(uint32_t n, const double* v, uint32_t width, const uint32_t* slot, uint32_t scale, uint32_t G,
                    double* acc) {
    if (n == 0 || G == 0) return;
    const uint32_t nb = grad_blocks(n);
    thread_local std::vector<double> a, b;
    a.assign(size_t(nb) * G, 0.0);
    b.assign(size_t(nb) * G, 0.0);
    for (uint32_t k = 0; k < nb; ++k) scatter_block(k, n, v, width, slot, scale, G, &a[size_t(k) * G]);
    const double* s = tree_sum(a.data(), b.data(), nb, G, G);
    for (uint32_t e = 0; e < G; ++e) acc[e] += s[e];
}

// The rotational drag's gradient from each particle's part (N x 3) this step.
void add_gamma_r(const System& sys, const std::vector<double>& part, RigidAdjointState& L) {
    add_block_sums(sys.pd.N, part.data(), 3, sys.pd.typeid_.data(), 3, 3 * sys.pd.ntypes, L.gamma_r);
}

// The pull-back through the force transfer and the pair Jacobian at the current placed state,
// given the constituents' own forces `raw` (N x 3, before transfer).
void pullback_forces(System& sys, const double* raw, const double* lF, const double* ltau, RigidAdjointState& L,
                     AdjointGrads* g, const ParamSelection& sel) {
    ParticleData& pd = sys.pd;
    const uint32_t N = pd.N;
    const RigidBodies& rb = sys.rigid;
    thread_local std::vector<double> w, out, geo;
    w.assign(3 * size_t(N), 0.0);
    out.assign(3 * size_t(N), 0.0);
    geo.assign(3 * rb.members.size(), 0.0);
    for (uint32_t i = 0; i < N; ++i)
        if (pd.body[i] < 0 || uint32_t(pd.body[i]) == i)
            for (int a = 0; a < 3; ++a) w[3 * i + a] = lF[3 * i + a];
    for (size_t b = 0; b < rb.centers.size(); ++b) {
        const uint32_t c = rb.centers[b];
        const auto& def = rb.defs[pd.typeid_[c]];
        for (uint32_t k = 0; k < def.size(); ++k)
            site_weight(&pd.orientation[4 * c], &def.pos[3 * k], &lF[3 * c], &ltau[3 * c],
                        &w[3 * rb.members[rb.start[b] + k]]);
    }
    const double* wp = w.data();
    double* op = out.data();
    force_jacobian(sys, 1, &wp, &op, g, nullptr, nullptr, &sel);
    for (uint32_t i = 0; i < N; ++i)
        if (pd.body[i] < 0 || uint32_t(pd.body[i]) == i)
            for (int a = 0; a < 3; ++a) L.r[3 * i + a] += out[3 * i + a];
    for (size_t b = 0; b < rb.centers.size(); ++b) {
        const uint32_t c = rb.centers[b];
        const auto& def = rb.defs[pd.typeid_[c]];
        for (uint32_t k = 0; k < def.size(); ++k) {
            const uint32_t s = rb.start[b] + k, j = rb.members[s];
            site_pullback(&pd.orientation[4 * c], &def.pos[3 * k], &out[3 * j], &raw[3 * j], &ltau[3 * c], &L.r[3 * c],
                          &L.q[4 * c], &geo[3 * size_t(s)]);
        }
    }
    thread_local std::vector<uint32_t> slot;
    const uint32_t G = site_slots(sys, slot);
    add_block_sums(uint32_t(rb.members.size()), geo.data(), 3, slot.data(), 1, G, L.geometry);
}

// Forces at the current placed state: raw (constituents' own) into `raw`, transferred ones in pd.
void forces_now(System& sys, uint64_t t, std::vector<double>& raw) {
    sys.sumForces(t);
    raw = sys.pd.net_force;
    std::fill(sys.pd.net_torque.begin(), sys.pd.net_torque.end(), 0.0);
    if (!sys.rigid.empty()) sys.transferComposite();
}

// rigid_adjoint_step for Brownian dynamics: r' = r + (F_b + F_R) dt/gamma, q' = BD rotation of
// (q, tau_b), with the forces at t.
void rigid_brownian_adjoint_step(System& sys, const Method& m, const StepArgs& a, RigidAdjointState& L, AdjointGrads* g,
                                 const AdjointRequest& req, std::vector<double>& raw, std::vector<double>& lF,
                                 std::vector<double>& ltau) {
    ParticleData& pd = sys.pd;
    const RigidBodies& rb = sys.rigid;
    const uint64_t t = a.timestep;
    const double dt = a.dt;
    forces_now(sys, t, raw);
    for (uint32_t i : m.members) {
        const double s = dt / m.gamma[pd.typeid_[i]];
        for (int k = 0; k < 3; ++k) lF[3 * i + k] = s * L.r[3 * i + k];
    }
    if (sys.aniso) {
        thread_local std::vector<double> grp;  // (each centre's part of d/dgamma_r)
        grp.assign(3 * size_t(pd.N), 0.0);
        for (uint32_t c : rb.centers) {
            const double* gr = &m.gamma_r[3 * pd.typeid_[c]];
            if (any_positive(gr))  // (else no rotation: lq passes through)
                brownian_rotation_pullback(c, a, gr, &pd.moment_inertia[3 * c], &pd.orientation[4 * c],
                                           &pd.net_torque[3 * c], &L.q[4 * c], &ltau[3 * c], &grp[3 * c]);
        }
        add_gamma_r(sys, grp, L);
    }
    pullback_forces(sys, raw.data(), lF.data(), ltau.data(), L, req.params ? g : nullptr, req.select);
}

void rigid_adjoint_step(System& sys, RigidAdjointState& L, AdjointGrads* g, const AdjointRequest& req) {
    const Method& m = rigid_method(sys);
    ParticleData& pd = sys.pd;
    const uint32_t N = pd.N;
    const uint64_t t = sys.timestep;
    const double dt = sys.dt, T = m.kT(t);
    const unsigned dim = pd.dimensions();
    const StepArgs a{t, sys.seed, dt, T, dim};
    const RigidBodies& rb = sys.rigid;
    const Thermostat::Kind thermostat = m.kind == Method::ConstantVolume ? m.thermostat.kind : Thermostat::None;
    if (req.gamma || (req.kT && thermostat == Thermostat::None))  // (a thermostat's kT is differentiated)
        throw std::invalid_argument(
            "d/dkT and d/dgamma are not available with rigid bodies or rotational integration yet");
    thread_local std::vector<double> raw, lF, ltau;
    lF.assign(3 * size_t(N), 0.0);
    ltau.assign(3 * size_t(N), 0.0);

    if (m.kind == Method::Brownian) {
        rigid_brownian_adjoint_step(sys, m, a, L, g, req, raw, lF, ltau);
        return;
    }

    // Langevin / NVE. Forward again: translation and rotation step one, sites, forces at t+1.
    // ConstantVolume's thermostat multiplies v_h and the angular momenta after the first kick by
    // s1 (translation, rotation) and, MTTK's, both before the second kick by s2.
    const bool langevin = m.kind == Method::Langevin;
    const bool mttk = thermostat == Thermostat::MTTK, rescaled = thermostat != Thermostat::None && !mttk;
    if (mttk && !sys.restoreThermostats(t))
        throw std::logic_error(format("the adjoint: MTTK's xi at step %llu was not kept", (unsigned long long)t));
    const std::array<FactorSens, 2> fs = rescaled ? rescale_sensitivity(sys, m, a) : std::array<FactorSens, 2>{};
    const std::array<double, 2> s1 = mttk ? mttk_factors(m.thermostat, dt) : std::array<double, 2>{fs[0].s, fs[1].s};
    // (rotations: every integrated particle with rotational integration, as System::rotateStepOne)
    const std::vector<uint32_t>& rotating = sys.aniso ? m.members : rb.centers;
    thread_local std::vector<double> r0, q0, p0, tau0, vh, lph, lq1;
    r0 = pd.pos;
    q0 = pd.orientation;
    p0 = pd.angmom;
    tau0 = pd.net_torque;
    vh.assign(3 * size_t(N), 0.0);
    for (uint32_t i : m.members) {
        int32_t img[3] = {0, 0, 0};
        double* v = &vh[3 * i];
        for (int k = 0; k < 3; ++k) v[k] = pd.vel[3 * i + k];
        if (langevin)
            langevin_step_one(a, pd.box, &pd.accel[3 * i], &pd.pos[3 * i], img, v);
        else
            nve_step_one(a, pd.box, &pd.accel[3 * i], &pd.pos[3 * i], img, v, s1[0]);
    }
    if (sys.aniso)
        for (uint32_t c : rotating) {
            Q4<double> q = quat_at(pd.orientation, c), p = quat_at(pd.angmom, c);
            rotation_step_one(dt, &pd.net_torque[3 * c], &pd.moment_inertia[3 * c], q, p, s1[1]);
            pd.orientation[4 * c] = q.s;
            pd.orientation[4 * c + 1] = q.x;
            pd.orientation[4 * c + 2] = q.y;
            pd.orientation[4 * c + 3] = q.z;
            pd.angmom[4 * c] = p.s;
            pd.angmom[4 * c + 1] = p.x;
            pd.angmom[4 * c + 2] = p.y;
            pd.angmom[4 * c + 3] = p.z;
        }
    // MTTK: xi' from the kinetic energies after step one (pd holds q', p_half now)
    const std::array<XiSens, 2> xs = mttk
                                         ? mttk_sensitivity(m.thermostat, dt, T, translational_energy(pd, m, vh.data()),
                                                            sys.aniso ? sys.kineticEnergies(m).rot : 0.0, sys.aniso)
                                         : std::array<XiSens, 2>{};
    const double s2t = mttk ? xs[0].s2 : 1.0, s2r = mttk ? xs[1].s2 : 1.0;
    if (!rb.empty()) sys.placeSites();
    forces_now(sys, t + 1, raw);  // pd: F_b(t+1), tau_b(t+1); orientation q', angmom p_half

    // Backward. Step two's rotation: (q', p_half, tau_b[, s2]) -> (tau~', p')
    lph.assign(4 * size_t(N), 0.0);
    lq1.assign(4 * size_t(N), 0.0);
    double ls2r = 0;  // the adjoint of the rotational factor s2 (MTTK)
    if (sys.aniso) {
        thread_local std::vector<double> grp;  // (each particle's part of d/dgamma_r)
        grp.assign(3 * size_t(N), 0.0);
        for (uint32_t c : rotating)
            rotation_two_pullback(c, a, langevin, &m.gamma_r[3 * pd.typeid_[c]], &pd.moment_inertia[3 * c],
                                  &pd.orientation[4 * c], &pd.angmom[4 * c], &pd.net_torque[3 * c], s2r, &L.tau[3 * c],
                                  &L.p[4 * c], &lq1[4 * c], &lph[4 * c], &ltau[3 * c], &L.inertia[3 * c], &grp[3 * c],
                                  &ls2r);
        add_gamma_r(sys, grp, L);
    }
    // step two's translation: a' = (F + c u - gamma v_h)/m, v' = s2 v_h + a' dt/2
    thread_local std::vector<double> lvh;
    lvh.assign(3 * size_t(N), 0.0);
    double ls2t = 0;
    for (uint32_t i : m.members) {
        const double minv = 1.0 / pd.mass[i];
        const double gam = langevin ? m.gamma[pd.typeid_[i]] : 0.0;
        for (int k = 0; k < 3; ++k) {
            const double lt = L.a[3 * i + k] + 0.5 * dt * L.v[3 * i + k];
            const bool drag = langevin && !(k == 2 && dim < 3);
            lvh[3 * i + k] = s2t * L.v[3 * i + k] - (drag ? gam * minv * lt : 0.0);
            lF[3 * i + k] = lt * minv;
            ls2t += L.v[3 * i + k] * vh[3 * i + k];
        }
    }
    // MTTK: xi' and xi_rot' in total, through s2 and their own adjoints; they reach v_h and
    // (q', p_half) through the kinetic energies, and kT and tau
    double lxi = 0, lxir = 0;
    if (mttk) {
        lxi = g->xi + ls2t * (-0.5 * dt) * s2t;
        lxir = g->xi_rot + ls2r * (-0.5 * dt) * s2r;
        for (uint32_t i : m.members)
            for (int k = 0; k < 3; ++k) lvh[3 * i + k] += lxi * xs[0].dK * pd.mass[i] * vh[3 * i + k];
        if (sys.aniso)
            for (uint32_t c : rotating) rotational_energy_pullback(pd, c, lxir * xs[1].dK, &lq1[4 * c], &lph[4 * c]);
        g->kT += lxi * xs[0].dkT + lxir * xs[1].dkT;
        g->tau += lxi * xs[0].dtau + lxir * xs[1].dtau;
    }
    for (uint32_t c : rotating)
        for (int k = 0; k < 4; ++k) L.q[4 * c + k] += lq1[4 * c + k];
    pullback_forces(sys, raw.data(), lF.data(), ltau.data(), L, req.params ? g : nullptr,
                    req.select);  // L.r, L.q: adjoints of r', q'
    // step one's rotation: (q, p, tau~[, s1]) -> (q', p_half)
    double ls1r = 0;
    if (!sys.aniso)
        for (uint32_t c : rb.centers) {
            for (int k = 0; k < 4; ++k) L.p[4 * c + k] = 0.0;
            for (int k = 0; k < 3; ++k) L.tau[3 * c + k] = 0.0;
        }
    else
        for (uint32_t c : rotating)
            rotation_one_pullback(dt, &pd.moment_inertia[3 * c], &q0[4 * c], &p0[4 * c], &tau0[3 * c], s1[1],
                                  &L.q[4 * c], &lph[4 * c], &L.p[4 * c], &L.tau[3 * c], &L.inertia[3 * c], &ls1r);
    // step one's translation: r' = r + v_h dt, v_h = s1 (v + a dt/2)
    double ls1t = 0;
    for (uint32_t i : m.members)
        for (int k = 0; k < 3; ++k) {
            const size_t q = 3 * size_t(i) + k;
            const double lrp = L.r[q];
            if (thermostat == Thermostat::None) {
                L.v[q] = lvh[q] + dt * lrp;
                L.a[q] = 0.5 * dt * lvh[q] + 0.5 * dt * dt * lrp;
                continue;
            }
            const double lu = lvh[q] + dt * lrp;
            ls1t += lu * (pd.vel[q] + (0.5 * pd.accel[q]) * dt);
            L.v[q] = s1[0] * lu;
            L.a[q] = 0.5 * dt * (s1[0] * lu);
        }
    pd.pos = r0;
    pd.orientation = q0;
    pd.angmom = p0;
    pd.net_torque = tau0;
    if (mttk) {  // s1 = exp(-xi dt/2): xi's adjoint at the step's start
        g->xi = lxi * xs[0].dxi + ls1t * (-0.5 * dt) * s1[0];
        g->xi_rot = sys.aniso ? lxir * xs[1].dxi + ls1r * (-0.5 * dt) * s1[1] : g->xi_rot;
    } else if (rescaled) {  // s1 = s(K(v), K_rot(q, p), kT, tau) at the step's start
        for (uint32_t i : m.members)
            for (int k = 0; k < 3; ++k) L.v[3 * i + k] += ls1t * fs[0].dK * pd.mass[i] * pd.vel[3 * i + k];
        if (sys.aniso)
            for (uint32_t c : rotating) rotational_energy_pullback(pd, c, ls1r * fs[1].dK, &L.q[4 * c], &L.p[4 * c]);
        g->kT += ls1t * fs[0].dkT + ls1r * fs[1].dkT;
        g->tau += ls1t * fs[0].dtau + ls1r * fs[1].dtau;
    }
}

}  // namespace

const Method& rigid_method(const System& sys) {
    const ParticleData& pd = sys.pd;
    size_t integrated = 0;
    for (uint32_t i = 0; i < pd.N; ++i) integrated += (pd.body[i] < 0 || uint32_t(pd.body[i]) == i);
    if (sys.methods.size() != 1 || sys.methods[0].members.size() != integrated)
        throw std::invalid_argument(
            "the adjoint needs exactly one integration method over every central and free "
            "particle (filter.Rigid(('center', 'free')))");
    return sys.methods[0];
}

uint32_t site_slots(const System& sys, std::vector<uint32_t>& slot) {
    const RigidBodies& rb = sys.rigid;
    thread_local std::vector<size_t> off;  // (a sweep step's: no allocation once sized)
    off.assign(rb.defs.size() + 1, 0);
    for (size_t t = 0; t < rb.defs.size(); ++t) off[t + 1] = off[t] + 3 * rb.defs[t].size();
    slot.resize(rb.members.size());
    for (size_t b = 0; b < rb.centers.size(); ++b) {
        const uint32_t t = sys.pd.typeid_[rb.centers[b]];
        for (uint32_t k = 0; k < rb.start[b + 1] - rb.start[b]; ++k) slot[rb.start[b] + k] = uint32_t(off[t] + 3 * k);
    }
    return uint32_t(off.back());
}

bool has_rotations(const System& sys) {
    return !sys.rigid.empty() || sys.aniso;
}

size_t rigid_state_width(const System& sys) {
    if (sys.methods.size() == 1 && sys.methods[0].kind == Method::Brownian) return 7;
    return 20;
}

void rigid_save(const System& sys, double* out) {
    const ParticleData& pd = sys.pd;
    const size_t W = rigid_state_width(sys);
    for (uint32_t i = 0; i < pd.N; ++i) {
        double* o = out + W * i;
        for (int k = 0; k < 3; ++k) o[k] = pd.pos[3 * i + k];
        if (W == 7) {
            for (int k = 0; k < 4; ++k) o[3 + k] = pd.orientation[4 * i + k];
            continue;
        }
        for (int k = 0; k < 3; ++k)
            o[3 + k] = pd.vel[3 * i + k], o[6 + k] = pd.accel[3 * i + k], o[17 + k] = pd.net_torque[3 * i + k];
        for (int k = 0; k < 4; ++k) o[9 + k] = pd.orientation[4 * i + k], o[13 + k] = pd.angmom[4 * i + k];
    }
}

void rigid_load(System& sys, const double* in, bool forces) {
    ParticleData& pd = sys.pd;
    const size_t W = rigid_state_width(sys);
    for (uint32_t i = 0; i < pd.N; ++i) {
        const double* o = in + W * i;
        for (int k = 0; k < 3; ++k) pd.pos[3 * i + k] = o[k];
        if (W == 7) {
            for (int k = 0; k < 4; ++k) pd.orientation[4 * i + k] = o[3 + k];
            continue;
        }
        for (int k = 0; k < 3; ++k)
            pd.vel[3 * i + k] = o[3 + k], pd.accel[3 * i + k] = o[6 + k], pd.net_torque[3 * i + k] = o[17 + k];
        for (int k = 0; k < 4; ++k) pd.orientation[4 * i + k] = o[9 + k], pd.angmom[4 * i + k] = o[13 + k];
    }
    rigid_place(sys, forces);
}

void rigid_place(System& sys, bool forces) {
    if (!sys.rigid.empty()) sys.placeSites();
    if (forces && rigid_state_width(sys) == 7) sys.computeNetForce(sys.timestep);
}

void rigid_advance_recording(System& sys, uint64_t n, double* states, bool after) {
    const size_t stride = rigid_state_width(sys) * sys.pd.N;
    sys.steps(n, [&](uint64_t k) {  // (a failed step is named as in System::advance)
        if (after) sys.step();
        rigid_save(sys, states + k * stride);
        if (!after) sys.step();
    });
}

SweepStatus rigid_adjoint_sweep(System& sys, uint64_t t_first, uint64_t n, const double* states, RigidAdjointState& L,
                                AdjointGrads& g, const AdjointRequest& req) {
    check_selection(sys, req.select);  // (before anything changes)
    const ParticleData& pd = sys.pd;
    const size_t stride = rigid_state_width(sys) * pd.N;
    for (uint64_t j = 0; j < n; ++j) {
        const uint64_t k = n - 1 - j;
        sys.timestep = t_first + k;
        rigid_load(sys, states + k * stride, false);
        rigid_adjoint_step(sys, L, &g, req);
        for (uint32_t i = 0; i < pd.N; ++i) {
            bool ok = true;
            for (int c = 0; c < 3; ++c)
                ok = ok && adjoint_entry_ok(L.r[3 * i + c]) && adjoint_entry_ok(L.v[3 * i + c]) &&
                     adjoint_entry_ok(L.a[3 * i + c]) && adjoint_entry_ok(L.tau[3 * i + c]);
            for (int c = 0; c < 4; ++c) ok = ok && adjoint_entry_ok(L.q[4 * i + c]) && adjoint_entry_ok(L.p[4 * i + c]);
            if (!ok) return {int64_t(t_first + k), int64_t(i)};
        }
    }
    return {};
}

void rigid_force_pullback(System& sys, const double* lF, const double* ltau, RigidAdjointState& L, AdjointGrads* g,
                          const ParamSelection& sel) {
    std::vector<double> raw;
    forces_now(sys, sys.timestep, raw);
    pullback_forces(sys, raw.data(), lF, ltau, L, g, sel);
}

void rigid_position_pullback(System& sys, const double* dpos, RigidAdjointState& L) {
    const ParticleData& pd = sys.pd;
    const RigidBodies& rb = sys.rigid;
    for (uint32_t i = 0; i < pd.N; ++i)
        if (pd.body[i] < 0 || uint32_t(pd.body[i]) == i)
            for (int a = 0; a < 3; ++a) L.r[3 * i + a] += dpos[3 * i + a];
    std::vector<uint32_t> slot;
    site_slots(sys, slot);
    for (size_t b = 0; b < rb.centers.size(); ++b) {
        const uint32_t c = rb.centers[b];
        const auto& def = rb.defs[pd.typeid_[c]];
        for (uint32_t k = 0; k < def.size(); ++k) {
            const uint32_t s = rb.start[b] + k;
            const double* g = &dpos[3 * rb.members[s]];
            site_to_centre(&pd.orientation[4 * c], &def.pos[3 * k], g, g, &L.r[3 * c], &L.q[4 * c],
                           &L.geometry[slot[s]]);
        }
    }
}

}  // namespace ha
