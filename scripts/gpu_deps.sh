#!/usr/bin/env bash
# Run on a Debian 12 machine (this project's development machine): downloads, without installing,
# the Debian packages that scripts/gpu_check.sh unpacks on a GPU machine that has PyTorch but
# no Debian packages and no network (the lent GPU machine, docs/devices.md). About 33 MB, into
# .gpudeps/ (ignored by git; carry it to that machine).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpudeps
cd .gpudeps
apt-get download \
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev \
  libjpeg62-turbo libjpeg62-turbo-dev libjpeg-dev libpng16-16 libpng-dev zlib1g-dev \
  libgloo-dev dataset-fashion-mnist
ls -la
