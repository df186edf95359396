"""Run HOOMD-blue's own tutorials three ways and tabulate what runs (docs/hoomd.md, "Script corpus").

    git clone https://github.com/glotzerlab/hoomd-examples /tmp/hoomd-examples
    python tools/hoomd_corpus.py /tmp/hoomd-examples --hoomd /path/to/hoomd-install [--out DIR]

Each tutorial notebook's code cells, in order, make one script (each tutorial directory is
copied to a scratch directory and its notebooks run there one after another, as a reader runs
them, so later notebooks find the files earlier ones wrote). Lines starting with ``%`` or ``!``
(notebook magics and shell) are dropped, and so are the cells that only draw (fresnel,
matplotlib, ``render(...)``, IPython). The plain ``*.py`` scripts of a tutorial run as they are.
Every script then runs

- ``hoomd``:   as written, with HOOMD-blue 4.8.2 (``--hoomd`` puts it on PYTHONPATH);
- ``swapped``: with ``import hoomd`` replaced by ``import hoomd_adjoint as hoomd`` (the embedded
  engine, nothing else changed);
- ``bridge``:  as written with HOOMD-blue, followed by ``hoomd_adjoint.bridge.gradient`` of 10
  more steps of its last simulation with respect to all its forces (loss: sum of x).

and the table says, for each, ``ok`` with the wall time or the first line of the error. Nothing is
written into the repository; the scripts and logs stay in ``--out`` (default: a new directory in
/tmp). The HOOMD-blue tutorials are not part of this repository.
"""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# tutorial directory -> run its notebooks in this order (and its *.py scripts)
TUTORIALS = (
    "00-Introducing-HOOMD-blue",
    "01-Introducing-Molecular-Dynamics",
    "02-Logging",
    "03-Parallel-Simulations-With-MPI",
    "04-Custom-Actions-In-Python",
    "06-Modelling-Rigid-Bodies",
    "07-Modelling-Patchy-Particles",
    "08-Placing-Barriers-in-the-Simulation-Box",
)
REMOVE = re.compile(r'^!\[ -e "\$(\w+)" \] && rm "\$\1"$')
# files a tutorial reads that another one writes: tutorial -> [(the other tutorial, file)]
INPUTS = {"03-Parallel-Simulations-With-MPI": [("01-Introducing-Molecular-Dynamics", "random.gsd")]}
DRAWING = re.compile(r"fresnel|matplotlib|\brender\w*\(|IPython|\bfig\b|\bax\b|\bplt\b|display\(")
BRIDGE_EPILOGUE = """
import hoomd
import numpy as _np
import hoomd_adjoint.bridge as _bridge
_sims = [v for v in list(globals().values()) if isinstance(v, hoomd.Simulation)]
if not _sims:
    raise SystemExit("CORPUS: no hoomd.Simulation to differentiate")
_sim = _sims[-1]
_integ = _sim.operations.integrator
if _integ is None or not hasattr(_integ, "forces"):
    raise SystemExit("CORPUS: no MD integrator to differentiate")
_forces = list(_integ.forces)
def _loss(f):
    return float(f.positions[:, 0].sum()), _np.tile([1.0, 0.0, 0.0], (len(f.positions), 1))
_res = _bridge.gradient(_sim, 10, _loss, wrt=_forces or ["positions"])
print("CORPUS-GRADIENT", _res.loss)
"""


def notebook_script(path):
    """The code of a notebook's cells, less magics, shell lines and drawing cells."""
    with open(path) as f:
        nb = json.load(f)
    cells = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        lines = []
        for ln in src.splitlines():
            rm = REMOVE.match(ln.strip())
            if rm:  # the notebooks' shell clean-up of files an earlier run left: in Python
                lines += ["import os", f"if os.path.exists({rm.group(1)}):", f"    os.remove({rm.group(1)})"]
            elif not ln.lstrip().startswith(("%", "!")):
                lines.append(ln)
        cells.append(without_drawing("\n".join(lines)))
    return "\n\n".join(cells) + "\n"


def without_drawing(code):
    """The cell's top-level statements that do not draw (drawing imports, helpers, calls and
    plots go; a cell that does not parse stays as it is)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    kept = [ast.get_source_segment(code, node) for node in tree.body]
    return "\n".join(seg for seg in kept if seg is not None and not DRAWING.search(seg))


def swapped(script):
    """``import hoomd`` -> ``import hoomd_adjoint as hoomd``; nothing else changes."""
    out = re.sub(r"^(\s*)import hoomd\s*$", r"\1import hoomd_adjoint as hoomd", script, flags=re.M)
    return re.sub(r"^(\s*)import hoomd\.(\w+)\s*$", r"\1import hoomd_adjoint as hoomd", out, flags=re.M)


def first_error(text):
    """The last traceback's final line (the error), or the last line."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Unsupported|Exit)\b", ln) or ln.startswith("CORPUS:"):
            return ln[:300]
    return lines[-1][:300] if lines else "(no output)"


def run(script, cwd, env, timeout):
    """(status, seconds, detail) of one script."""
    path = os.path.join(cwd, "_corpus_script.py")
    with open(path, "w") as f:
        f.write(script)
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, path], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0, f"over {timeout} s"
    dt = time.perf_counter() - t0
    if p.returncode == 0:
        return "ok", dt, ""
    return "error", dt, first_error(p.stdout + "\n" + p.stderr)


def scripts_of(tutorial_dir):
    """[(name, script)] of a tutorial: its notebooks in order (not the index), then its *.py."""
    out = []
    for name in sorted(os.listdir(tutorial_dir)):
        full = os.path.join(tutorial_dir, name)
        if name.endswith(".ipynb") and not name.startswith("00-") and "create-figures" not in name:
            out.append((name, notebook_script(full)))
    for name in sorted(os.listdir(tutorial_dir)):
        if name.endswith(".py"):
            with open(os.path.join(tutorial_dir, name)) as f:
                out.append((name, f.read()))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("examples", help="a clone of github.com/glotzerlab/hoomd-examples")
    ap.add_argument("--hoomd", default=None, help="directory holding HOOMD-blue's package (put on PYTHONPATH)")
    ap.add_argument("--out", default=None, help="scratch directory (default: a new one in /tmp)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per script and mode (default 600)")
    ap.add_argument("--only", default=None, help="run only tutorials whose name contains this")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.examples):
        ap.exit(2, f"hoomd_corpus: error: examples {args.examples!r} is not a directory\n")
    out = args.out or tempfile.mkdtemp(prefix="hoomd-corpus-")
    env = dict(os.environ)
    if args.hoomd:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (args.hoomd, env.get("PYTHONPATH")) if p)
    rows = []
    for tut in TUTORIALS:
        if args.only and args.only not in tut:
            continue
        src = os.path.join(args.examples, tut)
        if not os.path.isdir(src):
            continue
        work = {}
        for mode in ("hoomd", "swapped", "bridge"):
            work[mode] = os.path.join(out, mode, tut)
            shutil.rmtree(work[mode], ignore_errors=True)
            shutil.copytree(src, work[mode])
            for other, name in INPUTS.get(tut, ()):
                made = os.path.join(out, mode, other, name)
                if os.path.exists(made):
                    shutil.copy(made, work[mode])
        for name, script in scripts_of(src):
            res = {}
            for mode, text in (
                ("hoomd", script),
                ("swapped", swapped(script)),
                ("bridge", script + BRIDGE_EPILOGUE),
            ):
                res[mode] = run(text, work[mode], env, args.timeout)
                shutil.copy(
                    os.path.join(work[mode], "_corpus_script.py"), os.path.join(work[mode], name + ".corpus.py")
                )
            rows.append((tut, name, res))
            print(f"{tut}/{name}: " + ", ".join(f"{m} {r[0]}" for m, r in res.items()), flush=True)
    with open(os.path.join(out, "corpus.json"), "w") as f:
        json.dump(
            [dict(tutorial=t, script=n, **{m: list(r) for m, r in res.items()}) for t, n, res in rows], f, indent=1
        )
    print("\n| tutorial | script | HOOMD-blue 4.8.2 | swapped import | bridge gradient |")
    print("|---|---|---|---|---|")
    for tut, name, res in rows:
        cells = []
        for m in ("hoomd", "swapped", "bridge"):
            status, dt, detail = res[m]
            if status == "ok":
                cells.append(f"ok ({dt:.0f} s)")
            elif detail.startswith("CORPUS:"):
                cells.append("n/a (" + detail[len("CORPUS: ") :] + ")")
            else:
                cells.append(f"{status}: {detail}".replace("|", "/"))
        print(f"| {tut} | {name} | " + " | ".join(cells) + " |")
    print(f"\n(scripts and results in {out})")


if __name__ == "__main__":
    main()
