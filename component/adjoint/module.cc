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
    static constexpr const char* names[] = {"a0", "a1", "a2", "a3", "b0", "b1", "b2"};
    };
struct SoftSphereSpec
    {
    using Evaluator = ha::EvaluatorPairSoftSphere;
    static constexpr const char* name = "soft_sphere";
    static constexpr const char* names[] = {"epsilon", "sigma", "alpha"};
    };
    } // namespace adjoint
    } // namespace hoomd

PYBIND11_MODULE(_adjoint, m)
    {
    using namespace hoomd;
    adjoint::detail::export_Recorder(m);
    md::detail::export_PotentialPair<adjoint::EvaluatorPairAdapter<adjoint::RechtsmanSpec>>(m, "PotentialPairRechtsman");
    md::detail::export_PotentialPair<adjoint::EvaluatorPairAdapter<adjoint::SoftSphereSpec>>(m, "PotentialPairSoftSphere");
    }
