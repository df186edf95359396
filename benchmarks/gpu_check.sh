#!/usr/bin/env bash
# Everything issue 14 needs a GPU for, as one command for a lent GPU machine (about 6-8 minutes
# on an H200 with 16 cores): build with CUDA for this GPU, run the GPU tests on the CUDA backend,
# run benchmarks/gpu.py. Logs and the table go to $OUT (or /tmp/gpu_check).
#
# The machine has no package registry; gsd travels as a wheel. Once, here, in the repo root:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl gsd
#   python3 -m pip download --no-deps --python-version 3.12 -d .whl jax-md e3nn-jax jraph ml-collections frozendict
# then run this with .whl carried:  bash benchmarks/gpu_check.sh [benchmark arguments]
# (default arguments: --profile 100000, which adds a kernel-by-kernel profile at N = 1e5)
# STAGES picks what runs (default all: build tests gpu batch host); a device command is limited
# to 10 minutes, so on a lent machine run it as two calls on the warm machine:
#   STAGES="build tests gpu" bash benchmarks/gpu_check.sh;  STAGES="build batch host" bash benchmarks/gpu_check.sh
# (the second build is a no-op: build/gpu stays on the warm machine)
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
if [ -d .whl ]; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi -L | tee "$OUT/device.txt"
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
STAGES=${STAGES:-build tests gpu batch host}
stage() { [[ " $STAGES " == *" $1 "* ]]; }
start=$(date +%s)
stage build && { cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DHA_ENABLE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
    -Dpybind11_DIR="$($PY -c 'import pybind11; print(pybind11.get_cmake_dir())')" -DPython_EXECUTABLE="$(command -v $PY)" \
    > "$OUT/build.log" 2>&1 && cmake --build build/gpu -j"$(nproc)" >> "$OUT/build.log" 2>&1 \
    || { tail -40 "$OUT/build.log"; exit 1; }; echo "# built in $(( $(date +%s) - start )) s for sm_$ARCH"; }
rm -f hoomd_adjoint/_core*.so
ln -sf "$PWD"/build/gpu/_core*.so hoomd_adjoint/
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
stage tests && timeout 240 $PY -m pytest -q -p no:cacheprovider tests/test_gpu.py tests/test_gpu_batch.py 2>&1 | tee "$OUT/tests.log" | tail -15
[ $# -eq 0 ] && set -- --profile 100000
stage gpu && timeout 420 $PY benchmarks/gpu.py "$@" 2>&1 | tee "$OUT/gpu_table.txt"
# replica batches (issue 27): R = 1, 64, 1024 at 3300 steps, with JAX MD's vmapped batch where
# jax-md (and its pure-Python needs: e3nn-jax, jraph, ml-collections, frozendict) travel as wheels
stage batch && timeout 420 $PY benchmarks/gpu_batch.py --R 1 64 1024 2>&1 | tee "$OUT/gpu_batch_table.txt"
# host work per step (issue 27): transfers and host time per step, N = 1e4 .. 1e6
stage host && timeout 150 $PY benchmarks/host_work.py --backend cuda --sizes 10000 100000 1000000 2>&1 \
    | tee "$OUT/host_work.txt"
