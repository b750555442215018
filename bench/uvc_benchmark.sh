#!/usr/bin/env bash
# UVC benchmark (docs/uvc.md): `vitc uvc run` on the default Fashion-MNIST teacher at 70%, 50% and
# 40% of its MACs (each its own stage-1 search and stage-2 finetuning), then a Markdown table from
# the run.json files: top-1 against the teacher, MACs, params, skipped blocks, batch-64 latency
# relative to the teacher (timed in the same process), wall time.
# Defaults (2 search + 3 finetune epochs per budget) take about 45 minutes on a quiet 2-core
# machine. Extra arguments go to every `vitc uvc run` (e.g. --train-subset 20000 --quiet).
# The layout ($OUT/macs_<t>) is `vitc experiment`'s, so TABLE_ONLY=1
# OUT=runs/experiment_fm_small/uvc prints this table for the experiment's UVC runs.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/uvc_bench}
TARGETS=${TARGETS:-"0.7 0.5 0.4"}

# shellcheck source=bench/bench_lib.sh
source bench/bench_lib.sh

if [ -z "${TABLE_ONLY:-}" ]; then
  for t in $TARGETS; do
    "$VITC" uvc run --teacher "$TEACHER" --macs "$t" --out "$OUT/macs_$t" --resume "$@"
  done
fi

python3 - "$OUT" $TARGETS <<'PY'
import json, sys
out, targets = sys.argv[1], sys.argv[2:]
rows = [json.load(open(f"{out}/macs_{t}/run.json")) for t in targets]
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
