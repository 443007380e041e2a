#!/usr/bin/env bash
# Fuzz skiff-helper's apply-tar for SECONDS (default 60): builds the sanitizer target
# (build.sh), replays the committed regression inputs (regressions/), regenerates the seed
# corpus (make_corpus.py), then runs libFuzzer. Exits 1 with one "fuzz: FAILED" line on any
# crash, sanitizer report, leak, timeout or oracle failure, and keeps the input that caused it.
#   usage: native/helper/fuzz/run.sh [SECONDS] [libFuzzer options...]
#   FUZZ_JOBS=N: N fuzzing processes (libFuzzer -fork=N) instead of one.
# npm run test:fuzz runs it for 60 s; bench/fuzz.sh for longer. See docs/FUZZING.md.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seconds=${1:-60}
shift || true
out=$here/../build/fuzz
bin=$("$here/build.sh") || { echo "fuzz: FAILED: cannot build the apply-tar fuzz target" >&2; exit 1; }
mkdir -p "$out/corpus" "$out/artifacts"
log=$out/fuzz.log
# each layer is applied in a private directory under this one (a tmpfs when there is one)
scratch=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo /tmp )/skiff-fuzz-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export SKIFF_FUZZ_TMPDIR=$scratch
# leaks are checked per input by libFuzzer; halt_on_error keeps reports to the first finding
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fail() {
  tail -n 60 "$log" >&2
  echo "fuzz: FAILED: $1" >&2
  exit 1
}

# 1. Inputs that once crashed (or otherwise mattered) must keep passing.
if ! "$bin" "$here"/regressions/* >"$log" 2>&1; then
  fail "a regression input in native/helper/fuzz/regressions crashes apply-tar again (log: $log)"
fi

# 2. Seeds, then the fuzzer itself. New interesting inputs accumulate in build/fuzz/corpus.
rm -rf "$out/seeds"
python3 "$here/make_corpus.py" "$out/seeds" >/dev/null || fail "cannot generate the seed corpus"
jobs=()
[ -n "${FUZZ_JOBS:-}" ] && jobs=(-fork="$FUZZ_JOBS")
start=$(date +%s)
"$bin" "${jobs[@]}" -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
  -dict="$here/tar.dict" -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$@" \
  "$out/corpus" "$out/seeds" >"$log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
  artifact=$(grep -ao "Test unit written to [^ ]*" "$log" | tail -n 1 | sed 's/Test unit written to //')
  fail "apply-tar crashed or a sanitizer/oracle fired after $(( $(date +%s) - start )) s (exit $rc); input: ${artifact:-see $log}; replay: $bin ${artifact:-INPUT}"
fi
runs=$(grep -ao "stat::number_of_executed_units: [0-9]*" "$log" | tail -n 1 | grep -o "[0-9]*$")
echo "fuzz: apply-tar: ${runs:-?} inputs in $(( $(date +%s) - start )) s, no crash or sanitizer finding (log: $log)"
