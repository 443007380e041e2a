#!/usr/bin/env bash
# Benchmark: `skiff logs` of a container that printed 100 000 lines against `podman logs` of the
# same, both rootless as user "bench" (Podman with its default k8s-file log under conmon; skiff
# with its default json-file and with k8s-file), measured in one hyperfine run, output to
# /dev/null. Prints the medians and the ratio. Not a test: it asserts nothing.
#
# Usage (as root): bench/logs.sh [RUNS] [LINES]     needs dist/skiff (npm run build)
# Sets Podman up with ../shared/peers/podman-rootless.sh (SKIFF_PEERS=DIR: another peers dir, e.g.
# from a worktree) for user "bench" if needed.
set -euo pipefail
RUNS=${1:-20}
LINES=${2:-100000}
source "$(dirname "$0")/bench-env.sh"
need_hyperfine

bench_workdir logs
# The user's own clean environment (see run-latency.sh: root's may slow every Node start-up).

IMG=skiff-test/busybox
PRINT="i=0; while [ \$i -lt $LINES ]; do echo \"log line number \$i of the benchmark\"; i=\$((i+1)); done"
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
as_bench "$WORK/skiff" rm -f skiff-logs-bench skiff-logs-bench-k8s >/dev/null 2>&1 || true
as_bench podman rm -f skiff-logs-bench >/dev/null 2>&1 || true
as_bench "$WORK/skiff" run --name skiff-logs-bench "$IMG" sh -c "$PRINT" >/dev/null
as_bench "$WORK/skiff" run --name skiff-logs-bench-k8s --log-driver k8s-file "$IMG" sh -c "$PRINT" >/dev/null
as_bench podman run --name skiff-logs-bench --network none --log-driver k8s-file "$IMG" sh -c "$PRINT" >/dev/null
for c in "$WORK/skiff logs skiff-logs-bench" "$WORK/skiff logs skiff-logs-bench-k8s" "podman logs skiff-logs-bench"; do
  n=$(as_bench $c 2>/dev/null | wc -l)
  [ "$n" = "$LINES" ] || { echo "$c gave $n lines, not $LINES" >&2; exit 1; }
done

as_bench hyperfine -N --warmup 2 --runs "$RUNS" --output=null --export-json "$WORK/logs.json" \
  -n skiff "$WORK/skiff logs skiff-logs-bench" \
  -n skiff-k8s "$WORK/skiff logs skiff-logs-bench-k8s" \
  -n podman "podman logs skiff-logs-bench" >/dev/null

node -e '
const r = require(process.argv[1]).results;
const med = (n) => r.find((x) => x.command === n).median * 1000;
const s = med("skiff"), k = med("skiff-k8s"), p = med("podman");
console.log(`logs of ${process.argv[2]} lines (${r[0].times.length} runs, median, output to /dev/null)`);
console.log(`  skiff (json-file) ${s.toFixed(1)} ms`);
console.log(`  skiff (k8s-file)  ${k.toFixed(1)} ms`);
console.log(`  podman (k8s-file) ${p.toFixed(1)} ms`);
console.log(`  ratio skiff/podman: ${(s / p).toFixed(2)} (target <= 1)`);
' "$WORK/logs.json" "$LINES"
as_bench "$WORK/skiff" rm -f skiff-logs-bench skiff-logs-bench-k8s >/dev/null 2>&1 || true
as_bench podman rm -f skiff-logs-bench >/dev/null 2>&1 || true
rm -rf "$WORK"
