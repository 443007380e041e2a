#!/usr/bin/env bash
# Benchmark: `skiff exec CTR true` against `podman exec CTR true`, one running busybox container
# each, same user, both rootless. Prints the median wall time and user+sys CPU of each, and the
# ratios skiff/podman (issue 10's target: at most 0.50). Not a test: it asserts nothing.
#
# Usage (as root): bench/exec-latency.sh [ROUNDS]     defaults 30; needs dist/skiff (npm run build)
# SKIFF_BASELINE=/path/to/an/older/skiff adds that build's exec (same store, same container).
# Sets Podman up with ../shared/peers/podman-rootless.sh for user "bench" if needed.
#
# The commands are interleaved run by run (bench/compare-commands.py: the order rotates each
# round), as the bench user in a clean environment: other work on this shared machine then
# weighs on every tool alike, and the CPU medians stay comparable even when wall times are not.
# Both engines keep their stores on one journaled scratch filesystem (bench/scratch-stores.sh).
set -euo pipefail
ROUNDS=${1:-30}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUSER=bench
[ "$(id -u)" = 0 ] || { echo "run as root (it sets up the bench user)" >&2; exit 1; }
[ -x "$REPO/dist/skiff" ] || { echo "build first: npm run build" >&2; exit 1; }
source "$REPO/bench/scratch-stores.sh"
scratch_stores_setup_podman
node "$REPO/test/fixtures/build-images.mjs" >/dev/null

NAME=skiff-exec-bench
cleanup() {
  as_bench "$SKIFF" rm -f "$NAME" >/dev/null 2>&1 || true
  as_bench $PODMAN rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  scratch_stores_unmount
}
trap cleanup EXIT
scratch_stores_mount exec 2G

IMG=skiff-test/busybox
as_bench "$SKIFF" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench $PODMAN load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
as_bench "$SKIFF" run -d --name "$NAME" "$IMG" sleep 100000 >/dev/null
as_bench $PODMAN run -d --name "$NAME" --network none "$IMG" sleep 100000 >/dev/null
# The stores must be the ones on the scratch filesystem (both engines write them from their own
# user and mount namespaces).
[ "$(ls "$WORK/skiff-root/containers" | wc -l)" = 1 ] && ls "$WORK/podman-root/overlay-containers" | grep -q '^[0-9a-f]\{64\}$' ||
  { echo "the containers' stores are not on $WORK" >&2; exit 1; }

CMDS=("skiff=$SKIFF exec $NAME true" "podman=$PODMAN exec $NAME true")
[ -z "$BASE" ] || CMDS+=("baseline=$WORK/skiff-base exec $NAME true")
OUT=$(CMP_ENV="SKIFF_ROOT=$WORK/skiff-root SKIFF_RUNROOT=$WORK/skiff-run" BENCH_USER=$BUSER \
  python3 "$REPO/bench/compare-commands.py" "$ROUNDS" "${CMDS[@]}")
echo "exec CTR true, stores on ext4 with a journal ($LOOPDEV); $OUT"
# compare-commands.py's lines: NAME wall MEDIAN (Q1-Q3)  cpu MEDIAN (Q1-Q3)  minflt N
echo "$OUT" | awk '
  / wall .* cpu / {
    match($0, /wall +[0-9.]+/); w = substr($0, RSTART + 5, RLENGTH - 5)
    match($0, /cpu +[0-9.]+/); c = substr($0, RSTART + 4, RLENGTH - 4)
    wall[$1] = w + 0; cpu[$1] = c + 0
  }
  END {
    printf "ratio skiff/podman: wall %.2f, cpu %.2f (target <= 0.50)\n", wall["skiff"] / wall["podman"], cpu["skiff"] / cpu["podman"]
    if ("baseline" in wall) printf "this build against the baseline: wall %+.1f ms, cpu %+.1f ms\n", wall["skiff"] - wall["baseline"], cpu["skiff"] - cpu["baseline"]
  }'
