// A HOOMD-blue pair evaluator made from one of the embedded engine's evaluators
// (cpp/engine/evaluators): the same templated eval() integrates in HOOMD-blue's PotentialPair, in
// the embedded engine and, in dual numbers, in the adjoint. Spec names the potential; the evaluator
// names its parameters (param_names).
#pragma once

#include "hoomd/HOOMDMath.h"

#ifdef __HIPCC__
#define ADAPTER_DEVICE __device__
#define ADAPTER_HOSTDEVICE __host__ __device__
#else
#define ADAPTER_DEVICE
#define ADAPTER_HOSTDEVICE
#include <pybind11/pybind11.h>
#include <stdexcept>
#include <string>
#endif

namespace hoomd
    {
namespace adjoint
    {

template<class Spec> class EvaluatorPairAdapter
    {
    using E = typename Spec::Evaluator;

    public:
    struct param_type
        {
        Scalar p[E::n_params];  // as given
        Scalar d[E::n_derived]; // what eval() reads

        ADAPTER_DEVICE void load_shared(char*&, unsigned int&) { }
        ADAPTER_HOSTDEVICE void allocate_shared(char*&, unsigned int&) const { }
#ifdef ENABLE_HIP
        void set_memory_hint() const { }
#endif
#ifndef __HIPCC__
        param_type()
            {
            for (int k = 0; k < E::n_params; ++k)
                p[k] = 0;
            for (int k = 0; k < E::n_derived; ++k)
                d[k] = 0;
            }

        param_type(pybind11::dict v, bool /*managed*/ = false)
            {
            for (int k = 0; k < E::n_params; ++k)
                p[k] = v[E::param_names[k]].template cast<Scalar>();
            E::derive(p, d);
            }

        pybind11::dict asDict()
            {
            pybind11::dict v;
            for (int k = 0; k < E::n_params; ++k)
                v[E::param_names[k]] = p[k];
            return v;
            }
#endif
        } __attribute__((aligned(16)));

    ADAPTER_DEVICE EvaluatorPairAdapter(Scalar _rsq, Scalar _rcutsq, const param_type& _params)
        : rsq(_rsq), rcutsq(_rcutsq), params(_params)
        {
        }

    ADAPTER_DEVICE static bool needsCharge()
        {
        return false;
        }
    ADAPTER_DEVICE void setCharge(Scalar, Scalar) { }

    ADAPTER_DEVICE bool evalForceAndEnergy(Scalar& force_divr, Scalar& pair_eng, bool energy_shift)
        {
        if (!(rsq < rcutsq))
            return false;
        if (!E::eval(rsq, rcutsq, params.d, force_divr, pair_eng))
            return false;
        if (energy_shift)
            {
            Scalar f_cut, e_cut;
            if (E::eval(rcutsq, rcutsq, params.d, f_cut, e_cut))
                pair_eng -= e_cut;
            }
        return true;
        }

    ADAPTER_DEVICE Scalar evalPressureLRCIntegral()
        {
        return 0;
        }
    ADAPTER_DEVICE Scalar evalEnergyLRCIntegral()
        {
        return 0;
        }

#ifndef __HIPCC__
    static std::string getName()
        {
        return Spec::name;
        }
    std::string getShapeSpec() const
        {
        throw std::runtime_error("Shape definition not supported for this pair potential.");
        }
#endif

    protected:
    Scalar rsq, rcutsq;
    param_type params;
    };

    } // namespace adjoint
    } // namespace hoomd
