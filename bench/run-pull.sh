#!/usr/bin/env bash
# Benchmark: pull of a multi-layer Debian image (bench/build-debian-image.sh: 4 gzip layers,
# ~49 MB compressed, ~121 MB unpacked) from a local registry into an empty store,
# `skiff pull` against `podman pull`, same user, both rootless, measured in one run with the
# runs interleaved (podman, skiff, podman, skiff...) so that drift hits both. Also
# `skiff save IMG | skiff load` into another empty store (and Podman's, for context), and the
# bare transfer (`skopeo copy` to a directory, no unpacking) as the floor. Prints medians, the
# ratio and peak memory. Not a test: it asserts nothing.
#
# Usage (as root): bench/run-pull.sh [RUNS]      needs dist/skiff (npm run build)
# Sets Podman up with ../shared/peers/podman-rootless.sh for user "bench" if needed, builds the
# image once (cached in bench/out/), starts Debian's docker-registry on a free 127.0.0.1 port
# with a temporary storage dir, and pushes the image there with skopeo.
#
# Every timed command gets a fresh, empty store of its own (`--root`/`--runroot` for Podman, so
# it keeps its configured driver, overlay here; `--root` for skiff), and `sync` runs before it
# so that one tool's dirty pages are not written back on the other's time. Nothing is deleted
# until the end: on ext4 without a journal (this VM's root) the inode allocator skips inodes
# freed in the last 60-300 s, so deleting a store makes the next ~7000 file creations slower
# for whoever runs next. Both tools keep their long-lived pause process (user namespace)
# between runs, as they would for any user.
#
# Peak RSS is GNU time's %M: the largest resident set of any single process in the command's
# tree that was waited for (for skiff: the Node process or a helper it reaped; for Podman: the
# podman process, its re-exec into the user namespace, or its storage-untar children). It is
# not the sum over the tree. CPU is user + system time of the whole tree (%U + %S, including
# the threads: zlib inflates on Node's thread pool, Go's goroutines): less sensitive than wall
# time to other load on the machine, and on this 2-core VM it bounds the wall time from below
# at CPU / 2.
set -euo pipefail
RUNS=${1:-5}
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUSER=bench
IMAGE_TAR=$REPO/bench/out/debian.oci.tar
REPOSITORY=bench/debian:latest
[ "$(id -u)" = 0 ] || { echo "run as root (it sets up the bench user and the registry)" >&2; exit 1; }
[ -x "$REPO/dist/skiff" ] || { echo "build first: npm run build" >&2; exit 1; }
bash "$REPO/../shared/peers/podman-rootless.sh" "$BUSER" >/dev/null
[ -s "$IMAGE_TAR" ] || bash "$REPO/bench/build-debian-image.sh" "$IMAGE_TAR"

WORK=$(mktemp -d /var/tmp/pull.XXXXXX)   # on disk, as both stores normally are; short: Podman refuses a runroot over 50 chars
REGISTRY_PID=
cleanup() {
  [ -z "$REGISTRY_PID" ] || kill "$REGISTRY_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cp "$REPO/dist/skiff" "$WORK/"
chmod 755 "$WORK" "$WORK/skiff"; chown "$BUSER:" "$WORK"
BUID=$(id -u "$BUSER")
# A clean environment, as the user's own login would have: root's may carry variables that
# change what is measured (NODE_EXTRA_CA_CERTS, set on these VMs, makes every Node start-up parse
# the whole CA bundle: ~45 ms per command).
as_bench() { runuser -u "$BUSER" -- env -i HOME="$(getent passwd "$BUSER" | cut -d: -f6)" USER="$BUSER" LOGNAME="$BUSER" LANG=C.UTF-8 XDG_RUNTIME_DIR=/run/user/$BUID PATH=/usr/local/bin:/usr/bin:/bin "$@"; }

# --- registry ---------------------------------------------------------------------------------
PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
cat > "$WORK/registry.yml" <<EOF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $WORK/registry }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$PORT }
EOF
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null || { echo "registry did not start:" >&2; cat "$WORK/registry.log" >&2; exit 1; }
REF=127.0.0.1:$PORT/$REPOSITORY
skopeo copy -q --dest-tls-verify=false "oci-archive:$IMAGE_TAR:latest" "docker://$REF"

# --- one timed command ------------------------------------------------------------------------
# timed NAME CMD... : runs CMD as the bench user under GNU time, appends
# "wall-seconds peak-KB user-seconds system-seconds" to NAME.tsv.
timed() {
  local name=$1; shift
  sync
  as_bench /usr/bin/time -o "$WORK/$name.time" -f '%e %M %U %S' "$@" >/dev/null 2>"$WORK/$name.err" || {
    echo "$name failed:" >&2; cat "$WORK/$name.err" >&2; exit 1; }
  cat "$WORK/$name.time" >> "$WORK/$name.tsv"
}
# fresh_store NAME: an empty directory for this run ($RUN) of NAME.
RUN=0
fresh_store() { install -d -o "$BUSER" -g "$BUSER" "$WORK/$1.$RUN"; echo "$WORK/$1.$RUN"; }

podman_pull() { local s; s=$(fresh_store podman); timed podman-pull podman --root "$s/root" --runroot "$s/run" pull -q --tls-verify=false "$REF"; }
skiff_pull() { local s; s=$(fresh_store skiff); timed skiff-pull "$WORK/skiff" --root "$s" pull -q --tls-verify=false "$REF"; }
bare_transfer() { local s; s=$(fresh_store transfer); timed transfer skopeo copy -q --src-tls-verify=false "docker://$REF" "dir:$s/image"; }

# save | load: wall time of the pipeline; each side's peak RSS on its own.
save_load() {
  local tool=$1 from=$2 to save load
  to=$(fresh_store "$tool-load")
  if [ "$tool" = skiff ]; then
    save="$WORK/skiff --root $from save $REF"; load="$WORK/skiff --root $to load"
  else
    save="podman --root $from/root --runroot $from/run save $REF"
    load="podman --root $to/root --runroot $to/run load"
  fi
  timed "$tool-saveload" sh -c "/usr/bin/time -o $WORK/$tool-save.time -f %M $save | /usr/bin/time -o $WORK/$tool-load.time -f %M $load"
  echo "$(tail -1 "$WORK/$tool-save.time") $(tail -1 "$WORK/$tool-load.time")" >> "$WORK/$tool-saveload-rss.tsv"
}

# --- warm-up (binaries and registry blobs in the page cache), then interleaved runs ------------
podman_pull; bare_transfer; skiff_pull
rm -f "$WORK"/*.tsv
for i in $(seq "$RUNS"); do
  RUN=$i
  # save | load reads from the store just pulled into.
  podman_pull
  save_load podman "$WORK/podman.$RUN"
  skiff_pull
  save_load skiff "$WORK/skiff.$RUN"
  bare_transfer
  echo "run $i/$RUNS: podman $(tail -1 "$WORK/podman-pull.tsv" | cut -d' ' -f1) s" \
    "skiff $(tail -1 "$WORK/skiff-pull.tsv" | cut -d' ' -f1) s" \
    "transfer $(tail -1 "$WORK/transfer.tsv" | cut -d' ' -f1) s" >&2
done

# The drivers the last runs' stores were created with.
PODMAN_DRIVER=$(as_bench podman --root "$WORK/podman.$RUN/root" --runroot "$WORK/podman.$RUN/run" info --format '{{.Store.GraphDriverName}}')
SKIFF_DRIVER=$(jq -r .driver "$WORK/skiff.$RUN/storage.json")

node - "$WORK" "$RUNS" "$REF" "$PODMAN_DRIVER" "$SKIFF_DRIVER" <<'EOF'
const fs = require('fs');
const [work, runs, ref, podmanDriver, skiffDriver] = process.argv.slice(2);
const rows = (name) => {
  try { return fs.readFileSync(`${work}/${name}.tsv`, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number)); }
  catch { return null; }
};
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const col = (r, i) => r.map((x) => x[i]);
const mb = (kb) => `${(kb / 1024).toFixed(1)} MB`;
const cpu = (r) => median(r.map((x) => x[2] + x[3])).toFixed(2);
const line = (label, r) => `  ${label.padEnd(8)} ${median(col(r, 0)).toFixed(2)} s  (min ${Math.min(...col(r, 0)).toFixed(2)}, max ${Math.max(...col(r, 0)).toFixed(2)})  CPU ${cpu(r)} s  peak RSS ${mb(Math.max(...col(r, 1)))}`;
const pp = rows('podman-pull'), sp = rows('skiff-pull'), tr = rows('transfer');
console.log(`pull ${ref} into an empty store (${runs} runs each, interleaved, median)`);
if (sp) console.log(line('skiff', sp) + `  [driver ${skiffDriver}]`);
console.log(line('podman', pp) + `  [driver ${podmanDriver}]`);
if (sp) console.log(`  ratio skiff/podman: ${(median(col(sp, 0)) / median(col(pp, 0))).toFixed(2)} (target <= 0.40; skiff memory target <= 100 MB)`);
console.log(line('transfer', tr) + '  [skopeo copy to dir:, no unpacking: the floor]');
console.log('save IMG | load into another empty store (median; peak RSS of the save and the load side)');
for (const tool of ['skiff', 'podman']) {
  const r = rows(`${tool}-saveload`), rss = rows(`${tool}-saveload-rss`);
  if (!r) continue;
  console.log(`  ${tool.padEnd(8)} ${median(col(r, 0)).toFixed(2)} s  (min ${Math.min(...col(r, 0)).toFixed(2)}, max ${Math.max(...col(r, 0)).toFixed(2)})  CPU ${cpu(r)} s  peak RSS save ${mb(Math.max(...col(rss, 0)))}, load ${mb(Math.max(...col(rss, 1)))}`);
}
const s = rows('skiff-saveload'), p = rows('podman-saveload');
if (s && p) console.log(`  ratio skiff/podman: ${(median(col(s, 0)) / median(col(p, 0))).toFixed(2)}`);
EOF
