#!/usr/bin/env bash
# Data-parallel ViT-Slim search throughput (docs/distributed.md): `vitc slim search` on TEACHER for
# STEPS steps as 1 process (batch 128) and as 2 Gloo processes on this machine (batch 64 each, the
# same 128 images per step); prints the search images/s of each from search.json and the load
# average. Extra arguments go to every `vitc slim search` command.
set -euo pipefail
cd "$(dirname "$0")/.."
VITC=${VITC:-build/apps/vitc}
TEACHER=${TEACHER:-runs/teacher_fm_small}
OUT=${OUT:-runs/dist_slim_bench}
STEPS=${STEPS:-20}
PORT=${PORT:-29519}
[ -x "$VITC" ] || { echo "error: $VITC not found; build first" >&2; exit 1; }
[ -d "$TEACHER" ] || { echo "error: teacher $TEACHER not found (set TEACHER=DIR)" >&2; exit 1; }

common=(slim search --teacher "$TEACHER" --epochs 1 --max-steps-per-epoch "$STEPS" --eval-subset 256 --quiet --threads 1)
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
print("| processes | batch per process | search images/s | wall s (incl. start, eval) |")
print("|---|---|---|---|")
for name, procs, batch, wall in (("p1", 1, 128, t1 - t0), ("p2", 2, 64, t2 - t1)):
    h = json.load(open(f"{out}/{name}/search.json"))["history"][0]
    print(f"| {procs} | {batch} | {h['train_images_per_s']:.1f} | {wall:.1f} |")
PY
