"""Build apply-layer op streams (native/PROTOCOL.md) for tests of skiff-helper's storage modes."""
import struct

OPS = {"mkdir": 1, "file": 2, "symlink": 3, "hardlink": 4, "whiteout": 5,
       "opaque": 6, "xattr": 7, "device": 8, "end": 255}


def frame(op, path="", mode=0, uid=0, gid=0, mtime=0, arg=b"", data=b""):
    """One frame: header, path, arg, data (data only for FILE)."""
    if isinstance(path, str):
        path = path.encode()
    if isinstance(arg, str):
        arg = arg.encode()
    if isinstance(data, str):
        data = data.encode()
    hdr = struct.pack("<IIIIqIIQ", OPS[op], mode, uid, gid, mtime, len(path), len(arg), len(data))
    return hdr + path + arg + data


def mkdir(path, mode=0o755, uid=0, gid=0, mtime=0):
    return frame("mkdir", path, mode, uid, gid, mtime)


def file(path, data=b"", mode=0o644, uid=0, gid=0, mtime=0):
    return frame("file", path, mode, uid, gid, mtime, data=data)


def symlink(path, target, uid=0, gid=0, mtime=0):
    return frame("symlink", path, 0o777, uid, gid, mtime, arg=target)


def hardlink(path, target):
    return frame("hardlink", path, arg=target)


def whiteout(path):
    return frame("whiteout", path)


def opaque(path):
    return frame("opaque", path)


def xattr(path, name, value):
    if isinstance(value, str):
        value = value.encode()
    return frame("xattr", path, arg=name.encode() + b"\0" + value)


def device(path, kind, major=0, minor=0, perm=0o644, uid=0, gid=0, mtime=0):
    """kind: 'c', 'b' or 'p' (fifo)."""
    import stat
    t = {"c": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}[kind]
    return frame("device", path, t | perm, uid, gid, mtime, arg=struct.pack("<II", major, minor))


def end():
    return frame("end")
