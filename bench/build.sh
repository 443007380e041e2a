#!/usr/bin/env bash
# Benchmark: `skiff build` against `podman build` (buildah), same user, both rootless, same
# Dockerfile and context, measured in one run: a 10-step Dockerfile (COPY of a 50 MB context,
# several RUNs) built
#   cold        (every step runs and every layer is new: skiff's image store emptied and the
#               base image loaded again before each run, Podman's built and intermediate
#               images removed and --no-cache; neither part is timed),
#   no change   (everything from the cache: no container, no command),
#   one file    (one file of the 50 MB COPY changed: that COPY and every later step again).
# Both build with `--network none` (RUN needs no network here; the default network would time
# the user-mode helpers, pasta or slirp4netns, started for each RUN, instead of the build).
# Prints the median of each and the ratios. Not a test: it asserts nothing.
#
# Usage (as root): bench/build.sh [RUNS]     needs dist/skiff (npm run build)
# Sets Podman up with ../shared/peers/podman-rootless.sh for user "bench" if needed.
set -euo pipefail
RUNS=${1:-5}
source "$(dirname "$0")/bench-env.sh"
need_hyperfine

bench_workdir build
CTX=$WORK/ctx
mkdir -p "$CTX/data"
# 50 MB: 50 files of 1 MB (incompressible) and 200 small ones
for i in $(seq 1 50); do head -c 1048576 /dev/urandom > "$CTX/data/blob$i"; done
for i in $(seq 1 200); do echo "small file $i" > "$CTX/data/small$i.txt"; done
echo config > "$CTX/app.conf"
cat > "$CTX/Dockerfile" <<'EOF'
FROM skiff-test/busybox:latest
ENV APP_HOME=/app
WORKDIR /app
COPY data/ /app/data/
RUN ls /app/data | wc -l > /app/count
RUN du -s /app/data > /app/size && md5sum /app/data/small1.txt > /app/sum
COPY app.conf /etc/app.conf
RUN mkdir -p /app/logs && echo ready > /app/logs/state
RUN cat /etc/app.conf /app/count > /app/summary
CMD ["cat", "/app/summary"]
EOF
chmod -R a+rX "$WORK"; chown -R "$BUSER" "$WORK"

S="$WORK/skiff"
SK="env SKIFF_ROOT=$WORK/skiff-root SKIFF_RUNROOT=$WORK/skiff-run $S"
as_bench $SK load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
# warm both (native cache, storage probes, the base image's layers)
as_bench $SK build -q --network none -t bench-build "$CTX" >/dev/null
as_bench podman build -q --network none -t bench-build "$CTX" >/dev/null

CHANGE="head -c 1048576 /dev/urandom > $CTX/data/blob7"
hf() { as_bench hyperfine -N --runs "$RUNS" "$@" >/dev/null; }
# cold: a store of its own for skiff, emptied (the helper removes sub-ID owned layers) and the
# base image loaded again before each run; the build cache and the context digests go too
SKC="env SKIFF_ROOT=$WORK/cold-root SKIFF_RUNROOT=$WORK/cold-run $S"
SKIFF_COLD="sh -c '$SKC rmi -f bench-build >/dev/null 2>&1; $SKC image prune -a -f >/dev/null; rm -rf $WORK/cold-root/build-cache; $SKC load -i $WORK/busybox.docker.tar >/dev/null'"
PODMAN_COLD="sh -c 'podman rmi -f bench-build >/dev/null 2>&1; podman image prune -f >/dev/null 2>&1; true'"
hf --export-json "$WORK/cold.json" \
  --prepare "$SKIFF_COLD" -n skiff "$SKC build -q --network none -t bench-build $CTX" \
  --prepare "$PODMAN_COLD" -n podman "podman build -q --no-cache --network none -t bench-build $CTX"
as_bench $SK build -q --network none -t bench-build "$CTX" >/dev/null
as_bench podman build -q --network none -t bench-build "$CTX" >/dev/null
hf --warmup 1 --export-json "$WORK/nochange.json" \
  -n skiff "$SK build -q --network none -t bench-build $CTX" \
  -n podman "podman build -q --network none -t bench-build $CTX"
hf --export-json "$WORK/onefile.json" --prepare "sh -c '$CHANGE'" \
  -n skiff "$SK build -q --network none -t bench-build $CTX" \
  -n podman "podman build -q --network none -t bench-build $CTX"

node -e '
const show = (file, what, target) => {
  const r = require(file).results;
  const med = (n) => r.find((x) => x.command === n).median * 1000;
  const s = med("skiff"), p = med("podman");
  console.log(`${what.padEnd(28)} skiff ${s.toFixed(0).padStart(6)} ms   podman ${p.toFixed(0).padStart(6)} ms   ratio ${(s / p).toFixed(2)}${target}`);
};
console.log(`build, 10 steps, 50 MB COPY (${require(process.argv[1]).results[0].times.length} runs each, median)`);
show(process.argv[1], "cold (new layers)", " (target <= 0.50)");
show(process.argv[2], "no change", " (target <= 0.33 and <= 300 ms)");
show(process.argv[3], "one file of the COPY changed", "");
' "$WORK/cold.json" "$WORK/nochange.json" "$WORK/onefile.json"
as_bench podman rmi -f bench-build >/dev/null 2>&1 || true
as_bench podman image prune -f >/dev/null 2>&1 || true
as_bench $SK rmi -f bench-build >/dev/null 2>&1 || true
rm -rf "$WORK" 2>/dev/null || true
