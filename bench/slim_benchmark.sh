#!/usr/bin/env bash
# ViT-Slim benchmark (docs/vit_slim.md): one search on the default Fashion-MNIST teacher, then
# extraction + finetuning at 70%, 50% and 40% of its MACs; prints a Markdown table from the
# run.json files (top-1 vs the teacher, MACs, params, batch-64 latency ratio, wall times).
# Extra arguments go to every `vitc slim` command (e.g. --blas-threads 1); $SEARCH_ARGS only to the
# search (e.g. "--epochs 1"), $EXTRACT_ARGS only to the extractions (e.g. "--finetune-epochs 1").
set -euo pipefail
cd "$(dirname "$0")/.."
VITC=${VITC:-build/apps/vitc}
TEACHER=${TEACHER:-runs/teacher_fm_small}
OUT=${OUT:-runs/slim_bench}
TARGETS=${TARGETS:-"0.7 0.5 0.4"}

[ -x "$VITC" ] || { echo "error: $VITC not found; build first (scripts/setup.sh) or set VITC=" >&2; exit 1; }
[ -f "$TEACHER/model.json" ] || { echo "error: no teacher in $TEACHER; train it with: $VITC train --model fm_small --out $TEACHER" >&2; exit 1; }

# shellcheck disable=SC2086  # the *_ARGS variables are word lists
"$VITC" slim search --teacher "$TEACHER" --out "$OUT/search" --resume ${SEARCH_ARGS:-} "$@"
for t in $TARGETS; do
  pct=$(python3 -c "print(round($t * 100))")
  # shellcheck disable=SC2086
  "$VITC" slim extract --search "$OUT/search" --macs "$t" --out "$OUT/macs$pct" --resume ${EXTRACT_ARGS:-} "$@"
done

python3 - "$OUT" $TARGETS <<'PY'
import json, sys
out, targets = sys.argv[1], sys.argv[2:]
search = json.load(open(f"{out}/search/search.json"))
rows = []
for t in targets:
    r = json.load(open(f"{out}/macs{round(float(t) * 100)}/run.json"))
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
