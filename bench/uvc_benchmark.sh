#!/usr/bin/env bash
# UVC benchmark (docs/uvc.md): `vitc uvc run` on the default Fashion-MNIST teacher at 70%, 50% and
# 40% of its MACs (each its own stage-1 search and stage-2 finetuning), then a Markdown table from
# the run.json files: top-1 against the teacher, MACs, params, skipped blocks, batch-64 latency
# relative to the teacher (timed in the same process), wall time.
# Defaults (2 search + 3 finetune epochs per budget) take about 45 minutes on a quiet 2-core
# machine. Extra arguments go to every `vitc uvc run` (e.g. --train-subset 20000 --quiet).
set -euo pipefail
cd "$(dirname "$0")/.."
VITC=${VITC:-build/apps/vitc}
TEACHER=${TEACHER:-runs/teacher_fm_small}
OUT=${OUT:-runs/uvc_bench}
TARGETS=${TARGETS:-"0.7 0.5 0.4"}

[ -x "$VITC" ] || { echo "error: $VITC not found; build first (scripts/setup.sh) or set VITC=" >&2; exit 1; }
[ -f "$TEACHER/model.json" ] || { echo "error: no teacher in $TEACHER; train it with: $VITC train --model fm_small --out $TEACHER" >&2; exit 1; }

for t in $TARGETS; do
  pct=$(python3 -c "print(round($t * 100))")
  "$VITC" uvc run --teacher "$TEACHER" --budget "$t" --out "$OUT/macs$pct" --resume "$@"
done

python3 - "$OUT" $TARGETS <<'PY'
import json, sys
out, targets = sys.argv[1], sys.argv[2:]
rows = [json.load(open(f"{out}/macs{round(float(t) * 100)}/run.json")) for t in targets]
t0 = rows[0]["teacher"]
print(f"Teacher {t0['config']}: top-1 {t0['top1']:.2f}%, {t0['macs'] / 1e6:.2f} M MACs, "
      f"{t0['params'] / 1e6:.3f} M params.")
print()
print("| budget | top-1 | vs teacher | before stage 2 | stage 1 ended at | MACs (M) | params (M) | skipped blocks | latency b64 vs teacher | wall |")
print("|---|---|---|---|---|---|---|---|---|---|")
for t, r in zip(targets, rows):
    res, st = r["result"], r["structure"]
    lat = r.get("latency", {}).get("ratio")
    print(f"| {float(t):.0%} | {res['top1']:.2f}% | {-res['top1_drop']:+.2f} | "
          f"{st['eval_before_finetune']['top1']:.2f}% | {st['learned_fraction']:.1%} | "
          f"{res['macs'] / 1e6:.2f} ({res['macs_fraction']:.1%}) | "
          f"{res['params'] / 1e6:.3f} ({res['params_fraction']:.1%}) | "
          f"{res['skipped_blocks'] if res['skipped_blocks'] else 'none'} | "
          f"{'x%.2f' % lat if lat else 'n/a'} | {r['wall_seconds'] / 60:.1f} min |")
print()
for t, r in zip(targets, rows):
    blocks = r["structure"]["per_block"]
    desc = ["skip" if b["skipped"] else f"h{len(b['heads'])}/v{sum(b['v_dims'])}/m{b['mlp']}" for b in blocks]
    print(f"- {float(t):.0%}: " + ", ".join(desc))
PY
