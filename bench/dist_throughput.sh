#!/usr/bin/env bash
# Data-parallel throughput (docs/distributed.md): `vitc train` of fm_small (`train`, the default) or
# `vitc slim search` on TEACHER (`slim-search`) for STEPS steps, as 1 process (batch 128) and as 2
# Gloo processes on this machine (batch 64 each, the same 128 images per step); prints the
# images/s of each and the load average. Extra arguments go to every vitc command.
#   bench/dist_throughput.sh [train|slim-search] [vitc flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=train
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then MODE=$1; shift; fi
STEPS=${STEPS:-}
case "$MODE" in
  train)
    VITC=${VITC:-build/apps/vitc}
    [ -x "$VITC" ] || { echo "error: $VITC not found; build first (scripts/setup.sh) or set VITC=" >&2; exit 1; }
    OUT=${OUT:-runs/dist_bench}; PORT=${PORT:-29517}; STEPS=${STEPS:-100}
    common=(train --model fm_small --epochs 1 --max-steps-per-epoch "$STEPS") ;;
  slim-search)
    # shellcheck source=bench/bench_lib.sh
    source bench/bench_lib.sh
    OUT=${OUT:-runs/dist_slim_bench}; PORT=${PORT:-29519}; STEPS=${STEPS:-20}
    common=(slim search --teacher "$TEACHER" --epochs 1 --max-steps-per-epoch "$STEPS") ;;
  *) echo "error: unknown mode '$MODE'; expected train or slim-search" >&2; exit 1 ;;
esac
common+=(--eval-subset 256 --quiet --threads 1)

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
python3 - "$MODE" "$OUT" "$start" "$mid" "$end" <<'PY'
import json, sys
mode, out, t0, t1, t2 = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
print(f"| processes | batch per process | {mode} images/s | wall s (incl. start, eval) |")
print("|---|---|---|---|")
for name, procs, batch, wall in (("p1", 1, 128, t1 - t0), ("p2", 2, 64, t2 - t1)):
    if mode == "train":
        ips = json.load(open(f"{out}/{name}/run.json"))["result"]["train_images_per_s"]
    else:
        ips = json.load(open(f"{out}/{name}/search.json"))["history"][0]["train_images_per_s"]
    print(f"| {procs} | {batch} | {ips:.1f} | {wall:.1f} |")
PY
