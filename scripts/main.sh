#!/usr/bin/env bash
# Sets everything up, trains the default Fashion-MNIST teacher (once: kept in $VITC_TEACHER_DIR,
# default runs/teacher_fm_small; an interrupted run resumes) and evaluates it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh vitc   # the tests are built by scripts/test.sh
VITC="${VITC_BUILD_DIR:-build}/apps/vitc"
TEACHER="${VITC_TEACHER_DIR:-runs/teacher_fm_small}"

if [ -f "$TEACHER/run.json" ] && [ -f "$TEACHER/model.safetensors" ]; then
  echo "main: teacher already trained in $TEACHER (delete it to retrain)"
else
  "$VITC" train --model fm_small --out "$TEACHER" --resume
fi
"$VITC" info --model "$TEACHER"
"$VITC" eval --model "$TEACHER" --json "$TEACHER/eval.json"
