#!/usr/bin/env bash
# Builds the pull benchmark's image: a debootstrap'd Debian 12 (minbase) split into four gzip
# layers, as an OCI archive (bench/debian:latest). Not a test fixture: it needs root and
# Debian's apt mirror the first time; the rootfs is cached, so later runs only re-pack it.
#
# Usage (as root): bench/build-debian-image.sh [OUT.oci.tar]
#   default output: bench/out/debian.oci.tar (gitignored)
#   cache: $SKIFF_BENCH_CACHE (default /var/tmp/skiff-bench)/rootfs  — delete it to re-bootstrap
#
# Layers (no file is in two layers; each directory is in exactly one layer too, the one that
# holds the directory itself, so the layers only ever add):
#   1. everything outside the three below (/etc, /var, /usr/bin, /usr/sbin, /usr/libexec, ...)
#   2. /usr/lib (the shared libraries, perl, gconv...)
#   3. /usr/share without locale/ (docs, man pages, zoneinfo...)
#   4. /usr/share/locale (message catalogues)
# Tars are deterministic (sorted names, mtimes clamped to a fixed date, numeric 0:0-style
# ownership as on disk, no atime/ctime, gzip without a name or time), so re-packing the same
# rootfs gives the same digests. Ownership, modes, symlinks and hard links are kept as on disk
# (a hard link whose two names fall in different layers becomes two copies). /dev is left
# empty, as in registry images (a rootless unpacker could not create debootstrap's device nodes).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$REPO/bench/out/debian.oci.tar}")
CACHE=${SKIFF_BENCH_CACHE:-/var/tmp/skiff-bench}
ROOTFS=$CACHE/rootfs
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
EPOCH=2026-11-23T00:00:00Z
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap, and reading the rootfs's root-only files)" >&2; exit 1; }
for c in debootstrap tar gzip sha256sum jq; do
  command -v "$c" >/dev/null || { echo "missing $c: apt-get install debootstrap tar gzip coreutils jq" >&2; exit 1; }
done

if [ ! -e "$ROOTFS/.complete" ]; then
  rm -rf "$ROOTFS.partial"
  mkdir -p "$CACHE"
  echo "debootstrap --variant=minbase $SUITE → $ROOTFS (once)" >&2
  debootstrap --variant=minbase "$SUITE" "$ROOTFS.partial" "$MIRROR" >&2
  # apt's downloaded .debs are not part of an image (Docker's debian images drop them too).
  rm -rf "$ROOTFS.partial"/var/cache/apt/archives/*.deb "$ROOTFS.partial"/var/lib/apt/lists/*_* \
    "$ROOTFS.partial"/var/log/bootstrap.log
  rm -rf "$ROOTFS"; mv "$ROOTFS.partial" "$ROOTFS"
  touch "$ROOTFS/.complete"
fi

ARCH=$(chroot "$ROOTFS" dpkg --print-architecture)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/skiff-debian-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
BLOBS=$WORK/layout/blobs/sha256
mkdir -p "$BLOBS"

# pack LAYER_NAME TAR_ARGS... : one deterministic gzip layer; prints "diffid digest size unpacked"
pack() {
  local name=$1; shift
  tar -C "$ROOTFS" --create --format=posix --sort=name --numeric-owner \
    --mtime="$EPOCH" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --exclude=./.complete --exclude='./dev/*' "$@" > "$WORK/$name.tar"
  local diffid unpacked digest size
  diffid=$(sha256sum < "$WORK/$name.tar" | cut -d' ' -f1)
  unpacked=$(stat -c %s "$WORK/$name.tar")
  gzip -n -6 < "$WORK/$name.tar" > "$WORK/$name.tar.gz"
  rm "$WORK/$name.tar"
  digest=$(sha256sum < "$WORK/$name.tar.gz" | cut -d' ' -f1)
  size=$(stat -c %s "$WORK/$name.tar.gz")
  mv "$WORK/$name.tar.gz" "$BLOBS/$digest"
  echo "$diffid $digest $size $unpacked"
}

# Layer 1 holds ./usr (the directory) but not usr/lib, usr/share; layer 4 holds usr/share
# itself but not usr/share/locale. Order matters only for parent directories: each layer's
# parents exist in an earlier one (so usr/share, the parent of locale, comes before it).
L1=$(pack base --exclude=./usr/lib --exclude=./usr/share .)
L2=$(pack usrlib ./usr/lib)
L3=$(pack usrshare --exclude=./usr/share/locale ./usr/share)
L4=$(pack locale ./usr/share/locale)

# No path may be in two layers: check the listings before writing anything.
for d in $(printf '%s\n' "$L1" "$L2" "$L3" "$L4" | cut -d' ' -f2); do tar -tzf "$BLOBS/$d"; done \
  | sed 's|/$||' | sort | uniq -d > "$WORK/dups"
[ ! -s "$WORK/dups" ] || { echo "paths in more than one layer:" >&2; head "$WORK/dups" >&2; exit 1; }
# ... and every path must be in one: the layers together are the whole rootfs.
in_layers=$(for d in $(printf '%s\n' "$L1" "$L2" "$L3" "$L4" | cut -d' ' -f2); do tar -tzf "$BLOBS/$d"; done | wc -l)
on_disk=$(cd "$ROOTFS" && find . ! -path ./.complete ! -path './dev/*' | wc -l)
[ "$in_layers" = "$on_disk" ] || { echo "layers hold $in_layers paths, the rootfs $on_disk" >&2; exit 1; }

LAYERS=$(printf '%s\n' "$L1" "$L2" "$L3" "$L4")
CONFIG=$(jq -cn --arg arch "$ARCH" --arg created "$EPOCH" --arg diffs "$(cut -d' ' -f1 <<<"$LAYERS")" '{
  created: $created, architecture: $arch, os: "linux",
  config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["bash"] },
  rootfs: { type: "layers", diff_ids: ($diffs | split("\n") | map("sha256:" + .)) },
  history: ($diffs | split("\n") | map({ created: $created, created_by: "bench/build-debian-image.sh" }))
}')
put_blob() { local d; d=$(printf '%s' "$1" | sha256sum | cut -d' ' -f1); printf '%s' "$1" > "$BLOBS/$d"; echo "$d"; }
CONFIG_DIGEST=$(put_blob "$CONFIG")
MANIFEST=$(jq -cn --arg cd "$CONFIG_DIGEST" --argjson cs "${#CONFIG}" --arg layers "$(cut -d' ' -f2,3 <<<"$LAYERS")" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: ("sha256:" + $cd), size: $cs },
  layers: ($layers | split("\n") | map(split(" ") | {
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: ("sha256:" + .[0]), size: (.[1] | tonumber) }))
}')
MANIFEST_DIGEST=$(put_blob "$MANIFEST")
jq -cn --arg md "$MANIFEST_DIGEST" --argjson ms "${#MANIFEST}" '{
  schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: ("sha256:" + $md), size: $ms,
    annotations: { "org.opencontainers.image.ref.name": "latest", "io.containerd.image.name": "bench/debian:latest" } }]
}' > "$WORK/layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$WORK/layout/oci-layout"

mkdir -p "$(dirname "$OUT")"
tar -C "$WORK/layout" --create --sort=name --numeric-owner --owner=0 --group=0 --mtime="$EPOCH" \
  --format=posix --pax-option=delete=atime,delete=ctime -f "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"

awk -v out="$OUT" '{ gz += $3; raw += $4; printf "  layer sha256:%.12s  %6.1f MB gzip  %6.1f MB tar\n", $2, $3/1e6, $4/1e6 }
  END { printf "%s: bench/debian:latest, %d layers, %.1f MB gzip, %.1f MB unpacked (tar)\n", out, NR, gz/1e6, raw/1e6 }' <<<"$LAYERS" >&2
