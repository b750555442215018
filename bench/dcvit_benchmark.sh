#!/usr/bin/env bash
# DC-ViT vs PRACTISE benchmark (docs/dc_vit.md) on the default Fashion-MNIST teacher, without
# labels, for each few-shot size in $PER_CLASS (images per class):
#   1. one synthetic metric set (`vitc dcvit synth`), shared by every DC-ViT run;
#   2. PRACTISE dropping 1, 2, 3 blocks (scored once, the scores reused for 2 and 3);
#   3. one DC-ViT sweep (blocks ranked once) over the MACs of those three PRACTISE models, with
#      k = dropped + 1 blocks as the paper, and over $TARGETS (fractions of the teacher's MACs);
#   4. for the sizes in $IMPORTANCE_FOR, the same three PRACTISE-matched targets with the
#      importance-based neuron choice, reusing that size's ranking.
# Prints Markdown tables from the run.json files: top-1, MACs, params, batch-64 latency relative
# to the teacher (timed in the same run), wall time. Every step resumes (--resume) if interrupted.
# Extra arguments go to every vitc command (e.g. --blas-threads 1); $DCVIT_ARGS / $PRACTISE_ARGS
# only to one method (e.g. DCVIT_ARGS="--epochs 4"); $EVAL_ARGS to both methods, not to the synthesis
# (e.g. EVAL_ARGS="--eval-subset 2000 --latency-repeats 5" for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
VITC=${VITC:-build/apps/vitc}
TEACHER=${TEACHER:-runs/teacher_fm_small}
OUT=${OUT:-runs/dcvit_bench}
PER_CLASS=${PER_CLASS:-"100 10"}
TARGETS=${TARGETS:-"0.95,0.9,0.85,0.8,0.7,0.6"}
IMPORTANCE_FOR=${IMPORTANCE_FOR:-"100"}
SYNTH_ARGS=${SYNTH_ARGS:-}
# Candidate blocks all have the same size, so their measured latency reductions differ only by
# timing noise, which on a shared machine reorders PRACTISE's scores; the MACs reduction is used.
PRACTISE_ARGS=${PRACTISE_ARGS---latency-proxy-macs}
EVAL_ARGS=${EVAL_ARGS:-}

[ -x "$VITC" ] || { echo "error: $VITC not found; build first (scripts/setup.sh) or set VITC=" >&2; exit 1; }
[ -f "$TEACHER/model.json" ] || { echo "error: no teacher in $TEACHER; train it with: $VITC train --model fm_small --out $TEACHER" >&2; exit 1; }
mkdir -p "$OUT"
start=$(date +%s)

# shellcheck disable=SC2086  # the *_ARGS variables are word lists
[ -f "$OUT/synth/synthetic.safetensors" ] || "$VITC" dcvit synth --teacher "$TEACHER" --out "$OUT/synth" $SYNTH_ARGS "$@"

macs_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['result']['macs'])" "$1"; }

for n in $PER_CLASS; do
  dir="$OUT/n$n"
  for b in 1 2 3; do
    ranking=()
    [ "$b" -gt 1 ] && ranking=(--ranking "$dir/practise_drop1/ranking")
    # shellcheck disable=SC2086
    "$VITC" practise run --teacher "$TEACHER" --per-class "$n" --drop "$b" --out "$dir/practise_drop$b" \
      --resume "${ranking[@]}" $PRACTISE_ARGS $EVAL_ARGS "$@"
  done
  matched="$(macs_of "$dir/practise_drop1/run.json"):2,$(macs_of "$dir/practise_drop2/run.json"):3,$(macs_of "$dir/practise_drop3/run.json"):4"
  # Blocks are ranked once, at the width of the second PRACTISE-matched target (the paper's
  # "drop 2 blocks" setting), and reused for every target.
  # shellcheck disable=SC2086
  "$VITC" dcvit sweep --teacher "$TEACHER" --per-class "$n" --synth "$OUT/synth" \
    --targets "$matched,$TARGETS" --rank-at 2 --out "$dir/dcvit" --resume ${DCVIT_ARGS:-} $EVAL_ARGS "$@"
  if [[ " $IMPORTANCE_FOR " == *" $n "* ]]; then
    # shellcheck disable=SC2086
    "$VITC" dcvit sweep --teacher "$TEACHER" --per-class "$n" --synth "$OUT/synth" \
      --targets "$matched" --neurons importance --ranking "$dir/dcvit/ranking" \
      --out "$dir/dcvit_importance" --resume ${DCVIT_ARGS:-} $EVAL_ARGS "$@"
  fi
done
echo "benchmark wall time: $(( ($(date +%s) - start) / 60 )) min" >&2

python3 - "$OUT" "$IMPORTANCE_FOR" $PER_CLASS <<'PY'
import json, os, sys
out, importance_for, sizes = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
synth = json.load(open(f"{out}/synth/run.json"))["synthetic"]
print(f"Synthetic set: {synth['options']['count']} images, {synth['options']['iterations']} iterations, "
      f"{synth['seconds'] / 60:.1f} min; the teacher classifies {synth['teacher_agreement']:.0%} as their targets.")
def row(name, r, extra=""):
    res = r["result"]
    lat = r.get("latency", {}).get("ratio")
    return (f"| {name} | {extra} | {res['top1']:.2f}% | {-res['top1_drop']:+.2f} | {res['macs'] / 1e6:.2f} ({res['macs_fraction']:.1%}) | "
            f"{res['params'] / 1e6:.3f} | {'x%.3f' % lat if lat else 'n/a'} |")
for n in sizes:
    d = f"{out}/n{n}"
    first = json.load(open(f"{d}/practise_drop1/run.json"))
    t = first["teacher"]
    print(f"\n### {n} images per class ({int(n) * 10} images, labels unused)\n")
    print(f"Teacher {t['config']}: top-1 {t['eval']['top1']:.2f}%, {t['macs'] / 1e6:.2f} M MACs, {t['params'] / 1e6:.3f} M params.\n")
    print("| method | blocks | top-1 | vs teacher | MACs (M) | params (M) | latency b64 vs teacher |")
    print("|---|---|---|---|---|---|---|")
    sweep = json.load(open(f"{d}/dcvit/sweep.json"))
    imp = json.load(open(f"{d}/dcvit_importance/sweep.json")) if n in importance_for else None
    for b in (1, 2, 3):
        p = json.load(open(f"{d}/practise_drop{b}/run.json"))
        print(row(f"PRACTISE drop {b}", p, "dropped " + ",".join(map(str, p["dropped"]))))
        s = json.load(open(sweep["targets"][b - 1]["dir"] + "/run.json"))
        print(row(f"DC-ViT k={s['plan']['blocks']}", s, f"{','.join(map(str, s['blocks']))}; MLP {s['plan']['hidden']}"))
        if imp:
            s = json.load(open(imp["targets"][b - 1]["dir"] + "/run.json"))
            print(row(f"DC-ViT importance k={s['plan']['blocks']}", s, f"{','.join(map(str, s['blocks']))}; MLP {s['plan']['hidden']}"))
    print("\nDC-ViT curve (one ranking, order " + ",".join(map(str, sweep["ranking"]["order"])) + "):\n")
    print("| target | blocks | top-1 | vs teacher | MACs (M) | params (M) | latency b64 vs teacher |")
    print("|---|---|---|---|---|---|---|")
    for entry in sweep["targets"][3:]:
        s = json.load(open(entry["dir"] + "/run.json"))
        print(row(f"{s['plan']['target_macs'] / s['plan']['teacher_macs']:.0%}", s,
                  f"{','.join(map(str, s['blocks']))}; MLP {s['plan']['hidden']}"))
    rank_s = sweep["ranking"].get("ranking_seconds", 0)
    dc_s = sweep["wall_seconds"]
    pr_s = sum(json.load(open(f"{d}/practise_drop{b}/run.json"))["wall_seconds"] for b in (1, 2, 3))
    print(f"\nWall time: PRACTISE {pr_s / 60:.1f} min (scoring {first['ranking']['wall_seconds'] / 60:.1f} min + 3 finetunings); "
          f"DC-ViT sweep {dc_s / 60:.1f} min for {len(sweep['targets'])} models (ranking {rank_s / 60:.1f} min).")
PY
