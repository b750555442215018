#!/usr/bin/env bash
# ViT-Slim benchmark (docs/vit_slim.md): one search on the default Fashion-MNIST teacher, then
# extraction + finetuning at 70%, 50% and 40% of its MACs; prints a Markdown table from the
# run.json files (top-1 vs the teacher, MACs, params, batch-64 latency ratio, wall times).
# Extra arguments go to every `vitc slim` command (e.g. --blas-threads 1); $SEARCH_ARGS only to the
# search (e.g. "--epochs 1"), $EXTRACT_ARGS only to the extractions (e.g. "--finetune-epochs 1").
# The layout ($OUT/search, $OUT/macs_<t>) is `vitc experiment`'s, so TABLE_ONLY=1
# OUT=runs/experiment_fm_small/vit-slim prints this table for the experiment's ViT-Slim runs.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/slim_bench}
TARGETS=${TARGETS:-"0.7 0.5 0.4"}

# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh

# shellcheck disable=SC2086  # the *_ARGS variables are word lists
if [ -z "${TABLE_ONLY:-}" ]; then
  "$VITC" slim search --teacher "$TEACHER" --out "$OUT/search" --resume ${SEARCH_ARGS:-} "$@"
  for t in $TARGETS; do
    # shellcheck disable=SC2086
    "$VITC" slim extract --search "$OUT/search" --macs "$t" --out "$OUT/macs_$t" --resume ${EXTRACT_ARGS:-} "$@"
  done
fi

python3 - "$OUT" $TARGETS <<'PY'
import json, sys
out, targets = sys.argv[1], sys.argv[2:]
search = json.load(open(f"{out}/search/search.json"))
rows = []
for t in targets:
    r = json.load(open(f"{out}/macs_{t}/run.json"))
    rows.append(r)
t0 = rows[0]["teacher"]
print(f"Teacher {t0['config']}: top-1 {t0['top1']:.2f}%, {t0['macs'] / 1e6:.2f} M MACs, "
      f"{t0['params'] / 1e6:.3f} M params. Search: {search['options']['epochs']} epochs, "
      f"{search['search_seconds'] / 60:.1f} min, soft-mask top-1 {search['post_search_eval']['top1']:.2f}%.")
print()
print("| MACs target | top-1 | vs teacher | top-1 before finetune | MACs (M) | params (M) | latency b64 vs teacher | finetune |")
print("|---|---|---|---|---|---|---|---|")
for t, r in zip(targets, rows):
    res, ext = r["result"], r["extraction"]
    ft = r.get("finetune") or {}
    ft_s = ft.get("result", {}).get("seconds", 0.0)
    lat = r.get("latency", {}).get("ratio")
    print(f"| {float(t):.0%} | {res['top1']:.2f}% | {-res['top1_drop']:+.2f} | {ext['eval']['top1']:.2f}% | "
          f"{res['macs'] / 1e6:.2f} ({res['macs_fraction']:.1%}) | {res['params'] / 1e6:.3f} ({res['params_fraction']:.1%}) | "
          f"{'x%.2f' % lat if lat else 'n/a'} | {ft_s / 60:.1f} min |")
PY
