# Sourced by the bench/*_benchmark.sh scripts: the vitc binary and teacher they use, checked.
# VITC (default build/apps/vitc) and TEACHER (default runs/teacher_fm_small) may be overridden.
VITC=${VITC:-build/apps/vitc}
TEACHER=${TEACHER:-runs/teacher_fm_small}
[ -x "$VITC" ] || { echo "error: $VITC not found; build first (scripts/setup.sh) or set VITC=" >&2; exit 1; }
[ -f "$TEACHER/model.json" ] || { echo "error: no teacher in $TEACHER; train it with: $VITC train --model fm_small --out $TEACHER (or scripts/main.sh)" >&2; exit 1; }
