// Forces: each owns its per-particle force, energy and virial arrays (tag order), like HOOMD's
// ForceCompute; the integrator adds them in list order.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <stdexcept>
#include "engine/NeighborList.h"
#include "engine/ParticleData.h"

namespace ha {

class Force {
  public:
    virtual ~Force() = default;
    virtual void compute(const ParticleData& pd, uint64_t t, int nthreads) = 0;
    // What the force is, in messages ("bar forces run on the CPU only").
    virtual const char* kind() const { return "these forces"; }
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

    std::vector<double> force, energy, virial;
    // Virials cost a third of the pair loop and nothing in the dynamics needs them: they are
    // computed only when asked for (HOOMD's pressure flag does the same).
    bool computeVirial = false;
};

// Generic pair force; the evaluator E supplies the physics (PairForceT.h, evaluators/).
class PairForce : public Force {
  public:
    PairForce(std::shared_ptr<NeighborList> nlist, uint32_t ntypes, int n_params, int n_derived, bool shift_allowed)
        : m_nlist(std::move(nlist)),
          m_ntypes(ntypes),
          m_n_params(n_params),
          m_n_derived(n_derived),
          m_shift_allowed(shift_allowed),
          m_params(size_t(ntypes) * ntypes * n_params, 0.0),
          m_rcut(size_t(ntypes) * ntypes, 0.0),
          m_set(size_t(ntypes) * ntypes, 0) {}

    void setParams(uint32_t a, uint32_t b, const std::vector<double>& p);
    void setRcut(uint32_t a, uint32_t b, double rcut);
    void setShift(bool shift);
    bool shift() const { return m_shift; }
    const std::vector<double>& rcut() const { return m_rcut; }
    uint32_t ntypes() const { return m_ntypes; }
    int nParams() const { return m_n_params; }
    const std::shared_ptr<NeighborList>& nlist() const { return m_nlist; }
    void prepare(const ParticleData& pd) override;

    const char* kind() const override { return "pair forces"; }

  protected:
    // Recompute the derived parameter tables and energy shifts after a change.
    virtual void updateTables() = 0;

    std::shared_ptr<NeighborList> m_nlist;
    uint32_t m_ntypes;
    int m_n_params, m_n_derived;
    bool m_shift_allowed, m_shift = false, m_dirty = true;
    std::vector<double> m_params, m_rcut;
    std::vector<char> m_set;
    std::vector<double> m_rcutsq, m_derived, m_eshift;
};

}  // namespace ha
