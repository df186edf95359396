// hoomd.adjoint._adjoint: the recorder and the embedded engine's pair potentials that HOOMD-blue
// does not have, as HOOMD-blue pair forces.
#include "EvaluatorPairAdapter.h"
#include "Recorder.h"

#include "engine/evaluators/EvaluatorPairRechtsman.h"
#include "engine/evaluators/EvaluatorPairSoftSphere.h"

#include "hoomd/md/PotentialPair.h"
#include <pybind11/pybind11.h>

namespace hoomd
    {
namespace adjoint
    {
struct RechtsmanSpec
    {
    using Evaluator = ha::EvaluatorPairRechtsman;
    static constexpr const char* name = "rechtsman";
    };
struct SoftSphereSpec
    {
    using Evaluator = ha::EvaluatorPairSoftSphere;
    static constexpr const char* name = "soft_sphere";
    };
template<class E> pybind11::list parameter_names()
    {
    pybind11::list out;
    for (const char* name : E::param_names)
        out.append(name);
    return out;
    }
    } // namespace adjoint
    } // namespace hoomd

PYBIND11_MODULE(_adjoint, m)
    {
    using namespace hoomd;
    adjoint::detail::export_Recorder(m);
    md::detail::export_PotentialPair<adjoint::EvaluatorPairAdapter<adjoint::RechtsmanSpec>>(
        m,
        "PotentialPairRechtsman");
    md::detail::export_PotentialPair<adjoint::EvaluatorPairAdapter<adjoint::SoftSphereSpec>>(
        m,
        "PotentialPairSoftSphere");
    // the parameters' names, in order, from the evaluators themselves (as hoomd_adjoint._core has
    // them)
    pybind11::dict names;
    names["Rechtsman"] = adjoint::parameter_names<ha::EvaluatorPairRechtsman>();
    names["SoftSphere"] = adjoint::parameter_names<ha::EvaluatorPairSoftSphere>();
    m.attr("parameter_names") = names;
    }
