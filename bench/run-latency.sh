#!/usr/bin/env bash
# Benchmark: `skiff run --rm --network none IMG true` against `podman run --rm --network none IMG
# true`, same image, same user, both rootless, same network mode (issue 9's target is for
# network none: the start-up of the engine, not of a user-mode network), measured in one run. Prints the median of each, the ratio, and skiff's peak memory (max RSS of the
# skiff process tree as GNU time reports it). Not a test: it asserts nothing.
#
# Usage (as root): bench/run-latency.sh [RUNS]     needs dist/skiff (npm run build)
# SKIFF_BASELINE=/path/to/an/older/skiff adds that build to the same hyperfine run (interleaved
# with the others' warm-ups, same store layout), to check that a change did not slow start-up.
# Sets Podman up with ../shared/peers/podman-rootless.sh for user "bench" if needed.
set -euo pipefail
RUNS=${1:-30}
source "$(dirname "$0")/bench-env.sh"
need_hyperfine

bench_workdir run
BASE=${SKIFF_BASELINE:-}
if [ -n "$BASE" ]; then
  cp "$BASE" "$WORK/skiff-base" && chmod 755 "$WORK/skiff-base"
fi
# A clean environment, as the user's own login would have: root's may carry variables that
# change what is measured (NODE_EXTRA_CA_CERTS, set on these VMs, makes every Node start-up parse
# the whole CA bundle: ~45 ms per command).

IMG=skiff-test/busybox
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
as_bench "$WORK/skiff" run --rm --network none "$IMG" true   # warm the native cache and storage probe
as_bench podman run --rm --network none "$IMG" true
SKIFF_CMD="$WORK/skiff run --rm --network none $IMG true"
BASE_ARGS=()
if [ -n "$BASE" ]; then
  # Each build its own store (an older build may lay it out differently), both through env(1)
  # so that neither pays an exec the other does not.
  for b in skiff skiff-base; do
    as_bench env SKIFF_ROOT="$WORK/$b-root" SKIFF_RUNROOT="$WORK/$b-run" "$WORK/$b" load -i "$WORK/busybox.docker.tar" >/dev/null
    as_bench env SKIFF_ROOT="$WORK/$b-root" SKIFF_RUNROOT="$WORK/$b-run" "$WORK/$b" run --rm --network none "$IMG" true
  done
  SKIFF_CMD="env SKIFF_ROOT=$WORK/skiff-root SKIFF_RUNROOT=$WORK/skiff-run $SKIFF_CMD"
  BASE_ARGS=(-n baseline "env SKIFF_ROOT=$WORK/skiff-base-root SKIFF_RUNROOT=$WORK/skiff-base-run $WORK/skiff-base run --rm --network none $IMG true")
fi

as_bench hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/run.json" \
  -n skiff "$SKIFF_CMD" \
  -n podman "podman run --rm --network none $IMG true" "${BASE_ARGS[@]}" >/dev/null

peak_kb() { as_bench /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
SKIFF_KB=$(peak_kb "$WORK/skiff" run --rm --network none "$IMG" true)
PODMAN_KB=$(peak_kb podman run --rm --network none "$IMG" true)

node -e '
const r = require(process.argv[1]).results;
const med = (n) => r.find((x) => x.command === n).median * 1000;
const s = med("skiff"), p = med("podman");
console.log(`run --rm IMG true (network none, ${r[0].times.length} runs, median)`);
console.log(`  skiff  ${s.toFixed(1)} ms   peak RSS ${(process.argv[2] / 1024).toFixed(1)} MB`);
console.log(`  podman ${p.toFixed(1)} ms   peak RSS ${(process.argv[3] / 1024).toFixed(1)} MB`);
console.log(`  ratio skiff/podman: ${(s / p).toFixed(2)} (target <= 0.50)`);
const b = r.find((x) => x.command === "baseline");
if (b) console.log(`  baseline ${(b.median * 1000).toFixed(1)} ms: this build ${(s - b.median * 1000).toFixed(1)} ms slower than the baseline (both through env(1), so the skiff line includes the exec of env too)`);
' "$WORK/run.json" "$SKIFF_KB" "$PODMAN_KB"
rm -rf "$WORK"
