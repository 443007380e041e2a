#!/usr/bin/env bash
# Benchmark: a 200 MB download through a published port, container -> host, measured in one run:
# the host's loopback (busybox httpd on 127.0.0.1, the physical limit); skiff's default network
# (slirp4netns; the port handed to httpd's own socket: port_handoff.c), skiff's forwarder alone
# (port_handler=rootlessport: port_forward.c relays every connection), slirp4netns's own port
# handler and pasta's; Podman's default (slirp4netns + rootlessport) and its slirp4netns port handler
# (Podman 4.3 has no pasta mode). Same user (bench), rootless, same busybox httpd serving the same
# file (bind mounted read-only), fetched by curl from 127.0.0.1. The modes take turns, ROUNDS
# rounds of one download each in an order that rotates, so machine noise falls on all alike. Prints MB/s (median,
# with the quartiles: two runs of the same relay differ by up to ~8 % on a shared machine) and each as a share of
# loopback. Not a test: it asserts nothing.
#
# Every server runs in a session of its own (setsid), as each container's processes do: with the kernel's
# autogroups (sched_autogroup_enabled) a session is one scheduling group, and a loopback httpd left in this
# script's session would share curl's group, and its CPU share, while every relay mode's server does not.
#
# Usage (as root): bench/net-throughput.sh [ROUNDS]     needs dist/skiff (npm run build)
set -euo pipefail
ROUNDS=${1:-5}
source "$(dirname "$0")/bench-env.sh"

bench_workdir net
mkdir "$WORK/www" && head -c 200000000 /dev/urandom > "$WORK/www/big"
chmod -R a+rX "$WORK"; chown "$BUSER" "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

IMG=skiff-test/busybox
as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
as_bench podman load -i "$WORK/busybox.docker.tar" >/dev/null 2>&1
HTTPD=(httpd -f -p 80 -h /www)

wait_up() { local i; for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null && return; sleep 0.1; done; }
one_download() { curl -s -o /dev/null -w '%{speed_download}\n' "http://127.0.0.1:$1/big"; }
median() { sort -g | awk '{a[NR]=$1} END {printf "%.1f\n", a[int((NR+1)/2)]/1e6}'; }
quartiles() { sort -g | awk '{a[NR]=$1} END {printf "q1 %.0f, q3 %.0f\n", a[int(NR/4)+1]/1e6, a[int((3*NR+3)/4)]/1e6}'; }

# every server up at once, each on its own port
declare -A PORT
MODES=(loopback skiff-default skiff-forwarder skiff-slirp-handler skiff-pasta podman-default podman-slirp-handler)
P=$(free_port); PORT[loopback]=$P
as_bench setsid busybox httpd -f -p "127.0.0.1:$P" -h "$WORK/www" & HP=$!
start_skiff() { # mode --network-value
  local p; p=$(free_port); PORT[$1]=$p; local net=(); [ -z "$2" ] || net=(--network "$2")
  as_bench "$WORK/skiff" run -d --name "bench-$1" "${net[@]}" -p "127.0.0.1:$p:80" -v "$WORK/www:/www:ro" "$IMG" "${HTTPD[@]}" >/dev/null
}
start_podman() {
  local p; p=$(free_port); PORT[$1]=$p; local net=(); [ -z "$2" ] || net=(--network "$2")
  as_bench podman run -d --name "bench-$1" "${net[@]}" -p "127.0.0.1:$p:80" -v "$WORK/www:/www:ro" "$IMG" "${HTTPD[@]}" >/dev/null
}
start_skiff skiff-default ''
start_skiff skiff-forwarder slirp4netns:port_handler=rootlessport
start_skiff skiff-slirp-handler slirp4netns:port_handler=slirp4netns
start_skiff skiff-pasta pasta
start_podman podman-default ''
start_podman podman-slirp-handler slirp4netns:port_handler=slirp4netns
for m in "${MODES[@]}"; do wait_up "${PORT[$m]}"; : > "$WORK/$m.speeds"; done
N=${#MODES[@]}
for r in $(seq "$ROUNDS"); do  # the order rotates each round: no mode always follows the same one
  for i in $(seq 0 $((N - 1))); do m=${MODES[$(((i + r) % N))]}; one_download "${PORT[$m]}" >> "$WORK/$m.speeds"; done
done
pkill -P "$HP" || true  # runuser forks: the httpd is its child, not $HP itself
kill "$HP" 2>/dev/null || true
for m in skiff-default skiff-forwarder skiff-slirp-handler skiff-pasta; do as_bench "$WORK/skiff" rm -f "bench-$m" >/dev/null; done
for m in podman-default podman-slirp-handler; do as_bench podman rm -f -t 0 "bench-$m" >/dev/null; done

declare -A RESULT SPREAD
for m in "${MODES[@]}"; do RESULT[$m]=$(median < "$WORK/$m.speeds"); SPREAD[$m]=$(quartiles < "$WORK/$m.speeds"); done
L=${RESULT[loopback]}
echo "200 MB through a published port, container -> host (median of $ROUNDS rounds, MB/s, share of loopback)"
for k in "${MODES[@]}"; do
  awk -v k="$k" -v v="${RESULT[$k]}" -v l="$L" -v q="${SPREAD[$k]}" 'BEGIN { printf "  %-22s %8.1f MB/s  %5.1f%%  (%s)\n", k, v, 100 * v / l, q }'
done
awk -v s="${RESULT[skiff-default]}" -v p="${RESULT[podman-default]}" -v l="$L" 'BEGIN { printf "  ratio skiff/podman (defaults): %.2f; skiff default %.1f%% of loopback (target: >= 90%%)\n", s / p, 100 * s / l }'
rm -rf "$WORK"
