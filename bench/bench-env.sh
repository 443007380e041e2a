# Sourced by the benchmarks that compare skiff with Podman as the user "bench": the checks and
# the set-up each of them needs first. Sets REPO, BUSER and BUID; `need_hyperfine` installs
# hyperfine for the scripts that time with it; `as_bench CMD...` runs CMD as $BUSER in a clean
# login-like environment (root's NODE_EXTRA_CA_CERTS alone costs Node 50-70 ms a start);
# `bench_workdir NAME` makes $WORK, owned by $BUSER, with copies of dist/skiff and the busybox
# fixture. SKIFF_PEERS=DIR: another peers directory than ../shared/peers.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUSER=bench
[ "$(id -u)" = 0 ] || { echo "run as root (it sets up the bench user)" >&2; exit 1; }
[ -x "$REPO/dist/skiff" ] || { echo "build first: npm run build" >&2; exit 1; }
# ../shared beside the main checkout, or beside the worktrees' directory (/work/wt/NAME)
PEERS=${SKIFF_PEERS:-$REPO/../shared/peers}; [ -d "$PEERS" ] || PEERS=$REPO/../../shared/peers
bash "$PEERS/podman-rootless.sh" "$BUSER" >/dev/null
node "$REPO/test/fixtures/build-images.mjs" >/dev/null
need_hyperfine() { command -v hyperfine >/dev/null || apt-get install -y -q hyperfine >/dev/null; }
BUID=$(id -u "$BUSER")
as_bench() {
  runuser -u "$BUSER" -- env -i HOME="$(getent passwd "$BUSER" | cut -d: -f6)" USER="$BUSER" LOGNAME="$BUSER" \
    LANG=C.UTF-8 XDG_RUNTIME_DIR=/run/user/$BUID PATH=/usr/local/bin:/usr/bin:/bin "$@"
}
bench_workdir() { # NAME [BASE_SKIFF]: BASE_SKIFF, when given, is copied in as $WORK/skiff-base
  WORK=$(mktemp -d "/tmp/skiff-bench-$1.XXXXXX")
  cp "$REPO/dist/skiff" "$REPO/test/fixtures/out/busybox.docker.tar" "$WORK/"
  chmod 755 "$WORK" "$WORK/skiff"; chmod 644 "$WORK/busybox.docker.tar"; chown "$BUSER" "$WORK"
  if [ -n "${2:-}" ]; then cp "$2" "$WORK/skiff-base"; chmod 755 "$WORK/skiff-base"; fi
}
