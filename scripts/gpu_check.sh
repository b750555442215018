#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a pip PyTorch 2.x (which holds a CUDA LibTorch): builds vitc
# against that LibTorch, runs the CUDA tests (`ctest -L cuda`, then the rest of the suite on
# request) and the vitc-vs-PyTorch-eager benchmark (bench/device_benchmark.sh, DEVICE=cuda).
# Debian packages the machine lacks come from .gpudeps/ (scripts/gpu_deps.sh), unpacked into
# DEPS; what is already installed is used as it is. Logs and results go to OUT.
#   scripts/gpu_check.sh [configure|build|test|bench|all]   (default all; FULL_SUITE=1 adds every test)
set -euo pipefail
cd "$(dirname "$0")/.."
STEP=${1:-all}
PYTHON=${PYTHON:-python3}
DEPS=${DEPS:-/tmp/vitc_deps}
BUILD=${BUILD:-build-cuda}
OUT=${OUT:-runs/gpu_check}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$OUT"

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

case "$STEP" in configure|build|test|bench|all) ;; *) echo "error: unknown step '$STEP'" >&2; exit 1 ;; esac
if [ "$STEP" = configure ] || [ "$STEP" = build ] || [ "$STEP" = all ]; then
  generator=(); command -v ninja > /dev/null && generator=(-G Ninja)
  cmake -S . -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$DEPS/usr" > "$OUT/configure.log" 2>&1 \
    || { tail -30 "$OUT/configure.log"; exit 1; }
  grep -E "Torch|CUDA" "$OUT/configure.log" | tail -5 || true
fi
if [ "$STEP" = build ] || [ "$STEP" = all ]; then
  set -o pipefail
  cmake --build "$BUILD" -j"$JOBS" 2>&1 | tee "$OUT/build.log" | tail -3
fi
if [ "$STEP" = test ] || [ "$STEP" = all ]; then
  (cd "$BUILD" && ctest -L cuda --output-on-failure 2>&1 | tee "../$OUT/ctest_cuda.log" | tail -15)
  if [ "${FULL_SUITE:-0}" = 1 ]; then
    (cd "$BUILD" && ctest -j"$JOBS" 2>&1 | tee "../$OUT/ctest_all.log" | tail -15)
  fi
fi
if [ "$STEP" = bench ] || [ "$STEP" = all ]; then
  DEVICE=cuda PYTHON="$PYTHON" BENCH="$BUILD/bench/bench_device_throughput" OUT="$OUT/device_bench" \
    bench/device_benchmark.sh 2>&1 | grep -v '^round\|round [0-9]' | tee "$OUT/device_bench.log" | tail -8
fi
