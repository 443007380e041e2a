#!/usr/bin/env bash
# Benchmark: what the default network adds to container start: `run --rm IMG true` with the
# default network against `--network none`, for skiff and Podman (both slirp4netns) in one
# hyperfine run, same user, same image. Prints the medians and the difference each tool pays
# (target for skiff: <= +20 ms). Not a test: it asserts nothing.
#
# Usage (as root): bench/net-start.sh [RUNS]     needs dist/skiff (npm run build)
set -euo pipefail
RUNS=${1:-30}
source "$(dirname "$0")/bench-env.sh"
need_hyperfine

bench_workdir netstart

IMG=skiff-test/busybox
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
as_bench "$WORK/skiff" run --rm "$IMG" true
as_bench podman run --rm "$IMG" true

as_bench hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/run.json" \
  -n skiff-default "$WORK/skiff run --rm $IMG true" \
  -n skiff-none "$WORK/skiff run --rm --network none $IMG true" \
  -n podman-default "podman run --rm $IMG true" \
  -n podman-none "podman run --rm --network none $IMG true" >/dev/null

node -e '
const r = require(process.argv[1]).results;
const med = (n) => r.find((x) => x.command === n).median * 1000;
console.log(`run --rm IMG true, default network vs --network none (${r[0].times.length} runs, median)`);
for (const t of ["skiff", "podman"]) {
  const d = med(`${t}-default`), n = med(`${t}-none`);
  console.log(`  ${t.padEnd(6)} default ${d.toFixed(1)} ms, none ${n.toFixed(1)} ms: the network adds ${(d - n).toFixed(1)} ms`);
}
console.log(`  ratio skiff/podman (default network): ${(med("skiff-default") / med("podman-default")).toFixed(2)} (target: skiff adds <= 20 ms)`);
' "$WORK/run.json"
rm -rf "$WORK"
