#!/usr/bin/env bash
# Benchmark: `ps -a` (Docker's default table) and `inspect CTR` with many containers in the
# store, skiff against Podman, same user, both rootless, measured in the same hyperfine run.
# Prints the medians and the ratio skiff/podman (issue 9's target: ps -a below 0.35 x Podman).
# Not a test: it asserts nothing.
#
# Usage (as root): bench/ps-many.sh [COUNT] [RUNS] [ROUNDS]   defaults 500, 30, 3; needs dist/skiff
# ROUNDS hyperfine runs over the same stores (creating the containers is what takes long: ~10
# minutes for 500 of each on a loaded 2-core VM); each round's ratio is printed, as only ratios
# within one run count on a machine shared with other work.
# Sets Podman up with ../shared/peers/podman-rootless.sh for user "bench" if needed.
# SKIFF_BASELINE=/path/to/an/older/skiff adds that build's `ps -a` (same store) to every round,
# and times its creating COUNT containers (in a store of its own) before this build's.
#
# Both engines get a store of their own on one journaled scratch filesystem
# (bench/scratch-stores.sh).
# The containers are created (not started): `ps -a` lists them as "Created", which is what the
# list path reads for every container; none is running, so no liveness check is timed.
set -euo pipefail
COUNT=${1:-500}
RUNS=${2:-30}
ROUNDS=${3:-3}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUSER=bench
[ "$(id -u)" = 0 ] || { echo "run as root (it sets up the bench user)" >&2; exit 1; }
[ -x "$REPO/dist/skiff" ] || { echo "build first: npm run build" >&2; exit 1; }
source "$REPO/bench/scratch-stores.sh"
scratch_stores_setup_podman
command -v hyperfine >/dev/null || apt-get install -y -q hyperfine >/dev/null
node "$REPO/test/fixtures/build-images.mjs" >/dev/null

trap scratch_stores_unmount EXIT
scratch_stores_mount ps 8G
IMG=skiff-test/busybox

as_bench "$SKIFF" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench $PODMAN load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1

# Two at a time: the machine has two cores. Names many-1..many-COUNT, command `sleep 1`.
# With a baseline, it creates as many in a store of its own first (its `ps -a` below still
# reads this build's store): create's own time, before and after, in the same run.
echo "creating $COUNT containers in each engine..." >&2
if [ -n "$BASE" ]; then
  as_bench env SKIFF_ROOT="$WORK/base-root" SKIFF_RUNROOT="$WORK/base-run" "$WORK/skiff-base" load -i "$WORK/busybox.docker.tar" >/dev/null
  tb=$SECONDS
  seq 1 "$COUNT" | as_bench env SKIFF_ROOT="$WORK/base-root" SKIFF_RUNROOT="$WORK/base-run" xargs -P 2 -I{} "$WORK/skiff-base" create --name many-{} "$IMG" sleep 1 >/dev/null
  echo "baseline: created in $((SECONDS - tb)) s (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  pause=$(cat "$WORK/base-run/pause.pid" 2>/dev/null) && [ -n "$pause" ] && kill -KILL "$pause" 2>/dev/null || true
fi
t0=$SECONDS
seq 1 "$COUNT" | as_bench xargs -P 2 -I{} "$SKIFF" create --name many-{} "$IMG" sleep 1 >/dev/null
t1=$SECONDS
seq 1 "$COUNT" | as_bench xargs -P 2 -I{} $PODMAN create --network none --name many-{} "$IMG" sleep 1 >/dev/null
t2=$SECONDS
echo "created in $((t1 - t0)) s (skiff) and $((t2 - t1)) s (podman) (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
n_skiff=$(as_bench "$SKIFF" ps -a -q | wc -l)
n_podman=$(as_bench $PODMAN ps -a -q | wc -l)
[ "$n_skiff" = "$COUNT" ] && [ "$n_podman" = "$COUNT" ] ||
  { echo "expected $COUNT containers, skiff lists $n_skiff and podman $n_podman" >&2; exit 1; }
# Both engines join a user namespace and its mount namespace first: check that the stores they
# wrote are the ones on the scratch filesystem, as seen from here.
on_fs_skiff=$(ls "$WORK/skiff-root/containers" | wc -l)
on_fs_podman=$(ls "$WORK/podman-root/overlay-containers" 2>/dev/null | grep -c '^[0-9a-f]\{64\}$' || true)
[ "$on_fs_skiff" = "$COUNT" ] && [ "$on_fs_podman" = "$COUNT" ] ||
  { echo "the scratch filesystem holds $on_fs_skiff skiff and $on_fs_podman podman containers, not $COUNT" >&2; exit 1; }

TARGET=many-$(((COUNT + 1) / 2))
CMDS=(-n "skiff ps -a" "$SKIFF ps -a" -n "podman ps -a" "$PODMAN ps -a")
[ -z "$BASE" ] || CMDS+=(-n "baseline ps -a" "$WORK/skiff-base ps -a")
# Container inspect is newer than this script: time it only where this build has it.
if as_bench "$SKIFF" inspect "$TARGET" >/dev/null 2>&1; then
  CMDS+=(-n "skiff inspect" "$SKIFF inspect $TARGET" -n "podman inspect" "$PODMAN inspect $TARGET")
  [ -z "$BASE" ] || CMDS+=(-n "baseline inspect" "$WORK/skiff-base inspect $TARGET")
else
  echo "note: this skiff build cannot inspect containers ('skiff inspect $TARGET' fails): inspect not timed" >&2
fi

for round in $(seq 1 "$ROUNDS"); do
  as_bench hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/ps.$round.json" "${CMDS[@]}" >/dev/null
  node -e '
const [file, count, runs, target, round, rounds] = process.argv.slice(1);
const r = require(file).results;
const get = (n) => r.find((y) => y.command === n);
const ms = (x) => `${(x.median * 1000).toFixed(1)} ms`;
const cpu = (x) => `${((x.user + x.system) * 1000).toFixed(1)} ms`;
console.log(`round ${round}/${rounds}: ${count} containers (created, not running), ${runs} runs each: median wall time [mean user+sys CPU]`);
for (const verb of ["ps -a", "inspect"]) {
  const s = get(`skiff ${verb}`), p = get(`podman ${verb}`);
  if (!s) continue;
  const what = verb === "inspect" ? `inspect ${target}` : verb;
  console.log(`  ${what.padEnd(16)} skiff ${ms(s)} [${cpu(s)}]   podman ${ms(p)} [${cpu(p)}]   ratio ${(s.median / p.median).toFixed(2)}` +
    (verb === "ps -a" ? " (target < 0.35)" : ""));
  const b = get(`baseline ${verb}`);
  if (b) console.log(`  ${"".padEnd(16)} baseline ${ms(b)} [${cpu(b)}]: this build ${((s.median - b.median) * 1000).toFixed(1)} ms wall, ${((s.user + s.system - b.user - b.system) * 1000).toFixed(1)} ms CPU against it`);
}
' "$WORK/ps.$round.json" "$COUNT" "$RUNS" "$TARGET" "$round" "$ROUNDS"
done
