# Sourced by the benchmarks that compare skiff and Podman on stores of their own (ps-many.sh,
# exec-latency.sh): both engines keep root and run directory on one scratch filesystem, ext4
# with a journal as a user's home would be (this VM's root is ext4 without one), loop-mounted
# from a sparse file in /var/tmp for the run; skiff through SKIFF_ROOT/SKIFF_RUNROOT (in the
# environment, so that a timed command line is the plain one), Podman through --root/--runroot.
# Other benchmarks that use the bench user's default stores are left alone.
#
#   REPO=... BUSER=bench; source bench/scratch-stores.sh; scratch_stores_mount NAME SIZE
# then: $WORK (the mount, holding a copy of dist/skiff as $SKIFF, and of $SKIFF_BASELINE, an
# older build, as $WORK/skiff-base when $BASE is not empty), $PODMAN, as_bench CMD...
# (as $BUSER in a clean environment, as the user's own login would have: see run-latency.sh),
# and scratch_stores_unmount (for the caller's EXIT trap, after removing its containers).

# Rootless Podman for $BUSER (../shared from the main checkout, ../../shared from a worktree).
scratch_stores_setup_podman() {
  local p
  for p in "$REPO"/../shared/peers/podman-rootless.sh "$REPO"/../../shared/peers/podman-rootless.sh; do
    [ -f "$p" ] && { bash "$p" "$BUSER" >/dev/null; return; }
  done
  echo "../shared/peers/podman-rootless.sh not found" >&2
  exit 1
}

scratch_stores_mount() { # NAME SIZE
  WORK=$(mktemp -d "/tmp/skiff-bench-$1.XXXXXX")
  FSIMG=$(mktemp "/var/tmp/skiff-bench-$1.XXXXXX.ext4")
  truncate -s "$2" "$FSIMG"
  mkfs.ext4 -q -F -O has_journal "$FSIMG"
  mount -o loop "$FSIMG" "$WORK"
  LOOPDEV=$(findmnt -n -o SOURCE --target "$WORK")
  [ -d "/proc/fs/jbd2/${LOOPDEV#/dev/}-8" ] || { echo "$WORK ($LOOPDEV) has no journal" >&2; exit 1; }
  echo "stores on $LOOPDEV at $WORK: ext4 with a journal" >&2
  cp "$REPO/dist/skiff" "$REPO/test/fixtures/out/busybox.docker.tar" "$WORK/"
  chmod 755 "$WORK" "$WORK/skiff"; chmod 644 "$WORK/busybox.docker.tar"; chown "$BUSER" "$WORK"
  BASE=${SKIFF_BASELINE:-}
  if [ -n "$BASE" ]; then cp "$BASE" "$WORK/skiff-base" && chmod 755 "$WORK/skiff-base"; fi
  BUID=$(id -u "$BUSER")
  SKIFF="$WORK/skiff"
  PODMAN="podman --root $WORK/podman-root --runroot $WORK/podman-run"
}

as_bench() {
  runuser -u "$BUSER" -- env -i HOME="$(getent passwd "$BUSER" | cut -d: -f6)" USER="$BUSER" LOGNAME="$BUSER" \
    LANG=C.UTF-8 XDG_RUNTIME_DIR=/run/user/$BUID PATH=/usr/local/bin:/usr/bin:/bin \
    SKIFF_ROOT="$WORK/skiff-root" SKIFF_RUNROOT="$WORK/skiff-run" "$@"
}

scratch_stores_unmount() {
  [ -n "${WORK:-}" ] || return 0
  # skiff's pause process for this store (it holds the store's user namespace, and with it the
  # mount) goes with the store; Podman's is the user's, shared with its other stores.
  local pause
  pause=$(cat "$WORK/skiff-run/pause.pid" 2>/dev/null) && [ -n "$pause" ] && kill -KILL "$pause" 2>/dev/null || true
  umount "$WORK" 2>/dev/null || umount -l "$WORK" 2>/dev/null || true
  rmdir "$WORK" 2>/dev/null || true
  rm -f "$FSIMG"
}
