// Math used by the pair evaluators. Evaluators are templates on the scalar type R, so that the
// same text is evaluated in double (forward dynamics) and in dual numbers (adjoint derivatives).
#pragma once
#include <cmath>
#include "../../core/HostDevice.h"

namespace ha {

using std::exp;
using std::log;
using std::sqrt;

HA_HOSTDEVICE double value_of(double x) { return x; }

#if !defined(__CUDACC__) && (defined(__GNUC__) || defined(__clang__))
#define HA_HAVE_LANES 1
// Four pairs side by side (GCC/Clang vector extensions): evaluators whose branches depend on
// their parameters only (not on r) are evaluated in Lanes by the host's vector units. The
// lane-wise functions call the scalar ones, so every lane rounds exactly as the scalar path.
typedef double Lanes __attribute__((vector_size(32)));
HA_EVALUATOR Lanes exp(Lanes x) { return Lanes{std::exp(x[0]), std::exp(x[1]), std::exp(x[2]), std::exp(x[3])}; }
HA_EVALUATOR Lanes log(Lanes x) { return Lanes{std::log(x[0]), std::log(x[1]), std::log(x[2]), std::log(x[3])}; }
HA_EVALUATOR Lanes sqrt(Lanes x) { return Lanes{std::sqrt(x[0]), std::sqrt(x[1]), std::sqrt(x[2]), std::sqrt(x[3])}; }
#endif

}  // namespace ha
