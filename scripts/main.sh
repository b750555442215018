#!/usr/bin/env bash
# The main job: sets everything up, trains the default Fashion-MNIST teacher, compresses it with
# UVC to 50% of its MACs, and measures both (MACs, params, top-1, batch-64 latency in one
# interleaved run): a table (runs/main/results.md) and the top-1-against-MACs plot
# (runs/main/accuracy_vs_macs.png). Every stage is kept: a second run only prints the results,
# and an interrupted one continues where it stopped. VITC_TEACHER_DIR moves the teacher
# (default runs/teacher_fm_small), VITC_MAIN_DIR the compression results (default runs/main).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh vitc   # the tests are built by scripts/test.sh
VITC="${VITC_BUILD_DIR:-build}/apps/vitc"
TEACHER="${VITC_TEACHER_DIR:-runs/teacher_fm_small}"
RESULTS="${VITC_MAIN_DIR:-runs/main}"

echo "main: [1/3] the teacher ($TEACHER)"
if [ -f "$TEACHER/run.json" ] && [ -f "$TEACHER/model.safetensors" ]; then
  echo "main: teacher already trained in $TEACHER (delete it to retrain)"
else
  "$VITC" train --model fm_small --out "$TEACHER" --resume
fi
"$VITC" info --model "$TEACHER"

echo "main: [2/3] UVC to 50% of the teacher's MACs, then [3/3] both measured ($RESULTS)"
"$VITC" experiment --config experiments/main.json --teacher "$TEACHER" --out "$RESULTS" --verbose
echo "main: table $RESULTS/results.md, plot $RESULTS/accuracy_vs_macs.png, compressed model $RESULTS/uvc/macs_0.5"
