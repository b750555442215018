#!/usr/bin/env bash
# vitc against PyTorch eager on the same model and weights: inference and training images/s, fp32
# and bf16, on DEVICE (docs/devices.md). The two implementations alternate ALTERNATIONS times in
# this one run (each time: ROUNDS timed rounds after WARMUP, precisions interleaved); the table
# gives the median over the alternations and the ratio vitc / eager.
#   DEVICE=cuda bench/device_benchmark.sh            # deit_small_patch16_224, batches 256 / 128
#   DEVICE=cpu MODEL=fm_small INFER_BATCH=64 TRAIN_BATCH=32 bench/device_benchmark.sh
# The eager side is timm's model when PYTHON can import timm (the weights are exported from it,
# so vitc loads the very same ones), else python/vitc_torch.py on the model vitc saved.
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE=${DEVICE:-cuda}
MODEL=${MODEL:-deit_small_patch16_224}
INFER_BATCH=${INFER_BATCH:-256}
TRAIN_BATCH=${TRAIN_BATCH:-128}
WARMUP=${WARMUP:-5}
ROUNDS=${ROUNDS:-20}
ALTERNATIONS=${ALTERNATIONS:-3}
PRECISIONS=${PRECISIONS:-fp32,bf16}
# Each side at its own best CPU threads on this 2-core machine (docs/threads.md): vitc splits its
# products over torch's pool, so torch on every core and OpenBLAS on one; eager PyTorch's Linear
# leaves the products to OpenBLAS, so torch 1 and OpenBLAS on every core (shared PLATFORM.md).
VITC_THREADS=${VITC_THREADS:-0}
VITC_BLAS_THREADS=${VITC_BLAS_THREADS:-1}
EAGER_THREADS=${EAGER_THREADS:-1}
EAGER_BLAS_THREADS=${EAGER_BLAS_THREADS:-$(nproc)}
# Subnormal floats as 0 on both sides (vitc's default; PyTorch's is off): the kernels are compared,
# not the setting. FLUSH_DENORMALS=0 compares IEEE subnormals on both.
FLUSH_DENORMALS=${FLUSH_DENORMALS:-1}
# glibc's malloc policy on both sides too: vitc's default keeps freed memory for reuse
# (util/allocator.h); the eager side gets the same through glibc's MALLOC_MMAP_MAX_ /
# MALLOC_TRIM_THRESHOLD_. MALLOC_REUSE=0 leaves glibc's defaults on both.
MALLOC_REUSE=${MALLOC_REUSE:-1}
eager_env=(OPENBLAS_NUM_THREADS="$EAGER_BLAS_THREADS")
[ "$MALLOC_REUSE" = 1 ] && eager_env+=(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647)
PYTHON=${PYTHON:-python3}
BENCH=${BENCH:-build/bench/bench_device_throughput}
OUT=${OUT:-runs/device_bench_${DEVICE//:/_}_$MODEL}
[ -x "$BENCH" ] || { echo "error: $BENCH not found; build first (scripts/setup.sh)" >&2; exit 1; }
"$PYTHON" -c "import torch" 2>/dev/null || { echo "error: $PYTHON cannot import torch" >&2; exit 1; }

# OUT is this script's own: a new directory, or one an earlier run of it made (its marker file),
# whose results are then replaced. Anything else is left alone.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/.device_benchmark" ]; then
  echo "error: OUT=$OUT exists and was not made by bench/device_benchmark.sh; choose a new directory" >&2
  exit 1
fi
mkdir -p "$OUT"
rm -rf "$OUT/model" "$OUT/weights.safetensors" "$OUT"/vitc_*.json "$OUT"/eager_*.json "$OUT/results.md"
touch "$OUT/.device_benchmark"
common=(--device "$DEVICE" --precisions "$PRECISIONS" --infer-batch "$INFER_BATCH"
        --train-batch "$TRAIN_BATCH" --warmup "$WARMUP" --rounds "$ROUNDS"
        --flush-denormals "$FLUSH_DENORMALS")
vitc_flags=(--malloc-reuse "$MALLOC_REUSE" --threads "$VITC_THREADS" --blas-threads "$VITC_BLAS_THREADS")
eager_flags=(--threads "$EAGER_THREADS")
if "$PYTHON" -c "import timm" 2>/dev/null && "$PYTHON" -c "import timm, sys; sys.exit(0 if timm.is_model('$MODEL') else 1)"; then
  "$PYTHON" bench/eager_throughput.py --export-timm "$MODEL" --weights "$OUT/weights.safetensors"
  vitc_model=("$OUT/weights.safetensors")
  eager_model=(--timm "$MODEL" --weights "$OUT/weights.safetensors")
else
  echo "no timm for $MODEL under $PYTHON: the eager side is python/vitc_torch.py on vitc's weights"
  "$BENCH" --model "$MODEL" --save-model "$OUT/model" --device cpu --precisions fp32 \
    --infer-batch 1 --train-batch 1 --warmup 0 --rounds 1 > /dev/null 2>&1
  vitc_model=("$OUT/model")
  eager_model=(--model-dir "$OUT/model")
fi
for i in $(seq 1 "$ALTERNATIONS"); do
  echo "== alternation $i/$ALTERNATIONS: vitc"
  "$BENCH" --model "${vitc_model[@]}" "${common[@]}" "${vitc_flags[@]}" --json "$OUT/vitc_$i.json"
  echo "== alternation $i/$ALTERNATIONS: PyTorch eager"
  env "${eager_env[@]}" "$PYTHON" bench/eager_throughput.py "${eager_model[@]}" "${common[@]}" "${eager_flags[@]}" --json "$OUT/eager_$i.json"
done
"$PYTHON" - "$OUT" "$ALTERNATIONS" "$EAGER_BLAS_THREADS" <<'PY' | tee "$OUT/results.md"
import json, statistics, sys
out, n, eager_blas = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = {impl: [json.load(open(f"{out}/{impl}_{i}.json")) for i in range(1, n + 1)] for impl in ("vitc", "eager")}
first_v, first_e = runs["vitc"][0], runs["eager"][0]
print(f"{first_v['model']} on {first_v['device']}; vitc vs {first_e['implementation']}; "
      f"inference batch {first_v['infer_batch']}, training batch {first_v['train_batch']}; "
      f"median of {n} alternations of {first_v['rounds']} timed rounds each")
print(f"threads: vitc {first_v['threads'].split(';')[0]}; eager torch threads {first_e['threads']}, "
      f"OpenBLAS threads {eager_blas}\n")
print("| precision | vitc inference img/s | eager inference img/s | ratio | vitc training img/s | eager training img/s | ratio |")
print("|---|---|---|---|---|---|---|")
for k, res in enumerate(first_v["results"]):
    p = res["precision"]
    med = lambda impl, key: statistics.median(r["results"][k][key] for r in runs[impl])
    vi, ei = med("vitc", "infer_images_per_s"), med("eager", "infer_images_per_s")
    vt, et = med("vitc", "train_images_per_s"), med("eager", "train_images_per_s")
    print(f"| {p} | {vi:.1f} | {ei:.1f} | x{vi / ei:.2f} | {vt:.1f} | {et:.1f} | x{vt / et:.2f} |")
PY
