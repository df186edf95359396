// External fields (hoomd.md.external.field): forces on each particle alone, from its type, charge
// and position, as HOOMD-blue 4.8.2's evaluators compute them.
// Electric: F_i = q_i E_t, U_i = -q_i E_t . r_i (r_i wrapped; virial F r), E_t per particle type.
// Periodic: U_i = A tanh(c cos(q . r_i)), q = p b_i (b_i = 2 pi a_j x a_k / V, the reciprocal
// lattice vector of index i), c = 1 / (2 pi) / (p w); no virial.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>
#include "core/BoxDim.h"
#include "core/Format.h"
#include "engine/Force.h"

namespace ha {

class ElectricField : public Force {
  public:
    void setField(uint32_t type, std::array<double, 3> E) {
        if (m_E.size() < 3 * size_t(type + 1)) m_E.resize(3 * size_t(type + 1), 0.0);
        for (int c = 0; c < 3; ++c) m_E[3 * size_t(type) + c] = E[c];
    }
    void prepare(const ParticleData& pd) override {
        if (m_E.size() < 3 * size_t(pd.ntypes)) m_E.resize(3 * size_t(pd.ntypes), 0.0);
    }
    void compute(const ParticleData& pd, uint64_t, int) override {
        resize(pd.N);
        prepare(pd);
        for (uint32_t i = 0; i < pd.N; ++i) {
            const double q = pd.charge[i];
            const double* E = &m_E[3 * size_t(pd.typeid_[i])];
            const double* r = &pd.pos[3 * size_t(i)];
            double* F = &force[3 * size_t(i)];
            for (int c = 0; c < 3; ++c) F[c] = q * E[c];
            energy[i] = -q * (E[0] * r[0] + E[1] * r[1] + E[2] * r[2]);
            if (computeVirial) {
                double* w = &virial[6 * size_t(i)];
                w[0] = F[0] * r[0];
                w[1] = F[0] * r[1];
                w[2] = F[0] * r[2];
                w[3] = F[1] * r[1];
                w[4] = F[1] * r[2];
                w[5] = F[2] * r[2];
            }
        }
    }
    const char* kind() const override { return "electric fields"; }

  protected:
    std::vector<double> m_E;  // ntypes x 3
};

// The scaled reciprocal lattice vector q = p b_i of a periodic field [EvaluatorExternalPeriodic].
inline void periodic_wavevector(const BoxDim& box, int index, int p, double q[3]) {
    const double a[3][3] = {
        {box.Lx, 0.0, 0.0}, {box.Ly * box.xy, box.Ly, 0.0}, {box.Lz * box.xz, box.Lz * box.yz, box.Lz}};
    const double* a2 = a[(index + 1) % 3];
    const double* a3 = a[(index + 2) % 3];
    const double V = box.Lx * box.Ly * box.Lz;
    const double b[3] = {2.0 * M_PI * (a2[1] * a3[2] - a2[2] * a3[1]) / V,
                         2.0 * M_PI * (a2[2] * a3[0] - a2[0] * a3[2]) / V,
                         2.0 * M_PI * (a2[0] * a3[1] - a2[1] * a3[0]) / V};
    for (int k = 0; k < 3; ++k) q[k] = b[k] * double(p);
}

// U and F of the periodic field at r (double: the forward map; dual numbers: its derivatives by
// the position and by A and w, for the adjoint).
template <class T>
void periodic_field(const T r[3], const double q[3], const T& A, const T& w, int p, T F[3], T& U) {
    using std::cos;
    using std::sin;
    using std::tanh;
    const T clip = 1.0 / (2.0 * M_PI) / (double(p) * w);
    const T arg = r[0] * q[0] + r[1] * q[1] + r[2] * q[2];
    const T clipcos = clip * cos(arg);
    const T tanH = tanh(clipcos);
    const T sechSq = 1.0 - tanH * tanH;
    const T f = A * sechSq * clip * sin(arg);
    for (int k = 0; k < 3; ++k) F[k] = f * q[k];
    U = A * tanH;
}

class PeriodicField : public Force {
  public:
    struct Params {
        double A = 0, w = 1;
        int index = 0, p = 1;
    };
    void setParams(uint32_t type, double A, int index, double w, int p) {
        if (m_params.size() <= type) m_params.resize(type + 1);
        m_params[type] = {A, w, index, p};
    }
    void prepare(const ParticleData& pd) override {
        if (m_params.size() < pd.ntypes) m_params.resize(pd.ntypes);
        if (pd.box.is2D)
            throw std::invalid_argument(
                "external.field.Periodic needs a 3D box: HOOMD-blue 4.8.2 divides by the volume Lx Ly Lz, 0 in 2D");
    }
    void compute(const ParticleData& pd, uint64_t, int) override {
        resize(pd.N);
        prepare(pd);
        const std::vector<double> q_of = wavevectors(pd.box);
        for (uint32_t i = 0; i < pd.N; ++i) {
            const uint32_t t = pd.typeid_[i];
            const Params& P = m_params[t];
            periodic_field(&pd.pos[3 * size_t(i)], &q_of[3 * size_t(t)], P.A, P.w, P.p, &force[3 * size_t(i)],
                           energy[i]);
        }
    }
    const char* kind() const override { return "periodic fields"; }

  protected:
    // q = p b_i of each type (the box's, so once per evaluation, not per particle)
    std::vector<double> wavevectors(const BoxDim& box) const {
        std::vector<double> q(3 * m_params.size());
        for (size_t t = 0; t < m_params.size(); ++t)
            periodic_wavevector(box, m_params[t].index, m_params[t].p, &q[3 * t]);
        return q;
    }
    std::vector<Params> m_params;  // per type
};

}  // namespace ha
