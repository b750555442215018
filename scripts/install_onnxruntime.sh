#!/usr/bin/env bash
# Installs ONNX Runtime, the runtime users deploy with, into .deps/ort: npm's onnxruntime-node
# bundles its CPU library (--ignore-scripts: nothing else is downloaded at install time). Tests run
# exported models in it (tests/python/ort_logits.js). Safe to run again: skipped when present.
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_VERSION=1.31.1
installed="$(node -p "require('./.deps/ort/node_modules/onnxruntime-node/package.json').version" 2>/dev/null || true)"
if [ "$installed" != "$ORT_VERSION" ]; then
  command -v npm > /dev/null || scripts/apt_install.sh nodejs npm
  echo "setup: installing onnxruntime-node $ORT_VERSION into .deps/ort"
  npm install --prefix .deps/ort --ignore-scripts --no-audit --no-fund --loglevel=error \
    "onnxruntime-node@$ORT_VERSION"
fi
