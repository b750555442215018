#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite (CTest: labels unit and slow).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${VITC_BUILD_DIR:-build}" --output-on-failure -j"$(nproc)" "$@"
