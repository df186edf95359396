"""Pair potentials (hoomd.md.pair). Classes only declare parameters; the physics is in the
C++ evaluators (cpp/md/evaluators/), one header per potential."""
import numpy as np

from .. import _core
from ..errors import DataAccessError, IncompleteSpecificationError
from ..typeparam import TypeParameterDict

REQUIRED = TypeParameterDict.REQUIRED


class Force:
    """A force; after a run its per-particle arrays hold the values at the current step."""

    _cpp = None

    def _require(self):
        if self._cpp is None or self._simulation is None:
            raise DataAccessError(f"{type(self).__name__}: quantities are available once the force is part of "
                                  "a simulation's integrator and sim.run() has been called")

    @property
    def energy(self):
        """Total potential energy (energy units)."""
        self._require()
        return self._cpp.energy

    @property
    def energies(self):
        """Per-particle energies (N,): half of each pair energy goes to each particle."""
        self._require()
        return self._cpp.energies

    @property
    def forces(self):
        """Per-particle forces (N, 3)."""
        self._require()
        return self._cpp.forces

    @property
    def virials(self):
        """Per-particle virials (N, 6): xx, xy, xz, yy, yz, zz (computed on request)."""
        self._require()
        return self._cpp.compute_virials(self._simulation.state._cpp)

    @property
    def torques(self):
        self._require()
        return np.zeros((self._simulation.state.N_particles, 3))


class Pair(Force):
    """Base class of pair potentials.

    Args:
        nlist: a :class:`hoomd_adjoint.md.nlist.Cell`.
        default_r_cut: r_cut of type pairs not set explicitly (None: every pair must be set).
        mode: ``'none'`` or ``'shift'`` (subtract V(r_cut) so the energy is continuous).
    """

    _name = None          # C++ evaluator name
    _param_spec = None    # {parameter: default or REQUIRED}, in the evaluator's order
    _accepted_modes = ("none", "shift")

    def __init__(self, nlist, default_r_cut=None, mode="none"):
        if mode not in self._accepted_modes:
            raise ValueError(f"{type(self).__name__}: mode must be one of {self._accepted_modes}, got {mode!r}")
        self.nlist = nlist
        self.mode = mode
        self.params = TypeParameterDict("params", 2, spec=dict(self._param_spec), validate=self._validate_params)
        self.r_cut = TypeParameterDict("r_cut", 2, default=None if default_r_cut is None else float(default_r_cut),
                                       validate=self._validate_rcut)
        if default_r_cut is not None:
            self._validate_rcut("default_r_cut", float(default_r_cut))
        self._simulation = None

    @staticmethod
    def _validate_rcut(key, value):
        if value < 0:
            raise ValueError(f"r_cut[{key!r}] must be >= 0, got {value}")

    def _validate_params(self, key, value):
        pass

    def _attach(self, simulation):
        self._simulation = simulation
        ntypes = len(simulation.state.particle_types)
        if self._cpp is None or self._cpp_ntypes != ntypes:
            self._cpp = _core.make_pair_force(self._name, self.nlist._cpp, ntypes)
            self._cpp_ntypes = ntypes

    def _sync(self):
        """Push parameters to C++; raise naming any type pair in use that lacks parameters."""
        state = self._simulation.state
        types = state.particle_types
        self.params.check_types(types)
        self.r_cut.check_types(types)
        present = np.unique(state._cpp.typeid)
        names = list(self._param_spec)
        for a in range(len(types)):
            for b in range(a, len(types)):
                key = (types[a], types[b])
                in_use = a in present and b in present
                rc = self.r_cut.get(key)
                p = self.params.get(key)
                if in_use and rc is None:
                    raise IncompleteSpecificationError(
                        f"{type(self).__name__}.r_cut[{key!r}] is not set and there is no default_r_cut")
                if in_use and p is None and (rc or 0) > 0:
                    raise IncompleteSpecificationError(
                        f"{type(self).__name__}.params[{key!r}] is not set; it needs {names}")
                if p is None or rc is None:
                    self._cpp.set_rcut(a, b, 0.0)
                    continue
                self._cpp.set_params(a, b, [p[n] for n in names])
                self._cpp.set_rcut(a, b, rc)
        self._cpp.shift = self.mode == "shift"


class LJ(Pair):
    """Lennard-Jones: V(r) = 4 epsilon [(sigma/r)^12 - (sigma/r)^6].

    ``params[(a, b)] = dict(epsilon=..., sigma=...)`` (energy, length).
    """

    _name = "LJ"
    _param_spec = {"epsilon": REQUIRED, "sigma": REQUIRED}


class Morse(Pair):
    """Morse: V(r) = D0 [exp(-2 alpha (r - r0)) - 2 exp(-alpha (r - r0))].

    ``params[(a, b)] = dict(D0=..., alpha=..., r0=...)`` (energy, 1/length, length).
    """

    _name = "Morse"
    _param_spec = {"D0": REQUIRED, "alpha": REQUIRED, "r0": REQUIRED}


class Yukawa(Pair):
    """Yukawa: V(r) = epsilon exp(-kappa r) / r.

    ``params[(a, b)] = dict(epsilon=..., kappa=...)`` (energy x length, 1/length).
    """

    _name = "Yukawa"
    _param_spec = {"epsilon": REQUIRED, "kappa": REQUIRED}


class Gaussian(Pair):
    """Gaussian: V(r) = epsilon exp(-r^2 / (2 sigma^2)).

    ``params[(a, b)] = dict(epsilon=..., sigma=...)`` (energy, length; sigma > 0).
    """

    _name = "Gaussian"
    _param_spec = {"epsilon": REQUIRED, "sigma": REQUIRED}

    def _validate_params(self, key, value):
        if value["sigma"] <= 0:
            raise ValueError(f"Gaussian params[{key!r}]['sigma'] must be > 0, got {value['sigma']}")


class DPDConservative(Pair):
    """Soft-sphere repulsion (HOOMD's DPDConservative): V(r) = A (r_cut - r)^2 / (2 r_cut) for r < r_cut.

    A harmonic soft sphere with spring constant A / r_cut and contact distance r_cut.
    ``params[(a, b)] = dict(A=...)`` (energy / length). Only ``mode='none'`` (V(r_cut) = 0 already).
    """

    _name = "DPDConservative"
    _param_spec = {"A": REQUIRED}
    _accepted_modes = ("none",)


class Rechtsman(Pair):
    """Honeycomb-forming isotropic potential (PNAS 2021 kinetics-design paper, Eq. 1):

    V(r) = b0/r^12 - a0/r^10 + a1 exp(-a2 r) - b1 exp(-b2 (r - a3)^2)

    ``params[(a, b)] = dict(a0=..., a1=..., a2=..., a3=..., b0=5.0, b1=0.4, b2=40.0)``; the paper
    fixes b0, b1 and b2 to these defaults and designs a0..a3.
    """

    _name = "Rechtsman"
    _param_spec = {"a0": REQUIRED, "a1": REQUIRED, "a2": REQUIRED, "a3": REQUIRED,
                   "b0": 5.0, "b1": 0.4, "b2": 40.0}
