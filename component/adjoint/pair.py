"""Pair potentials of the embedded engine that HOOMD-blue does not have."""
from hoomd.adjoint import _adjoint
from hoomd.data.parameterdicts import TypeParameterDict
from hoomd.data.typeparam import TypeParameter
from hoomd.md import pair


class Rechtsman(pair.Pair):
    """The honeycomb-forming potential (Goodrich et al., PNAS 2021, Eq. 1)::

        V(r) = b0/r^12 - a0/r^10 + a1 exp(-a2 r) - b1 exp(-b2 (r - a3)^2)

    ``params[(a, b)] = dict(a0=..., a1=..., a2=..., a3=..., b0=5.0, b1=0.4, b2=40.0)`` (energy and
    length units of the script). Same evaluator as ``hoomd_adjoint.md.pair.Rechtsman``.
    """

    _ext_module = _adjoint
    _cpp_class_name = "PotentialPairRechtsman"
    _accepted_modes = ("none", "shift")

    def __init__(self, nlist, default_r_cut=None, default_r_on=0.0, mode="none"):
        super().__init__(nlist, default_r_cut, default_r_on, mode)
        self._add_typeparam(TypeParameter("params", "particle_types", TypeParameterDict(
            a0=float, a1=float, a2=float, a3=float, b0=5.0, b1=0.4, b2=40.0, len_keys=2)))


class SoftSphere(pair.Pair):
    """V(r) = (epsilon / alpha) (1 - r / sigma)^alpha for r < sigma, 0 beyond (JAX MD's
    ``soft_sphere``). ``params[(a, b)] = dict(epsilon=..., sigma=..., alpha=2.0)``; set
    ``r_cut >= sigma``. Same evaluator as ``hoomd_adjoint.md.pair.SoftSphere``."""

    _ext_module = _adjoint
    _cpp_class_name = "PotentialPairSoftSphere"
    _accepted_modes = ("none",)

    def __init__(self, nlist, default_r_cut=None, default_r_on=0.0, mode="none"):
        super().__init__(nlist, default_r_cut, default_r_on, mode)
        self._add_typeparam(TypeParameter("params", "particle_types", TypeParameterDict(
            epsilon=float, sigma=float, alpha=2.0, len_keys=2)))
