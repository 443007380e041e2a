# Sourced by the benchmarks that compare skiff with Podman as the user "bench": the checks and
# the set-up each of them needs first. Sets REPO and BUSER; `need_hyperfine` installs hyperfine
# for the scripts that time with it.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUSER=bench
[ "$(id -u)" = 0 ] || { echo "run as root (it sets up the bench user)" >&2; exit 1; }
[ -x "$REPO/dist/skiff" ] || { echo "build first: npm run build" >&2; exit 1; }
# ../shared beside the main checkout, or beside the worktrees' directory (/work/wt/NAME)
PEERS=$REPO/../shared/peers; [ -d "$PEERS" ] || PEERS=$REPO/../../shared/peers
bash "$PEERS/podman-rootless.sh" "$BUSER" >/dev/null
node "$REPO/test/fixtures/build-images.mjs" >/dev/null
need_hyperfine() { command -v hyperfine >/dev/null || apt-get install -y -q hyperfine >/dev/null; }
