#!/usr/bin/env bash
# Data-parallel training throughput (docs/distributed.md): `vitc train` of fm_small for STEPS
# steps as 1 process (batch 128) and as 2 Gloo processes on this machine (batch 64 each, the same
# 128 images per step); prints the training images/s of each from run.json and the load average.
# Extra arguments go to every `vitc train` command.
set -euo pipefail
cd "$(dirname "$0")/.."
VITC=${VITC:-build/apps/vitc}
OUT=${OUT:-runs/dist_bench}
STEPS=${STEPS:-100}
PORT=${PORT:-29517}
[ -x "$VITC" ] || { echo "error: $VITC not found; build first" >&2; exit 1; }

common=(train --model fm_small --epochs 1 --max-steps-per-epoch "$STEPS" --eval-subset 256 --quiet --threads 1)
rm -rf "$OUT"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"$VITC" "${common[@]}" --batch-size 128 --out "$OUT/p1" "$@" > /dev/null
mid=$(date +%s.%N)
for r in 0 1; do
  "$VITC" "${common[@]}" --batch-size 64 --out "$OUT/p2" --dist-world-size 2 --dist-rank $r \
    --dist-master-port "$PORT" "$@" > /dev/null &
done
wait
end=$(date +%s.%N)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" "$start" "$mid" "$end" <<'PY'
import json, sys
out, t0, t1, t2 = sys.argv[1], *map(float, sys.argv[2:])
print("| processes | batch per process | train images/s | wall s (incl. start, eval) |")
print("|---|---|---|---|")
for name, procs, batch, wall in (("p1", 1, 128, t1 - t0), ("p2", 2, 64, t2 - t1)):
    r = json.load(open(f"{out}/{name}/run.json"))["result"]
    print(f"| {procs} | {batch} | {r['train_images_per_s']:.0f} | {wall:.1f} |")
PY
