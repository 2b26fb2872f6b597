#!/usr/bin/env bash
# Runs each libFuzzer target (built by `make fuzz` into build-fuzz/fuzz/) for N seconds on its
# seed corpus; exits non-zero if any target crashes, leaks, times out or runs out of memory.
#
#   bash tools/run_fuzz.sh [SECONDS=20] [TARGET...]     e.g. bash tools/run_fuzz.sh 60 form_decoder
#
# Seeds (tests/fuzz/<name>/corpus/) are only read; inputs the fuzzer discovers go to
# build-fuzz/fuzz-corpus/<name>/ and are reused by the next run. A crashing input is written to
# tests/fuzz/<name>/crashes/ (reproduce: build-fuzz/fuzz/<name>_fuzz <file>); logs to
# build-fuzz/fuzz-logs/<name>.log.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_PER_TARGET="${1:-20}"
shift $(($# > 0 ? 1 : 0))
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(form_decoder json_request receipt_handle queue_config filter_policy sns_query json_fast_path log_segment mail_message sms_text push_message sigv4 access_policy query_fast_path)

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || ((SECONDS_PER_TARGET < 1)); then
  echo "run_fuzz: SECONDS must be a positive integer, got '$SECONDS_PER_TARGET'" >&2
  exit 2
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=()
for name in "${TARGETS[@]}"; do
  bin="$BUILD/fuzz/${name}_fuzz"
  seeds="$ROOT/tests/fuzz/$name/corpus"
  work="$BUILD/fuzz-corpus/$name"
  crashes="$ROOT/tests/fuzz/$name/crashes"
  log="$BUILD/fuzz-logs/$name.log"
  if [[ ! -x "$bin" ]]; then
    echo "run_fuzz: $bin not found; run 'make fuzz' first" >&2
    failed+=("$name(missing)")
    continue
  fi
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  marker="$BUILD/fuzz-logs/$name.start"
  touch "$marker"
  echo "run_fuzz: $name for ${SECONDS_PER_TARGET}s"
  "$bin" "$work" "$seeds" \
    -max_len=65536 -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  corpus=$(find "$work" -type f | wc -l)
  if ((rc != 0)); then
    echo "run_fuzz: $name FAILED (exit $rc); log: $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)' "$log" | head -20
    find "$crashes" -maxdepth 1 -type f -newer "$marker" -printf 'run_fuzz: input saved: %p\n' 2>/dev/null
    failed+=("$name")
  else
    echo "run_fuzz: $name ok: ${runs:-?} runs, cov ${cov:-?}, corpus $corpus files"
  fi
  rmdir "$crashes" 2>/dev/null || true  # keep the folder only when it holds a crash
done

if ((${#failed[@]})); then
  echo "run_fuzz: failures: ${failed[*]}" >&2
  exit 1
fi
echo "run_fuzz: all targets ran clean"
