#!/usr/bin/env bash
# DC-ViT against PRACTISE at equal MACs as the finetuning budget per stage grows
# (issue 20, docs/dc_vit.md "The gap against the steps per stage").
#
# 100 images per class of the fm_small teacher; PRACTISE drops 2 blocks, DC-ViT compresses
# k=3 blocks (the paper's k = b + 1) and k=2 (k = b) to the MACs of PRACTISE's model; each at
# EPOCHS finetuning epochs per stage (15 steps per epoch at 1000 images and batch 64).
# Every run uses 1 torch and 1 BLAS thread; two chains run side by side on a 2-core machine.
# top-1 on all 10,000 test images. Finished runs are reused (--resume), so the script can be
# interrupted and started again; a run that fails stops its chain and the script exits 1.
#
#   [SEEDS="0 1 2"] bench/dcvit_steps_study.sh [TEACHER] [OUT] [EPOCHS...]
#   defaults: SEEDS=0, runs/teacher_fm_small runs/dcvit_steps 0 8 32 128
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
teacher=${1:-runs/teacher_fm_small}
out=${2:-runs/dcvit_steps}
shift $(( $# > 2 ? 2 : $# )) || true
epochs=("$@")
[ ${#epochs[@]} -gt 0 ] || epochs=(0 8 32 128)

vitc_built="$here/build/apps/vitc"
[ -x "$vitc_built" ] || { echo "error: $vitc_built not built (cmake --build build -j2 --target vitc)" >&2; exit 1; }
[ -f "$teacher/model.json" ] || { echo "error: $teacher/model.json not found: train the teacher first (vitc train --model fm_small --out $teacher)" >&2; exit 1; }
mkdir -p "$out/logs"
# A private copy of the binary, so that a rebuild during the study does not change it.
V="$out/vitc"
cp "$vitc_built" "$V.tmp" && mv "$V.tmp" "$V"

C=(--per-class 100 --eval-subset 0 --latency-repeats 3 --threads 1 --blas-threads 1 --resume)

run() {  # run NAME ARGS...: one vitc command, its output in logs/NAME.log, skipped when finished
  local name=$1; shift
  if [ -f "$out/$name/run.json" ]; then echo "[$(date +%T)] $name: finished before"; return 0; fi
  echo "[$(date +%T)] $name: vitc $*"
  local start=$SECONDS
  if ! "$V" "$@" > "$out/logs/$name.log" 2>&1; then
    echo "[$(date +%T)] $name: FAILED, see $out/logs/$name.log" >&2
    touch "$out/logs/FAILED"
    return 1
  fi
  echo "$(( SECONDS - start ))" > "$out/logs/$name.seconds"
  echo "[$(date +%T)] $name: done in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
}

wait_for() {  # wait_for FILE: until another chain wrote it (or failed)
  while [ ! -f "$1" ]; do
    [ -f "$out/logs/FAILED" ] && { echo "the other chain failed" >&2; return 1; }
    sleep 15
  done
}

rm -f "$out/logs/FAILED"
# SEEDS (default 0): finetuning seeds (data order and augmentation, --seed) run at every budget;
# seed s > 0 adds "_s<s>" to the run names. DC-ViT's ranking finetunes with the seed too, so each
# seed has its own ranking (ranking, ranking_s<s>); its candidates are finetuned for 8 epochs
# (--rank-epochs) whatever the run's epochs per stage (ranking at 128 epochs would cost 6 x 14
# minutes).
read -r -a seeds <<< "${SEEDS:-0}"
rank_epochs=8
suffix() { [ "$1" = 0 ] && echo "" || echo "_s$1"; }
PR=(practise run --teacher "$teacher" --drop 2 --ranking "$out/pr1/ranking" --latency-proxy-macs "${C[@]}")
dc_args() {  # dc_args SEED: DC-ViT's arguments (they need the MACs of PRACTISE's drop-2 model)
  DC=(dcvit run --teacher "$teacher" --macs "$(cat "$out/macs_target")" --synth "$out/synth"
      --ranking "$out/ranking$(suffix "$1")" --rank-epochs "$rank_epochs" --seed "$1" "${C[@]}")
}

# Chain 1: PRACTISE's scoring (drop 1), then at every budget and seed PRACTISE drop 2 and DC-ViT
# k=2 (k=2 reuses the seed's ranking chain 2 makes first).
( run pr1 practise run --teacher "$teacher" --drop 1 --out "$out/pr1" --latency-proxy-macs "${C[@]}"
  for e in "${epochs[@]}"; do
    for seed in "${seeds[@]}"; do
      x="_e$e$(suffix "$seed")"
      run "pr2$x" "${PR[@]}" --epochs "$e" --seed "$seed" --out "$out/pr2$x"
      if [ ! -f "$out/macs_target" ]; then  # the exact MACs its run.json records
        /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["macs"])' \
          "$out/pr2$x/run.json" > "$out/macs_target.tmp"
        mv "$out/macs_target.tmp" "$out/macs_target"
      fi
      wait_for "$out/ranking$(suffix "$seed")/ranking.json"
      dc_args "$seed"
      run "dc2$x" "${DC[@]}" --blocks 2 --epochs "$e" --out "$out/dc2$x"
    done
  done
) > "$out/logs/chain_1.log" 2>&1 &
pid_1=$!

# Chain 2: the synthetic set, then DC-ViT k=3 at every budget and seed (a seed's first run makes
# its ranking).
( run synth dcvit synth --teacher "$teacher" --out "$out/synth" --threads 1 --blas-threads 1
  wait_for "$out/macs_target"
  for e in "${epochs[@]}"; do
    for seed in "${seeds[@]}"; do
      x="_e$e$(suffix "$seed")"
      dc_args "$seed"
      run "dc3$x" "${DC[@]}" --blocks 3 --epochs "$e" --out "$out/dc3$x"
    done
  done
) > "$out/logs/chain_2.log" 2>&1 &
pid_2=$!

echo "two chains running; progress: tail -f $out/logs/chain_*.log $out/logs/<run>.log"
status=0
wait $pid_1 || status=1
wait $pid_2 || status=1
[ $status -eq 0 ] || { echo "error: a run failed, see $out/logs/" >&2; exit 1; }
/usr/bin/python3 "$here/bench/dcvit_steps_report.py" "$out" "${epochs[@]}"
