// The generic pair force with every path (forward and adjoint, host and device) for an
// evaluator: PairForceT (engine) < PairForceAdjointT (adjoint) < PairForceDeviceT (here).
// Instantiated by PairForces.cc (evaluators/All.h's potentials) and PairForcesXplor.cc (the
// same in mode="xplor"): two translation units that compile side by side.
#pragma once
#include <stdexcept>
#include <type_traits>

#include "adjoint/PairForceAdjoint.h"
#include "device/DeviceForce.h"
#include "device/DeviceNeighborList.h"
#include "device/DeviceOps.h"

namespace ha {

template <class E>
class PairForceDeviceT : public PairForceAdjointT<E>, public DeviceForce {
  public:
    PairForceDeviceT(std::shared_ptr<NeighborList> nlist, uint32_t ntypes)
        : PairForceAdjointT<E>(std::move(nlist), ntypes) {}

    void deviceStart(const ParticleData& pd) override {
        if (m_dirty) updateTables();
        d_rcutsq.upload(m_rcutsq);
        d_derived.upload(m_derived);
        d_eshift.upload(m_eshift);
        d_force.resize(3 * size_t(pd.N));
        d_energy.resize(pd.N);  // (its list: DeviceRun::begin starts each list once)
    }

    void computeDevice(const ParticleData& pd, const DeviceParticles& dp, uint64_t t) override {
        device_list(*m_nlist).update(pd, dp.postype, t, false, dp.clock);
        const PairTables tab{m_ntypes, d_rcutsq.get(), d_derived.get(), d_eshift.get()};
        const NeighborView nb = device_list(*m_nlist).view();
        if (dp.box.triclinic())
            gpu::launch(dp.N, gpu::PairForceOp<E, true>{dp.postype, dp.box, nb, tab, d_force.get(), d_energy.get()},
                        "pair forces");
        else
            gpu::launch(dp.N, gpu::PairForceOp<E, false>{dp.postype, dp.box, nb, tab, d_force.get(), d_energy.get()},
                        "pair forces");
    }

    void deviceAdjointStart(const ParticleData& pd, bool params, const std::vector<int>* sel) override {
        constexpr int P = E::n_params;
        m_dev_sel = sel ? *sel : m_all_params;
        const int nsel = params ? int(m_dev_sel.size()) : 0;
        this->template with_width<P>(nsel, [&](auto width) {
            constexpr int Q = decltype(width)::value;
            const std::vector<ParamDual<Q>> dd = this->template dualParams<Q>(m_dev_sel);
            d_dderived.upload(reinterpret_cast<const unsigned char*>(dd.data()), dd.size() * sizeof(ParamDual<Q>));
            m_dev_q = Q;
        });
        d_sel.upload(m_dev_sel);
        const size_t ntp = size_t(m_ntypes) * m_ntypes;
        d_gpart.resize(m_ntypes == 1 && nsel > 0 ? size_t(pd.N) * m_dev_q : 0);
        d_gblocks.resize(nsel > 0 ? grad_blocks(pd.N) * this->block_stride(ntp * m_dev_q) : 0);
        d_gblocks2.resize(d_gblocks.size());  // (the tree's other half: gpu::launch_tree)
    }

    void deviceJacobian(const ParticleData& pd, const DeviceParticles& dp, uint64_t t, const double* w, double* out,
                        double* gparams, const gpu::SweepRecord* st) override {
        device_list(*m_nlist).update(pd, dp.postype, t, true);
        const NeighborView nb = device_list(*m_nlist).view();
        const uint32_t N = dp.N, nblocks = grad_blocks(N);
        const size_t ntp = size_t(m_ntypes) * m_ntypes;
        const bool want_g = gparams && d_gblocks.size();
        this->template with_width<E::n_params>(m_dev_q, [&](auto width) {
            constexpr int Q = decltype(width)::value;
            if (Q != m_dev_q) throw std::logic_error("deviceJacobian: dual width");  // (with_width(Q) is Q)
            const auto* dd = reinterpret_cast<const ParamDual<Q>*>(d_dderived.get());
            const size_t stride = this->block_stride(ntp * Q);
            double* gpart = want_g && m_ntypes == 1 ? d_gpart.get() : nullptr;
            const gpu::PairAdjointArgs<Q> args{st, dp.postype, dp.box, nb, m_ntypes, d_rcutsq.get(), dd, w};
            gpu::launch(N, gpu::JacobianOp<E, Q>{args, out, gpart}, "pair Jacobian");
            if (!want_g) return;
            if (gpart)
                gpu::launch(nblocks, gpu::ParamBlockSumOp{st, N, uint32_t(Q), stride, gpart, d_gblocks.get()},
                            "parameter sums: blocks");
            else
                gpu::launch(nblocks, gpu::ParamBlockOp<E, Q>{args, N, stride, d_gblocks.get()},
                            "parameter sums: blocks, pair by pair");
            const double* sum =
                gpu::launch_tree(st, d_gblocks.get(), d_gblocks2.get(), nblocks, stride, uint32_t(ntp * Q));
            gpu::launch(1,
                        gpu::ParamAddOp{st, uint32_t(ntp), uint32_t(Q), uint32_t(m_dev_sel.size()),
                                        uint32_t(E::n_params), d_sel.get(), sum, gparams},
                        "parameter sums: total");
        });
    }

  private:
    using PairForceAdjointT<E>::m_nlist;
    using PairForceAdjointT<E>::m_ntypes;
    using PairForceAdjointT<E>::m_rcutsq;
    using PairForceAdjointT<E>::m_derived;
    using PairForceAdjointT<E>::m_eshift;
    using PairForceAdjointT<E>::m_all_params;
    using PairForceAdjointT<E>::m_dirty;
    using PairForceAdjointT<E>::updateTables;

    gpu::Buffer<double> d_rcutsq, d_derived, d_eshift;
    // the device sweep's: the dual parameters, selection, per-particle and per-block sums
    gpu::Buffer<unsigned char> d_dderived;
    gpu::Buffer<int> d_sel;
    gpu::Buffer<double> d_gpart, d_gblocks, d_gblocks2;
    int m_dev_q = 0;             // the sweep's dual width
    std::vector<int> m_dev_sel;  // the sweep's selection (its request's, sent at deviceAdjointStart)
};

}  // namespace ha
