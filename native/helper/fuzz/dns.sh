#!/usr/bin/env bash
# Fuzz the embedded DNS server's message code (dns_fuzz.c + ../dns_message.c) for SECONDS
# (default 60) under ASan and UBSan; builds the target into native/helper/build/fuzz/dns-fuzz
# first. Exits 1 with one "fuzz: FAILED" line on any crash, report, leak or oracle failure.
#   usage: native/helper/fuzz/dns.sh [SECONDS] [libFuzzer options...]   (docs/FUZZING.md)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seconds=${1:-60}
shift || true
out=$here/../build/fuzz
bin=$out/dns-fuzz
mkdir -p "$out/dns-corpus" "$out/artifacts"
"${CLANG:-clang}" -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -o "$bin" "$here/dns_fuzz.c" "$here/../dns_message.c" || { echo "fuzz: FAILED: cannot build the DNS fuzz target" >&2; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# seeds: an A, AAAA, PTR query and one with EDNS, with the fixed names file (odd first byte)
printf '\001\022\064\001\000\000\001\000\000\000\000\000\000\003web\000\000\001\000\001' > "$out/dns-corpus/seed-a"
printf '\001\022\064\001\000\000\001\000\000\000\000\000\000\003web\003app\000\000\034\000\001' > "$out/dns-corpus/seed-aaaa"
printf '\001\022\064\001\000\000\001\000\000\000\000\000\000\0013\0011\00289\00210\007in-addr\004arpa\000\000\014\000\001' > "$out/dns-corpus/seed-ptr"
printf '\003\022\064\001\000\000\001\000\000\000\000\000\001\005crowd\000\000\001\000\001\000\000\051\020\000\000\000\000\000\000\000' > "$out/dns-corpus/seed-edns"
if ! "$bin" -max_total_time="$seconds" -max_len=1024 -artifact_prefix="$out/artifacts/dns-" "$@" "$out/dns-corpus" > "$out/dns-fuzz.log" 2>&1; then
  tail -n 40 "$out/dns-fuzz.log" >&2
  echo "fuzz: FAILED: the DNS fuzz target found a problem (input in $out/artifacts/)" >&2
  exit 1
fi
tail -n 3 "$out/dns-fuzz.log"
