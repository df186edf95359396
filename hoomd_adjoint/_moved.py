"""Old module names that still import, with a DeprecationWarning, until release 0.2.

The paper applications moved into :mod:`hoomd_adjoint.apps` (so that ``import hoomd_adjoint``
loads none of them) and the HOOMD-blue bridge became :mod:`hoomd_adjoint.bridge` (next to
``hoomd.adjoint``, the C++ component, ``hoomd_adjoint.hoomd`` read like a third thing). An old
name and every module under it resolve to the *same* module objects as the new ones, so
``isinstance`` checks and monkeypatching see one module, whichever name imported it.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "hoomd_adjoint.assembly": "hoomd_adjoint.apps.assembly",
    "hoomd_adjoint.clusters": "hoomd_adjoint.apps.clusters",
    "hoomd_adjoint.spider": "hoomd_adjoint.apps.spider",
    "hoomd_adjoint.hoomd": "hoomd_adjoint.bridge",
}


def new_name(name):
    """The current name of module ``name`` if it moved, else None."""
    for old, new in MOVED.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old) :]
    return None


def warn(old, new, stacklevel=3):
    warnings.warn(
        f"{old} moved to {new}; the old name works until hoomd-adjoint 0.2", DeprecationWarning, stacklevel=stacklevel
    )


class _Alias(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        warn(spec.name, self.target, stacklevel=6)
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass  # the target module is already executed


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        new = new_name(name)
        if new is None:
            return None
        return importlib.util.spec_from_loader(name, _Alias(new))


def install():
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
