#!/usr/bin/env bash
# Fuzzes vitc's file readers with libFuzzer under ASan + UBSan (fuzz/README.md) and keeps every
# new crash, hang or out-of-memory input in fuzz/regressions/<reader>/; exits 1 if it found any.
# Usage: scripts/fuzz.sh [SECONDS_PER_READER (default 600)] [reader...]
#   readers: safetensors model_dir idx image (default: all). Logs: runs/fuzz/<reader>.log.
# Installs clang-14 and its runtimes (libFuzzer, sanitizers) as root or through sudo if missing,
# builds only the fuzz targets into build-fuzz/ (VITC_FUZZ_BUILD_DIR), with VITC_FUZZ_JOBS jobs (2).
# After a crash the fuzzer starts again (same work corpus) until the time is spent, so one run
# can find several bugs; inputs are grouped by their error and first vitc stack frame.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_READERS=(safetensors model_dir idx image)
MAX_RESTARTS=50         # per reader: a shallow bug found again and again must not loop forever
MAX_REGRESSION_KB=100   # bigger crash inputs stay in runs/fuzz/<reader>/artifacts only

SECONDS_PER_READER="${1:-600}"
if ! [[ "$SECONDS_PER_READER" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_READER" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_READER] [reader...] (readers: ${ALL_READERS[*]})" >&2
  exit 2
fi
shift $(( $# > 0 ? 1 : 0 ))
READERS=("$@")
if [ "${#READERS[@]}" -eq 0 ]; then READERS=("${ALL_READERS[@]}"); fi
for reader in "${READERS[@]}"; do
  if [[ " ${ALL_READERS[*]} " != *" $reader "* ]]; then
    echo "fuzz: unknown reader '$reader'; valid readers: ${ALL_READERS[*]}" >&2
    exit 2
  fi
done

# --- Clang, libFuzzer and the sanitizer runtimes ---------------------------------------------
PACKAGES=(clang-14 libclang-rt-14-dev llvm-14)  # llvm-14: llvm-symbolizer for readable stacks
scripts/apt_install.sh "${PACKAGES[@]}"
CC_BIN=clang
CXX_BIN=clang++
if ! command -v clang++ > /dev/null; then CC_BIN=clang-14; CXX_BIN=clang++-14; fi

# --- Build only the fuzz targets ----------------------------------------------------------------
BUILD_DIR="${VITC_FUZZ_BUILD_DIR:-build-fuzz}"
CC="$CC_BIN" CXX="$CXX_BIN" cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVITC_SANITIZE=ON -DVITC_BUILD_BENCH=OFF -DVITC_BUILD_TESTS=OFF -DVITC_BUILD_FUZZ=ON > /dev/null
TARGETS=()
for reader in "${READERS[@]}"; do TARGETS+=(--target "fuzz_$reader"); done
cmake --build "$BUILD_DIR" -j"${VITC_FUZZ_JOBS:-2}" "${TARGETS[@]}"
ENGINE="corpus runner (no libFuzzer: the compiler is not Clang)"
if grep -q '^VITC_HAVE_LIBFUZZER:INTERNAL=1' "$BUILD_DIR/CMakeCache.txt"; then ENGINE="libFuzzer"; fi
echo "fuzz: engine $ENGINE, ${SECONDS_PER_READER}s per reader: ${READERS[*]}"

SYMBOLIZER="$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:handle_abort=1:allocator_may_return_null=0${SYMBOLIZER:+:external_symbolizer_path=$SYMBOLIZER}}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:report_error_type=1}"
# One reader's threads only: LibTorch would start one per core for every input.
export OMP_NUM_THREADS=1
# The harnesses' scratch folders, removed at the end whatever way libFuzzer exits (fuzz_util.h).
VITC_FUZZ_TMPDIR="$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/vitc_fuzz_run.XXXXXX")"
export VITC_FUZZ_TMPDIR
trap 'rm -rf "$VITC_FUZZ_TMPDIR"' EXIT

# --- Helpers --------------------------------------------------------------------------------------
# The first error line of a fuzzer log: what went wrong.
error_line() {
  grep -m1 -aoE "terminate called after throwing an instance of '[^']*'|ERROR: [A-Za-z]*Sanitizer: [A-Za-z -]+|runtime error: .*|ERROR: libFuzzer: [a-z-]+( \(.*\))?|ERROR: fuzz runner: [a-z -]+( \(.*\))?|ALARM: .*" "$1" \
    | head -1 || true
}

# Where it went wrong: the first stack frame in vitc's code, else the first frame that is not
# the allocator, the sanitizer, libFuzzer or the C++ runtime (e.g. a library's .so); without
# addresses and arguments. Stacks as libFuzzer/ASan ("#7 0x.. in vitc::f(args) file:line" or
# "#1 0x.. (/lib/libjpeg.so.62+0x..)") or glibc's backtrace ("binary(mangled+0x..) [0x..]") print them.
vitc_frame() {
  local frames line function location
  frames="$(grep -aE '^ *#[0-9]+ 0x|^[^ ]+\([^ ]*\) ?\[0x' "$1" | sed 's/(anonymous namespace)/{anonymous}/g' || true)"
  line="$(grep -E ' in vitc::|_ZN4vitc|/src/' <<< "$frames" | grep -m1 -vE 'vitc::fuzz::|_ZN4vitc4fuzz' || true)"
  if [ -z "$line" ]; then
    line="$(grep -m1 -vE 'malloc|calloc|realloc|memalign|aligned_alloc|operator new|__interceptor|__sanitizer|__asan|__ubsan|fuzzer::|abort|raise|pthread_kill|terminate|__cxa_|libstdc\+\+|libc\.so|<unknown module>|/fuzz_[a-z_]+\+0x|fuzz_[a-z_]+\(\+0x' <<< "$frames" || true)"
  fi
  if [[ "$line" =~ \ in\ ([^\(\ ]+) ]]; then            # libFuzzer/ASan, symbolized
    function="${BASH_REMATCH[1]}"
  elif [[ "$line" =~ \(([^+\)/\ ]+)\+0x ]]; then           # glibc backtrace with a symbol
    function="$(c++filt "${BASH_REMATCH[1]}" 2>/dev/null || echo "${BASH_REMATCH[1]}")"
    function="${function%%(*}"
  else                                                   # a library without symbols
    function="$(grep -oE '[^/( ]+\.so[.0-9]*' <<< "$line" | head -1 || true)"
  fi
  location="$(grep -oE '[A-Za-z0-9_]+\.(cpp|h|hpp|c):[0-9]+' <<< "$line" | head -1 || true)"
  echo "$function${location:+ $location}"
}

# What an uncaught exception said (its first line, 160 characters at most).
what_line() {
  grep -m1 -a '^  what():' "$1" | sed 's/^  what(): *//' | cut -c1-160 || true
}

# The summary value of a libFuzzer or corpus-runner log: executed inputs.
runs_in_log() {
  local runs
  runs="$(grep -aoE 'stat::number_of_executed_units: [0-9]+' "$1" | tail -1 | grep -oE '[0-9]+$' || true)"
  if [ -z "$runs" ]; then runs="$(grep -aoE '^#[0-9]+' "$1" | tail -1 | tr -d '#' || true)"; fi
  echo "${runs:-0}"
}

# "kind | error | frame" of a kept input: kind from its name (crash-, timeout-, oom-, leak-),
# the rest from the log of the run that found it. Equal signatures: the same bug again.
signature() {
  local kind error frame repeats
  case "$1" in
    timeout-*) kind=hang ;;
    oom-*) kind=oom ;;
    *) kind=crash ;;
  esac
  error="$(error_line "$2" | sed -E 's/[0-9]+/N/g')"  # sizes differ, the bug does not
  frame="$(vitc_frame "$2")"
  # A stack overflow's top frames are wherever the recursion happened to be: one name for all.
  repeats="$(grep -aE '^ *#[0-9]+ 0x|^[^ ]+\([^ ]*\) ?\[0x' "$2" |
    sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ //; s/ ?\[0x[0-9a-f]+\]//' | sort | uniq -c | sort -rn |
    awk 'NR == 1 { print $1 }' || true)"
  if [[ "$error" == *stack-overflow* ]] || [ "${repeats:-0}" -gt 20 ]; then frame="deep recursion"; fi
  # Over the RSS limit, the stack shown is that of the most live memory, often not the culprit.
  if [[ "$error" == *"out-of-memory (used:"* ]]; then frame="over the RSS limit"; fi
  echo "$kind | ${error:-no error line} | ${frame:-no stack}"
}

# --- Fuzz each reader ---------------------------------------------------------------------------
mkdir -p runs/fuzz
status=0
SUMMARY=()
FOUND=()
for reader in "${READERS[@]}"; do
  bin="$BUILD_DIR/fuzz/fuzz_$reader"
  work="runs/fuzz/$reader/corpus"        # grows as the fuzzer finds new coverage; kept across runs
  artifacts="runs/fuzz/$reader/artifacts"
  log="runs/fuzz/$reader.log"
  mkdir -p "$work" "$artifacts" "fuzz/regressions/$reader"
  cp -n fuzz/corpus/"$reader"/* "$work"/
  flags=()
  if [ -f "fuzz/dicts/$reader.dict" ]; then flags+=("-dict=fuzz/dicts/$reader.dict"); fi
  # The JSON readers' mutators nest values up to 128000 levels deep (256 KB of brackets).
  case "$reader" in safetensors|model_dir) flags+=(-max_len=300000) ;; esac
  : > "$log"
  # The bugs fuzz/regressions/<reader>/ already shows (those still there): not new when found.
  declare -A seen=()
  known="runs/fuzz/$reader/known"
  rm -rf "$known"
  mkdir -p "$known"
  for input in fuzz/regressions/"$reader"/*; do
    if [ ! -s "$input" ]; then continue; fi
    "$bin" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -artifact_prefix="$known/" \
      "$input" > "$known/log" 2>&1 && continue
    # libFuzzer keeps no copy of an input it was given: the kind comes from the log.
    case "$(error_line "$known/log")" in
      *timeout*|ALARM*) kind=timeout- ;;
      *out-of-memory*) kind=oom- ;;
      *) kind=crash- ;;
    esac
    seen["$(signature "$kind" "$known/log")"]=1
  done
  rm -rf "$known"
  echo "fuzz: $reader: ${#seen[@]} bug(s) already in fuzz/regressions/$reader"
  runs=0 crashes=0 hangs=0 ooms=0 restarts=0 new=0
  start=$(date +%s)
  deadline=$(( start + SECONDS_PER_READER ))
  while [ "$(date +%s)" -lt "$deadline" ] && [ "$restarts" -le "$MAX_RESTARTS" ]; do
    remaining=$(( deadline - $(date +%s) ))
    segment="runs/fuzz/$reader/segment.log"
    before="$(ls "$artifacts")"
    rc=0
    "$bin" -max_total_time="$remaining" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "${flags[@]}" "$work" \
      > "$segment" 2>&1 || rc=$?
    cat "$segment" >> "$log"
    runs=$(( runs + $(runs_in_log "$segment") ))
    # The corpus runner leaves crash-current when it is killed outright (e.g. by the kernel).
    if [ -f "$artifacts/crash-current" ]; then
      mv "$artifacts/crash-current" "$artifacts/crash-killed-$(date +%s)"
    fi
    added="$(comm -13 <(echo "$before" | sort) <(ls "$artifacts" | sort) | grep -E '^(crash|timeout|oom|leak)-' || true)"
    if [ "$rc" -eq 0 ]; then break; fi
    if [ -z "$added" ]; then
      echo "fuzz: $reader: the fuzzer failed (exit $rc) without keeping an input; see $log" >&2
      tail -n 20 "$segment" >&2
      crashes=$(( crashes + 1 ))
      break
    fi
    for name in $added; do
      signature="$(signature "$name" "$segment")"
      kind="${signature%% *}"
      case "$kind" in
        hang) hangs=$(( hangs + 1 )) ;;
        oom) ooms=$(( ooms + 1 )) ;;
        *) crashes=$(( crashes + 1 )) ;;
      esac
      echo "fuzz: $reader: $kind $artifacts/$name: $signature"
      if [ -n "${seen[$signature]:-}" ]; then continue; fi  # the same bug found again
      seen[$signature]=1
      size_kb=$(( ($(stat -c %s "$artifacts/$name") + 1023) / 1024 ))
      if [ "$size_kb" -gt "$MAX_REGRESSION_KB" ]; then
        FOUND+=("$artifacts/$name (${size_kb} KB, too big for fuzz/regressions): $signature")
        continue
      fi
      if ! cmp -s "$artifacts/$name" <(cat "fuzz/regressions/$reader/$name" 2>/dev/null); then
        cp "$artifacts/$name" "fuzz/regressions/$reader/$name"
        new=$(( new + 1 ))
      fi
      what="$(what_line "$segment")"
      FOUND+=("fuzz/regressions/$reader/$name: $signature${what:+ | what(): $what}")
    done
    restarts=$(( restarts + 1 ))
  done
  unset seen
  rm -f "runs/fuzz/$reader/segment.log"
  seconds=$(( $(date +%s) - start ))
  SUMMARY+=("$(printf '%-12s %10s %8s %8s %8s %6s %6s %16s' "$reader" "$runs" "$seconds" \
    "$(( runs / (seconds > 0 ? seconds : 1) ))" "$crashes" "$hangs" "$ooms" "$new")")
  if [ $(( crashes + hangs + ooms )) -gt 0 ]; then status=1; fi
done

echo
printf '%-12s %10s %8s %8s %8s %6s %6s %16s\n' reader runs seconds exec/s crashes hangs ooms new-regressions
printf '%s\n' "${SUMMARY[@]}"
if [ "${#FOUND[@]}" -gt 0 ]; then
  echo
  echo "fuzz: inputs found (kind | first error line | first vitc frame):"
  printf '  %s\n' "${FOUND[@]}"
fi
echo "fuzz: logs in runs/fuzz/<reader>.log"
exit "$status"
