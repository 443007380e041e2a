#!/usr/bin/env bash
# Benchmark: the memory of the process that watches each running container — skiff's monitor
# (skiff-helper monitor, one per container) against Podman's conmon — both rootless as user
# "bench", N detached `sleep` containers each (network none), measured in the same run from
# /proc: VmRSS (resident) and Pss (proportional: shared pages split between their users), as
# mean per container. Prints both and the ratios. Not a test: it asserts nothing.
#
# Usage (as root): bench/monitor-memory.sh [N]     needs dist/skiff (npm run build)
# Sets Podman up with ../shared/peers/podman-rootless.sh (SKIFF_PEERS=DIR: another peers dir, e.g.
# from a worktree) for user "bench" if needed.
set -euo pipefail
N=${1:-5}
# (as root: it also reads the bench user's processes' smaps)
source "$(dirname "$0")/bench-env.sh"

bench_workdir monmem
BHOME=$(getent passwd "$BUSER" | cut -d: -f6)
IMG=skiff-test/busybox
NAMES=()
for i in $(seq 1 "$N"); do NAMES+=("skiff-monmem-$i"); done
cleanup() {
  as_bench "$WORK/skiff" rm -f "${NAMES[@]}" >/dev/null 2>&1 || true
  as_bench podman rm -f -t 0 "${NAMES[@]}" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
cleanup_containers() { as_bench "$WORK/skiff" rm -f "${NAMES[@]}" >/dev/null 2>&1 || true; as_bench podman rm -f -t 0 "${NAMES[@]}" >/dev/null 2>&1 || true; }
cleanup_containers
for n in "${NAMES[@]}"; do
  as_bench "$WORK/skiff" run -d --name "$n" "$IMG" sleep 1000 >/dev/null
  as_bench podman run -d --name "$n" --network none "$IMG" sleep 1000 >/dev/null
done
sleep 2 # let both settle (conmon and the monitor have written their files, logs opened)

# The watchers' PIDs: skiff's monitor from each record, conmon from podman inspect.
SKIFF_DATA="$BHOME/.local/share/skiff"
SKIFF_PIDS=()
for n in "${NAMES[@]}"; do
  id=$(as_bench "$WORK/skiff" inspect -f '{{.Id}}' "$n")
  SKIFF_PIDS+=("$(node -e 'console.log(require(process.argv[1]).state.monitorPid)' "$SKIFF_DATA/containers/$id/container.json")")
done
PODMAN_PIDS=()
for n in "${NAMES[@]}"; do PODMAN_PIDS+=("$(as_bench podman inspect -f '{{.State.ConmonPid}}' "$n")"); done

node -e '
const fs = require("fs");
const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)[1]);
const measure = (pids) => {
  const rows = pids.map(Number).map((p) => ({ rss: kb(fs.readFileSync(`/proc/${p}/status`, "utf8"), "VmRSS"), pss: kb(fs.readFileSync(`/proc/${p}/smaps_rollup`, "utf8"), "Pss") }));
  const mean = (k) => rows.reduce((a, r) => a + r[k], 0) / rows.length / 1024;
  return { rss: mean("rss"), pss: mean("pss"), comm: fs.readFileSync(`/proc/${pids[0]}/comm`, "utf8").trim() };
};
const [s, p] = [measure(process.argv[1].split(" ")), measure(process.argv[2].split(" "))];
console.log(`memory of the per-container watcher, ${process.argv[3]} running containers each, mean per container`);
console.log(`  skiff monitor (${s.comm}): VmRSS ${s.rss.toFixed(2)} MB, Pss ${s.pss.toFixed(2)} MB`);
console.log(`  podman conmon (${p.comm}): VmRSS ${p.rss.toFixed(2)} MB, Pss ${p.pss.toFixed(2)} MB`);
console.log(`  ratio skiff/conmon: VmRSS ${(s.rss / p.rss).toFixed(2)}, Pss ${(s.pss / p.pss).toFixed(2)} (target: <= 1 and <= 2 MB)`);
' "${SKIFF_PIDS[*]}" "${PODMAN_PIDS[*]}" "$N"
