#!/usr/bin/env bash
# Benchmark: what the default network adds to container start: `run --rm IMG true` with the
# default network against `--network none`, for skiff and Podman (both slirp4netns), run as the
# bench user and interleaved round by round in a rotating order (bench/compare-commands.py), so
# this shared machine's load falls on all four alike. Prints each median and what the network
# adds to each tool's (target for skiff: <= +20 ms). Not a test: it asserts nothing.
#
# Usage (as root): bench/net-start.sh [ROUNDS]     needs dist/skiff (npm run build)
set -euo pipefail
RUNS=${1:-30}
source "$(dirname "$0")/bench-env.sh"

bench_workdir netstart

IMG=skiff-test/busybox
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
as_bench "$WORK/skiff" run --rm "$IMG" true
as_bench podman run --rm "$IMG" true

python3 "$REPO/bench/compare-commands.py" "$RUNS" \
  "skiff-default=$WORK/skiff run --rm $IMG true" "skiff-none=$WORK/skiff run --rm --network none $IMG true" \
  "podman-default=podman run --rm $IMG true" "podman-none=podman run --rm --network none $IMG true" | tee "$WORK/out.txt"
awk '$2 == "wall" { med[$1] = $3 } END {
  for (t in med) if (t ~ /-default$/) { n = t; sub(/-default$/, "", n); printf "  %-6s the default network adds %.1f ms (median wall, default %.1f vs none %.1f)\n", n, med[t] - med[n "-none"], med[t], med[n "-none"] }
  print "  target: skiff adds <= 20 ms"
}' "$WORK/out.txt"
rm -rf "$WORK"
