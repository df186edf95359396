"""Exceptions with HOOMD-blue's names, and this package's warnings."""


class DataAccessError(RuntimeError):
    """A quantity was read before the operation was attached to a simulation that has run."""


class IncompleteSpecificationError(ValueError):
    """A required parameter (e.g. pair parameters for a type pair in use) was not set."""


class ChaoticHorizonWarning(UserWarning):
    """A gradient whose adjoint grew by more than ``adjoint.CHAOTIC_GROWTH`` (100) over its horizon:
    exact for this trajectory, but chaotic dynamics make it a poor guide to nearby ones. Use a
    shorter window (``truncate=``) or average over replicas; see docs/adjoint.md, "Long horizons".
    ``result.diagnostics["adjoint_growth"]`` holds the factor."""
