#!/usr/bin/env bash
# Every method's output structure on fm_small in minutes, for latency: issue 21's aim is a batch-64
# latency ratio at most 1.1 x the MACs ratio at 50% and 30% MACs. Trains a teacher briefly (2
# epochs on 10,000 images, ~1 min), then runs bench/method_structures.json with `vitc experiment`
# (short searches, no finetuning; ~5 min on 2 cores), whose table (results.md) holds each output's
# batch-64 latency relative to the teacher, timed interleaved. The structures are the methods' own
# choices on that teacher; the accuracies are a barely trained teacher's and mean nothing here.
#
# Then it times every output against the teacher again, in one process (`vitc bench --baseline`:
# teacher and output alternate run by run, batch 64, 20 runs), ROUNDS times, and prints the median
# latency ratio and latency / MACs per output, for this build's attention kernels and, in the same
# rounds, with VITC_HEAD_ATTENTION=sgemm (every head by two sgemm calls and a row softmax, as
# before the fused kernel of model/head_attention.h).
#   bench/method_structures.sh            OUT=runs/method_structures ROUNDS=5
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/method_structures}
ROUNDS=${ROUNDS:-3}
VITC=${VITC:-build/apps/vitc}
[ -x "$VITC" ] || { echo "error: $VITC not found; build first (scripts/setup.sh) or set VITC=" >&2; exit 1; }

if [ ! -f "$OUT/teacher/model.json" ]; then
  "$VITC" train --model fm_small --out "$OUT/teacher" --epochs 2 --train-subset 10000 --eval-subset 1000
fi
# Failed rows are reported in the table; the timing below skips them.
"$VITC" experiment --config bench/method_structures.json --teacher "$OUT/teacher" \
  --out "$OUT/experiment" --latency-repeats 20 || true

python3 - "$OUT" "$ROUNDS" "$VITC" <<'PY'
import json, os, statistics, subprocess, sys
out, rounds, vitc = sys.argv[1], int(sys.argv[2]), sys.argv[3]
results = json.load(open(f"{out}/experiment/results.json"))
rows = [r for r in results["rows"] if r["status"] == "ok"]
kernels = [("this build", "auto"), ("sgemm kernel", "sgemm")]

def ratio_to_teacher(model, kernel):
    env = dict(os.environ, VITC_HEAD_ATTENTION=kernel)
    text = subprocess.run([vitc, "bench", "--model", model, "--baseline", f"{out}/teacher",
                           "--batch-sizes", "64", "--repeats", "20"],
                          capture_output=True, text=True, check=True, env=env).stdout
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "64":
            return float(fields[-1])
    raise SystemExit(f"error: no batch-64 line from vitc bench --model {model}")

print("| method | budget | MACs ratio | " + " | ".join(
    f"latency ratio ({name}) | latency / MACs ({name})" for name, _ in kernels) + " |")
print("|" + "---|" * (3 + 2 * len(kernels)))
for r in rows:
    ratios = {name: [] for name, _ in kernels}
    for _ in range(rounds):
        for name, kernel in kernels:
            ratios[name].append(ratio_to_teacher(r["dir"], kernel))
    cells = []
    for name, _ in kernels:
        ratio = statistics.median(ratios[name])
        cells += [f"{ratio:.3f}", f"{ratio / r['macs_fraction']:.2f}"]
    print(f"| {r['method']} | {r['budget']} | {r['macs_fraction']:.3f} | " + " | ".join(cells) + " |",
          flush=True)
PY
