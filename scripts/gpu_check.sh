#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a pip PyTorch 2.x (which holds a CUDA LibTorch): builds vitc
# against that LibTorch, runs the CUDA tests (`ctest -L cuda`, then the rest of the suite on
# request) and the vitc-vs-PyTorch-eager benchmark (bench/device_benchmark.sh, DEVICE=cuda).
# Debian packages the machine lacks come from .gpudeps/ (scripts/gpu_deps.sh), unpacked into
# DEPS; what is already installed is used as it is. Logs and results go to RESULTS
# (default runs/gpu_check; the device tool's own $OUT is left alone).
#   scripts/gpu_check.sh [configure|build|test|bench|all]   (default all; FULL_SUITE=1 adds every test)
set -euo pipefail
cd "$(dirname "$0")/.."
STEP=${1:-all}
case "$STEP" in
  configure|build|test|bench|all) ;;
  *) echo "error: unknown step '$STEP'; expected configure, build, test, bench or all" >&2; exit 1 ;;
esac
PYTHON=${PYTHON:-python3}
DEPS=${DEPS:-/tmp/vitc_deps}
BUILD=${BUILD:-build-cuda}
RESULTS=${RESULTS:-runs/gpu_check}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$RESULTS"
RESULTS=$(realpath "$RESULTS")
status=0

torch_prefix=$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_dir=$("$PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
echo "PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "GPU", torch.cuda.is_available())')"

if [ -d .gpudeps ]; then
  mkdir -p "$DEPS"
  for deb in .gpudeps/*.deb; do
    case "$deb" in
      # Debian's Gloo headers only where the pip LibTorch ships none (they must match its Gloo).
      *libgloo-dev*) [ -f "$torch_dir/include/gloo/algorithm.h" ] && continue ;;
    esac
    dpkg -x "$deb" "$DEPS"
  done
  export LD_LIBRARY_PATH="$DEPS/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if [ -z "${VITC_FASHION_MNIST_DIR:-}" ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
    export VITC_FASHION_MNIST_DIR="$DEPS/usr/share/datasets/fashion-mnist"
  fi
fi
[ -f "$torch_dir/include/gloo/algorithm.h" ] || echo "note: the pip LibTorch has no Gloo headers; using Debian's"
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc > /dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && export CUDACXX="$d/nvcc" && break; done
fi

if [ "$STEP" = configure ] || [ "$STEP" = build ] || [ "$STEP" = all ]; then
  generator=(); command -v ninja > /dev/null && generator=(-G Ninja)
  cmake -S . -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$DEPS/usr" > "$RESULTS/configure.log" 2>&1 \
    || { tail -30 "$RESULTS/configure.log"; exit 1; }
  grep -E "Torch|CUDA" "$RESULTS/configure.log" | tail -5 || true
fi
if [ "$STEP" = build ] || [ "$STEP" = all ]; then
  cmake --build "$BUILD" -j"$JOBS" 2>&1 | tee "$RESULTS/build.log" | tail -3
fi
if [ "$STEP" = test ] || [ "$STEP" = all ]; then
  # A failing test does not stop the benchmark; the exit code reports it at the end.
  ctest --test-dir "$BUILD" -L cuda --output-on-failure > "$RESULTS/ctest_cuda.log" 2>&1 || status=1
  tail -15 "$RESULTS/ctest_cuda.log"
  if [ "${FULL_SUITE:-0}" = 1 ]; then
    ctest --test-dir "$BUILD" -j"$JOBS" > "$RESULTS/ctest_all.log" 2>&1 || status=1
    tail -15 "$RESULTS/ctest_all.log"
  fi
fi
if [ "$STEP" = bench ] || [ "$STEP" = all ]; then
  DEVICE=cuda PYTHON="$PYTHON" BENCH="$BUILD/bench/bench_device_throughput" OUT="$RESULTS/device_bench" \
    bench/device_benchmark.sh 2>&1 | grep -v '^round\|round [0-9]' | tee "$RESULTS/device_bench.log" | tail -8
fi
echo "gpu_check: logs in $RESULTS (exit $status)"
exit "$status"
