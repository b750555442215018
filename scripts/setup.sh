#!/usr/bin/env bash
# Installs every Debian package vitc needs (Debian 12, as root or through sudo) and builds vitc
# into build/ (all targets, or only those named: `scripts/setup.sh vitc`). Safe to run again:
# installed packages are skipped, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-pthread    # without it LibTorch falls back to reference BLAS (~50x slower GEMMs)
  libgloo-dev             # headers c10d's ProcessGroupGloo includes (data-parallel training)
  nlohmann-json3-dev      # JSON
  libcli11-dev            # command-line parsing
  zlib1g-dev              # Fashion-MNIST's IDX files are gzip
  libgtest-dev libgmock-dev
  dataset-fashion-mnist   # the bundled data set (/usr/share/datasets/fashion-mnist)
  gnuplot-nox             # accuracy-vs-MACs plots
  libjpeg-dev libpng-dev  # image folders: JPEG (libjpeg-turbo, CMYK/YCCK too) and PNG decoding; DC-ViT PNG output
  python3-torch python3-numpy python3-onnx  # tests: logits vs PyTorch, python/vitc_torch.py, ONNX
)

scripts/apt_install.sh "${PACKAGES[@]}"

scripts/install_onnxruntime.sh  # ONNX Runtime for the tests that run exported models

BUILD_DIR="${VITC_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release > /dev/null
TARGETS=()
for target in "$@"; do TARGETS+=(--target "$target"); done
cmake --build "$BUILD_DIR" -j"$(nproc)" "${TARGETS[@]}"
echo "setup: built ${*:-all targets} in $BUILD_DIR"
