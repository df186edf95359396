"""tools/check_layers.py: the C++ include layering (core < engine < adjoint < device < python)
holds in this repository, and the check finds an upward include planted in a copy."""

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "check_layers.py"


def run(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True)


def test_repository_layering_holds():
    r = run(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "every include" in r.stdout


def _copy_cpp(tmp_path):
    shutil.copytree(ROOT / "cpp", tmp_path / "cpp", ignore=shutil.ignore_patterns("*.o", "__pycache__"))
    return tmp_path


def test_an_upward_include_is_named(tmp_path):
    root = _copy_cpp(tmp_path)
    target = root / "cpp" / "engine" / "System.cc"
    lines = target.read_text().splitlines()
    lines.insert(1, '#include "device/DeviceRun.h"')  # the engine reaching up to the device
    target.write_text("\n".join(lines) + "\n")
    r = run(root)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        'cpp/engine/System.cc:2: #include "device/DeviceRun.h": engine includes device, a higher layer'
    ]


def test_a_relative_upward_include_and_an_unresolved_one(tmp_path):
    root = _copy_cpp(tmp_path)
    (root / "cpp" / "core" / "Bad.h").write_text('#include "../adjoint/Adjoint.h"\n#include "NoSuchFile.h"\n')
    r = run(root)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        'cpp/core/Bad.h:1: #include "../adjoint/Adjoint.h": core includes adjoint, a higher layer',
        'cpp/core/Bad.h:2: #include "NoSuchFile.h" resolves to no file (against its folder or cpp/)',
    ]


def test_a_source_outside_the_layers_is_named(tmp_path):
    root = _copy_cpp(tmp_path)
    (root / "cpp" / "md").mkdir()
    (root / "cpp" / "md" / "Old.h").write_text('#include "core/Format.h"\n')
    r = run(root)
    assert r.returncode == 1
    assert r.stdout.splitlines() == ["cpp/md/Old.h: outside the layer folders (core, engine, adjoint, device, python)"]


def test_bad_arguments_exit_2(tmp_path):
    r = run(tmp_path)  # no cpp/ here
    assert r.returncode == 2 and "has no cpp/ folder" in r.stderr
    r = run("--no-such-option")
    assert r.returncode == 2
    assert run("--help").returncode == 0
