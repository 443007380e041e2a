#!/bin/sh
# Tests for native/helper/untar.c and storage.c (apply-tar, rm, copy), outside the main build.
# Builds a standalone driver (test/testmain.c) and runs storage_test.py:
#   as root (rootful), and as an unprivileged user (default dev1; SKIFF_TEST_USER overrides)
#   inside `unshare -r` (single-ID map), inside `unshare --map-auto --map-root-user` (subuid
#   range), and with no namespace at all (rm/copy of the user's own files).
# usage: native/helper/test/storage_test.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d /tmp/skiff-storage-bin.XXXXXX)
trap 'rm -rf "$out"' EXIT
chmod 755 "$out"
# zlib, zstd and OpenSSL static, as build/build.mjs links the helper
cc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$out/storage" "$here/../untar.c" "$here/../storage.c" "$here/testmain.c" \
  -Wl,-Bstatic -lz -lzstd -lcrypto -Wl,-Bdynamic -lm
py="python3 $here/storage_test.py $out/storage"
user=${SKIFF_TEST_USER:-dev1}
status=0
if [ "$(id -u)" = 0 ]; then
  $py root || status=1
  if id "$user" >/dev/null 2>&1; then
    su "$user" -c "unshare -r $py single" || status=1
    if grep -q "^$user:" /etc/subuid 2>/dev/null; then
      su "$user" -c "unshare --map-auto --map-root-user $py subuid" || status=1
    fi
    su "$user" -c "$py plain" || status=1
  fi
else
  unshare -r $py single || status=1
  unshare --map-auto --map-root-user $py subuid || status=1
  $py plain || status=1
fi
exit $status
