#include "adjoint/Adjoint.h"

#include "core/Dual.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "core/Format.h"
#include "adjoint/AdjointForce.h"
#include "adjoint/AdjointStep.h"
#include "adjoint/ThermostatAdjoint.h"
#include "adjoint/ListMemory.h"
#include "engine/System.h"
#include "engine/TwoStep.h"

namespace ha {

const Method& adjoint_method(const System& sys) {
    if (!sys.rigid.empty() || sys.aniso)
        throw std::invalid_argument("rigid bodies and rotational integration have their own adjoint (RigidAdjoint.h)");
    if (sys.methods.size() != 1 || sys.methods[0].members.size() != sys.pd.N)
        throw std::invalid_argument("the adjoint needs exactly one integration method that integrates every particle");
    return sys.methods[0];
}

namespace {

// What a step adjoint or tangent reads of the system at step t.
struct StepContext {
    const Method& m;
    ParticleData& pd;
    uint32_t N;
    uint64_t t;
    double dt, T;
    unsigned dim;

    explicit StepContext(System& sys)
        : m(adjoint_method(sys)),
          pd(sys.pd),
          N(sys.pd.N),
          t(sys.timestep),
          dt(sys.dt),
          T(m.kT(sys.timestep)),
          dim(sys.pd.dimensions()) {}

    // Derivatives through the noise amplitude sqrt(kT) need kT > 0.
    void requirePositiveKT() const {
        if (m.kind != Method::ConstantVolume && !(T > 0))
            throw std::invalid_argument(
                format("d/dkT and d/dgamma need kT > 0 (kT(%llu) = %g)", (unsigned long long)t, T));
    }
};

// An elementwise loop over m entries on the step's threads: each entry is computed alone, so the
// bits do not depend on the split. (Serial, these copies and scalings cost a two-thread step ~5%.)
template <class F>
void for_entries(size_t m, int nthreads, F&& f) {
#pragma omp parallel for schedule(static) num_threads(threads_for(nthreads, m / 3))
    for (int64_t q = 0; q < int64_t(m); ++q) f(size_t(q));
}

// d/dkT and d/dgamma of one step: block(b, kT, gamma) writes block b's terms into zeroed
// slots, on the step's threads; the blocks are then added in order (AdjointStep.h).
template <class Block>
void noise_grads(System& sys, AdjointGrads& g, const AdjointRequest& req, Block&& block) {
    const uint32_t N = sys.pd.N, nt = sys.pd.ntypes, nb = grad_blocks(N);
    std::vector<double> kTb(req.kT ? nb : 0, 0.0), gamb(req.gamma ? size_t(nb) * nt : 0, 0.0);
#pragma omp parallel for schedule(static) num_threads(threads_for(sys.nthreads, N))
    for (int64_t b = 0; b < int64_t(nb); ++b)
        block(uint32_t(b), req.kT ? &kTb[b] : nullptr, req.gamma ? &gamb[size_t(b) * nt] : nullptr);
    std::vector<double> scratch(std::max(kTb.size(), gamb.size()));  // (the blocks' sums: tree_sum)
    if (req.kT) g.kT += tree_sum(kTb.data(), scratch.data(), nb, 1, 1)[0];
    if (req.gamma) {
        const double* sum = tree_sum(gamb.data(), scratch.data(), nb, nt, nt);
        for (uint32_t ty = 0; ty < nt; ++ty) g.gamma[ty] += sum[ty];
    }
}

// Langevin/NVE step one for every particle: pd.pos becomes r' (unwrapped images are not
// needed: forces only see wrapped positions) and vh the half-step velocities (times a
// thermostat's factor `scale`).
void half_step(System& sys, const Method& m, const StepArgs& a, std::vector<double>& vh, double scale = 1.0) {
    ParticleData& pd = sys.pd;
    vh.resize(3 * size_t(pd.N));
#pragma omp parallel for schedule(static) num_threads(threads_for(sys.nthreads, pd.N))
    for (int64_t ii = 0; ii < int64_t(pd.N); ++ii) {
        const uint32_t i = uint32_t(ii);
        int32_t img[3] = {0, 0, 0};
        double* v = &vh[3 * i];
        for (int k = 0; k < 3; ++k) v[k] = pd.vel[3 * i + k];
        if (m.kind == Method::Langevin)
            langevin_step_one(a, pd.box, &pd.accel[3 * i], &pd.pos[3 * i], img, v);
        else
            nve_step_one(a, pd.box, &pd.accel[3 * i], &pd.pos[3 * i], img, v, scale);
    }
}

// A ConstantVolume thermostat's translational factor at step one (ThermostatAdjoint.h).
using ThermostatSens = FactorSens;
ThermostatSens thermostat_sensitivity(const System& sys, const Method& m, const StepArgs& a) {
    if (m.thermostat.kind == Thermostat::MTTK)  // (its own path in adjoint_step; none in forward mode)
        throw std::invalid_argument(
            "forward mode does not differentiate ConstantVolume's MTTK thermostat; use reverse");
    return rescale_sensitivity(sys, m, a)[0];
}

// After the Jacobian, with a thermostat: v_h = s w, w = v + a dt/2. The adjoint of v_h in total is
// lu = lvh + dt lr; then w's is s lu, and s's, ls = sum lu . w (summed in tag order), reaches v
// through K (dK/dv_i = m_i v_i), and kT and tau directly. Returns ls.
double thermostat_adjoint_post(System& sys, const ThermostatSens& ts, const double* lvh, const double* lr, double* lv,
                               double* la, AdjointGrads& g) {
    const ParticleData& pd = sys.pd;
    const size_t n = 3 * size_t(pd.N);
    const double dt = sys.dt;
    double ls = 0.0;
    for (size_t q = 0; q < n; ++q) ls += (lvh[q] + dt * lr[q]) * (pd.vel[q] + (0.5 * pd.accel[q]) * dt);
    const double* v = pd.vel.data();
    const double* mass = pd.mass.data();
    for_entries(n, sys.nthreads, [&](size_t q) {
        const double lu = lvh[q] + dt * lr[q];
        lv[q] = ts.s * lu + ls * ts.dK * mass[q / 3] * v[q];
        la[q] = 0.5 * dt * (ts.s * lu);
    });
    g.kT += ls * ts.dkT;
    g.tau += ls * ts.dtau;
    return ls;
}

}  // namespace

void check_selection(System& sys, const ParamSelection& sel) {
    if (sel.empty()) return;
    if (sel.size() != sys.forces.size())
        throw std::invalid_argument(format("parameter selection: %zu lists for %zu forces (one per force, or none)",
                                           sel.size(), sys.forces.size()));
    for (size_t f = 0; f < sel.size(); ++f) {
        const int P = adjoint_of(*sys.forces[f]).paramCount();
        std::vector<char> seen(P, 0);
        for (int k : sel[f]) {
            if (k < 0 || k >= P)
                throw std::out_of_range(
                    format("parameter selection: force %zu: index %d is not in 0..%d", f, k, P - 1));
            if (seen[k]++) throw std::invalid_argument(format("parameter selection: force %zu: index %d twice", f, k));
        }
    }
}

void force_jacobian(System& sys, int K, const double* const* w, double* const* out, AdjointGrads* g,
                    std::vector<std::vector<double>>* eparams, const PTan* ptan, const ParamSelection* sel) {
    if (sel) check_selection(sys, *sel);
    const bool all = !sel || sel->empty();
    ParticleData& pd = sys.pd;
    pd.packPositions(sys.nthreads);
    if (g && g->params.size() != sys.forces.size()) g->params.assign(sys.forces.size(), {});
    if (eparams && eparams->size() != sys.forces.size()) eparams->assign(sys.forces.size(), {});
    for (size_t f = 0; f < sys.forces.size(); ++f) {
        AdjointForce* pf = &adjoint_of(*sys.forces[f]);
        const size_t n = pf->gradSize();
        double* gp = nullptr;
        double* ep = nullptr;
        if (g) {
            g->params[f].resize(n, 0.0);
            gp = g->params[f].data();
        }
        if (eparams) {
            (*eparams)[f].resize(n, 0.0);
            ep = (*eparams)[f].data();
        }
        pf->applyJacobian(pd, K, w, out, gp, ep, ptan ? (*ptan)[f].data() : nullptr, all ? nullptr : &(*sel)[f],
                          sys.nthreads);
    }
}

void adjoint_step(System& sys, double* lr, double* lv, double* la, AdjointGrads& g, const AdjointRequest& req) {
    const StepContext c(sys);
    // named copies, not structured bindings: lambdas below capture them (C++17)
    const Method& m = c.m;
    ParticleData& pd = c.pd;
    const uint32_t N = c.N;
    const uint64_t t = c.t;
    const double dt = c.dt, T = c.T;
    const unsigned dim = c.dim;
    if (g.gamma.size() != pd.ntypes) g.gamma.assign(pd.ntypes, 0.0);
    if (req.kT || req.gamma) c.requirePositiveKT();

    // scratch kept between steps: fresh pages for every step cost more than small systems' steps
    thread_local std::vector<double> w, r0, lvh, latot, vh;
    w.resize(3 * size_t(N));
    const int nt = sys.nthreads;
    if (m.kind == Method::Brownian) {
        const double* gamma = m.gamma.data();
        const uint32_t* type = pd.typeid_.data();
        double* wq = w.data();
        for_entries(3 * size_t(N), nt, [&](size_t q) { wq[q] = brownian_adjoint_w(dt, gamma[type[q / 3]], lr[q]); });
        if (req.gamma) sys.computeNetForce(t);  // F(r_t), for d/dgamma
        if (req.kT || req.gamma)                // (before lr is updated in place below)
            noise_grads(sys, g, req, [&](uint32_t b, double* kT, double* gam) {
                bd_noise_block(b, N, lr, pd.net_force.data(), type, gamma, T, dt, dim, t, sys.seed, kT, gam);
            });
        const double* wp = w.data();
        force_jacobian(sys, 1, &wp, &lr, req.params ? &g : nullptr, nullptr, nullptr, &req.select);  // lr += J w
        return;
    }

    // Langevin / NVE: r' = r + v dt + a dt^2/2, v_h = v + a dt/2, a' = (F(r') + c u - gamma v_h)/m,
    // v' = v_h + a' dt/2.
    const bool langevin = m.kind == Method::Langevin;
    r0.resize(pd.pos.size());
    {
        const double* p = pd.pos.data();
        double* keep = r0.data();
        for_entries(r0.size(), nt, [&](size_t q) { keep[q] = p[q]; });
    }
    lvh.resize(3 * size_t(N));
    latot.resize(3 * size_t(N));
    // ConstantVolume's Bussi or Berendsen thermostat: v_h = s(K(v), kT, tau) (v + a dt/2)
    const bool mttk = m.kind == Method::ConstantVolume && m.thermostat.kind == Thermostat::MTTK;
    const bool rescaled = m.kind == Method::ConstantVolume && m.thermostat.kind != Thermostat::None && !mttk;
    if (mttk && !sys.restoreThermostats(t))
        throw std::logic_error(format("the adjoint: MTTK's xi at step %llu was not kept", (unsigned long long)t));
    const ThermostatSens ts =
        rescaled ? thermostat_sensitivity(sys, m, StepArgs{t, sys.seed, dt, T, dim}) : ThermostatSens{};
    half_step(sys, m, StepArgs{t, sys.seed, dt, T, dim}, vh, mttk ? mttk_factors(m.thermostat, dt)[0] : ts.s);
    // MTTK: v_h = s1 (v + a dt/2), s1 = exp(-xi dt/2); xi' from K(v_h); v' = s2 v_h + a' dt/2
    const XiSens ms =
        mttk ? mttk_sensitivity(m.thermostat, dt, T, translational_energy(pd, m, vh.data()), 0.0, false)[0] : XiSens{};
    double *lt_ = latot.data(), *lvh_ = lvh.data(), *w_ = w.data();
    for_entries(3 * size_t(N), nt, [&](size_t q) {
        const uint32_t i = uint32_t(q / 3), k = uint32_t(q % 3);
        const bool drag = langevin && !(k == 2 && dim < 3);
        langevin_adjoint_pre(drag, dt, langevin ? m.gamma[pd.typeid_[i]] : 0.0, 1.0 / pd.mass[i], lv[q], la[q], lt_[q],
                             lvh_[q], w_[q]);
    });
    double lxi = 0;  // MTTK: the adjoint of xi' in total
    if (mttk) {
        // v' = s2 v_h + a' dt/2: v_h's adjoint is s2 lv; s2's, sum lv . v_h, reaches xi'; xi' moves
        // xi, kT, tau, and v_h through K (dK/dv_h = m v_h)
        double ls2 = 0;
        for (size_t q = 0; q < 3 * size_t(N); ++q) ls2 += lv[q] * vh[q];
        lxi = g.xi + ls2 * (-0.5 * dt) * ms.s2;
        const double lK = lxi * ms.dK;
        const double* v = vh.data();
        for_entries(3 * size_t(N), nt, [&](size_t q) { lvh_[q] = ms.s2 * lvh_[q] + lK * pd.mass[q / 3] * v[q]; });
        g.kT += lxi * ms.dkT;
        g.tau += lxi * ms.dtau;
    }
    // lr += J(r') w in place: lr is not read again before the final loop
    const double* wp = w.data();
    force_jacobian(sys, 1, &wp, &lr, req.params ? &g : nullptr, nullptr, nullptr, &req.select);
    // (the blocks run on other threads too: they read this thread's scratch through pointers, as
    // a thread_local named inside the lambda would be the running thread's own, empty, copy)
    const double* vh_ = vh.data();
    if (langevin && (req.kT || req.gamma))
        noise_grads(sys, g, req, [&](uint32_t b, double* kT, double* gam) {
            langevin_noise_block(b, N, lt_, vh_, pd.mass.data(), pd.typeid_.data(), m.gamma.data(), T, dt, dim, t,
                                 sys.seed, kT, gam);
        });
    {
        const double* keep = r0.data();
        double* p = pd.pos.data();
        for_entries(r0.size(), nt, [&](size_t q) { p[q] = keep[q]; });
    }
    const double* lvhq = lvh.data();
    if (rescaled) {
        thermostat_adjoint_post(sys, ts, lvhq, lr, lv, la, g);
        return;
    }
    if (mttk) {  // v_h = s1 (v + a dt/2): s1's adjoint reaches xi, whose own continues from xi'
        const double ls1 = thermostat_adjoint_post(sys, ThermostatSens{ms.s1, 0, 0, 0}, lvhq, lr, lv, la, g);
        g.xi = lxi * ms.dxi + ls1 * (-0.5 * dt) * ms.s1;
        return;
    }
    for_entries(3 * size_t(N), nt, [&](size_t q) { langevin_adjoint_post(dt, lvhq[q], lr[q], lv[q], la[q]); });
}

void advance_recording(System& sys, uint64_t n, double* pos, double* vel, double* acc, bool after) {
    ParticleData& pd = sys.pd;
    const size_t m = 3 * size_t(pd.N);
    auto keep = [&](uint64_t k) {
        const double *p = pd.pos.data(), *v = pd.vel.data(), *a = pd.accel.data();
        double *ps = pos + k * m, *vs = vel ? vel + k * m : nullptr, *as = acc ? acc + k * m : nullptr;
        for_entries(m, sys.nthreads, [&](size_t q) {
            ps[q] = p[q];
            if (vs) vs[q] = v[q];
            if (as) as[q] = a[q];
        });
    };
    if (sys.useGPU) {
        for (uint64_t k = 0; k < n; ++k) {
            if (after) sys.advance(1);
            keep(k);
            if (!after) sys.advance(1);
        }
        return;
    }
    sys.steps(n, [&](uint64_t k) {  // (a failed step is named as in System::advance)
        if (after) sys.step();
        keep(k);
        if (!after) sys.step();
    });
}

SweepStatus adjoint_sweep(System& sys, uint64_t t_first, uint64_t n, const double* pos, const double* vel,
                          const double* acc, double* lr, double* lv, double* la, AdjointGrads& g,
                          const AdjointRequest& req, double clip) {
    check_selection(sys, req.select);  // (before anything changes)
    ParticleData& pd = sys.pd;
    const size_t m = 3 * size_t(pd.N);
    SweepStatus status;
    // The lists may be built from earlier states: the caller's, then this block's below state k
    // (all set once; each step counts those before it).
    std::vector<ListMemory*> nlists;
    for (auto& f : sys.forces)
        if (auto pf = std::dynamic_pointer_cast<PairForce>(f)) {
            ListMemory* mem = &list_memory(*pf->nlist());
            if (std::find(nlists.begin(), nlists.end(), mem) == nlists.end()) nlists.push_back(mem);
        }
    std::vector<std::vector<const double*>> outer;
    for (ListMemory* nl : nlists) {
        outer.push_back(nl->earlierStates());
        std::vector<const double*> all = outer.back();
        for (uint64_t i = 0; req.lookBack && i < n; ++i) all.push_back(pos + i * m);
        nl->setEarlierStates(std::move(all));
    }
    struct Restore {  // the caller's states, however the sweep ends
        std::vector<ListMemory*>& nl;
        std::vector<std::vector<const double*>>& states;
        ~Restore() {
            for (size_t q = 0; q < nl.size(); ++q) nl[q]->setEarlierStates(std::move(states[q]));
        }
    } restore{nlists, outer};
    std::vector<double> parts;                                  // the clip's norm, by blocks
    sys.adjointGovernor.run(sys.nthreads, n, [&](uint64_t j) {  // latest state first
        const uint64_t k = n - 1 - j;
        sys.timestep = t_first + k;
        {
            const double *ps = pos + k * m, *vs = vel ? vel + k * m : nullptr, *as = acc ? acc + k * m : nullptr;
            double *p = pd.pos.data(), *v = pd.vel.data(), *a = pd.accel.data();
            for_entries(m, sys.nthreads, [&](size_t q) {
                p[q] = ps[q];
                if (vs) v[q] = vs[q];
                if (as) a[q] = as[q];
            });
        }
        for (size_t q = 0; q < nlists.size(); ++q) nlists[q]->useEarlierStates(outer[q].size() + k);
        adjoint_step(sys, lr, lv, la, g, req);
        int64_t bad = INT64_MAX;  // the first non-finite or overflowing entry, whatever the threads
#pragma omp parallel for schedule(static) reduction(min : bad) num_threads(threads_for(sys.nthreads, pd.N))
        for (int64_t q = 0; q < int64_t(m); ++q)
            if (!adjoint_entry_ok(lr[q]) || !adjoint_entry_ok(lv[q]) || !adjoint_entry_ok(la[q]))
                bad = std::min(bad, q);
        if (bad != INT64_MAX) {
            status = {int64_t(t_first + k), bad / 3};
            return true;
        }
        if (clip <= 0) return false;
        const uint32_t nb = grad_blocks(pd.N);
        parts.resize(nb);
#pragma omp parallel for schedule(static) num_threads(threads_for(sys.nthreads, pd.N))
        for (int64_t b = 0; b < int64_t(nb); ++b) parts[b] = norm2_block(uint32_t(b), pd.N, lr, lv, la);
        std::vector<double> scratch(nb);
        const double s = clip_scale(tree_sum(parts.data(), scratch.data(), nb, 1, 1)[0], clip);
        if (s != 1.0) {
            for (size_t q = 0; q < m; ++q) {
                lr[q] *= s;
                lv[q] *= s;
                la[q] *= s;
            }
        }
        return false;
    });
    return status;
}

void tangent_step(System& sys, std::vector<Tangent>& tan, const PTan& ptan, const ParamSelection& sel) {
    const StepContext c(sys);
    const auto& [m, pd, N, t, dt, T, dim] = c;
    const int K = int(tan.size());
    if (K == 0) return;
    // scratch kept between steps (the largest system's size, until the thread ends)
    thread_local std::vector<std::vector<double>> out, drp, dvh;
    thread_local std::vector<double> u, r0, vh;
    out.resize(K);
    for (auto& o : out) o.assign(3 * size_t(N), 0.0);
    std::vector<double*> outp(K);
    std::vector<const double*> wp(K);
    for (int k = 0; k < K; ++k) outp[k] = out[k].data();
    bool noisy = false, need_force = false;
    for (const Tangent& d : tan) {
        noisy = noisy || d.dkT != 0.0 || d.dgamma != nullptr;
        need_force = need_force || d.dgamma != nullptr;
    }
    if (noisy) c.requirePositiveKT();
    u.assign(3 * size_t(N), 0.0);
    if (noisy && m.kind != Method::ConstantVolume)
        for (uint32_t i = 0; i < N; ++i)
            step_noise(m.kind == Method::Brownian ? rng_id::TwoStepBD : rng_id::TwoStepLangevin, t, sys.seed, i,
                       &u[3 * i]);

    if (m.kind == Method::Brownian) {
        if (need_force) sys.computeNetForce(t);
        for (int k = 0; k < K; ++k) wp[k] = tan[k].dr;
        force_jacobian(sys, K, wp.data(), outp.data(), nullptr, nullptr, &ptan, &sel);  // J dr + dF/dtheta . ptan
        for (int k = 0; k < K; ++k) {
            Tangent& d = tan[k];
            for (uint32_t i = 0; i < N; ++i) {
                const uint32_t ty = pd.typeid_[i];
                const double gam = m.gamma[ty];
                const double dg = d.dgamma ? d.dgamma[ty] : 0.0;
                for (unsigned c = 0; c < 3; ++c) {
                    const double uc = (c == 2 && dim < 3) ? 0.0 : u[3 * i + c];
                    double v = d.dr[3 * i + c] + (dt / gam) * out[k][3 * i + c];
                    if (d.dkT != 0.0 || dg != 0.0) {
                        const BDSens sns = bd_sensitivity(gam, T, dt, pd.net_force[3 * i + c], uc);
                        v += sns.dT * d.dkT + sns.dgamma * dg;
                    }
                    d.dr[3 * i + c] = v;
                }
            }
        }
        return;
    }
    const bool langevin = m.kind == Method::Langevin;
    r0 = pd.pos;
    // ConstantVolume's Bussi or Berendsen thermostat: v_h = s w, w = v + a dt/2, and
    // dv_h = s dw + ds w with ds = s_K dK + s_kT dkT + s_tau dtau, dK = sum m v . dv
    const bool rescaled = m.kind == Method::ConstantVolume && m.thermostat.kind != Thermostat::None;
    const ThermostatSens ts =
        rescaled ? thermostat_sensitivity(sys, m, StepArgs{t, sys.seed, dt, T, dim}) : ThermostatSens{};
    half_step(sys, m, StepArgs{t, sys.seed, dt, T, dim}, vh, ts.s);
    drp.resize(K);
    dvh.resize(K);
    for (int k = 0; k < K; ++k) {
        drp[k].resize(3 * size_t(N));
        dvh[k].resize(3 * size_t(N));
        if (rescaled) {
            double dK = 0.0;
            for (size_t q = 0; q < 3 * size_t(N); ++q) dK += pd.mass[q / 3] * pd.vel[q] * tan[k].dv[q];
            const double ds = ts.dK * dK + ts.dkT * tan[k].dkT + ts.dtau * tan[k].dtau;
            for (size_t q = 0; q < 3 * size_t(N); ++q) {
                const double w = pd.vel[q] + (0.5 * pd.accel[q]) * dt;
                dvh[k][q] = ts.s * (tan[k].dv[q] + 0.5 * dt * tan[k].da[q]) + ds * w;
                drp[k][q] = tan[k].dr[q] + dt * dvh[k][q];
            }
        } else {
            for (size_t q = 0; q < 3 * size_t(N); ++q) {
                drp[k][q] = tan[k].dr[q] + dt * tan[k].dv[q] + 0.5 * dt * dt * tan[k].da[q];
                dvh[k][q] = tan[k].dv[q] + 0.5 * dt * tan[k].da[q];
            }
        }
        wp[k] = drp[k].data();
    }
    force_jacobian(sys, K, wp.data(), outp.data(), nullptr, nullptr, &ptan, &sel);  // dF' at r'
    pd.pos = r0;
    for (int k = 0; k < K; ++k) {
        Tangent& d = tan[k];
        for (uint32_t i = 0; i < N; ++i) {
            const uint32_t ty = pd.typeid_[i];
            const double gam = langevin ? m.gamma[ty] : 0.0, minv = 1.0 / pd.mass[i];
            const double dg = (langevin && d.dgamma) ? d.dgamma[ty] : 0.0;
            for (unsigned c = 0; c < 3; ++c) {
                const size_t q = 3 * size_t(i) + c;
                const bool drag = langevin && !(c == 2 && dim < 3);
                double dap = out[k][q] * minv;
                if (drag) {
                    dap -= gam * dvh[k][q] * minv;
                    if (d.dkT != 0.0 || dg != 0.0) {
                        const BDSens sns = langevin_sensitivity(gam, T, dt, minv, u[q], vh[q]);
                        dap += sns.dT * d.dkT + sns.dgamma * dg;
                    }
                }
                d.dr[q] = drp[k][q];
                d.dv[q] = dvh[k][q] + 0.5 * dt * dap;
                d.da[q] = dap;
            }
        }
    }
}

void tangent_advance(System& sys, uint64_t n, std::vector<Tangent>& tan, const PTan& ptan, const ParamSelection& sel) {
    check_selection(sys, sel);
    sys.checkAdvance(n);
    if (sys.useGPU) {  // (the tangents are the host's: each step goes to the device and back)
        for (uint64_t k = 0; k < n; ++k) {
            tangent_step(sys, tan, ptan, sel);
            sys.advance(1);
        }
        return;
    }
    sys.steps(n, [&](uint64_t) {  // (a failed step is named as in System::advance)
        tangent_step(sys, tan, ptan, sel);
        sys.step();
    });
}

}  // namespace ha
