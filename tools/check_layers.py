#!/usr/bin/env python3
"""Check the C++ include layering: a file may include its own layer and the layers below it.

Layers, lowest first (docs/architecture.md, issue 26):

    core < engine < adjoint < device < python

A layer is the first folder under cpp/ (cpp/engine/evaluators/ is the engine); a source file
under cpp/ outside the layer folders is reported (it would escape the check). A quoted include is
resolved against the including file's folder, then against cpp/ (the include root of the build);
one that resolves to neither is reported too, as it would not compile. System includes (<...>)
are not checked.

Exit status: 0 when every include points down or sideways; 1 when any points up (each is
printed as FILE:LINE: the include and the two layers), does not resolve, or a source file lies
outside the layers; 2 on bad arguments.
"""

import argparse
import pathlib
import re
import sys

LAYERS = ("core", "engine", "adjoint", "device", "python")
SUFFIXES = {".h", ".hpp", ".cc", ".cpp", ".cu", ".cuh"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path, cpp):
    """The layer of a file under cpp/, or None outside the layer folders."""
    try:
        rel = path.resolve().relative_to(cpp.resolve())
    except ValueError:
        return None
    return rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in LAYERS else None


def check(root):
    """Problems found under root/cpp, one line each (empty: the layering holds)."""
    cpp = root / "cpp"
    if not cpp.is_dir():
        raise FileNotFoundError(f"no cpp/ folder under {root}")
    problems = []
    for path in sorted(p for p in cpp.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
        here = layer_of(path, cpp)
        if here is None:
            problems.append(f"{path.relative_to(root)}: outside the layer folders ({', '.join(LAYERS)})")
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            name = m.group(1)
            target = next((c for c in (path.parent / name, cpp / name) if c.is_file()), None)
            where = f"{path.relative_to(root)}:{n}"
            if target is None:
                problems.append(f'{where}: #include "{name}" resolves to no file (against its folder or cpp/)')
                continue
            there = layer_of(target, cpp)
            if there is not None and LAYERS.index(there) > LAYERS.index(here):
                problems.append(f'{where}: #include "{name}": {here} includes {there}, a higher layer')
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Check that no C++ file under cpp/ includes a higher layer "
        "(core < engine < adjoint < device < python)."
    )
    parser.add_argument(
        "root",
        nargs="?",
        default=str(pathlib.Path(__file__).resolve().parent.parent),
        help="the repository root (default: this script's repository)",
    )
    args = parser.parse_args(argv)
    root = pathlib.Path(args.root)
    if not (root / "cpp").is_dir():
        parser.error(f"{root} has no cpp/ folder: give the repository root")
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) against the layering ({' < '.join(LAYERS)})", file=sys.stderr)
        return 1
    print(f"check_layers: every include under {root / 'cpp'} points to its own layer or a lower one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
