// Forces: each owns its per-particle force, energy and virial arrays (tag order), like HOOMD's
// ForceCompute; the integrator adds them in list order.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <stdexcept>
#include "GPU.h"
#include "NeighborList.h"
#include "ParticleData.h"

namespace ha {
namespace gpu {
struct SweepRecord;  // (DeviceOps.h)
}

// Device copies of what a force reads (see System::advance on a GPU).
struct DeviceParticles {
    uint32_t N;
    BoxDim box;
    const double* pos;      // N x 3
    const PosType* postype; // N
};

class Force {
  public:
    virtual ~Force() = default;
    virtual void compute(const ParticleData& pd, uint64_t t, int nthreads) = 0;
    // The same on the device (System::advance with useGPU), into d_force/d_energy: deviceStart
    // once before a run (sends what the force reads and sizes its arrays), then computeDevice
    // at every step, which must not wait for the host.
    virtual void deviceStart(const ParticleData& pd) = 0;
    virtual void computeDevice(const ParticleData& pd, const DeviceParticles& dp, uint64_t t) = 0;
    gpu::Buffer<double> d_force, d_energy;
    // The adjoint sweep on the device (DeviceAdjoint.cc): deviceAdjointStart once a sweep (after
    // deviceStart), deviceJacobian at each step: out += J_F(r)^T w at the packed positions dp,
    // and with gparams (device, gradSize()) the step's w . dF/dtheta added to it. No waiting for
    // the host; nothing happens once the sweep has stopped (st).
    // (Forces without them say so at deviceAdjointStart, before the sweep begins.)
    virtual void deviceAdjointStart(const ParticleData&, bool /*params*/) {
        throw std::runtime_error("device.GPU: this force has no adjoint on the device (so far)");
    }
    virtual void deviceJacobian(const ParticleData&, const DeviceParticles&, uint64_t, const double*, double*, double*,
                                const gpu::SweepRecord*) {}
    // Called before a run: validate settings against the particle data.
    virtual void prepare(const ParticleData& pd) { (void)pd; }

    void resize(uint32_t N) {
        force.assign(3 * size_t(N), 0.0);
        energy.assign(N, 0.0);
        virial.assign(6 * size_t(N), 0.0);
    }
    // Sum of the per-particle energies in tag order (a fixed order: reproducible).
    double totalEnergy() const {
        double s = 0;
        for (double e : energy) s += e;
        return s;
    }

    // Adjoint: for each of K vectors, out[k] += J_F(r) w[k] [+ (dF/dtheta) ptan[k]];
    // gparams (gradSize()) += w[0] . dF/dtheta; eparams (gradSize()) += dE/dtheta. gparams,
    // eparams, ptan and any ptan[k] may be null. pd.postype must be packed.
    virtual void applyJacobian(const ParticleData& pd, int K, const double* const* w, double* const* out,
                               double* gparams, double* eparams, const double* const* ptan, int nthreads) = 0;
    // Entries of this force's parameter gradient.
    virtual size_t gradSize() const = 0;

    std::vector<double> force, energy, virial;
    // Virials cost a third of the pair loop and nothing in the dynamics needs them: they are
    // computed only when asked for (HOOMD's pressure flag does the same).
    bool computeVirial = false;
};

// Generic pair force; the evaluator E supplies the physics (see evaluators/).
class PairForce : public Force {
  public:
    PairForce(std::shared_ptr<NeighborList> nlist, uint32_t ntypes, int n_params, int n_derived, bool shift_allowed)
        : m_nlist(std::move(nlist)), m_ntypes(ntypes), m_n_params(n_params), m_n_derived(n_derived),
          m_shift_allowed(shift_allowed), m_params(size_t(ntypes) * ntypes * n_params, 0.0),
          m_rcut(size_t(ntypes) * ntypes, 0.0), m_set(size_t(ntypes) * ntypes, 0) {
        for (int k = 0; k < n_params; ++k) m_grad_sel.push_back(k);
    }

    void setParams(uint32_t a, uint32_t b, const std::vector<double>& p);
    void setRcut(uint32_t a, uint32_t b, double rcut);
    void setShift(bool shift);
    bool shift() const { return m_shift; }
    const std::vector<double>& rcut() const { return m_rcut; }
    uint32_t ntypes() const { return m_ntypes; }
    int nParams() const { return m_n_params; }
    const std::shared_ptr<NeighborList>& nlist() const { return m_nlist; }
    void prepare(const ParticleData& pd) override;

    // applyJacobian's parameters are ntypes^2 x P; the neighbour list is brought up to date for pd.
    size_t gradSize() const override { return size_t(m_ntypes) * m_ntypes * m_n_params; }

    // The parameters whose derivatives applyJacobian carries (indices into 0..P-1; default all).
    // The dual numbers are only as wide as this selection needs, so fewer is faster; gparams,
    // eparams and ptan keep the full ntypes^2 x P layout, and unselected entries stay untouched
    // (gparams) or are ignored (ptan).
    void selectGradParams(const std::vector<int>& sel);
    const std::vector<int>& gradParams() const { return m_grad_sel; }

  protected:
    gpu::Buffer<double> d_rcutsq, d_derived, d_eshift;
    // the device sweep's: the dual parameters, selection, per-particle and per-block sums
    gpu::Buffer<unsigned char> d_dderived;
    gpu::Buffer<int> d_sel;
    gpu::Buffer<double> d_gpart, d_gblocks;
    int m_dev_q = 0;  // the sweep's dual width
    // Recompute the derived parameter tables and energy shifts after a change.
    virtual void updateTables() = 0;

    std::shared_ptr<NeighborList> m_nlist;
    uint32_t m_ntypes;
    int m_n_params, m_n_derived;
    bool m_shift_allowed, m_shift = false, m_dirty = true;
    std::vector<double> m_params, m_rcut;
    std::vector<char> m_set;
    std::vector<double> m_rcutsq, m_derived, m_eshift;
    std::vector<int> m_grad_sel;
};

std::shared_ptr<PairForce> make_pair_force(const std::string& name, std::shared_ptr<NeighborList> nlist, uint32_t ntypes);

}  // namespace ha
