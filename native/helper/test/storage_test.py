"""Tests for skiff-helper's storage modes (apply-tar, rm, copy).

usage: python3 storage_test.py HELPER ENV
  HELPER  binary whose argv[1] is the mode (the test driver built from test/testmain.c, or the
          real skiff-helper when run inside a namespace already)
  ENV     root   (rootful: any owner, devices, trusted.* xattrs)
          subuid (inside `unshare --map-auto --map-root-user`: owners 0..65535)
          single (inside `unshare -r`: only owner 0)
          plain  (unprivileged, no namespace: rm and copy of the user's own files only)
Run by storage_test.sh in all three environments.
"""
import os
import stat
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mktar as F  # noqa: E402

HELPER, ENV = sys.argv[1], sys.argv[2]
UID, GID = {"root": (1234, 5678), "subuid": (1000, 1001), "single": (0, 0), "plain": (0, 0)}[ENV]
OPQ = "trusted.overlay.opaque" if ENV == "root" else "user.overlay.opaque"
BASE = tempfile.mkdtemp(prefix="skiff-storage-test-")
FAILS = []
N = 0


def check(cond, what):
    global N
    N += 1
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def run(args, stream=None, pipe=True):
    """Run the helper; stream goes to stdin through a pipe, or through a file when pipe=False."""
    if pipe == "socket":  # what Node's child_process gives a child: a UNIX socketpair
        import socket
        import threading
        a, b = socket.socketpair()
        p = subprocess.Popen([HELPER] + args, stdin=b, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        b.close()

        def feed():
            try:
                a.sendall(stream)
            except OSError:
                pass
            a.close()
        t = threading.Thread(target=feed)
        t.start()
        _, e = p.communicate()
        t.join()
        return p.returncode, e.decode()
    if stream is None or pipe:
        p = subprocess.run([HELPER] + args, input=stream, capture_output=True)
    else:
        with tempfile.TemporaryFile() as f:
            f.write(stream)
            f.seek(0)
            p = subprocess.run([HELPER] + args, stdin=f, capture_output=True)
    return p.returncode, p.stderr.decode()


def fresh(name):
    d = os.path.join(BASE, name)
    os.mkdir(d)
    return d


def layer(root, *entries, flatten=False, pipe=True):
    """Apply a layer tar made of ENTRIES (mktar builders) below ROOT."""
    return apply_tar(root, F.tar(*entries), flatten=flatten, pipe=pipe)


def apply_tar(root, blob, flatten=False, pipe=True):
    args = ["apply-tar"] + (["--flatten"] if flatten else []) + ["--opaque-xattr", OPQ, root]
    return run(args, blob, pipe)


def one_line(err):
    """A refusal is one line on stderr, after any notes."""
    lines = [ln for ln in err.splitlines() if not ln.startswith("skiff-helper: note: ")]
    return len(lines) == 1 and lines[0].startswith("skiff-helper: ")


def xattr_or_none(path, name):
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def test_basic(pipe):
    root = fresh("basic-" + {True: "pipe", False: "file", "socket": "socket"}[pipe])
    big = os.urandom(3 * 1024 * 1024 + 17)
    rc, err = layer(
        root,
        F.mkdir("", 0o755, mtime=1000),
        F.mkdir("a", 0o750, UID, GID, mtime=2000, xattrs={"trusted.skiff-test": "x"}),
        F.file("a/f", b"hello", 0o4755, UID, GID, mtime=3000, xattrs={"user.test": "v1"}),
        F.symlink("a/l", "f", UID, GID, mtime=4000, xattrs={"user.test": "on-symlink"}),
        F.hardlink("a/h", "a/f"),
        F.file("big", big, 0o600, mtime=5000),
        F.file("deep/x/y/z", b"z"),
        F.file("empty", b""),
        F.device("fifo", "p", perm=0o640, uid=UID, gid=GID, mtime=6000),
        F.device("null", "c", 1, 3, perm=0o666),
        F.whiteout("a/gone"),
        F.opaque("a"),
        F.mkdir("ro", 0o555, mtime=7000),
        F.file("ro/inside", b"i", 0o444),
        pipe=pipe)
    check(rc == 0, f"basic({pipe}) exit 0 (got {rc}: {err})")
    st = os.lstat(f"{root}/a")
    check(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750, "a is 0750 dir")
    check((st.st_uid, st.st_gid) == (UID, GID), "a owner")
    check(st.st_mtime == 2000, f"a mtime kept after adding entries ({st.st_mtime})")
    check(os.lstat(root).st_mtime == 1000, "root mtime")
    st = os.lstat(f"{root}/a/f")
    check(stat.S_IMODE(st.st_mode) == 0o4755, f"setuid survives chown ({oct(st.st_mode)})")
    check((st.st_uid, st.st_gid, st.st_mtime) == (UID, GID, 3000), "file owner/mtime")
    check(open(f"{root}/a/f", "rb").read() == b"hello", "file data")
    check(xattr_or_none(f"{root}/a/f", "user.test") == b"v1", "user xattr on file")
    if ENV == "root":
        check(xattr_or_none(f"{root}/a", "trusted.skiff-test") == b"x", "trusted xattr on dir")
    check(os.readlink(f"{root}/a/l") == "f", "symlink target")
    st = os.lstat(f"{root}/a/l")
    check((st.st_uid, st.st_gid, st.st_mtime) == (UID, GID, 4000), "symlink owner/mtime")
    check(os.lstat(f"{root}/a/h").st_ino == os.lstat(f"{root}/a/f").st_ino, "hard link same inode")
    check(open(f"{root}/big", "rb").read() == big, "big file data (splice/read paths)")
    check(open(f"{root}/deep/x/y/z", "rb").read() == b"z", "implicit parents")
    check(stat.S_IMODE(os.lstat(f"{root}/deep/x").st_mode) == 0o755, "implicit parent 0755")
    check(os.lstat(f"{root}/empty").st_size == 0, "empty file")
    st = os.lstat(f"{root}/fifo")
    check(stat.S_ISFIFO(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o640, "fifo")
    check((st.st_uid, st.st_mtime) == (UID, 6000), "fifo owner/mtime")
    if ENV == "root":
        check(stat.S_ISCHR(os.lstat(f"{root}/null").st_mode), "device made as root")
    else:
        check(not os.path.lexists(f"{root}/null"), "device skipped rootless")
        check("device nodes cannot be created" in err, "device note on stderr")
    st = os.lstat(f"{root}/a/gone")
    check(stat.S_ISCHR(st.st_mode) and st.st_rdev == 0, "whiteout is char 0:0")
    check(xattr_or_none(f"{root}/a", OPQ) == b"y", "opaque xattr")
    if ENV != "root":
        check("extended attributes not permitted" in err, "xattr note on stderr")
    check(os.lstat(f"{root}/ro").st_mtime == 7000, "0555 dir mtime")
    check(err.count("\n") <= 2, f"at most the two notes on stderr: {err!r}")
    return root


def test_replace():
    root = fresh("replace")
    rc, err = layer(root, F.file("f2d", b"x"), F.mkdir("d2f"), F.file("d2f/child", b"c"),
                    F.symlink("l2f", "/etc/passwd"), F.mkdir("d2l"), F.file("d2l/c", b""),
                    F.file("twice", b"one"))
    check(rc == 0, f"replace setup ({err})")
    rc, err = layer(root, F.mkdir("f2d", 0o711), F.file("d2f", b"now a file"),
                    F.file("l2f", b"not a link"), F.symlink("d2l", "elsewhere"),
                    F.file("twice", b"two"), F.hardlink("self", "twice"), F.hardlink("self", "self"))
    check(rc == 0, f"replace ({err})")
    check(stat.S_IMODE(os.lstat(f"{root}/f2d").st_mode) == 0o711, "file replaced by dir")
    check(open(f"{root}/d2f", "rb").read() == b"now a file", "dir replaced by file")
    check(open(f"{root}/l2f", "rb").read() == b"not a link", "symlink replaced by file")
    check(os.readlink(f"{root}/d2l") == "elsewhere", "dir replaced by symlink")
    check(open(f"{root}/twice", "rb").read() == b"two", "file replaced by file")
    check(os.lstat(f"{root}/self").st_ino == os.lstat(f"{root}/twice").st_ino, "link to itself")


def test_flatten():
    root = fresh("flatten")
    rc, err = layer(root, F.file("a/keep", b"k"), F.file("a/old", b"o"), F.file("a/sub/old", b"o"),
                    F.file("b/file", b"b"), F.file("c", b"c"), flatten=True)
    check(rc == 0, f"flatten layer 1 ({err})")
    rc, err = layer(root, F.file("a/new", b"n"), F.file("a/sub/new", b"n"), F.opaque("a"),
                    F.whiteout("b"), F.whiteout("c"), F.whiteout("missing/x"), F.whiteout("c/x"),
                    F.opaque("nodir"), flatten=True)
    check(rc == 0, f"flatten layer 2 ({err})")
    check(sorted(os.listdir(f"{root}/a")) == ["new", "sub"], f"opaque kept only this layer's: {os.listdir(root + '/a')}")
    check(os.listdir(f"{root}/a/sub") == ["new"], "opaque: implicit parent kept, old child gone")
    check(not os.path.lexists(f"{root}/b") and not os.path.lexists(f"{root}/c"), "whiteouts removed")
    check(xattr_or_none(f"{root}/a", OPQ) is None, "flatten sets no opaque xattr")


def test_hostile():
    out = fresh("outside")
    os.mkdir(f"{out}/dir")
    open(f"{out}/secret", "w").write("secret")
    os.chmod(out, 0o755)
    before = sorted(os.listdir(out))
    mode_before = os.lstat(f"{out}/dir").st_mode
    passwd_links = os.lstat("/etc/passwd").st_nlink
    root = fresh("hostile")
    inroot_out = f"{root}/{out.lstrip('/')}"
    os.makedirs(inroot_out)  # so links aimed at the outside resolve to a real dir in the root
    # Allowed by the tar policy (absolute links resolve in the root at run time), so it is
    # storage.c's path resolution that must keep every write inside the root.
    rc, err = layer(
        root,
        F.symlink("etc", "/"),
        F.file("etc/evil", b"e"),
        F.symlink("abs", out),
        F.file("abs/pwned2", b"p"),
        F.symlink("s", "/etc/passwd"),
        F.hardlink("h2", "s"),
        F.symlink("m", f"{out}/dir"),
        F.mkdir("m", 0o777),
        F.symlink("esc", f"{out}/secret", xattrs={"user.pwned": "1"}),
        F.symlink("o", f"{out}/dir"),
        F.opaque("o"),
        F.symlink("fifo", f"{out}/fifo"),
        F.device("fifo", "p"),
        F.symlink("sec", f"{out}/secret"),
        F.file("sec", b"overwritten?"),
        F.symlink("p", "/proc/self/root"),
        F.symlink("w", out),
        F.symlink("dangling", "/nonexistent-" + os.path.basename(BASE)),
    )
    check(rc == 0, f"hostile layer applies inside ({err})")
    check(not os.path.exists("/evil") and os.path.exists(f"{root}/evil"), "etc -> / stays in root")
    check(os.path.exists(f"{inroot_out}/pwned2"), "absolute link stays in root")
    check(os.path.islink(f"{root}/h2"), "hard link to a symlink links the symlink")
    check(os.path.isdir(f"{root}/m") and not os.path.islink(f"{root}/m"), "mkdir replaces symlink")
    check(os.lstat(f"{out}/dir").st_mode == mode_before, "mkdir did not chmod through symlink")
    check(xattr_or_none(f"{out}/secret", "user.pwned") is None, "xattr not set through symlink")
    check(xattr_or_none(f"{out}/dir", OPQ) is None, "opaque not set through symlink")
    check(open(f"{out}/secret").read() == "secret", "file op did not write through symlink")
    check(sorted(os.listdir(out)) == before, f"outside unchanged: {os.listdir(out)}")
    check(os.listdir(f"{out}/dir") == [], "outside dir unchanged")
    # refused by the policy before anything is written: exit 1, one line
    rel_up = "../" * 12 + out.lstrip("/")
    for name, entries in [
        ("hardlink ../../etc/passwd", [F.hardlink("hl", "../../etc/passwd")]),
        ("file ../../../escape", [F.file("../../../escape", b"p")]),
        ("file dot/../../esc2", [F.file("dot/../../esc2", b"p")]),
        ("relative symlink out", [F.symlink("x", rel_up), F.file("x/pwned", b"p")]),
        ("dangling relative link out", [F.symlink("dl", "../../../nonexistent"), F.file("dl/f", b"e")]),
    ]:
        rc, err = layer(root, *entries)
        check(rc == 1 and one_line(err) and "the image is corrupt or malicious" in err, f"{name}: refused: {rc} {err!r}")
    check(not os.path.lexists(f"{BASE}/escape") and not os.path.lexists(f"{root}/escape"), "no escape file")
    check(not os.path.lexists(f"{root}/x"), "escaping symlink not made")
    # allowed by the policy: each must fail (exit 1, one line) or stay inside; none may touch the outside
    cases = [
        ("hardlink via abs symlink dir", [F.hardlink("hl2", "w/secret")]),
        ("file through /proc magic link", [F.file("p/evil2", b"e")]),
        ("xattr through symlinked dir", [F.mkdir("w/secret", xattrs={"user.pwned": "1"})]),
        ("file below a dangling absolute link", [F.file("dangling/f", b"e")]),
        ("dir below a dangling absolute link", [F.mkdir("dangling/d/e")]),
        ("whiteout below a symlinked dir", [F.whiteout("w/secret")]),
    ]
    for name, entries in cases:
        rc, err = layer(root, *entries)
        check(rc in (0, 1), f"{name}: exit {rc}")
        if rc == 1:
            check(one_line(err), f"{name}: one line: {err!r}")
    check(os.lstat("/etc/passwd").st_nlink == passwd_links, "/etc/passwd link count unchanged")
    check(not os.path.exists("/evil2") and not os.path.exists("/proc/self/root/evil2"), "no /evil2")
    check(xattr_or_none(f"{out}/secret", "user.pwned") is None, "outside xattr unchanged")
    check(open(f"{out}/secret").read() == "secret", "outside file unchanged")
    check(sorted(os.listdir(out)) == before, f"outside still unchanged: {os.listdir(out)}")
    # flatten whiteout through a symlinked parent resolves in the root, not outside
    rc, err = layer(root, F.whiteout("w/secret"), F.whiteout("abs/pwned2"), flatten=True)
    check(rc == 0, f"flatten whiteout via symlink ({err})")
    check(os.path.exists(f"{out}/secret"), "flatten whiteout did not delete outside")
    check(not os.path.exists(f"{root}/{out.lstrip('/')}/pwned2"), "...but removed the in-root one")
    rc, err = layer(root, F.opaque("w"), flatten=True)
    check(rc == 0 and os.path.exists(f"{out}/secret"), "flatten opaque does not follow symlink")


def test_bad_streams():
    root = fresh("bad")
    full = F.tar(F.file("f", b"0123456789"))
    for cut, what in ((30, "mid-header"), (512, "before the data"), (517, "mid-data"), (600, "mid-padding")):
        for pipe in (True, False):
            rc, err = run(["apply-tar", root], full[:cut], pipe)
            check(rc == 1 and one_line(err) and "truncated or corrupt" in err,
                  f"truncated ({what}, pipe={pipe}) exits 1 with one line: {rc} {err!r}")
    for pipe in (True, False):
        rc, out_err = run(["apply-tar", root], b"", pipe)
        check(rc == 0, f"empty stream is an empty layer (pipe={pipe}): {rc} {out_err!r}")
    big = F.tar(F.file("big", os.urandom(200000)))[:100000]
    rc, err = run(["apply-tar", root], big)
    check(rc == 1 and "truncated" in err, f"truncated inside file data: {err!r}")
    rc, err = layer(root, F.file("a/" * 2500 + "x", b""))
    check(rc == 1 and one_line(err), f"path longer than 4096 refused: {err!r}")
    rc, err = layer(root, F.symlink("l", "a" * 70000))
    check(rc == 1 and one_line(err), f"link target longer than 65536 refused: {err!r}")
    rc, err = layer(root, F.mkdir("", 0o711), F.mkdir(".", 0o755))
    check(rc == 0 and stat.S_IMODE(os.lstat(root).st_mode) == 0o755, f"MKDIR of the root itself: {err!r}")
    odd = tarfile_entry_of_type(b"Z")
    rc, err = layer(root, odd)
    check(rc == 1 and one_line(err) and "unsupported tar entry type 'Z'" in err, f"unknown type: {err!r}")
    rc, err = layer(root, F.file(".", b"x"))
    check(rc == 1 and one_line(err) and "is the layer root but not a directory" in err, f"file at root refused: {err!r}")
    rc, err = layer(root, F.hardlink("hx", "missing"))
    check(rc == 1 and one_line(err), f"failing op: one line: {err!r}")
    rc, err = apply_tar(f"{root}/does-not-exist", F.tar())
    check(rc == 1 and one_line(err), f"missing DIR: {err!r}")
    rc, err = apply_tar(root, b"\xfd7zXZ\0" + b"\0" * 100)
    check(rc == 1 and one_line(err) and "xz-compressed layer is not supported" in err, f"xz refused: {err!r}")


def tarfile_entry_of_type(t):
    ti, data = F.file("odd")
    ti.type = t
    return ti, data


def tree_state(top):
    """Everything copy promises to keep, keyed by relative path."""
    res, inodes = {}, {}
    for dirpath, dirs, files in os.walk(top):
        for n in [""] + dirs + files if dirpath == top else dirs + files:
            p = os.path.join(dirpath, n) if n else dirpath
            st = os.lstat(p)
            rel = os.path.relpath(p, top)
            link = os.readlink(p) if stat.S_ISLNK(st.st_mode) else None
            data = open(p, "rb").read() if stat.S_ISREG(st.st_mode) else None
            xa = {}
            if not stat.S_ISLNK(st.st_mode):
                for k in os.listxattr(p, follow_symlinks=False):
                    xa[k] = os.getxattr(p, k, follow_symlinks=False)
            if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
                inodes.setdefault(st.st_ino, []).append(rel)
            res[rel] = [st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_rdev, link, data, xa, st.st_ino]
    for rel, v in res.items():  # compare hard links as "the set of names sharing my inode"
        v[8] = sorted(inodes.get(v[8], [rel]))
    return res


def test_copy(src):
    dst = os.path.join(BASE, "copy-dst")
    rc, err = run(["copy", src, dst])
    check(rc == 0, f"copy exit 0 ({err})")
    a, b = tree_state(src), tree_state(dst)
    check(sorted(a) == sorted(b), f"copy same entries: {set(a) ^ set(b)}")
    for k in a:
        if k in b and a[k] != b[k]:
            check(False, f"copy differs at {k}: {a[k][:5]} vs {b[k][:5]} {a[k][7:]} vs {b[k][7:]}")
    rc, err = run(["copy", src, dst])
    check(rc == 1 and err.count("\n") == 1, f"copy onto existing DST fails: {err!r}")
    rc, err = run(["copy", src, os.path.join(src, "inside")])
    check(rc == 0 and not os.path.exists(f"{src}/inside/inside"), f"copy into itself terminates ({err})")
    run(["rm", os.path.join(src, "inside")])
    one = os.path.join(BASE, "copy-one")
    rc, err = run(["copy", f"{src}/a/l", one])
    check(rc == 0 and os.readlink(one) == "f", "copy a single symlink")
    return dst


def test_rm(tree):
    out = fresh("rm-outside-" + os.path.basename(tree))
    open(f"{out}/keep", "w").write("k")
    os.symlink(out, f"{tree}/link-out")
    os.makedirs(f"{tree}/locked/inner")
    open(f"{tree}/locked/inner/f", "w").write("x")
    os.chmod(f"{tree}/locked/inner", 0o000)
    os.chmod(f"{tree}/locked", 0o555)
    rc, err = run(["rm", tree, os.path.join(BASE, "missing"), os.path.join(BASE, "no/such/parent")])
    check(rc == 0, f"rm exit 0 ({err})")
    check(not os.path.lexists(tree), "rm removed the tree")
    check(os.path.exists(f"{out}/keep"), "rm did not follow symlink out")
    rc, err = run(["rm", "/"])
    check(rc == 1, "rm / refused")
    # a mount point inside the tree is refused, not emptied (root only: needs mount)
    if ENV == "root":
        t = fresh("rm-mnt-" + os.path.basename(tree))
        os.makedirs(f"{t}/m")
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", f"{t}/m"]).returncode == 0:
            open(f"{t}/m/precious", "w").write("p")
            rc, err = run(["rm", t])
            check(rc == 1 and "mount point" in err and os.path.exists(f"{t}/m/precious"),
                  f"rm refuses to cross a mount: {err!r}")
            subprocess.run(["umount", f"{t}/m"])


def test_rm_plain():
    """Without a namespace (no capabilities): rm must chmod 0555/0000 dirs to empty them."""
    t = fresh("plain-tree")
    os.makedirs(f"{t}/a/b/c")
    for d in ("a/b/c", "a/b", "a"):
        open(f"{t}/{d}/f", "w").write("x")
    os.symlink("/etc", f"{t}/a/etc")
    os.chmod(f"{t}/a/b/c", 0o000)
    os.chmod(f"{t}/a/b", 0o500)
    os.chmod(f"{t}/a", 0o555)
    dst = os.path.join(BASE, "plain-copy")
    os.chmod(f"{t}/a/b/c", 0o700)
    rc, err = run(["copy", t, dst])
    check(rc == 0, f"plain copy ({err})")
    os.chmod(f"{t}/a/b/c", 0o000)
    test_rm(t)
    test_rm(dst)


def main():
    if ENV == "plain":
        try:
            test_rm_plain()
        finally:
            subprocess.run([HELPER, "rm", BASE])
        print(f"{ENV}: {N - len(FAILS)}/{N} checks passed")
        sys.exit(1 if FAILS else 0)
    try:
        test_basic(pipe=True)
        test_basic(pipe="socket")
        src = test_basic(pipe=False)
        test_replace()
        test_flatten()
        test_hostile()
        test_bad_streams()
        dst = test_copy(src)
        test_rm(dst)
        test_rm(src)
    finally:
        subprocess.run([HELPER, "rm", BASE])
    print(f"{ENV}: {N - len(FAILS)}/{N} checks passed")
    sys.exit(1 if FAILS else 0)


main()
