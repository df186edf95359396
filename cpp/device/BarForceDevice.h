// The bar force (engine/BarForce.h) with its device paths. Bars and points are few (a spider's
// legs and a shell's vertices), so one device thread runs the host's loop over the (bar, point)
// pairs, in the host's order: the same bits, and in a batch of replicas one thread each.
#pragma once
#include <stdexcept>
#include <vector>

#include "core/Format.h"
#include "adjoint/BarForceAdjoint.h"
#include "device/DeviceForce.h"
#include "device/DeviceOps.h"

namespace ha {

class BarForceDevice : public BarForceAdjoint, public DeviceForce {
  public:
    void deviceStart(const ParticleData& pd) override {
        const std::vector<uint32_t> t = triples(pd);  // (the bodies are fixed for a run)
        m_pairs = uint32_t(t.size() / 3);
        d_triples.upload(t);
        d_force.resize(3 * size_t(pd.N));
        d_energy.resize(pd.N);
    }
    void computeDevice(const ParticleData& pd, const DeviceParticles& dp, uint64_t) override {
        gpu::launch(pd.N, gpu::ZeroNetOp{d_force.get(), d_energy.get()}, "bar forces: zero");
        gpu::launch(
            1,
            gpu::BarForceOp{
                dp.box, dp.pos, d_triples.get(), m_pairs, {m_p[0], m_p[1], m_p[2]}, d_force.get(), d_energy.get()},
            "bar forces");
    }
    void deviceAdjointStart(const ParticleData&, bool, const std::vector<int>* sel) override {
        if (sel && sel->size() != 3)
            throw std::invalid_argument(format(
                "bar forces differentiate all three parameters (epsilon, sigma, alpha) at once; %zu were selected",
                sel->size()));
    }
    void deviceJacobian(const ParticleData&, const DeviceParticles& dp, uint64_t, const double* w, double* out,
                        double* gparams, const gpu::SweepRecord* st) override {
        gpu::launch(
            1,
            gpu::BarJacobianOp{st, dp.box, dp.pos, d_triples.get(), m_pairs, {m_p[0], m_p[1], m_p[2]}, w, out, gparams},
            "bar Jacobian");
    }

  private:
    gpu::Buffer<uint32_t> d_triples;
    uint32_t m_pairs = 0;
};

}  // namespace ha
