// Every pair evaluator, with the name under which Python knows it. Adding a potential means
// adding its header and one line here (and its class in hoomd_adjoint/md/pair.py, which reads the
// parameter names from the evaluator: _core.pair_parameters()).
#pragma once
#include "EvaluatorPairBuckingham.h"
#include "EvaluatorPairDPDConservative.h"
#include "EvaluatorPairExpandedLJ.h"
#include "EvaluatorPairForceShiftedLJ.h"
#include "EvaluatorPairGauss.h"
#include "EvaluatorPairLJ.h"
#include "EvaluatorPairMie.h"
#include "EvaluatorPairMorse.h"
#include "EvaluatorPairMorseSwitched.h"
#include "EvaluatorPairRechtsman.h"
#include "EvaluatorPairSoftSphere.h"
#include "EvaluatorPairYukawa.h"
#include "EvaluatorXplor.h"

#define HA_FOR_EACH_PAIR_EVALUATOR(X)                  \
    X(EvaluatorPairLJ, "LJ")                           \
    X(EvaluatorPairMorse, "Morse")                     \
    X(EvaluatorPairYukawa, "Yukawa")                   \
    X(EvaluatorPairGauss, "Gaussian")                  \
    X(EvaluatorPairDPDConservative, "DPDConservative") \
    X(EvaluatorPairRechtsman, "Rechtsman")             \
    X(EvaluatorPairSoftSphere, "SoftSphere")           \
    X(EvaluatorPairMorseSwitched, "MorseSwitched")     \
    X(EvaluatorPairExpandedLJ, "ExpandedLJ")           \
    X(EvaluatorPairForceShiftedLJ, "ForceShiftedLJ")   \
    X(EvaluatorPairBuckingham, "Buckingham")           \
    X(EvaluatorPairMie, "Mie")

// The same potentials in HOOMD-blue's mode="xplor" (those whose HOOMD-blue class accepts it), as
// "<name>/xplor" with r_on appended to the parameters. Kept apart so that only the pair forces
// (device/PairForcesXplor.cc, the kernels) instantiate them, not the cluster derivatives.
#define HA_FOR_EACH_XPLOR_EVALUATOR(X)                             \
    X(EvaluatorXplor<EvaluatorPairLJ>, "LJ/xplor")                 \
    X(EvaluatorXplor<EvaluatorPairMorse>, "Morse/xplor")           \
    X(EvaluatorXplor<EvaluatorPairYukawa>, "Yukawa/xplor")         \
    X(EvaluatorXplor<EvaluatorPairGauss>, "Gaussian/xplor")        \
    X(EvaluatorXplor<EvaluatorPairExpandedLJ>, "ExpandedLJ/xplor") \
    X(EvaluatorXplor<EvaluatorPairBuckingham>, "Buckingham/xplor") \
    X(EvaluatorXplor<EvaluatorPairMie>, "Mie/xplor")
