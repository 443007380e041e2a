#!/usr/bin/env bash
# Builds the apply-tar fuzz target (apply_tar_fuzz.c: libFuzzer + ASan + UBSan, clang) into
# native/helper/build/fuzz/, next to a copy of libisal.so.2 so that gzip goes through ISA-L as
# in the real helper. Separate from `npm run build`, which it does not slow down. Does nothing
# when the binary is newer than every source it is made of. Prints the binary's path.
# Needs clang and libclang-rt-14-dev (README, command 1).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
src=$root/native/helper
out=$src/build/fuzz
bin=$out/apply-tar-fuzz
CLANG=${CLANG:-clang}
sources=("$src/fuzz/apply_tar_fuzz.c" "$src/gunzip.c" "$src/storage.c" "$src/untar.c" "$src"/*.h "$0")

if [ -x "$bin" ]; then
  fresh=1
  for f in "${sources[@]}"; do [ "$f" -nt "$bin" ] && fresh=0; done
  if [ "$fresh" = 1 ]; then echo "$bin"; exit 0; fi
fi
if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "fuzz: $CLANG not found: install clang and libclang-rt-14-dev (apt-get install -y clang libclang-rt-14-dev)" >&2
  exit 1
fi
mkdir -p "$out"
isal=$("$CLANG" -print-file-name=libisal.so.2)
# copied under a new name and renamed: a fuzzer running meanwhile has the old one mapped
if [ -e "$isal" ]; then cp -L "$isal" "$out/libisal.so.2.tmp" && mv "$out/libisal.so.2.tmp" "$out/libisal.so.2"; fi
# -O1 -g: the sanitizers' usual trade-off between speed and readable reports. Every UBSan check
# aborts (no recovery), so that libFuzzer records it as a crash.
"$CLANG" -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Wno-unused-function \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -o "$bin.tmp" "$src/fuzz/apply_tar_fuzz.c" -lz -lzstd -lcrypto -lm -ldl
mv "$bin.tmp" "$bin"
echo "$bin"
