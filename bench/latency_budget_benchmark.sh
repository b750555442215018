#!/usr/bin/env bash
# Latency budgets (docs/latency_budgets.md): every method at --latency 0.7 / 0.5 / 0.3 of the
# teacher, then a Markdown table of the target, the latency table's prediction and the measured
# batch-64 ratio (teacher and compressed model timed alternately in one process), from run.json.
# The methods' training is cut to the least that gives them a structure (1 search epoch on 5000
# images, no finetuning): what is measured here is the speed of their outputs, not accuracy.
# The table is read from the cache (VITC_CACHE_DIR, default ~/.cache/vitc) or measured once.
# TARGETS, METHODS, OUT, TEACHER and VITC may be set; extra arguments go to every command.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/latency_budget_bench}
TARGETS=${TARGETS:-"0.7 0.5 0.3"}
METHODS=${METHODS:-"magnitude vit-slim uvc dc-vit practise"}

# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh

SUBSET=(--train-subset 5000 --eval-subset 1000 --quiet --resume)
for m in $METHODS; do
  for t in $TARGETS; do
    dir="$OUT/$m/latency_$t"
    [ -f "$dir/run.json" ] && continue
    # A target the method cannot reach is refused before training; the table says so.
    case $m in
      magnitude) "$VITC" prune --criterion magnitude --teacher "$TEACHER" --latency "$t" \
                   --finetune-epochs 0 --out "$dir" "${SUBSET[@]}" "$@" || true ;;
      vit-slim) [ -f "$OUT/$m/search/search.json" ] ||
                  "$VITC" slim search --teacher "$TEACHER" --out "$OUT/$m/search" --epochs 1 \
                    "${SUBSET[@]}" "$@"
                "$VITC" slim extract --search "$OUT/$m/search" --latency "$t" \
                  --finetune-epochs 0 --out "$dir" "${SUBSET[@]}" "$@" || true ;;
      uvc) "$VITC" uvc run --teacher "$TEACHER" --latency "$t" --search-epochs 1 \
             --finetune-epochs 0 --out "$dir" "${SUBSET[@]}" "$@" || true ;;
      dc-vit) "$VITC" dcvit run --teacher "$TEACHER" --latency "$t" --per-class 10 --epochs 1 \
                --synth-count 20 --synth-iterations 50 --out "$dir" --eval-subset 1000 \
                --quiet --resume "$@" || true ;;
      practise) "$VITC" practise run --teacher "$TEACHER" --latency "$t" --per-class 10 \
                  --out "$dir" --eval-subset 1000 --quiet --resume "$@" || true ;;
      *) echo "error: unknown method '$m'" >&2; exit 1 ;;
    esac
  done
done

python3 - "$OUT" "$METHODS" "$TARGETS" <<'PY'
import json, os, sys
out, methods, targets = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
print("| method | target | predicted | measured | measured / predicted | measured / target | MACs | params |")
print("|---|---|---|---|---|---|---|---|")
for m in methods:
    for t in targets:
        path = f"{out}/{m}/latency_{t}/run.json"
        if not os.path.exists(path):
            print(f"| {m} | {float(t):.2f} | - | - | - | refused | - | - |")
            continue
        r = json.load(open(path))
        b, res = r["latency_budget"], r["result"]
        print(f"| {m} | {b['target_ratio']:.2f} | {b['predicted_ratio']:.3f} | "
              f"{b['measured_ratio']:.3f} | {b['measured_ratio'] / b['predicted_ratio']:.3f} | "
              f"{b['measured_ratio'] / b['target_ratio']:.3f} | "
              f"{res['macs_fraction']:.1%} | {res['params_fraction']:.1%} |")
PY
