#!/usr/bin/env bash
# Benchmark: a 200 MB download through a published port, container -> host, measured in one run:
# the host's loopback (busybox httpd on 127.0.0.1, the physical limit), skiff's default network
# (pasta) and --network slirp4netns, and Podman's default (slirp4netns + rootlessport; Podman
# 4.3 has no pasta mode). Same user (bench), rootless, same busybox httpd serving the same file (bind
# mounted read-only), fetched by curl from 127.0.0.1. Prints MB/s (median of ROUNDS downloads)
# and each as a share of loopback. Not a test: it asserts nothing.
#
# Usage (as root): bench/net-throughput.sh [ROUNDS]     needs dist/skiff (npm run build)
set -euo pipefail
ROUNDS=${1:-5}
source "$(dirname "$0")/bench-env.sh"

WORK=$(mktemp -d /tmp/skiff-bench-net.XXXXXX)
cp "$REPO/dist/skiff" "$REPO/test/fixtures/out/busybox.docker.tar" "$WORK/"
mkdir "$WORK/www" && head -c 200000000 /dev/urandom > "$WORK/www/big"
chmod -R a+rX "$WORK"; chown "$BUSER" "$WORK"
BUID=$(id -u "$BUSER")
as_bench() { runuser -u "$BUSER" -- env -i HOME="$(getent passwd "$BUSER" | cut -d: -f6)" USER="$BUSER" LOGNAME="$BUSER" LANG=C.UTF-8 XDG_RUNTIME_DIR=/run/user/$BUID PATH=/usr/local/bin:/usr/bin:/bin "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

IMG=skiff-test/busybox
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
HTTPD=(httpd -f -p 80 -h /www)

# median MB/s of ROUNDS downloads of http://127.0.0.1:PORT/big (waits for the server first)
measure() {
  local port=$1 i speeds=()
  for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done
  for i in $(seq "$ROUNDS"); do speeds+=("$(curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$port/big")"); done
  printf '%s\n' "${speeds[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.1f\n", a[int((NR+1)/2)]/1e6}'
}

declare -A RESULT
P=$(free_port); as_bench busybox httpd -f -p "127.0.0.1:$P" -h "$WORK/www" & HP=$!
RESULT[loopback]=$(measure "$P"); kill $HP
for mode in default slirp4netns; do
  P=$(free_port); net=(); [ "$mode" = default ] || net=(--network "$mode")
  as_bench "$WORK/skiff" run -d --name "bench-$mode" "${net[@]}" -p "127.0.0.1:$P:80" -v "$WORK/www:/www:ro" "$IMG" "${HTTPD[@]}" >/dev/null
  RESULT[skiff-$mode]=$(measure "$P"); as_bench "$WORK/skiff" rm -f "bench-$mode" >/dev/null
done
for mode in default; do
  P=$(free_port); net=()
  as_bench podman run -d --name "bench-$mode" "${net[@]}" -p "127.0.0.1:$P:80" -v "$WORK/www:/www:ro" "$IMG" "${HTTPD[@]}" >/dev/null
  RESULT[podman-$mode]=$(measure "$P"); as_bench podman rm -f -t 0 "bench-$mode" >/dev/null
done

L=${RESULT[loopback]}
echo "200 MB through a published port, container -> host (median of $ROUNDS, MB/s, share of loopback)"
for k in loopback skiff-default skiff-slirp4netns podman-default; do
  awk -v k="$k" -v v="${RESULT[$k]}" -v l="$L" 'BEGIN { printf "  %-18s %8.1f MB/s  %5.1f%%\n", k, v, 100 * v / l }'
done
awk -v s="${RESULT[skiff-default]}" -v p="${RESULT[podman-default]}" 'BEGIN { printf "  ratio skiff/podman (defaults): %.2f (target: skiff >= 90%% of loopback)\n", s / p }'
rm -rf "$WORK"
