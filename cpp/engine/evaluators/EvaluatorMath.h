// Math used by the pair evaluators. Evaluators are templates on the scalar type R, so that the
// same text is evaluated in double (forward dynamics) and in dual numbers (adjoint derivatives).
#pragma once
#include <cmath>
#include "../../core/HostDevice.h"
#include "../../core/Lanes.h"

namespace ha {

// exp, log and sqrt for double and Lanes come from core/Lanes.h (exp: core/Exp.h, the same bits
// in both).
HA_HOSTDEVICE double value_of(double x) {
    return x;
}

}  // namespace ha
