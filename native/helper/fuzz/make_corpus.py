#!/usr/bin/env python3
"""Seed corpus for the apply-tar fuzz target (native/helper/fuzz/apply_tar_fuzz.c).

usage: make_corpus.py OUTDIR

Writes one file per seed: ordinary layers (plain, gzip, zstd) as docker, GNU tar and Python's
tarfile write them, and hostile or broken ones: long names (GNU L/K, pax, ustar prefix), pax
records of every kind the reader knows, xattrs, base-256 numbers, hard links, symlinks that
climb out, whiteouts and opaque markers, AUFS metadata, names with control characters, a run of
pax headers, huge sizes, and cut or corrupt copies of the above. The fuzzer starts from these
instead of from nothing, so it spends its time past the tar header checksum.
"""
import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
SEEDS = {}


def seed(name, data):
    SEEDS[name] = data


# --- raw tar building (what tarfile refuses to write) -----------------------------------------

def octal(n, width):
    return (format(n, "o").rjust(width - 1, "0") + "\0").encode()


def header(name, typ=b"0", size=0, mode=0o644, uid=0, gid=0, mtime=1700000000, link=b"", fmt="ustar",
           prefix=b"", size_field=None, uid_field=None, devmajor=0, devminor=0):
    name = name if isinstance(name, bytes) else name.encode()
    link = link if isinstance(link, bytes) else link.encode()
    h = bytearray(512)
    h[0:len(name[:100])] = name[:100]
    h[100:108] = octal(mode, 8)
    h[108:116] = uid_field or octal(uid, 8)
    h[116:124] = octal(gid, 8)
    h[124:136] = size_field or octal(size, 12)
    h[136:148] = octal(mtime, 12)
    h[148:156] = b" " * 8
    h[156:157] = typ
    h[157:157 + len(link[:100])] = link[:100]
    if fmt == "ustar":
        h[257:265] = b"ustar\x0000"
    elif fmt == "gnu":
        h[257:265] = b"ustar  \x00"
    if fmt != "v7":
        h[329:337] = octal(devmajor, 8)
        h[337:345] = octal(devminor, 8)
    h[345:345 + len(prefix[:155])] = prefix[:155]
    h[148:156] = (format(sum(h), "o").rjust(6, "0") + "\0 ").encode()
    return bytes(h)


def pad(data):
    return data + b"\0" * (-len(data) % 512)


def entry(name, data=b"", **kw):
    data = data if isinstance(data, bytes) else data.encode()
    kw.setdefault("size", len(data))
    return header(name, **kw) + pad(data)


def pax(records, typ=b"x"):
    body = b""
    for k, v in records:
        k = k if isinstance(k, bytes) else k.encode()
        v = v if isinstance(v, bytes) else v.encode()
        rec = b" " + k + b"=" + v + b"\n"
        n = len(rec) + 1
        while len(str(n)) + len(rec) != n:
            n = len(str(n)) + len(rec)
        body += str(n).encode() + rec
    return entry("PaxHeader", body, typ=typ)


def gnu_long(typ, name):
    name = name if isinstance(name, bytes) else name.encode()
    return entry("././@LongLink", name + b"\0", typ=typ, fmt="gnu")


END = b"\0" * 1024


def base256(n, width):
    out = bytearray(width)
    for i in range(width - 1, 0, -1):
        out[i] = n & 0xFF
        n >>= 8
    out[0] = 0x80 | (n & 0x7F)
    return bytes(out)


# --- ordinary layers ---------------------------------------------------------------------------

def tarfile_layer(fmt):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        def add(name, typ, data=b"", **kw):
            ti = tarfile.TarInfo(name)
            ti.type = typ
            ti.mtime = kw.pop("mtime", 1700000000)
            for k, v in kw.items():
                setattr(ti, k, v)
            ti.size = len(data) if typ == tarfile.REGTYPE else 0
            t.addfile(ti, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
        add("etc", tarfile.DIRTYPE, mode=0o755)
        add("etc/hosts", tarfile.REGTYPE, b"127.0.0.1 localhost\n", mode=0o644, uid=1, gid=2)
        add("bin/sh", tarfile.SYMTYPE, linkname="/bin/busybox")
        add("linuxrc", tarfile.SYMTYPE, linkname="../bin/busybox")
        add("etc/hosts2", tarfile.LNKTYPE, linkname="etc/hosts")
        add("run/fifo", tarfile.FIFOTYPE, mode=0o600)
        add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
        add("bin/suid", tarfile.REGTYPE, b"\x7fELF", mode=0o4755)
        add("ro", tarfile.DIRTYPE, mode=0o555)
        add("ro/inside", tarfile.REGTYPE, b"i", mode=0o444)
        add("etc/.wh.passwd", tarfile.REGTYPE)
        add("var/lib/.wh..wh..opq", tarfile.REGTYPE)
        add("d" * 120 + "/" + "f" * 150, tarfile.REGTYPE, b"long")
        add("ln", tarfile.SYMTYPE, linkname="x/" * 60 + "target")
        add("big-ids", tarfile.REGTYPE, b"u", uid=3000000, gid=70000000)
        if fmt == tarfile.PAX_FORMAT:
            ti = tarfile.TarInfo("bin/ping")
            ti.size = 1
            ti.pax_headers = {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02 \x00\x00\x00",
                              "SCHILY.xattr.user.comment": "hi", "mtime": "1700000123.5"}
            t.addfile(ti, io.BytesIO(b"P"))
    return buf.getvalue()


for fmt, name in [(tarfile.PAX_FORMAT, "pax"), (tarfile.GNU_FORMAT, "gnu"), (tarfile.USTAR_FORMAT, "ustar")]:
    try:
        seed(f"tarfile-{name}.tar", tarfile_layer(fmt))
    except ValueError:  # ustar cannot hold the long names or the large IDs
        pass

raw = b"".join([
    entry("dir/", typ=b"5", mode=0o750),
    entry("dir/file", "data"),
    entry("file.txt", "P", prefix=b"usr/share/doc/pkg"),
    gnu_long(b"L", "g" * 130 + "/" + "n" * 200),
    entry("g" * 100, "G", fmt="gnu"),
    gnu_long(b"K", "../" + "t/" * 70 + "end"),
    entry("gnulink", typ=b"2", link="short", fmt="gnu"),
    pax([("path", "pax/named/by/pax"), ("size", "11"), ("uid", "3000000"), ("gid", "4000000"),
         ("mtime", "1700000123.987654"), ("linkpath", "lp")]),
    header("PaxHeader/ignored", size=0) + pad(b"hello world"),
    pax([("SCHILY.xattr.user.binary", b"\x00\n\xff\x80= \x00\x01"), ("SCHILY.xattr.user.empty", ""),
         ("LIBARCHIVE.xattr.user.a%3Db", "AAEC")]),
    entry("xattrs", "x"),
    # a default ACL (directories only): the helper then sets every mode explicitly
    pax([("SCHILY.xattr.system.posix_acl_default",
          b"\x02\0\0\0\x01\0\x07\0\xff\xff\xff\xff\x04\0\0\0\xff\xff\xff\xff\x20\0\0\0\xff\xff\xff\xff")]),
    entry("acl/", typ=b"5", mode=0o755),
    entry("acl/f", "f", mode=0o644),
    pax([("comment", "global"), ("path", "global-path")], typ=b"g"),
    entry("olddir/", typ=b"\0", fmt="v7"),
    entry("olddir/oldfile", "v7", typ=b"\0", fmt="v7"),
    entry("hl", typ=b"1", link="/dir/file"),
    entry("blk", typ=b"4", devmajor=8, devminor=0),
    entry(".wh..wh.plnk/1234.5678", "aufs"),
    entry("gone/.wh.dir/", typ=b"5"),
    entry("hdronly/", typ=b"5", size=1000)[:512],
    entry("after", "z"),
    # with --flatten: an opaque directory keeps only what this layer wrote; a whiteout removes
    entry("dir/.wh..wh..opq"),
    entry(".wh.after"),
    END,
])
seed("raw-all-kinds.tar", raw)
seed("empty", b"")
seed("end-only.tar", END)

# --- compressed ---------------------------------------------------------------------------------

small = entry("a", "abc") + entry("b/", typ=b"5", mode=0o700) + entry("b/c", "in b") + END
seed("small.tar.gz", gzip.compress(small, mtime=0))
seed("members.tar.gz", gzip.compress(small[:700], mtime=0) + gzip.compress(small[700:], mtime=0) + b"trailing")
seed("empty-member.tar.gz", gzip.compress(small[:100], mtime=0) + gzip.compress(b"", mtime=0) + gzip.compress(small[100:], mtime=0))
if shutil.which("zstd"):
    z = subprocess.run(["zstd", "-q", "-c", "--check"], input=small, capture_output=True, check=True).stdout
    seed("small.tar.zst", z)
    z2 = subprocess.run(["zstd", "-q", "-c"], input=raw[:3000], capture_output=True, check=True).stdout
    z3 = subprocess.run(["zstd", "-q", "-c"], input=raw[3000:], capture_output=True, check=True).stdout
    seed("frames.tar.zst", z2 + b"\x50\x2a\x4d\x18\x04\0\0\0skip" + z3)
seed("xz-magic", b"\xfd7zXZ\0\0\0\1\2\3")
seed("bzip2-magic", b"BZh91AY&SY\0\0\0")

# --- hostile ------------------------------------------------------------------------------------

seed("escape-name.tar", entry("ok", "fine") + entry("../evil", "x") + END)
seed("escape-abs.tar", entry("/etc/evil", "x") + END)
seed("escape-hardlink.tar", entry("pw", typ=b"1", link="../../etc/passwd") + END)
seed("escape-pax-path.tar", pax([("path", "/etc/shadow")]) + entry("innocent", "x") + END)
seed("symlink-writes.tar", b"".join([
    entry("host/sub/", typ=b"5"),
    entry("h", typ=b"2", link="../host"),
    entry("h/pwned", "p"),
    entry("r", typ=b"2", link="/"),
    entry("r/etc/evil", "e"),
    entry("up", typ=b"2", link="/../../.."),
    entry("up/tmp/evil", "e"),
    entry("p", typ=b"2", link="/proc/self/root"),
    entry("p/etc/evil", "e"),
    entry("sec", typ=b"2", link="/etc/passwd"),
    entry("sec", "over"),
    entry("hl", typ=b"1", link="h"),
    pax([("SCHILY.xattr.user.pwned", "1")]),
    entry("h/sub/", typ=b"5"),
    entry("h/.wh.secret"),
    entry("h/sub/.wh..wh..opq"),
    END,
]))
seed("control-chars.tar", entry("a\nskiff-helper: forged\x01\x7f\"\\", "x") + entry(".wh..wh.\x1b[31m", "") + END)
seed("whiteout-names.tar", entry(".wh.", "") + entry("d/.wh..", "") + END)
seed("root-entries.tar", entry("./", typ=b"5", mode=0o711) + entry(".", typ=b"2", link="/") + END)
seed("unsupported-type.tar", entry("sparse", "abc", typ=b"S") + END)
seed("empty-symlink.tar", entry("s", typ=b"2", link="") + END)
# quoted()'s edge: a name that reaches the end of the quoting buffer on an escape (AUFS note)
seed("aufs-long-name.tar", b"".join([
    entry(".wh..wh.a"), entry(".wh..wh.b"),
    pax([("path", ".wh..wh.x" + "/" * 16370 + "\x01")]), entry("placeholder"),
    END,
]))

# --- numbers and sizes --------------------------------------------------------------------------

seed("base256.tar", header("big", size_field=base256(5, 12), uid_field=base256(3000000, 8), fmt="gnu")
     + pad(b"12345") + entry("next", "n") + END)
seed("base256-huge-global.tar", header("g", typ=b"g", size_field=b"\x80\0\0\0" + b"\xff" * 8) + entry("smuggled", "s") + END)
seed("base256-huge-file.tar", header("f", size_field=b"\x80\0\0\0\x7f" + b"\xff" * 7) + b"x" * 512 + END)
seed("pax-numbers.tar", b"".join([
    pax([("size", "18446744073709551615")]), entry("a", "a"),
    pax([("mtime", "1e300")]), entry("b", "b"),
    pax([("mtime", "-1.5")]), entry("c", "c"),
    pax([("uid", "99999999999")]), entry("d", "d"),
    END,
]))
seed("pax-run.tar", b"".join([pax([(f"SCHILY.xattr.user.x{i}", "v" * 50)]) for i in range(20)]) + entry("f", "f") + END)
seed("pax-dup-xattr.tar", pax([("SCHILY.xattr.user.a", "1"), ("SCHILY.xattr.user.a", "2")]) + entry("f", "f") + END)
seed("gnu-and-pax-names.tar", gnu_long(b"L", "gnu-name") + pax([("path", "pax-name")]) + entry("hdr", "x") + END)
seed("pax-malformed.tar", pax([("path", "x")])[:512] + pad(b"5 a=b\n99 x\n") + entry("f") + END)

# --- broken copies ------------------------------------------------------------------------------

for name in list(SEEDS):
    data = SEEDS[name]
    if len(data) < 1100 or name.endswith((".gz", ".zst")):
        continue
    seed(name + ".cut-header", data[:512 + 100])
    seed(name + ".cut-data", data[:1024 + 5])
    bad = bytearray(data)
    bad[600] ^= 0x55
    seed(name + ".bad-checksum", bytes(bad))
gz = SEEDS["small.tar.gz"]
seed("small.tar.gz.cut", gz[:-10])
flipped = bytearray(gz)
flipped[len(gz) // 2] ^= 0xFF
seed("small.tar.gz.flipped", bytes(flipped))

# The harness applies an input of odd length with --flatten: every seed in both modes (a byte
# after the end of the archive, or after the last gzip member, changes nothing else).
for name in list(SEEDS):
    seed(name + ".other-mode", SEEDS[name] + b"\0")

for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(SEEDS)} seeds in {OUT}")
