"""Pair potentials of the embedded engine that HOOMD-blue does not have."""

from hoomd.adjoint import _adjoint
from hoomd.data.parameterdicts import TypeParameterDict
from hoomd.data.typeparam import TypeParameter
from hoomd.md import pair


def _spec(name, **defaults):
    """The parameters of evaluator ``name`` in its order, as the evaluator declares them (the C++
    module's ``parameter_names``): a default where given, else required (float)."""
    return {n: defaults.get(n, float) for n in _adjoint.parameter_names[name]}


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
        self._add_typeparam(
            TypeParameter(
                "params", "particle_types", TypeParameterDict(**_spec("Rechtsman", b0=5.0, b1=0.4, b2=40.0), len_keys=2)
            )
        )


class SoftSphere(pair.Pair):
    """V(r) = (epsilon / alpha) (1 - r / sigma)^alpha for r < sigma, 0 beyond (JAX MD's
    ``soft_sphere``). ``params[(a, b)] = dict(epsilon=..., sigma=..., alpha=2.0)``; set
    ``r_cut >= sigma``. Same evaluator as ``hoomd_adjoint.md.pair.SoftSphere``."""

    _ext_module = _adjoint
    _cpp_class_name = "PotentialPairSoftSphere"
    _accepted_modes = ("none",)

    def __init__(self, nlist, default_r_cut=None, default_r_on=0.0, mode="none"):
        super().__init__(nlist, default_r_cut, default_r_on, mode)
        self._add_typeparam(
            TypeParameter("params", "particle_types", TypeParameterDict(**_spec("SoftSphere", alpha=2.0), len_keys=2))
        )
