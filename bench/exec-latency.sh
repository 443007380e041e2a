#!/usr/bin/env bash
# Benchmark: `skiff exec CTR true` against `podman exec CTR true`, one running busybox container
# each, same user, both rootless, measured in one hyperfine run. Prints the median of each and
# the ratio. Not a test: it asserts nothing.
#
# Usage (as root): bench/exec-latency.sh [RUNS]     needs dist/skiff (npm run build)
# Sets Podman up with ../shared/peers/podman-rootless.sh (or $SKIFF_SHARED/peers/...) for user "bench" if needed.
set -euo pipefail
RUNS=${1:-30}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUSER=bench
[ "$(id -u)" = 0 ] || { echo "run as root (it sets up the bench user)" >&2; exit 1; }
[ -x "$REPO/dist/skiff" ] || { echo "build first: npm run build" >&2; exit 1; }
# SKIFF_SHARED: where shared/ is when this runs from a worktree that is not next to it
bash "${SKIFF_SHARED:-$REPO/../shared}/peers/podman-rootless.sh" "$BUSER" >/dev/null
command -v hyperfine >/dev/null || apt-get install -y -q hyperfine >/dev/null
node "$REPO/test/fixtures/build-images.mjs" >/dev/null

WORK=$(mktemp -d /tmp/skiff-bench.XXXXXX)
cp "$REPO/dist/skiff" "$REPO/test/fixtures/out/busybox.docker.tar" "$WORK/"
chmod 755 "$WORK"; chown "$BUSER" "$WORK"; chmod 755 "$WORK/skiff"; chmod 644 "$WORK/busybox.docker.tar"
BUID=$(id -u "$BUSER")
# A clean environment, as the user's own login would have (see run-latency.sh).
as_bench() { runuser -u "$BUSER" -- env -i HOME="$(getent passwd "$BUSER" | cut -d: -f6)" USER="$BUSER" LOGNAME="$BUSER" LANG=C.UTF-8 XDG_RUNTIME_DIR=/run/user/$BUID PATH=/usr/local/bin:/usr/bin:/bin "$@"; }

IMG=skiff-test/busybox
NAME=skiff-exec-bench-$$
# Both stores live under the bench user's home: private ones, removed at the end.
export_store="SKIFF_ROOT=$WORK/root SKIFF_RUNROOT=$WORK/run"
sk() { as_bench env $export_store "$WORK/skiff" "$@"; }
cleanup() {
  sk rm -f "$NAME" >/dev/null 2>&1 || true
  as_bench podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
sk load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
sk run -d --name "$NAME" "$IMG" sleep 100000 >/dev/null
as_bench podman run -d --name "$NAME" --network none "$IMG" sleep 100000 >/dev/null
sk exec "$NAME" true   # warm the native cache
as_bench podman exec "$NAME" true

# skiff through env(1) (for its store variables), podman through env(1) as well, so neither pays an exec the other does not.
as_bench hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/exec.json" \
  -n skiff "env $export_store $WORK/skiff exec $NAME true" \
  -n podman "env podman exec $NAME true" >/dev/null

node -e '
const r = require(process.argv[1]).results;
const med = (n) => r.find((x) => x.command === n).median * 1000;
const s = med("skiff"), p = med("podman");
console.log(`exec CTR true (${r[0].times.length} runs, median)`);
console.log(`  skiff  ${s.toFixed(1)} ms`);
console.log(`  podman ${p.toFixed(1)} ms`);
console.log(`  ratio skiff/podman: ${(s / p).toFixed(2)} (target <= 0.50)`);
' "$WORK/exec.json"
