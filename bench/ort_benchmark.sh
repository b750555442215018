#!/usr/bin/env bash
# vitc against ONNX Runtime, the runtime users deploy with, on the same model directories:
# batch-BATCH inference latency, `vitc bench` (vitc's default threads: torch one per core,
# OpenBLAS 1) and ORT on the model python/vitc_torch.py exports (ORT_THREADS intra-op threads),
# alternating ALTERNATIONS times in one run; the table gives the median over alternations of each
# side's median of ROUNDS timed runs, and the ratio vitc / ORT. VITC_ARGS (default none) is added
# to `vitc bench`'s flags, e.g. VITC_ARGS="--threads 1 --blas-threads 2" for the old defaults.
#   bench/ort_benchmark.sh runs/teacher_fm_small runs/uvc_30 ...
set -euo pipefail
cd "$(dirname "$0")/.."
BATCH=${BATCH:-64}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-20}
ALTERNATIONS=${ALTERNATIONS:-3}
ORT_THREADS=${ORT_THREADS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
read -r -a VITC_EXTRA <<< "${VITC_ARGS:-}"
VITC=${VITC:-build/apps/vitc}
OUT=${OUT:-runs/ort_bench}
[ $# -ge 1 ] || { echo "usage: bench/ort_benchmark.sh MODEL_DIR..." >&2; exit 1; }
[ -x "$VITC" ] || { echo "error: $VITC not found; build first (scripts/setup.sh)" >&2; exit 1; }
scripts/install_onnxruntime.sh > /dev/null
export NODE_PATH="$PWD/.deps/ort/node_modules"
# OUT is this script's own: a new directory, or one an earlier run of it made (its marker file).
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/.ort_benchmark" ]; then
  echo "error: OUT=$OUT exists and was not made by bench/ort_benchmark.sh; choose a new directory" >&2
  exit 1
fi
mkdir -p "$OUT"
touch "$OUT/.ort_benchmark"
for dir in "$@"; do
  [ -f "$dir/model.json" ] || { echo "error: $dir: no model.json (expected a vitc model directory)" >&2; exit 1; }
  name=$(basename "$dir")
  "$PYTHON" python/vitc_torch.py onnx "$dir" "$OUT/$name.onnx" --batch "$BATCH" > /dev/null
  read -r chans size < <("$PYTHON" -c "import json,sys; c=json.load(open(sys.argv[1]))['config']; print(c['in_chans'], c['img_size'])" "$dir/model.json")
  for i in $(seq 1 "$ALTERNATIONS"); do
    "$VITC" bench --model "$dir" --batch-sizes "$BATCH" --warmup "$WARMUP" --repeats "$ROUNDS" \
      "${VITC_EXTRA[@]}" --json "$OUT/${name}_vitc_$i.json" > /dev/null 2>&1
    node bench/ort_latency.js "$OUT/$name.onnx" "$chans" "$size" "$BATCH" "$WARMUP" "$ROUNDS" \
      "$ORT_THREADS" > "$OUT/${name}_ort_$i.json"
  done
done
"$PYTHON" - "$OUT" "$ALTERNATIONS" "$BATCH" "$ORT_THREADS" "$@" <<'PY' | tee "$OUT/results.md"
import json, os, statistics, sys
out, n, batch, threads, dirs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
first = json.load(open(f"{out}/{os.path.basename(dirs[0].rstrip('/'))}_vitc_1.json"))
vitc_threads = first["environment"]["threads"].split(";")[0]
print(f"batch {batch}; vitc bench ({vitc_threads}) vs ONNX Runtime "
      f"({threads} intra-op threads); median of {n} alternations\n")
print("| model | MACs (M) | vitc median ms | ORT median ms | vitc / ORT |")
print("|---|---|---|---|---|")
for d in dirs:
    name = os.path.basename(d.rstrip("/"))
    vitc = [json.load(open(f"{out}/{name}_vitc_{i}.json")) for i in range(1, n + 1)]
    ort = [json.load(open(f"{out}/{name}_ort_{i}.json")) for i in range(1, n + 1)]
    v = statistics.median(r["results"][0]["median_ms"] for r in vitc)
    o = statistics.median(r["median_ms"] for r in ort)
    print(f"| {name} | {vitc[0]['model']['macs'] / 1e6:.2f} | {v:.2f} | {o:.2f} | x{v / o:.2f} |")
PY
