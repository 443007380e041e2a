#!/usr/bin/env bash
# A/B of versions of the port forwarder (native/helper/port_forward.c) without rebuilding skiff.
# Each NAME=FILE is built into a standalone driver (forwarder-ab.c) that relays a host port into one
# running skiff container (busybox httpd serving 200 MB, default network), as the monitor's
# forwarder does. Downloads through every version, through that container's own published port
# (dist/skiff's forwarder: the driver should match it) and from a loopback httpd take turns,
# ROUNDS rounds in an order that rotates. For each, medians of: MB/s (with quartiles), the share of
# loopback, and from /proc/PID/schedstat the CPU time and run-queue wait of curl and of the
# forwarder. On a shared 2-vCPU machine MB/s moves by ~8 % between two runs of the same version;
# the waits show where the time went (docs/PERFORMANCE.md, "why the forwarder stays as it is").
#
# The drivers run as root (setns into the container's namespace needs it), each in a session of
# its own (setsid), as the monitor's forwarder is: with autogroups on, a relay in curl's session
# would share curl's scheduling group and behave differently.
#
# AB_AUTOGROUP_NICE=-20: on a machine shared with other work, put every session of the run (this
# script's with curl, the loopback server's, the container's, skiff's monitor's, the drivers') at
# that autogroup nice for its duration, to come near a quiet machine (it takes CPU from the rest).
#
# Usage (as root): bench/forwarder-ab.sh ROUNDS NAME=FILE [NAME=FILE ...]     needs dist/skiff
#   git show main:native/helper/port_forward.c > /tmp/main.c
#   bench/forwarder-ab.sh 15 main=/tmp/main.c new=native/helper/port_forward.c
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;$d' >&2; exit 2; }
ROUNDS=$1; shift
source "$(dirname "$0")/bench-env.sh"

bench_workdir fwdab
mkdir "$WORK/www" && head -c 200000000 /dev/urandom > "$WORK/www/big"
chmod -R a+rX "$WORK"; chown "$BUSER" "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DRIVERS=()
cleanup() {
  for d in "${DRIVERS[@]}"; do kill "$d" 2>/dev/null || true; done  # each forwarder dies with its driver
  pkill -P "${HP:-0}" 2>/dev/null || true; kill "${HP:-0}" 2>/dev/null || true
  as_bench "$WORK/skiff" rm -f "fwdab-$$" >/dev/null 2>&1 || true
  [ -z "${AB_AUTOGROUP_NICE:-}" ] || echo 0 > /proc/$$/autogroup
  rm -rf "$WORK"
}
trap cleanup EXIT

as_bench "$WORK/skiff" load -i "$WORK/busybox.docker.tar" >/dev/null
SKIFF_PORT=$(free_port)
as_bench "$WORK/skiff" run -d --name "fwdab-$$" -p "127.0.0.1:$SKIFF_PORT:80" -v "$WORK/www:/www:ro" \
  skiff-test/busybox httpd -f -p 80 -h /www >/dev/null
CTR_PID=$(as_bench "$WORK/skiff" inspect --format '{{.State.Pid}}' "fwdab-$$")
CTR_IP=10.0.2.100  # the container's address on slirp4netns, which skiff's forwarder connects to
LOOP_PORT=$(free_port)
as_bench setsid busybox httpd -f -p "127.0.0.1:$LOOP_PORT" -h "$WORK/www" & HP=$!

MODES=("loopback:$LOOP_PORT:0" "skiff:$SKIFF_PORT:$(pgrep -x -P "$(ps -o ppid= -p "$CTR_PID" | tr -d ' ')" skiff-portfwd)")
for spec in "$@"; do
  name=${spec%%=*}; file=${spec#*=}
  [ "$name" != "$spec" ] && [ -r "$file" ] || { echo "forwarder-ab: want NAME=FILE, got $spec" >&2; exit 2; }
  cp "$file" "$WORK/$name.c"  # (a <(...) substitution can be read once)
  cc -O2 -D_GNU_SOURCE -I"$REPO/native/helper" -DFORWARDER_SOURCE="\"$WORK/$name.c\"" \
    -o "$WORK/$name" "$(dirname "$0")/forwarder-ab.c"
  port=$(free_port)
  setsid "$WORK/$name" "$port" "$CTR_IP" 80 "/proc/$CTR_PID/ns/net" > "$WORK/$name.pid" < /dev/null &
  for _ in $(seq 50); do [ -s "$WORK/$name.pid" ] && break; sleep 0.1; done
  fwd=$(cat "$WORK/$name.pid")
  DRIVERS+=("$(ps -o ppid= -p "$fwd" | tr -d ' ')")  # the driver: its forwarder dies with it
  MODES+=("$name:$port:$fwd")
done
for m in "${MODES[@]}"; do
  port=$(cut -d: -f2 <<<"$m")
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

if [ -n "${AB_AUTOGROUP_NICE:-}" ]; then
  for p in $$ "$CTR_PID" "$(pgrep -P "$(pgrep -P "$HP")")" "${DRIVERS[@]}"; do echo "$AB_AUTOGROUP_NICE" > "/proc/$p/autogroup"; done
  echo "$AB_AUTOGROUP_NICE" > "/proc/$(cut -d: -f3 <<<"${MODES[1]}")/autogroup"  # skiff's forwarder: the monitor's session
fi

python3 - "$ROUNDS" "${MODES[@]}" <<'EOF'
import os, statistics, subprocess, sys

rounds, modes = int(sys.argv[1]), [m.split(':') for m in sys.argv[2:]]

def schedstat(pid):  # ns on a CPU, ns waiting on a run queue
    run, wait, _ = open(f'/proc/{pid}/schedstat').read().split()
    return int(run), int(wait)

rows = {name: [] for name, _, _ in modes}
for r in range(rounds):
    for i in range(len(modes)):  # the order rotates: no mode always follows the same one
        name, port, fwd = modes[(i + r) % len(modes)]
        f0 = schedstat(fwd) if fwd != '0' else (0, 0)
        curl = subprocess.Popen(['curl', '-s', '-o', '/dev/null', '-w', '%{speed_download}',
                                 f'http://127.0.0.1:{port}/big'], stdout=subprocess.PIPE)
        os.waitid(os.P_PID, curl.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: its schedstat is final
        c = schedstat(curl.pid)
        speed = float(curl.communicate()[0])
        f1 = schedstat(fwd) if fwd != '0' else (0, 0)
        rows[name].append((speed / 1e6, c[0] / 1e6, c[1] / 1e6, (f1[0] - f0[0]) / 1e6, (f1[1] - f0[1]) / 1e6))

def med(xs): return statistics.median(xs)
def quartiles(xs): q = statistics.quantiles(xs, n=4); return q[0], q[2]
loop = med([x[0] for x in rows['loopback']])
print(f'200 MB through each forwarder version, {rounds} rounds, medians (ms per download)')
print(f'  {"version":<12} {"MB/s":>7} {"(q1-q3)":>12} {"share":>7}   curl run/wait   forwarder run/wait')
for name, _, fwd in modes:
    xs = rows[name]
    q1, q3 = quartiles([x[0] for x in xs]) if len(xs) > 1 else (xs[0][0], xs[0][0])
    fw = f'{med([x[3] for x in xs]):7.1f} / {med([x[4] for x in xs]):5.1f}' if fwd != '0' else ''
    print(f'  {name:<12} {med([x[0] for x in xs]):7.0f} {f"({q1:.0f}-{q3:.0f})":>12} {100 * med([x[0] for x in xs]) / loop:6.1f}%'
          f'   {med([x[1] for x in xs]):5.1f} / {med([x[2] for x in xs]):5.1f}   {fw}')
EOF
