"""Build layer tars for tests of skiff-helper's apply-tar mode (native/helper/untar.c).

Each builder returns one entry (a TarInfo and its data); tar() packs entries into a pax-format
archive, as Docker and the registries write layers. Whiteouts and opaque markers are the
ordinary `.wh.` files of the OCI layer format.
"""
import io
import os
import tarfile


def _info(path, kind, mode, uid, gid, mtime, xattrs=None):
    ti = tarfile.TarInfo(path)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.mtime = mtime
    if xattrs:
        # str values; bytes that are not UTF-8 travel as surrogate escapes (hdrcharset=BINARY)
        ti.pax_headers = {"SCHILY.xattr." + k: (v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v)
                          for k, v in xattrs.items()}
    return ti


def mkdir(path, mode=0o755, uid=0, gid=0, mtime=0, xattrs=None):
    return _info(path or ".", tarfile.DIRTYPE, mode, uid, gid, mtime, xattrs), b""


def file(path, data=b"", mode=0o644, uid=0, gid=0, mtime=0, xattrs=None):
    if isinstance(data, str):
        data = data.encode()
    ti = _info(path, tarfile.REGTYPE, mode, uid, gid, mtime, xattrs)
    ti.size = len(data)
    return ti, data


def symlink(path, target, uid=0, gid=0, mtime=0, xattrs=None):
    ti = _info(path, tarfile.SYMTYPE, 0o777, uid, gid, mtime, xattrs)
    ti.linkname = target
    return ti, b""


def hardlink(path, target):
    ti = _info(path, tarfile.LNKTYPE, 0o644, 0, 0, 0)
    ti.linkname = target
    return ti, b""


def whiteout(path):
    d, b = os.path.split(path)
    return file(os.path.join(d, ".wh." + b))


def opaque(path):
    return file(os.path.join(path, ".wh..wh..opq"))


def device(path, kind, major=0, minor=0, perm=0o644, uid=0, gid=0, mtime=0):
    """kind: 'c', 'b' or 'p' (fifo)."""
    t = {"c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE, "p": tarfile.FIFOTYPE}[kind]
    ti = _info(path, t, perm, uid, gid, mtime)
    ti.devmajor, ti.devminor = major, minor
    return ti, b""


def tar(*entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if ti.isreg() else None)
    return buf.getvalue()
