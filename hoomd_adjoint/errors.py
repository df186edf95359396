"""Exceptions with HOOMD-blue's names."""


class DataAccessError(RuntimeError):
    """A quantity was read before the operation was attached to a simulation that has run."""


class IncompleteSpecificationError(ValueError):
    """A required parameter (e.g. pair parameters for a type pair in use) was not set."""
