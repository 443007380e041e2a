#!/usr/bin/env bash
# A long fuzzing run of skiff-helper's apply-tar (the layer reader): the same target, seeds and
# checks as `npm run test:fuzz` (60 s), for SECONDS (default 3600). The corpus it grows stays in
# native/helper/build/fuzz/corpus, so each run starts where the last one stopped.
#   usage: bench/fuzz.sh [SECONDS] [libFuzzer options...]
#   FUZZ_JOBS=2 bench/fuzz.sh 7200   # two fuzzing processes (libFuzzer -fork=2)
# A finding stops the run with "fuzz: FAILED: ..." and the input in native/helper/build/fuzz/
# artifacts/; see docs/FUZZING.md for what to do with it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-3600}
shift || true
exec bash native/helper/fuzz/run.sh "$seconds" "$@"
