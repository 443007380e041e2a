#!/usr/bin/env bash
# Benchmark: `network connect` and `disconnect` of a running container (issue 11), which now also
# tell its monitor what its --restart runs attach (a frame 7 on its attach socket): one round is
# `network connect NET C && network disconnect NET C` of a running container with --restart
# always on a user network of its own (NET0: Podman refuses to connect a slirp4netns one), for skiff, an optional other skiff build (BASE, e.g. main before a
# change: same store and container) and Podman (netavark), as the bench user, interleaved round
# by round (bench/compare-commands.py). Prints the medians and skiff's ratio to Podman.
# Not a test: it asserts nothing.
#
# Usage (as root): bench/net-connect.sh [ROUNDS] [BASE_SKIFF]     needs dist/skiff (npm run build)
set -euo pipefail
RUNS=${1:-10}
BASE=${2:-}
source "$(dirname "$0")/bench-env.sh"

bench_workdir netconnect "$BASE"
IMG=skiff-test/busybox
NET=bench-conn-$$
C=$NET-c
cleanup() {
  as_bench "$WORK/skiff" rm -f "$C" >/dev/null 2>&1 || true
  as_bench "$WORK/skiff" network rm "$NET" "$NET-0" >/dev/null 2>&1 || true
  as_bench podman rm -f -t 0 "$C" >/dev/null 2>&1 || true
  as_bench podman network rm "$NET" "$NET-0" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
for n in "$NET" "$NET-0"; do
  as_bench "$WORK/skiff" network create "$n" >/dev/null
  as_bench podman network create "$n" >/dev/null
done
as_bench "$WORK/skiff" run -d --restart always --network "$NET-0" --name "$C" "$IMG" sleep 3600 >/dev/null
as_bench podman run -d --restart always --network "$NET-0" --name "$C" "$IMG" sleep 3600 >/dev/null

cycle() { echo "sh -c '$1 network connect $NET $C && $1 network disconnect $NET $C'"; }
cmds=("skiff=$(cycle "$WORK/skiff")" "podman=$(cycle podman)")
[ -z "$BASE" ] || cmds+=("skiff-base=$(cycle "$WORK/skiff-base")")
python3 "$REPO/bench/compare-commands.py" "$RUNS" "${cmds[@]}" | tee "$WORK/out.txt"
awk '$2 == "wall" { med[$1] = $3 } END {
  printf "  skiff/podman median wall: %.2f", med["skiff"] / med["podman"]
  if ("skiff-base" in med) printf "; skiff-base/podman: %.2f", med["skiff-base"] / med["podman"]
  printf "\n"
}' "$WORK/out.txt"
