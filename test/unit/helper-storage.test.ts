/**
 * `skiff-helper rm PATH...` and `skiff-helper copy SRC DST` (native/helper/storage.c): the
 * storage modes Node uses on trees it cannot touch itself (files owned by sub-IDs, 0555 and
 * 0000 directories). apply-tar, the third mode, has its own file (apply-tar.test.ts).
 *
 * As root (CI) the helper runs without namespace options, with full fidelity (any owner,
 * devices, trusted.* xattrs); otherwise it maps the caller to root in a user namespace, as
 * rootless skiff does, and the owner and device assertions are skipped.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const HELPER = process.env.SKIFF_TEST_HELPER ?? path.resolve(__dirname, '../../native/helper/build/skiff-helper');
const IS_ROOT = process.getuid?.() === 0;
const NS_ARGS = IS_ROOT ? [] : ['--uidmap', `0:${process.getuid?.()}:1`, '--gidmap', `0:${process.getgid?.()}:1`];
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
// A copy of a few MB and a python walk of both trees: slow on a disk busy with other builds.
vi.setConfig({ testTimeout: 60_000 });

/** an unprivileged user for runs without any namespace (as root: nobody) */
const PLAIN = IS_ROOT ? { uid: 65534, gid: 65534 } : {};

beforeAll(() => {
  if (!fs.existsSync(HELPER)) throw new Error(`${HELPER} is missing: build it first with "npm run build" (npm test does)`);
});

interface Run {
  code: number | null;
  stderr: string;
}

function helper(args: string[], opts: SpawnSyncOptions = {}, ns = true): Run {
  const r = spawnSync(HELPER, [...(ns ? NS_ARGS : []), ...args], { encoding: 'utf8', ...opts });
  return { code: r.status, stderr: String(r.stderr) };
}

/** Exit 1 with exactly one line, the helper's. */
function expectOneLineFailure(r: Run, fragment: string): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0].startsWith('skiff-helper: ')).toBe(true);
  expect(lines[0]).toContain(fragment);
}

const tops: string[] = [];
function scratch(): string {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-storage-'));
  fs.chmodSync(top, 0o755); // nobody (PLAIN) must reach the trees below
  tops.push(top);
  return top;
}

afterEach(() => {
  for (const top of tops.splice(0)) {
    if (IS_ROOT) fs.rmSync(top, { recursive: true, force: true });
    else spawnSync(HELPER, [...NS_ARGS, 'rm', top]);
  }
});

// Everything copy promises to keep, per relative path; hard links as the set of names that
// share an inode. Python, because Node has no xattr API.
const TREE_PY = `
import json, os, stat, sys
top = sys.argv[1]
res, inodes = {}, {}
for dirpath, dirs, files in os.walk(top):
    names = ([""] if dirpath == top else []) + sorted(dirs) + sorted(files)
    for n in names:
        p = os.path.join(dirpath, n) if n else dirpath
        st = os.lstat(p)
        rel = os.path.relpath(p, top)
        row = {"mode": st.st_mode, "uid": st.st_uid, "gid": st.st_gid, "mtime_ns": st.st_mtime_ns, "rdev": st.st_rdev}
        if stat.S_ISLNK(st.st_mode):
            row["link"] = os.readlink(p)
        else:
            row["xattrs"] = {k: os.getxattr(p, k, follow_symlinks=False).hex() for k in sorted(os.listxattr(p, follow_symlinks=False))}
        if stat.S_ISREG(st.st_mode):
            row["data"] = open(p, "rb").read().hex()
        if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
            inodes.setdefault(st.st_ino, []).append(rel)
            row["ino"] = st.st_ino
        res[rel] = row
for row in res.values():
    if "ino" in row:
        row["links"] = sorted(inodes[row.pop("ino")])
print(json.dumps(res, sort_keys=True))
`;

function treeState(top: string): Record<string, Record<string, unknown>> {
  const r = spawnSync(PYTHON, ['-c', TREE_PY, top], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function setXattr(p: string, name: string, value: string): void {
  const r = spawnSync(PYTHON, ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)', p, name, value]);
  if (r.status !== 0) throw new Error(`setxattr ${name} on ${p}: ${r.stderr}`);
}

/** A tree with every kind of entry copy must keep; owned by sub-IDs and locked down as root. */
function makeTree(src: string): void {
  fs.mkdirSync(path.join(src, 'a/sub'), { recursive: true });
  fs.writeFileSync(path.join(src, 'a/f'), 'hello');
  fs.chmodSync(path.join(src, 'a/f'), 0o4755);
  setXattr(path.join(src, 'a/f'), 'user.test', 'v1');
  setXattr(path.join(src, 'a'), 'user.dir', 'on a dir');
  if (IS_ROOT) setXattr(path.join(src, 'a'), 'trusted.skiff-test', 'x');
  fs.symlinkSync('f', path.join(src, 'a/l'));
  fs.symlinkSync('/etc/passwd', path.join(src, 'abs'));
  fs.linkSync(path.join(src, 'a/f'), path.join(src, 'a/h'));
  fs.linkSync(path.join(src, 'a/f'), path.join(src, 'a/sub/h2'));
  fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(3 * 1024 * 1024 + 17, 7));
  fs.writeFileSync(path.join(src, 'empty'), '');
  expect(spawnSync('mkfifo', ['-m', '640', path.join(src, 'fifo')]).status).toBe(0);
  if (IS_ROOT) {
    expect(spawnSync('mknod', ['-m', '666', path.join(src, 'null'), 'c', '1', '3']).status).toBe(0);
    expect(spawnSync('mknod', ['-m', '000', path.join(src, 'whiteout'), 'c', '0', '0']).status).toBe(0);
    fs.lchownSync(path.join(src, 'a/l'), 1234, 5678);
    fs.chownSync(path.join(src, 'a/f'), 1234, 5678);
    fs.chmodSync(path.join(src, 'a/f'), 0o4755); // chown cleared setuid
    fs.chownSync(path.join(src, 'a'), 100000, 100001);
  }
  fs.mkdirSync(path.join(src, 'ro'));
  fs.writeFileSync(path.join(src, 'ro/inside'), 'i');
  fs.chmodSync(path.join(src, 'ro/inside'), 0o444);
  fs.chmodSync(path.join(src, 'ro'), 0o555);
  const t = new Date(1_000_000_123);
  for (const rel of ['a/f', 'big', 'ro', 'a', '']) fs.utimesSync(path.join(src, rel), t, t);
  fs.lutimesSync(path.join(src, 'a/l'), t, t);
}

describe('skiff-helper copy', () => {
  it('copies a tree with modes, owners, times, xattrs, hard links, symlinks, fifos and devices', () => {
    const top = scratch();
    const src = path.join(top, 'src');
    fs.mkdirSync(src);
    makeTree(src);
    const dst = path.join(top, 'dst');
    const r = helper(['copy', src, dst]);
    expect(r.code, r.stderr).toBe(0);
    const a = treeState(src);
    const b = treeState(dst);
    // the root's own mtime changes when DST is made in its parent; everything else is kept
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(b[k], k).toEqual(a[k]);
    expect((a['a/f'] as { links: string[] }).links).toEqual(['a/f', 'a/h', 'a/sub/h2']);
  });

  it('refuses an existing DST, and does not copy DST into itself when it lies inside SRC', () => {
    const top = scratch();
    const src = path.join(top, 'src');
    fs.mkdirSync(path.join(src, 'd'), { recursive: true });
    fs.writeFileSync(path.join(src, 'd/f'), 'f');
    fs.mkdirSync(path.join(top, 'taken'));
    expectOneLineFailure(helper(['copy', src, path.join(top, 'taken')]), 'File exists');
    expect(fs.readdirSync(path.join(top, 'taken'))).toEqual([]);

    const r = helper(['copy', src, path.join(src, 'inside')]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(path.join(src, 'inside')).sort()).toEqual(['d']);
    expect(fs.readFileSync(path.join(src, 'inside/d/f'), 'utf8')).toBe('f');
  });

  it('copies a single symlink as a symlink', () => {
    const top = scratch();
    fs.symlinkSync('../somewhere', path.join(top, 'l'));
    const r = helper(['copy', path.join(top, 'l'), path.join(top, 'l2')]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readlinkSync(path.join(top, 'l2'))).toBe('../somewhere');
  });
});

describe('skiff-helper rm', () => {
  it('removes trees with locked-down directories, never following a symlink out; missing paths are fine', () => {
    const top = scratch();
    const outside = path.join(top, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'keep'), 'k');
    const tree = path.join(top, 'tree');
    fs.mkdirSync(path.join(tree, 'locked/inner'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'locked/inner/f'), 'x');
    fs.symlinkSync(outside, path.join(tree, 'link-out'));
    fs.symlinkSync(outside, path.join(tree, 'locked/link-out'));
    fs.chmodSync(path.join(tree, 'locked/inner'), 0o000);
    fs.chmodSync(path.join(tree, 'locked'), 0o555);
    const r = helper(['rm', tree, path.join(top, 'missing'), path.join(top, 'no/such/parent')]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(top).sort()).toEqual(['outside']);
    expect(fs.readdirSync(outside)).toEqual(['keep']);
  });

  it('without any namespace or capability, unlocks 0555 and 0000 directories of its own to empty them', () => {
    const top = scratch();
    const tree = path.join(top, 'plain');
    fs.mkdirSync(path.join(tree, 'a/b/c'), { recursive: true });
    for (const d of ['a/b/c', 'a/b', 'a']) fs.writeFileSync(path.join(tree, d, 'f'), 'x');
    fs.symlinkSync('/etc', path.join(tree, 'a/etc'));
    if (IS_ROOT) spawnSync('chown', ['-R', '-h', '65534:65534', tree]);
    fs.chmodSync(path.join(tree, 'a/b/c'), 0o000);
    fs.chmodSync(path.join(tree, 'a/b'), 0o500);
    fs.chmodSync(path.join(tree, 'a'), 0o555);
    if (IS_ROOT) fs.chownSync(top, 65534, 65534); // nobody may remove `plain` from here
    const r = helper(['rm', tree], PLAIN, false);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(tree)).toBe(false);
    expect(fs.existsSync('/etc/passwd')).toBe(true);
  });

  it('refuses "/", "." and ".." with one line', () => {
    for (const p of ['/', '.', '..']) expectOneLineFailure(helper(['rm', p]), 'refusing to remove this path');
  });

  it.runIf(IS_ROOT)('as root: refuses to remove across a mount point, and leaves the mounted files', () => {
    const top = scratch();
    const m = path.join(top, 't/m');
    fs.mkdirSync(m, { recursive: true });
    const mount = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', m]);
    expect(mount.status, String(mount.stderr)).toBe(0);
    try {
      fs.writeFileSync(path.join(m, 'precious'), 'p');
      expectOneLineFailure(helper(['rm', path.join(top, 't')]), 'is a mount point; refusing to remove across it');
      expect(fs.readFileSync(path.join(m, 'precious'), 'utf8')).toBe('p');
    } finally {
      spawnSync('umount', [m]);
    }
  });
});
