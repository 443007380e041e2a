#!/usr/bin/env bash
# Benchmark: the start of a container on a user network, whose init makes the embedded DNS
# server's sockets and NAT rules (issue 11): `run --rm --network NET IMG true` for skiff, an
# optional other skiff build (BASE, e.g. main before a change: same store), and Podman on a
# network of its own (netavark + aardvark-dns), as the bench user, interleaved round by round
# (bench/compare-commands.py). A container on each network keeps its network's holder up, so
# the runs measure a start, not the holder's. Prints the medians and skiff's ratio to Podman.
# Not a test: it asserts nothing.
#
# Usage (as root): bench/dns-start.sh [ROUNDS] [BASE_SKIFF]     needs dist/skiff (npm run build)
set -euo pipefail
RUNS=${1:-10}
BASE=${2:-}
source "$(dirname "$0")/bench-env.sh"

bench_workdir dnsstart "$BASE"
IMG=skiff-test/busybox
NET=bench-dns-$$
cleanup() {
  as_bench "$WORK/skiff" rm -f "$NET-keeper" >/dev/null 2>&1 || true
  as_bench "$WORK/skiff" network rm "$NET" >/dev/null 2>&1 || true
  as_bench podman rm -f "$NET-keeper" >/dev/null 2>&1 || true
  as_bench podman network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
as_bench "$WORK/skiff" network create "$NET" >/dev/null
as_bench podman network create "$NET" >/dev/null
as_bench "$WORK/skiff" run -d --name "$NET-keeper" --network "$NET" "$IMG" sleep 3600 >/dev/null
as_bench podman run -d --name "$NET-keeper" --network "$NET" "$IMG" sleep 3600 >/dev/null
as_bench "$WORK/skiff" run --rm --network "$NET" "$IMG" true
as_bench podman run --rm --network "$NET" "$IMG" true

cmds=("skiff=$WORK/skiff run --rm --network $NET $IMG true" "podman=podman run --rm --network $NET $IMG true")
[ -z "$BASE" ] || cmds+=("skiff-base=$WORK/skiff-base run --rm --network $NET $IMG true")
python3 "$REPO/bench/compare-commands.py" "$RUNS" "${cmds[@]}" | tee "$WORK/out.txt"
awk '$2 == "wall" { med[$1] = $3 } END {
  printf "  skiff/podman median wall: %.2f", med["skiff"] / med["podman"]
  if ("skiff-base" in med) printf "; skiff-base/podman: %.2f", med["skiff-base"] / med["podman"]
  printf "\n"
}' "$WORK/out.txt"
