#!/usr/bin/env bash
# Where the resident pages of one per-container monitor are (issue 10; docs/PERFORMANCE.md "The
# monitor's memory, page by page"): starts one detached `sleep` busybox container as user
# "bench" (rootless), then prints for its monitor each mapping's Rss and Pss (/proc/PID/smaps)
# and, for the mappings of skiff-monitor itself and its .bss, each resident page (the present
# bit of /proc/PID/pagemap) with the symbols on it (nm of native/helper/build/skiff-monitor).
# Not a test: it asserts nothing. Compare with bench/monitor-memory.sh for the totals.
#
# Usage (as root): bench/monitor-pages.sh [skiff run options...]     needs dist/skiff (npm run build)
set -euo pipefail
source "$(dirname "$0")/bench-env.sh"

bench_workdir monpages
BHOME=$(getent passwd "$BUSER" | cut -d: -f6)
NAME=skiff-monpages
cleanup() { as_bench "$WORK/skiff" rm -f "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench "$WORK/skiff" rm -f "$NAME" >/dev/null 2>&1 || true
as_bench "$WORK/skiff" run -d --name "$NAME" "$@" skiff-test/busybox sleep 1000 >/dev/null
sleep 2 # settled: the monitor is in its poll loop
id=$(as_bench "$WORK/skiff" inspect -f '{{.Id}}' "$NAME")
pid=$(node -e 'console.log(require(process.argv[1]).state.monitorPid)' "$BHOME/.local/share/skiff/containers/$id/container.json")
grep -E '^(VmRSS|RssAnon|RssFile|RssShmem):' "/proc/$pid/status"

node - "$pid" "$REPO/native/helper/build/skiff-monitor" <<'JS'
const fs = require('fs');
const { execFileSync } = require('child_process');
const [pid, binary] = process.argv.slice(2);
// Mappings with their Rss and Pss.
const maps = [];
for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) \S+ \d+\s*(.*)$/.exec(line);
  if (m) maps.push({ lo: BigInt(`0x${m[1]}`), hi: BigInt(`0x${m[2]}`), perms: m[3], offset: BigInt(`0x${m[4]}`), name: m[5] });
  const k = /^(Rss|Pss):\s+(\d+) kB/.exec(line);
  if (k) maps.at(-1)[k[1]] = Number(k[2]);
}
for (const m of maps) console.log(`${String(m.Rss).padStart(5)} kB rss ${String(m.Pss).padStart(5)} kB pss  ${m.perms} ${m.name}`);
// skiff-monitor's own mappings (memfd:skiff-helper) and the anonymous one right after them (.bss).
const own = [];
maps.forEach((m, i) => {
  if (m.name.startsWith('/memfd:skiff-helper')) own.push(m);
  else if (m.name === '' && i > 0 && maps[i - 1].name.startsWith('/memfd:skiff-helper')) own.push(m);
});
const base = own[0].lo - own[0].offset;
const syms = execFileSync('nm', ['-S', '-n', '--defined-only', binary], { encoding: 'utf8' })
  .split('\n').map((l) => l.split(' ')).filter((p) => p.length === 4)
  .map(([a, s, , n]) => ({ addr: BigInt(`0x${a}`), size: BigInt(`0x${s}`), name: n }));
const pagemap = fs.openSync(`/proc/${pid}/pagemap`, 'r');
const entry = Buffer.alloc(8);
console.log('\nresident pages of skiff-monitor (offset from its load address: symbols on the page)');
for (const m of own) {
  for (let a = m.lo; a < m.hi; a += 4096n) {
    fs.readSync(pagemap, entry, 0, 8, Number((a / 4096n) * 8n));
    if (!(entry.readBigUInt64LE() >> 63n)) continue;
    const off = a - base;
    const on = syms.filter((s) => s.addr < off + 4096n && s.addr + (s.size || 1n) > off).map((s) => s.name);
    console.log(`${m.perms} ${off.toString(16).padStart(8, '0')}: ${on.slice(0, 8).join(' ')}${on.length > 8 ? ' ...' : ''}`);
  }
}
JS
