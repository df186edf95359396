#include "BarForce.h"

#include <stdexcept>

#include "../core/Dual.h"
#include "../core/Format.h"

namespace ha {

namespace {

// a at the origin, b and v by the minimum image from a (the function is translation invariant)
void relative(const ParticleData& pd, uint32_t ia, uint32_t ib, uint32_t iv, double a[3], double b[3], double v[3]) {
    const Vec3 pa = pd.position(ia);
    const Vec3 e = pd.box.minImage({pd.pos[3 * ib] - pa.x, pd.pos[3 * ib + 1] - pa.y, pd.pos[3 * ib + 2] - pa.z});
    const Vec3 r = pd.box.minImage({pd.pos[3 * iv] - pa.x, pd.pos[3 * iv + 1] - pa.y, pd.pos[3 * iv + 2] - pa.z});
    a[0] = a[1] = a[2] = 0.0;
    b[0] = e.x; b[1] = e.y; b[2] = e.z;
    v[0] = r.x; v[1] = r.y; v[2] = r.z;
}

}  // namespace

void BarForce::prepare(const ParticleData& pd) {
    for (uint32_t i : m_ends)
        if (i >= pd.N) throw std::invalid_argument(format("bar end tag %u is not a particle (N = %u)", i, pd.N));
    for (uint32_t i : m_points)
        if (i >= pd.N) throw std::invalid_argument(format("bar target tag %u is not a particle (N = %u)", i, pd.N));
    if (!(m_p[1] > 0) || !(m_p[2] > 0)) throw std::invalid_argument(format("bar sigma and alpha must be > 0, got %g and %g", m_p[1], m_p[2]));
}

void BarForce::compute(const ParticleData& pd, uint64_t, int) {
    resize(pd.N);
    for (size_t k = 0; k + 1 < m_ends.size(); k += 2) {
        const uint32_t ia = m_ends[k], ib = m_ends[k + 1];
        for (uint32_t iv : m_points) {
            if (pd.body[iv] >= 0 && pd.body[iv] == pd.body[ia]) continue;
            double a[3], b[3], v[3], Fa[3], Fb[3], Fv[3], U;
            relative(pd, ia, ib, iv, a, b, v);
            if (!bar_point(a, b, v, m_p[0], m_p[1], m_p[2], Fa, Fb, Fv, U)) continue;
            for (int c = 0; c < 3; ++c) {
                force[3 * ia + c] += Fa[c];
                force[3 * ib + c] += Fb[c];
                force[3 * iv + c] += Fv[c];
            }
            // energy: half to the point, a quarter to each end
            energy[iv] += 0.5 * U;
            energy[ia] += 0.25 * U;
            energy[ib] += 0.25 * U;
        }
    }
}

void BarForce::deviceStart(const ParticleData&) {
    throw std::runtime_error("device.GPU: bar forces run on the CPU only (so far)");
}
void BarForce::computeDevice(const ParticleData& pd, const DeviceParticles&, uint64_t) { deviceStart(pd); }

void BarForce::applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out, double* gparams,
                             double* eparams, const double* const* ptan, int) {
    if (ptan)
        for (int k = 0; k < K; ++k)
            if (ptan[k]) throw std::invalid_argument("bar forces have no parameter tangents (forward mode)");
    // slot 0: the direction w (J is symmetric: F = -grad U), slots 1..3: epsilon, sigma, alpha
    using D = Dual<4>;
    for (size_t k = 0; k + 1 < m_ends.size(); k += 2) {
        const uint32_t ia = m_ends[k], ib = m_ends[k + 1];
        for (uint32_t iv : m_points) {
            if (pd.body[iv] >= 0 && pd.body[iv] == pd.body[ia]) continue;
            double a0[3], b0[3], v0[3];
            relative(pd, ia, ib, iv, a0, b0, v0);
            for (int q = 0; q < K; ++q) {
                D a[3], b[3], v[3];
                for (int c = 0; c < 3; ++c) {
                    a[c] = D(a0[c]); a[c].d[0] = w[q][3 * ia + c];
                    b[c] = D(b0[c]); b[c].d[0] = w[q][3 * ib + c];
                    v[c] = D(v0[c]); v[c].d[0] = w[q][3 * iv + c];
                }
                const D eps = D::variable(m_p[0], 1), sigma = D::variable(m_p[1], 2), alpha = D::variable(m_p[2], 3);
                D Fa[3], Fb[3], Fv[3], U;
                if (!bar_point(a, b, v, eps, sigma, alpha, Fa, Fb, Fv, U)) break;  // (w does not change d < sigma)
                for (int c = 0; c < 3; ++c) {
                    out[q][3 * ia + c] += Fa[c].d[0];
                    out[q][3 * ib + c] += Fb[c].d[0];
                    out[q][3 * iv + c] += Fv[c].d[0];
                }
                if (q == 0 && gparams)
                    for (int s = 1; s <= 3; ++s) {
                        double acc = 0;
                        for (int c = 0; c < 3; ++c)
                            acc += w[0][3 * ia + c] * Fa[c].d[s] + w[0][3 * ib + c] * Fb[c].d[s] + w[0][3 * iv + c] * Fv[c].d[s];
                        gparams[s - 1] += acc;
                    }
                if (q == 0 && eparams)
                    for (int s = 1; s <= 3; ++s) eparams[s - 1] += U.d[s];
            }
        }
    }
}

}  // namespace ha
