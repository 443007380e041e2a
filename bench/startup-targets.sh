#!/usr/bin/env bash
# Benchmark: issue 9's and 10's start-up targets in ONE interleaved run (bench/compare-commands.py,
# as the bench user in a clean environment), so that every ratio compares commands measured under
# the same load:
#   - `skiff --version` and `skiff ps -a` (empty store) against Node's own start: the pinned
#     runtime, stripped as the build strips it, running an empty script (target: within 5 ms);
#   - `skiff exec CTR true` against `podman exec CTR true` (target: at most 0.50);
#   - `skiff run --rm --network none IMG true` against Podman's (target: at most 0.50).
# Both engines keep their stores on one journaled scratch filesystem (bench/scratch-stores.sh).
# Not a test: it asserts nothing.
#
# Usage (as root): bench/startup-targets.sh [ROUNDS]      defaults 20; needs dist/skiff
# SKIFF_BASELINE=/path/to/an/older/skiff adds that build's --version, ps -a, exec and run (same
# store, same container), to compare two builds in the same run.
set -euo pipefail
ROUNDS=${1:-20}
source "$(dirname "$0")/bench-env.sh"         # REPO, BUSER, Podman for the bench user, the fixtures
source "$REPO/bench/scratch-stores.sh"

NAME=skiff-startup-bench
cleanup() {
  as_bench "$SKIFF" rm -f "$NAME" >/dev/null 2>&1 || true
  [ -z "${BASE:-}" ] || as_bench "$WORK/skiff-base" --root "$WORK/base-root" --runroot "$WORK/base-run" rm -f "$NAME" >/dev/null 2>&1 || true
  as_bench $PODMAN rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  scratch_stores_unmount
}
trap cleanup EXIT
scratch_stores_mount startup 2G

# Node's own start: the pinned runtime stripped as build/build.mjs strips the one it embeds,
# copied in with cp like dist/skiff: a file that strip wrote itself here took ~200 fewer page
# faults per start than the same bytes copied (larger page-cache folios), which made skiff look
# 10-15 ms slower than Node.
NODE_BIN=$(cd "$REPO" && node -e 'import("./build/node-runtime.mjs").then((m) => console.log(m.installedRuntime(process.cwd()).bin))')
strip -o "$WORK/node-stripped.tmp" "$NODE_BIN"
cp "$WORK/node-stripped.tmp" "$WORK/node-stripped" && rm "$WORK/node-stripped.tmp"
: >"$WORK/empty.js"
chmod 755 "$WORK/node-stripped"; chmod 644 "$WORK/empty.js"

IMG=skiff-test/busybox
as_bench "$SKIFF" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench $PODMAN load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
as_bench "$SKIFF" run -d --name "$NAME" --network none "$IMG" sleep 100000 >/dev/null
as_bench $PODMAN run -d --name "$NAME" --network none "$IMG" sleep 100000 >/dev/null
CMDS=(
  "node=$WORK/node-stripped $WORK/empty.js"
  "skiff-version=$SKIFF --version"
  "skiff-ps=$SKIFF ps -a"
  "skiff-exec=$SKIFF exec $NAME true"
  "podman-exec=$PODMAN exec $NAME true"
  "skiff-run=$SKIFF run --rm --network none $IMG true"
  "podman-run=$PODMAN run --rm --network none $IMG true"
)
if [ -n "$BASE" ]; then
  # The baseline's own store (an older build may lay it out differently), on the same filesystem.
  B="$WORK/skiff-base --root $WORK/base-root --runroot $WORK/base-run"
  as_bench $B load -i "$WORK/busybox.docker.tar" >/dev/null
  as_bench $B run -d --name "$NAME" --network none "$IMG" sleep 100000 >/dev/null
  CMDS+=("base-version=$WORK/skiff-base --version" "base-ps=$B ps -a" "base-exec=$B exec $NAME true"
    "base-run=$B run --rm --network none $IMG true")
fi
# The stores must be the ones on the scratch filesystem.
[ "$(ls "$WORK/skiff-root/containers" | wc -l)" = 1 ] || { echo "skiff's store is not on $WORK" >&2; exit 1; }

OUT=$(CMP_ENV="SKIFF_ROOT=$WORK/skiff-root SKIFF_RUNROOT=$WORK/skiff-run" BENCH_USER=$BUSER \
  python3 "$REPO/bench/compare-commands.py" "$ROUNDS" "${CMDS[@]}")
echo "start-up targets, stores on ext4 with a journal ($LOOPDEV); $OUT"
# compare-commands.py's lines: NAME wall MEDIAN (Q1-Q3)  cpu MEDIAN (Q1-Q3)  minflt N
echo "$OUT" | awk '
  / wall .* cpu / {
    match($0, /wall +[0-9.]+/); wall[$1] = substr($0, RSTART + 5, RLENGTH - 5) + 0
    match($0, /cpu +[0-9.]+/); cpu[$1] = substr($0, RSTART + 4, RLENGTH - 4) + 0
  }
  function over(n) { printf "%-14s over node: wall %+6.1f ms, cpu %+6.1f ms (target: within 5 ms)\n", n, wall[n] - wall["node"], cpu[n] - cpu["node"] }
  function ratio(s, p, label) { printf "%-14s skiff/podman: wall %.2f, cpu %.2f (target <= 0.50)\n", label, wall[s] / wall[p], cpu[s] / cpu[p] }
  END {
    over("skiff-version"); over("skiff-ps")
    ratio("skiff-exec", "podman-exec", "exec"); ratio("skiff-run", "podman-run", "run --rm")
    if ("base-version" in wall) {
      over("base-version"); over("base-ps")
      ratio("base-exec", "podman-exec", "base exec"); ratio("base-run", "podman-run", "base run --rm")
    }
  }'
