"""The package layout: ``import hoomd_adjoint`` loads no paper application, and the old module
names of the applications and the HOOMD-blue bridge still import (the same module objects), with
a DeprecationWarning that names the new place."""

import importlib
import subprocess
import sys

import pytest

from conftest import subprocess_env


def test_import_loads_no_application():
    code = (
        "import sys, hoomd_adjoint; "
        "print(sorted(m for m in sys.modules if m.startswith(('hoomd_adjoint.apps', 'hoomd_adjoint.bridge'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True, cwd="/", check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize(
    "old, new",
    [
        ("hoomd_adjoint.assembly.honeycomb", "hoomd_adjoint.apps.assembly.honeycomb"),
        ("hoomd_adjoint.clusters.reproduce", "hoomd_adjoint.apps.clusters.reproduce"),
        ("hoomd_adjoint.spider.geometry", "hoomd_adjoint.apps.spider.geometry"),
        ("hoomd_adjoint.hoomd", "hoomd_adjoint.bridge"),
    ],
)
def test_old_names_import_the_same_modules_with_a_warning(old, new, monkeypatch):
    for name in [m for m in sys.modules if m == old or m.startswith(old + ".")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.warns(DeprecationWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


def test_old_attribute_names_warn_and_unknown_ones_fail(monkeypatch):
    import hoomd_adjoint as ha

    monkeypatch.delattr(ha, "spider", raising=False)  # set by an import under the old name

    with pytest.warns(DeprecationWarning, match="hoomd_adjoint.spider moved to hoomd_adjoint.apps.spider"):
        assert ha.spider is importlib.import_module("hoomd_adjoint.apps.spider")
    assert ha.apps.clusters is importlib.import_module("hoomd_adjoint.apps.clusters")
    with pytest.raises(AttributeError, match="has no attribute 'nonsense'"):
        ha.nonsense
