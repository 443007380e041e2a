#!/usr/bin/env bash
# E2E harness: builds the fixtures, then runs the e2e suite against dist/skiff.
#
#   bash test/e2e/run.sh [vitest args, e.g. a file filter]
#
# Tiers (test/e2e/tiers.ts): without arguments, the fast tier runs first (rootless, then
# rootful), so that a broken basic path fails within a minute or two, and then the rest; a failed
# fast tier stops the run there (SKIFF_E2E_KEEP_GOING=1 runs the rest anyway).
# SKIFF_E2E_TIER=fast runs the fast tier only (npm run test:e2e:fast), =rest the rest only. With
# arguments and no SKIFF_E2E_TIER, the files given run in one pass. Each suite ends with a table
# of the wall time per test file and the slowest tests (test/e2e/timing-reporter.ts).
#
# As root (CI): creates an unprivileged user `skifftest` with a subuid/subgid range and runs
# the ROOTLESS suite as that user from a copy readable by it, then the ROOTFUL suite as root.
# A second user `skiffnosub` without any subuid range is created for the single-ID fallback
# test (exported as SKIFF_E2E_NOSUB_USER to the rootful run, which can runuser to it).
# As any other user: runs the rootless suite as that user only.
#
# Environment: SKIFF_BIN (default dist/skiff), SKIFF_E2E_ONLY=rootless|rootful,
# SKIFF_E2E_TIER=fast|rest, SKIFF_E2E_KEEP_GOING=1, SKIFF_E2E_KEEP=1 (keep the temporary copy
# and stores for inspection).
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

say() { printf 'e2e: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

BIN=${SKIFF_BIN:-$REPO/dist/skiff}
[[ $BIN == /* ]] || BIN=$REPO/$BIN
[ -x "$BIN" ] || die "$BIN is missing or not executable: run 'npm run build' first"
[ -x node_modules/.bin/vitest ] || die "node_modules/.bin/vitest missing: run 'npm ci' first"

node test/fixtures/build-images.mjs || die "building the test fixtures failed"

ONLY=${SKIFF_E2E_ONLY:-}
case $ONLY in ''|rootless|rootful) ;; *) die "SKIFF_E2E_ONLY=$ONLY: expected rootless or rootful" ;; esac
VITEST_ARGS=(run --config vitest.e2e.config.ts "$@")

# The passes, in order: a tier each ("all" is the whole suite, or the files given, in one pass).
TIER=${SKIFF_E2E_TIER:-}
case $TIER in
  fast | rest) PASSES=("$TIER") ;;
  '') if [ $# -gt 0 ]; then PASSES=(all); else PASSES=(fast rest); fi ;;
  *) die "SKIFF_E2E_TIER=$TIER: expected fast or rest (or nothing: fast, then rest)" ;;
esac
tier_value() { [ "$1" = all ] || printf '%s' "$1"; } # what SKIFF_E2E_TIER says for a pass
pass_label() { if [ "$1" = all ]; then printf 'suite'; else printf '%s tier' "$1"; fi; }

# Results by "mode pass" (the vitest exit code) and how long each took, for the summary.
declare -A RESULT=() SECS=()
SUITES=()
record() { # mode pass rc start
  RESULT["$1 $2"]=$3
  SECS["$1 $2"]=$((SECONDS - $4))
  SUITES+=("$1 $2")
}

# One line per suite that ran, then the exit status: 0 only if every one passed.
summary() {
  local failed=0 s mode pass
  for s in "${SUITES[@]}"; do
    read -r mode pass <<<"$s"
    if [ "${RESULT[$s]}" -eq 0 ]; then
      say "$mode $(pass_label "$pass") passed (${SECS[$s]} s)"
    else
      say "$mode $(pass_label "$pass") FAILED (exit ${RESULT[$s]}, ${SECS[$s]} s)"
      failed=1
    fi
  done
  return $failed
}

# After a pass: go on to the next one? Not after a failure (the point of running the fast tier
# first), unless asked to.
pass_ok() { # pass
  local s
  for s in "${SUITES[@]}"; do
    [ "${s#* }" = "$1" ] && [ "${RESULT[$s]}" -ne 0 ] || continue
    [ "${SKIFF_E2E_KEEP_GOING:-}" = 1 ] && return 0
    say "the $(pass_label "$1") failed: not running the rest (SKIFF_E2E_KEEP_GOING=1 would)"
    return 1
  done
  return 0
}

if [ "$(id -u)" -ne 0 ]; then
  say "not root: running the rootless suite as $(id -un) only"
  for pass in "${PASSES[@]}"; do
    say "rootless $(pass_label "$pass") as $(id -un)"
    start=$SECONDS
    env SKIFF_BIN="$BIN" SKIFF_E2E_MODE=rootless SKIFF_E2E_TIER="$(tier_value "$pass")" \
      node_modules/.bin/vitest "${VITEST_ARGS[@]}"
    record rootless "$pass" $? "$start"
    pass_ok "$pass" || break
  done
  summary
  exit $?
fi

# ------------------------------------------------------------------------------------------
# root: prepare the users
# ------------------------------------------------------------------------------------------

TEST_USER=skifftest
NOSUB_USER=skiffnosub
SUB_COUNT=65536

# First free start above every range already in /etc/subuid or /etc/subgid (at least 100000).
next_sub_start() {
  awk -F: 'BEGIN { m = 100000 } NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { e = $2 + $3; if (e > m) m = e } END { print m }' \
    /etc/subuid /etc/subgid 2>/dev/null
}

ensure_subrange() { # user file
  local user=$1 file=$2 uid
  uid=$(id -u "$user")
  touch "$file"
  if ! grep -qE "^($user|$uid):[0-9]+:[0-9]+" "$file"; then
    echo "$user:$(next_sub_start):$SUB_COUNT" >>"$file"
    say "added $user to $file"
  fi
}

remove_subrange() { # user file
  local user=$1 file=$2 uid
  uid=$(id -u "$user")
  [ -f "$file" ] && sed -i -E "/^($user|$uid):/d" "$file"
}

ensure_runtime_dir() { # user
  local uid gid
  uid=$(id -u "$1"); gid=$(id -g "$1")
  mkdir -p "/run/user/$uid"
  chown "$uid:$gid" "/run/user/$uid"
  chmod 0700 "/run/user/$uid"
}

if ! id -u "$TEST_USER" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$TEST_USER" || die "useradd $TEST_USER failed"
  say "created user $TEST_USER"
fi
ensure_subrange "$TEST_USER" /etc/subuid
ensure_subrange "$TEST_USER" /etc/subgid

if ! id -u "$NOSUB_USER" >/dev/null 2>&1; then
  # A system user: useradd gives it no subordinate IDs (unless -F).
  useradd -r -m -s /bin/bash "$NOSUB_USER" || die "useradd $NOSUB_USER failed"
  say "created user $NOSUB_USER"
fi
remove_subrange "$NOSUB_USER" /etc/subuid
remove_subrange "$NOSUB_USER" /etc/subgid

ensure_runtime_dir "$TEST_USER"
ensure_runtime_dir "$NOSUB_USER"
[ -e /dev/net/tun ] && chmod 0666 /dev/net/tun

TEST_UID=$(id -u "$TEST_USER")
TEST_HOME=$(getent passwd "$TEST_USER" | cut -d: -f6)

# The repository may live where the test users cannot read (/root, /work): run both suites
# from a copy they can read. The rootless user owns it (vitest writes its cache there).
WORK=$(mktemp -d /tmp/skiff-e2e-XXXXXX) || die "mktemp failed"
cleanup() {
  # Each test store has its own run root, hence its own pause process (which would otherwise
  # live on, as Podman's does): stop them with the stores.
  # Only this run's: other runs (another checkout) may be using the same test user right now.
  pkill -KILL -u "$TEST_USER" -f -- "skiff-helper .*--pause $WORK/" 2>/dev/null || true
  if [ "${SKIFF_E2E_KEEP:-}" = 1 ]; then say "kept $WORK"; return; fi
  rm -rf --one-file-system "$WORK" 2>/dev/null || say "could not remove all of $WORK"
}
trap cleanup EXIT
chmod 0755 "$WORK"
mkdir -p "$WORK/dist" "$WORK/tmp-rootless" "$WORK/tmp-rootful"
cp -a node_modules test package.json vitest.e2e.config.ts "$WORK/" || die "copying the repository to $WORK failed"
[ -f tsconfig.json ] && cp -a tsconfig.json "$WORK/"
cp "$BIN" "$WORK/dist/skiff" || die "copying $BIN failed"
chmod 0755 "$WORK/dist/skiff"
chown -R "$TEST_USER:" "$WORK"
chown root: "$WORK/tmp-rootful"
chmod 0711 "$WORK/tmp-rootful" # other users' stores are created (and chowned) inside it

NODE_DIR=$(dirname "$(command -v node)")
USER_PATH="$NODE_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

runuser -u "$TEST_USER" -- test -x "$WORK/dist/skiff" -a -r "$WORK/package.json" ||
  die "$TEST_USER cannot read $WORK"
runuser -u "$TEST_USER" -- "$NODE_DIR/node" --version >/dev/null 2>&1 ||
  die "$TEST_USER cannot run $NODE_DIR/node"

run_rootless() { # pass
  say "rootless $(pass_label "$1") as $TEST_USER (uid $TEST_UID) in $WORK"
  runuser -u "$TEST_USER" -- env -i \
    HOME="$TEST_HOME" USER="$TEST_USER" LOGNAME="$TEST_USER" PATH="$USER_PATH" \
    LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" \
    XDG_RUNTIME_DIR="/run/user/$TEST_UID" \
    SKIFF_BIN="$WORK/dist/skiff" SKIFF_E2E_MODE=rootless SKIFF_E2E_TMP="$WORK/tmp-rootless" \
    SKIFF_E2E_TIER="$(tier_value "$1")" \
    bash -c 'cd "$1" && shift && exec node_modules/.bin/vitest "$@"' _ "$WORK" "${VITEST_ARGS[@]}"
}

run_rootful() { # pass
  say "rootful $(pass_label "$1") as root in $WORK"
  (
    cd "$WORK" &&
      env SKIFF_BIN="$WORK/dist/skiff" SKIFF_E2E_MODE=rootful SKIFF_E2E_TMP="$WORK/tmp-rootful" \
        SKIFF_E2E_NOSUB_USER="$NOSUB_USER" SKIFF_E2E_SUB_USER="$TEST_USER" \
        SKIFF_E2E_TIER="$(tier_value "$1")" \
        node_modules/.bin/vitest "${VITEST_ARGS[@]}"
  )
}

for pass in "${PASSES[@]}"; do
  for m in rootless rootful; do
    [ -z "$ONLY" ] || [ "$ONLY" = "$m" ] || continue
    start=$SECONDS
    "run_$m" "$pass"
    record "$m" "$pass" $? "$start"
  done
  pass_ok "$pass" || break
done
summary
exit $?
