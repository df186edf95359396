"""Build time and engine speed with and without link-time optimisation (LTO).

Builds the extension twice from this checkout, with ``-DHA_LTO=ON`` and ``-DHA_LTO=OFF``, each
from scratch in a temporary folder (CMake, Ninja, ``-j`` = ``--jobs``), and times each build.
Then times four engine kernels on one thread with each build, in fresh subprocesses whose runs
alternate between the builds ``--repeats`` times (best of the repeats: the machine is shared),
and checks that both builds give the same bits:

* forward LJ: 3D, N = 4000, rho 0.8, r_cut 2.5 shifted, Brownian kT 1.2, dt 1e-4, 300 steps;
* forward honeycomb: 2D, N = 100, rho 0.6, Rechtsman potential, kT 0.2, dt 1e-3, 20000 steps;
* gradient honeycomb: the same system, d/d(a0..a3) of the final energy, 3300 steps (reverse;
  the PNAS design's gradient);
* gradient LJ: 3D, N = 2000, d/d(epsilon, sigma) of the final energy, 200 steps (reverse).

Needs cmake, ninja and pybind11 in the running Python (``pip install cmake ninja pybind11``)::

    python benchmarks/lto.py [--jobs 2] [--repeats 3]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KERNEL_CODE = r"""
import hashlib, json, sys, time, warnings
warnings.simplefilter("ignore")  # ChaoticHorizonWarning: the gradients here are only timed
# an editable install's import hook would load the installed module instead of this build's
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_editable")]
import numpy as np
import hoomd_adjoint as ha
from hoomd_adjoint.lattice import cubic, random_packing
assert ha._core.__file__.startswith(sys.argv[1]), ha._core.__file__  # this build's module

def lj(N):
    sim = ha.Simulation(device=ha.device.CPU(1), seed=3)
    sim.create_state_from_snapshot(cubic(N, 0.8, 3))
    pot = ha.md.pair.LJ(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    pot.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=1.2)
    sim.operations.integrator = ha.md.Integrator(dt=1e-4, methods=[bd], forces=[pot])
    return sim, pot

def honeycomb():
    sim = ha.Simulation(device=ha.device.CPU(1), seed=1)
    sim.create_state_from_snapshot(random_packing(100, 0.6, dimensions=2, min_dist=0.9, seed=0))
    pot = ha.md.pair.Rechtsman(nlist=ha.md.nlist.Cell(buffer=0.4), default_r_cut=2.5, mode="shift")
    pot.params[("A", "A")] = dict(a0=5.0, a1=1.0, a2=1.0, a3=1.6)
    bd = ha.md.methods.Brownian(filter=ha.filter.All(), kT=0.2, default_gamma=1.0)
    sim.operations.integrator = ha.md.Integrator(dt=1e-3, methods=[bd], forces=[pot])
    return sim, pot

def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]

def forward(make, steps):
    sim, _ = make()
    sim.run(10)
    t = time.perf_counter()
    sim.run(steps)
    dt = time.perf_counter() - t
    return dt, digest(sim.state.get_snapshot().particles.position)

def gradient(make, steps, names):
    sim, pot = make()
    sim.run(10)
    t = time.perf_counter()
    res = ha.adjoint.gradient(sim, steps, loss=ha.loss.PotentialEnergy(pot), wrt=[(pot, names)])
    dt = time.perf_counter() - t
    g = res.grad(pot)[("A", "A")]
    return dt, digest([g[k] for k in names])

out = {
    "forward LJ N=4000, 300 steps": forward(lambda: lj(4000), 300),
    "forward honeycomb N=100, 20000 steps": forward(honeycomb, 20000),
    "gradient honeycomb N=100, 3300 steps": gradient(honeycomb, 3300, ["a0", "a1", "a2", "a3"]),
    "gradient LJ N=2000, 200 steps": gradient(lambda: lj(2000), 200, ["epsilon", "sigma"]),
}
print(json.dumps(out))
"""


def build(variant, lto, workdir, jobs):
    """Configure and build the extension from scratch with HA_LTO=lto; return (seconds, package dir)."""
    import pybind11

    bdir = os.path.join(workdir, "build-" + variant)
    cmd = [
        "cmake",
        "-S",
        ROOT,
        "-B",
        bdir,
        "-G",
        "Ninja",
        "-DCMAKE_BUILD_TYPE=Release",
        "-DHA_ENABLE_CUDA=OFF",
        f"-DHA_LTO={'ON' if lto else 'OFF'}",
        f"-DPython_EXECUTABLE={sys.executable}",
        f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    t = time.perf_counter()
    subprocess.run(["cmake", "--build", bdir, "-j", str(jobs)], check=True, capture_output=True)
    seconds = time.perf_counter() - t
    # a copy of the Python package with this build's extension module in it
    pkg = os.path.join(workdir, "pkg-" + variant)
    shutil.copytree(
        os.path.join(ROOT, "hoomd_adjoint"),
        os.path.join(pkg, "hoomd_adjoint"),
        ignore=shutil.ignore_patterns("_core*.so", "__pycache__"),
    )
    so = [f for f in os.listdir(os.path.join(bdir, "cpp")) if f.startswith("_core") and f.endswith(".so")]
    shutil.copy(os.path.join(bdir, "cpp", so[0]), os.path.join(pkg, "hoomd_adjoint"))
    with open(os.path.join(bdir, "cpp", so[0]), "rb") as f:
        size = len(f.read())
    return seconds, pkg, size


def kernels(pkg):
    env = dict(os.environ, PYTHONPATH=pkg, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", KERNEL_CODE, pkg], env=env, capture_output=True, text=True, cwd=pkg)
    if out.returncode:
        sys.exit(f"the kernels failed with the build in {pkg}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="parallel build jobs (default: all cores)")
    ap.add_argument("--repeats", type=int, default=3, help="alternating kernel runs per build, best taken (default 3)")
    args = ap.parse_args(argv)
    variants = {"LTO": True, "no LTO": False}
    with tempfile.TemporaryDirectory(prefix="ha-lto-") as work:
        built = {}
        for name, lto in variants.items():
            print(f"building {name} (-j {args.jobs}) ...", flush=True)
            built[name] = build(name.replace(" ", "-"), lto, work, args.jobs)
        best = {name: {} for name in variants}
        digests = {name: {} for name in variants}
        for r in range(args.repeats):
            for name in variants:
                for kernel, (sec, dig) in kernels(built[name][1]).items():
                    best[name][kernel] = min(best[name].get(kernel, 1e9), sec)
                    digests[name][kernel] = dig
            print(f"kernel runs: {r + 1} of {args.repeats}", flush=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"\n{os.cpu_count()} cores, load average {load} at the end (the machine may be shared)")
    print(f"{'':<40} {'LTO':>10} {'no LTO':>10} {'LTO gain':>9}")
    a, b = built["LTO"], built["no LTO"]
    print(f"{'build from scratch, -j ' + str(args.jobs) + ' (s)':<40} {a[0]:>10.1f} {b[0]:>10.1f} {'':>9}")
    print(f"{'module size (MB)':<40} {a[2] / 1e6:>10.2f} {b[2] / 1e6:>10.2f} {'':>9}")
    for kernel in best["LTO"]:
        x, y = best["LTO"][kernel], best["no LTO"][kernel]
        print(f"{kernel + ' (s)':<40} {x:>10.3f} {y:>10.3f} {100 * (y / x - 1):>8.1f}%")
    same = digests["LTO"] == digests["no LTO"]
    print("results bit-identical between the builds:", "yes" if same else "NO: " + json.dumps(digests))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
