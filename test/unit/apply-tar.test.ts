/**
 * `skiff-helper apply-tar DIR` (native/helper/untar.c + storage.c): the layer blob (plain tar,
 * gzip or zstd) on stdin is unpacked below DIR with Docker's pkg/archive safety policy, and the
 * helper prints "sha256:<diffID> <size>". These tests run the built helper on in-memory tars and
 * assert on the tree it leaves in DIR, on that line, and on the one-line refusals; and that no
 * layer, however hostile, writes anything outside DIR.
 *
 * As root (CI) the helper runs without namespace options, with full fidelity (owners, devices,
 * trusted.* xattrs, char 0:0 whiteouts). Otherwise it maps the caller to root in a user
 * namespace, as rootless skiff does, and those assertions are skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  END_OF_ARCHIVE,
  packTar,
  pad,
  rawEntry,
  rawGnuLong,
  rawHeader,
  rawPax,
  sha256,
  type PackEntry,
} from './image-tar-fixtures';

// SKIFF_TEST_HELPER: a helper built elsewhere (quick iterations on the C side).
const HELPER = process.env.SKIFF_TEST_HELPER ?? path.resolve(__dirname, '../../native/helper/build/skiff-helper');
const IS_ROOT = process.getuid?.() === 0;
const NS_ARGS = IS_ROOT ? [] : ['--uidmap', `0:${process.getuid?.()}:1`, '--gidmap', `0:${process.getgid?.()}:1`];
/** The opaque xattr rootless skiff asks for; as root the helper's default is trusted.overlay.opaque. */
const OPQ = IS_ROOT ? 'trusted.overlay.opaque' : 'user.overlay.opaque';
const HOSTILE = '; the image is corrupt or malicious, do not use it';
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const T = 1700000000;
const TD = new Date(T * 1000);

// Every run ends in syncfs(2): on a disk busy with other builds that alone can take seconds.
vi.setConfig({ testTimeout: 60_000 });

beforeAll(() => {
  if (!fs.existsSync(HELPER)) {
    throw new Error(`${HELPER} is missing: build it first with "npm run build" (npm test does)`);
  }
});

// ---------------------------------------------------------------------------------------------
// Running the helper

interface RunOptions {
  flatten?: boolean;
  /** the --opaque-xattr NAME to pass; default: OPQ; null: pass none (the helper's default) */
  opaqueXattr?: string | null;
  /** how stdin is delivered: one pipe write (default), a regular file, or small separate writes */
  feed?: 'pipe' | 'file' | { chunk: number };
  /** --blob-out FILE */
  blobOut?: string;
  /** SKIFF_GZIP: the gzip backend to insist on (default: the helper's choice, ISA-L if it loads) */
  gzip?: GzipBackend;
}

type GzipBackend = 'isa-l' | 'zlib';
const GZIP_BACKENDS: GzipBackend[] = ['isa-l', 'zlib'];

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr lines without the final newline */
  lines: string[];
  /** the last stderr line: the refusal, when the layer is refused */
  last: string;
}

function helperArgs(dir: string, o: RunOptions): string[] {
  const opq = o.opaqueXattr === undefined ? OPQ : o.opaqueXattr;
  return [
    ...NS_ARGS,
    'apply-tar',
    ...(o.flatten ? ['--flatten'] : []),
    ...(opq === null ? [] : ['--opaque-xattr', opq]),
    ...(o.blobOut ? ['--blob-out', o.blobOut] : []),
    dir,
  ];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Resolves on 'drain', or when the pipe is gone (the helper refused the layer and exited). */
function drained(w: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      w.off('error', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
    w.on('error', done);
  });
}

/** Write DATA in pieces of CHUNK bytes, each its own write(2), so the helper sees short reads. */
async function feedInPieces(w: Writable, data: Buffer, chunk: number): Promise<void> {
  await sleep(30); // let the helper reach its first read(2) before the first piece
  for (let n = 0, i = 0; i < data.length && !w.destroyed; n++, i += chunk) {
    const ok = w.write(data.subarray(i, i + chunk));
    // The first pieces (the magic bytes the helper sniffs) get a real pause so that they
    // arrive alone, the next few hundred a short one; after that a turn of the event loop.
    if (i < 16) await sleep(3);
    else if (n < 600) await sleep(0);
    else if (!ok) await drained(w);
    else await turn();
  }
  if (!w.destroyed) w.end();
}

async function applyTar(dir: string, input: Buffer, o: RunOptions = {}): Promise<RunResult> {
  const feed = o.feed ?? 'pipe';
  let stdinFd: number | undefined;
  let stdinFile: string | undefined;
  if (feed === 'file') {
    stdinFile = path.join(os.tmpdir(), `skiff-apply-tar-stdin-${process.pid}-${randomBytes(4).toString('hex')}`);
    fs.writeFileSync(stdinFile, input);
    stdinFd = fs.openSync(stdinFile, 'r');
  }
  try {
    const child = spawn(HELPER, helperArgs(dir, o), {
      stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'],
      env: o.gzip ? { ...process.env, SKIFF_GZIP: o.gzip } : process.env,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const closed = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    if (child.stdin) {
      child.stdin.on('error', () => {
        /* EPIPE: the helper refused the layer before reading all of it */
      });
      if (typeof feed === 'object') await feedInPieces(child.stdin, input, feed.chunk);
      else child.stdin.end(input);
    }
    const code = await closed;
    const stderr = Buffer.concat(err).toString();
    const lines = stderr.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return { code, stdout: Buffer.concat(out).toString(), stderr, lines, last: lines[lines.length - 1] ?? '' };
  } finally {
    if (stdinFd !== undefined) fs.closeSync(stdinFd);
    if (stdinFile) fs.rmSync(stdinFile, { force: true });
  }
}

/** The success line: the digest of every uncompressed byte, and the regular files' data size. */
function okLine(uncompressed: Buffer, size: number): string {
  return `${sha256(uncompressed)} ${size}\n`;
}

function expectApplied(res: RunResult, uncompressed: Buffer, size: number): void {
  expect(res.stderr.split('\n').filter((l) => l && !l.startsWith('skiff-helper: note: ')), res.stderr).toEqual([]);
  expect(res.code, res.stderr).toBe(0);
  expect(res.stdout).toBe(okLine(uncompressed, size));
}

/** Exit 1, nothing on stdout, and the last stderr line is exactly `skiff-helper: MESSAGE`. */
function expectRefused(res: RunResult, message: string): void {
  expect(res.code, res.stderr).toBe(1);
  expect(res.stdout).toBe('');
  expect(res.last).toBe(`skiff-helper: ${message}`);
}

/** The same, for messages whose detail is the helper's to word. */
function expectRefusedWith(res: RunResult, fragment: string): void {
  expect(res.code, res.stderr).toBe(1);
  expect(res.stdout).toBe('');
  expect(res.last.startsWith('skiff-helper: '), res.stderr).toBe(true);
  expect(res.last).toContain(fragment);
}

function zstd(data: Buffer, args: string[] = []): Buffer {
  const r = spawnSync('zstd', ['-q', '-c', ...args], { input: data, maxBuffer: 256 << 20 });
  if (r.error || r.status !== 0) {
    throw new Error(`zstd(1) failed (${r.error?.message ?? r.stderr.toString()}); install the zstd package`);
  }
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// The sandbox: DIR inside a temp dir that also holds a "host" tree the layers must never touch

interface Sandbox {
  /** the temp dir: DIR's parent */
  top: string;
  /** DIR, the layer root */
  dir: string;
  /** a host tree next to DIR (host/secret, host/sub/) for layers to aim at */
  host: string;
  /** absolute path below DIR */
  p(rel: string): string;
  /** everything below `top` except DIR: types, modes, owners, mtimes, contents, link targets */
  outside(): string;
}

const sandboxes: string[] = [];

function sandbox(): Sandbox {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-apply-tar-'));
  sandboxes.push(top);
  const dir = path.join(top, 'layer');
  const host = path.join(top, 'host');
  fs.mkdirSync(dir);
  fs.mkdirSync(path.join(host, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(host, 'secret'), 'secret');
  fs.chmodSync(path.join(host, 'sub'), 0o750);
  const outside = (): string => {
    const rows: [string, string][] = [];
    const walk = (abs: string, rel: string) => {
      const st = fs.lstatSync(abs);
      let what = '';
      if (st.isSymbolicLink()) what = `-> ${fs.readlinkSync(abs)}`;
      else if (st.isFile()) what = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
      rows.push([abs, `${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.nlink} ${st.mtimeMs} ${what}`]);
      if (st.isDirectory()) {
        for (const n of fs.readdirSync(abs).sort()) {
          if (abs === top && n === 'layer') continue;
          walk(path.join(abs, n), rel === '.' ? n : `${rel}/${n}`);
        }
      }
    };
    walk(top, '.');
    const xa = xattrsOfMany(rows.map(([abs]) => abs));
    return rows
      .map(([abs, row]) => `${row} ${[...xa.get(abs)!].map(([k, v]) => `${k}=${v.toString('hex')}`).join(',')}`)
      .join('\n');
  };
  return { top, dir, host, p: (rel) => path.join(dir, rel), outside };
}

afterEach(() => {
  for (const top of sandboxes.splice(0)) {
    if (IS_ROOT) {
      fs.rmSync(top, { recursive: true, force: true });
    } else {
      // files the helper made inside the user namespace may sit in 0555 dirs: its own rm copes
      spawnSync(HELPER, [...NS_ARGS, 'rm', top]);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Looking at the tree

const lst = (p: string) => fs.lstatSync(p);
const perm = (p: string) => lst(p).mode & 0o7777;
const mtime = (p: string) => lst(p).mtimeMs / 1000;
const read = (p: string) => fs.readFileSync(p);
const exists = (p: string) => {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

function isWhiteout(p: string): boolean {
  const st = lst(p);
  return st.isCharacterDevice() && st.rdev === 0;
}

// Node has no xattr API: python3's os.getxattr, never following a symlink.
const XATTR_PY = `
import json, os, sys
out = {}
for p in sys.argv[1:]:
    d = {}
    try:
        for n in os.listxattr(p, follow_symlinks=False):
            d[n] = os.getxattr(p, n, follow_symlinks=False).hex()
    except OSError:
        pass
    out[p] = d
print(json.dumps(out))
`;

// the system's python3 (a pyenv shim in PATH costs half a second per call)
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** The extended attributes of each path (never following a symlink), values as bytes. */
function xattrsOfMany(paths: string[]): Map<string, Map<string, Buffer>> {
  const r = spawnSync(PYTHON, ['-c', XATTR_PY, ...paths], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 for xattrs failed: ${r.error?.message ?? r.stderr}`);
  const all = JSON.parse(r.stdout) as Record<string, Record<string, string>>;
  return new Map(
    paths.map((p) => [p, new Map(Object.entries(all[p]).map(([k, v]) => [k, Buffer.from(v, 'hex')]))]),
  );
}

function xattrs(p: string): Map<string, Buffer> {
  return xattrsOfMany([p]).get(p)!;
}

// ---------------------------------------------------------------------------------------------

describe('apply-tar: entry types and metadata', () => {
  it('applies every entry type with its mode, owner and mtime, and prints the diffID and size', async () => {
    const tar = await packTar([
      { name: './', type: 'directory', mode: 0o711, mtime: TD },
      { name: './etc/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: TD },
      { name: './etc/hosts', mode: 0o640, uid: 1, gid: 2, mtime: TD, data: 'hello\n' },
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', mode: 0o777, uid: 3, gid: 4, mtime: TD },
      { name: 'usr/bin/env', type: 'symlink', linkname: '../../bin/busybox', mode: 0o777, mtime: TD },
      { name: 'etc/hosts2', type: 'link', linkname: './etc//hosts', mtime: TD },
      { name: 'run/fifo', type: 'fifo', mode: 0o600, uid: 5, gid: 6, mtime: TD },
      { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3, mtime: TD },
      { name: 'dev/sda', type: 'block-device', mode: 0o660, devmajor: 8, devminor: 0, mtime: TD },
      { name: 'bin/suid', mode: 0o4755, uid: 0, gid: 0, mtime: TD, data: Buffer.alloc(3000, 7) },
      { name: 'bin/sgid', mode: 0o2711, uid: 7, gid: 8, mtime: TD, data: 'g' },
      { name: 'empty', mode: 0o600, mtime: TD, data: '' },
    ]);
    const s = sandbox();
    const res = await applyTar(s.dir, tar);
    expectApplied(res, tar, 6 + 3000 + 1);

    expect(lst(s.dir).isDirectory()).toBe(true);
    expect(perm(s.dir)).toBe(0o711);
    expect(mtime(s.dir)).toBe(T);
    expect(perm(s.p('etc'))).toBe(0o755);
    expect(mtime(s.p('etc'))).toBe(T);

    expect(read(s.p('etc/hosts')).toString()).toBe('hello\n');
    expect(lst(s.p('etc/hosts')).isFile()).toBe(true);
    expect(perm(s.p('etc/hosts'))).toBe(0o640);
    expect(mtime(s.p('etc/hosts'))).toBe(T);

    expect(fs.readlinkSync(s.p('bin/sh'))).toBe('/bin/busybox');
    expect(mtime(s.p('bin/sh'))).toBe(T);
    expect(fs.readlinkSync(s.p('usr/bin/env'))).toBe('../../bin/busybox');

    expect(lst(s.p('etc/hosts2')).ino).toBe(lst(s.p('etc/hosts')).ino);
    expect(lst(s.p('etc/hosts')).nlink).toBe(2);

    expect(lst(s.p('run/fifo')).isFIFO()).toBe(true);
    expect(perm(s.p('run/fifo'))).toBe(0o600);
    expect(mtime(s.p('run/fifo'))).toBe(T);

    expect(read(s.p('bin/suid')).equals(Buffer.alloc(3000, 7))).toBe(true);
    // the set-ID bits survive the chown that follows the chmod
    expect(perm(s.p('bin/suid'))).toBe(0o4755);
    expect(perm(s.p('bin/sgid'))).toBe(0o2711);
    expect(lst(s.p('empty')).size).toBe(0);
    expect(perm(s.p('empty'))).toBe(0o600);

    // parents the layer does not list are made 0755
    for (const d of ['bin', 'usr', 'usr/bin', 'run', 'dev']) {
      expect(lst(s.p(d)).isDirectory(), d).toBe(true);
      expect(perm(s.p(d)), d).toBe(0o755);
    }

    if (IS_ROOT) {
      expect(res.stderr).toBe('');
      const owner = (rel: string) => {
        const st = lst(s.p(rel));
        return [st.uid, st.gid];
      };
      expect(owner('etc/hosts')).toEqual([1, 2]);
      expect(owner('bin/sh')).toEqual([3, 4]);
      expect(owner('run/fifo')).toEqual([5, 6]);
      expect(owner('bin/sgid')).toEqual([7, 8]);
      expect(owner('bin/suid')).toEqual([0, 0]);
      const nul = lst(s.p('dev/null'));
      expect(nul.isCharacterDevice()).toBe(true);
      expect(nul.rdev).toBe(0x103); // makedev(1, 3)
      expect(nul.mode & 0o7777).toBe(0o666);
      const sda = lst(s.p('dev/sda'));
      expect(sda.isBlockDevice()).toBe(true);
      expect(sda.rdev).toBe(0x800); // makedev(8, 0)
      expect(sda.mode & 0o7777).toBe(0o660);
    }
  });

  it('sets directory mtimes last, after their contents were written', async () => {
    const tar = await packTar([
      { name: 'a/', type: 'directory', mode: 0o755, mtime: new Date(1000_000) },
      { name: 'a/sub/', type: 'directory', mode: 0o700, mtime: new Date(2000_000) },
      { name: 'a/f', mtime: TD, data: 'f' },
      { name: 'a/sub/g', mtime: TD, data: 'g' },
      { name: 'a/sub/deeper/h', mtime: TD, data: 'h' },
      { name: 'ro/', type: 'directory', mode: 0o555, mtime: new Date(3000_000) },
      { name: 'ro/inside', mode: 0o444, mtime: TD, data: 'i' },
      { name: 'deep/x/y/z', mtime: TD, data: 'z' },
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 5);
    expect(mtime(s.p('a'))).toBe(1000);
    expect(mtime(s.p('a/sub'))).toBe(2000);
    expect(perm(s.p('a/sub'))).toBe(0o700);
    expect(mtime(s.p('ro'))).toBe(3000);
    expect(perm(s.p('ro'))).toBe(0o555);
    expect(read(s.p('ro/inside')).toString()).toBe('i');
    expect(read(s.p('deep/x/y/z')).toString()).toBe('z');
    expect(perm(s.p('deep/x'))).toBe(0o755);
  });

  it('keeps non-ASCII names', async () => {
    const tar = await packTar([{ name: 'usr/share/ünïcødé ✓.txt', mtime: TD, data: 'u' }]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 1);
    expect(fs.readdirSync(s.p('usr/share'))).toEqual(['ünïcødé ✓.txt']);
    expect(read(s.p('usr/share/ünïcødé ✓.txt')).toString()).toBe('u');
  });

  it('long names and link targets from pax headers', async () => {
    const long = 'd'.repeat(120) + '/' + 'f'.repeat(150);
    const target = 'x/'.repeat(60) + 'target';
    const tar = await packTar([
      { name: long, mtime: TD, data: 'L' },
      { name: 'ln', type: 'symlink', linkname: target, mtime: TD },
      { name: 'hl', type: 'link', linkname: long, mtime: TD },
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 1);
    expect(read(s.p(long)).toString()).toBe('L');
    expect(fs.readlinkSync(s.p('ln'))).toBe(target);
    expect(lst(s.p('hl')).ino).toBe(lst(s.p(long)).ino);
    // the placeholder names of the pax entries are not entries
    expect(fs.readdirSync(s.dir).sort()).toEqual(['d'.repeat(120), 'hl', 'ln']);
  });

  it('long names and link targets from GNU long-name entries (L, K)', async () => {
    const longFile = 'g'.repeat(130) + '/' + 'n'.repeat(200);
    const longLink = 'l'.repeat(110) + '/link';
    const longTarget = '../'.repeat(1) + 't/'.repeat(70) + 'end';
    const tar = Buffer.concat([
      rawGnuLong('L', longFile),
      rawEntry({ name: longFile.slice(0, 100), format: 'gnu', mode: 0o600, mtime: T }, 'G'),
      rawGnuLong('K', longTarget),
      rawGnuLong('L', longLink),
      rawEntry({ name: longLink.slice(0, 100), type: '2', linkname: longTarget.slice(0, 100), format: 'gnu', mtime: T }),
      rawGnuLong('K', longFile),
      rawEntry({ name: 'hard', type: '1', linkname: longFile.slice(0, 100), format: 'gnu', mtime: T }),
      rawEntry({ name: 'plain', format: 'gnu', mtime: T }, 'after the long names'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 1 + 20);
    expect(read(s.p(longFile)).toString()).toBe('G');
    expect(perm(s.p(longFile))).toBe(0o600);
    expect(fs.readlinkSync(s.p(longLink))).toBe(longTarget);
    expect(lst(s.p('hard')).ino).toBe(lst(s.p(longFile)).ino);
    // a long name applies to the next entry only
    expect(read(s.p('plain')).toString()).toBe('after the long names');
    expect(fs.readdirSync(s.dir).sort()).toEqual(['g'.repeat(130), 'hard', 'l'.repeat(110), 'plain']);
  });

  it('joins the ustar prefix and name', async () => {
    const tar = Buffer.concat([
      rawEntry({ name: 'file.txt', prefix: 'usr/share/doc/pkg', mtime: T }, 'P'),
      rawEntry({ name: 'dir/', type: '5', prefix: 'opt/' + 'p'.repeat(140), mtime: T }),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 1);
    expect(read(s.p('usr/share/doc/pkg/file.txt')).toString()).toBe('P');
    expect(lst(s.p('opt/' + 'p'.repeat(140) + '/dir')).isDirectory()).toBe(true);
  });

  it('pax path, linkpath, size, uid, gid and mtime override the header, for one entry only', async () => {
    const target = 'pax/' + 'target/'.repeat(20) + 'end';
    const tar = Buffer.concat([
      rawPax([
        ['path', 'pax/named/by/pax'],
        ['size', '11'],
        ['uid', '3000000'],
        ['gid', '4000000'],
        ['mtime', '1700000123.987654'],
      ]),
      // the header's own name and size are what a pax-unaware reader would see
      rawHeader({ name: 'PaxHeader/ignored', size: 0, mode: 0o640, uid: 1, gid: 1, mtime: 5 }),
      pad(Buffer.from('hello world')),
      rawPax([['linkpath', target]]),
      rawEntry({ name: 'pax/ln', type: '2', linkname: 'short', mtime: 6 }),
      rawEntry({ name: 'after', mode: 0o600, uid: 7, gid: 9, mtime: 9 }, ''),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 11);
    const f = s.p('pax/named/by/pax');
    expect(read(f).toString()).toBe('hello world');
    expect(perm(f)).toBe(0o640);
    expect(mtime(f)).toBe(1700000123);
    expect(exists(s.p('PaxHeader'))).toBe(false);
    expect(fs.readlinkSync(s.p('pax/ln'))).toBe(target);
    expect(mtime(s.p('pax/ln'))).toBe(6);
    expect(mtime(s.p('after'))).toBe(9);
    if (IS_ROOT) {
      expect([lst(f).uid, lst(f).gid]).toEqual([3000000, 4000000]);
      expect([lst(s.p('after')).uid, lst(s.p('after')).gid]).toEqual([7, 9]);
    }
  });

  it('ignores pax global headers', async () => {
    const tar = Buffer.concat([
      rawPax([['comment', 'made by a test'], ['path', 'global-path'], ['uid', '4242']], 'g'),
      rawEntry({ name: 'real', uid: 1, mtime: T }, 'r'),
      rawEntry({ name: 'real2', uid: 2, mtime: T }, 'r'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 2);
    expect(fs.readdirSync(s.dir).sort()).toEqual(['real', 'real2']);
    if (IS_ROOT) expect([lst(s.p('real')).uid, lst(s.p('real2')).uid]).toEqual([1, 2]);
  });

  it('V7 entries: a regular entry whose name ends in "/" is a directory', async () => {
    const tar = Buffer.concat([
      rawEntry({ name: 'olddir/', type: '\0', format: 'v7', mode: 0o750, mtime: 1234 }),
      rawEntry({ name: 'olddir/oldfile', type: '\0', format: 'v7', mode: 0o640, mtime: T }, 'v7 data'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 7);
    expect(lst(s.p('olddir')).isDirectory()).toBe(true);
    expect(perm(s.p('olddir'))).toBe(0o750);
    expect(mtime(s.p('olddir'))).toBe(1234);
    expect(read(s.p('olddir/oldfile')).toString()).toBe('v7 data');
  });

  it('header-only entry types carry no data, whatever their size field says', async () => {
    const tar = Buffer.concat([
      rawHeader({ name: 'd/', type: '5', mode: 0o755, size: 1000, mtime: T }),
      rawHeader({ name: 'd/l', type: '2', linkname: 'x', size: 600, mtime: T }),
      rawHeader({ name: 'd/fifo', type: '6', size: 513, mtime: T }),
      rawEntry({ name: 'd/x', mtime: T }, 'data'),
      rawHeader({ name: 'd/h', type: '1', linkname: 'd/x', size: 4, mtime: T }),
      rawEntry({ name: 'd/y', mtime: T }, 'more'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 8);
    expect(fs.readlinkSync(s.p('d/l'))).toBe('x');
    expect(lst(s.p('d/fifo')).isFIFO()).toBe(true);
    expect(lst(s.p('d/h')).ino).toBe(lst(s.p('d/x')).ino);
    expect(read(s.p('d/y')).toString()).toBe('more');
  });

  it('reads GNU base-256 numbers (size, uid) as well as octal', async () => {
    const base256 = (n: number, len: number) => {
      const f = Buffer.alloc(len);
      for (let i = len - 1, v = n; i > 0; i--, v = Math.floor(v / 256)) f[i] = v % 256;
      f[0] = 0x80;
      return f;
    };
    const h = rawHeader({ name: 'big-ids', format: 'gnu', mtime: T });
    base256(5, 12).copy(h, 124);
    base256(3000000, 8).copy(h, 108);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const x of h) sum += x;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    const tar = Buffer.concat([h, pad(Buffer.from('12345')), rawEntry({ name: 'next', mtime: T }, 'n'), END_OF_ARCHIVE]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 6);
    expect(read(s.p('big-ids')).toString()).toBe('12345');
    expect(read(s.p('next')).toString()).toBe('n');
    if (IS_ROOT) expect(lst(s.p('big-ids')).uid).toBe(3000000);
  });

  it('applies xattrs from SCHILY.xattr records byte for byte, on files and directories', async () => {
    const binary = Buffer.from([0x00, 0x0a, 0xff, 0x80, 0x3d, 0x20, 0x00, 0x01]);
    const tar = Buffer.concat([
      rawPax([
        ['SCHILY.xattr.user.comment', 'hi there'],
        ['SCHILY.xattr.user.binary', binary],
        ['SCHILY.xattr.user.empty', ''],
      ]),
      rawEntry({ name: 'bin/ping', mode: 0o755, mtime: T }, 'P'),
      rawPax([['SCHILY.xattr.user.dir', 'on a dir']]),
      rawEntry({ name: 'etc/', type: '5', mode: 0o755, mtime: T }),
      rawEntry({ name: 'next', mtime: T }, ''),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 1);
    const x = xattrs(s.p('bin/ping'));
    expect(x.get('user.comment')?.toString()).toBe('hi there');
    expect(x.get('user.binary')).toEqual(binary);
    expect(x.get('user.empty')).toEqual(Buffer.alloc(0));
    expect(xattrs(s.p('etc')).get('user.dir')?.toString()).toBe('on a dir');
    // pax records belong to one entry
    expect([...xattrs(s.p('next')).keys()].filter((k) => k.startsWith('user.'))).toEqual([]);
  });

  // Root-owned files are created with their final mode and no fchown (storage.c,
  // owner_is_implied); these are the cases where what the kernel gives a new file differs.
  it.runIf(IS_ROOT)('as root: a root-owned entry in a setgid directory still gets group 0', async () => {
    const tar = await packTar([
      { name: 'shared/', type: 'directory', mode: 0o2775, uid: 0, gid: 5, mtime: TD },
      { name: 'shared/f', mode: 0o640, uid: 0, gid: 0, mtime: TD, data: 'f' },
      { name: 'shared/l', type: 'symlink', linkname: 'f', uid: 0, gid: 0, mtime: TD },
      { name: 'shared/g5', mode: 0o600, uid: 0, gid: 5, mtime: TD, data: 'g' },
      { name: 'plain/f', mode: 0o640, uid: 0, gid: 0, mtime: TD, data: 'p' },
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 3);
    const owner = (rel: string) => [lst(s.p(rel)).uid, lst(s.p(rel)).gid];
    expect(perm(s.p('shared'))).toBe(0o2775);
    expect(owner('shared')).toEqual([0, 5]);
    expect(owner('shared/f')).toEqual([0, 0]);
    expect(perm(s.p('shared/f'))).toBe(0o640);
    expect(owner('shared/l')).toEqual([0, 0]);
    expect(owner('shared/g5')).toEqual([0, 5]);
    expect(owner('plain/f')).toEqual([0, 0]);
    expect(perm(s.p('plain/f'))).toBe(0o640);
  });

  it('a default ACL (on DIR, or set by the layer) does not mask the modes the tar gives', async () => {
    // system.posix_acl_default, version 2: user::rwx group::--- other::---. A file created
    // below it gets (create mode & 0700) unless the mode is set explicitly afterwards.
    const acl = Buffer.alloc(4 + 3 * 8);
    acl.writeUInt32LE(2, 0);
    [
      [0x01, 7],
      [0x04, 0],
      [0x20, 0],
    ].forEach(([tag, permBits], i) => {
      acl.writeUInt16LE(tag, 4 + i * 8);
      acl.writeUInt16LE(permBits, 6 + i * 8);
      acl.writeUInt32LE(0xffffffff, 8 + i * 8);
    });
    const tar = Buffer.concat([
      rawPax([['SCHILY.xattr.system.posix_acl_default', acl]]),
      rawEntry({ name: 'acl/', type: '5', mode: 0o755, mtime: T }),
      rawEntry({ name: 'acl/f', mode: 0o644, mtime: T }, 'f'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 1);
    // Rootless, the helper may not be allowed to set it (then there is nothing to mask).
    const layerSetIt = xattrs(s.p('acl')).has('system.posix_acl_default');
    if (IS_ROOT) expect(layerSetIt).toBe(true);
    if (layerSetIt) expect(perm(s.p('acl/f'))).toBe(0o644);
    // the same ACL on DIR itself, before the helper starts
    const s2 = sandbox();
    const set = spawnSync(PYTHON, ['-c', 'import os,sys; os.setxattr(sys.argv[1], "system.posix_acl_default", bytes.fromhex(sys.argv[2]))', s2.dir, acl.toString('hex')]);
    expect(set.status, set.stderr?.toString()).toBe(0);
    const tar2 = Buffer.concat([rawEntry({ name: 'g', mode: 0o644, mtime: T }, 'g'), END_OF_ARCHIVE]);
    expectApplied(await applyTar(s2.dir, tar2), tar2, 1);
    expect(perm(s2.p('g'))).toBe(0o644);
  });

  it.runIf(IS_ROOT)('as root: trusted.* and security.capability xattrs (binary) are applied', async () => {
    // a valid VFS_CAP_REVISION_2 value (the kernel checks the size and header); its bytes
    // include NUL, '\n', 0x80 and 0xff
    const cap = Buffer.from([1, 0, 0, 2, 0x00, 0x20, 0x00, 0x0a, 0xff, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    const tar = Buffer.concat([
      rawPax([
        ['SCHILY.xattr.security.capability', cap],
        ['SCHILY.xattr.trusted.x', ''],
        ['SCHILY.xattr.trusted.overlay.redirect', '/elsewhere'],
      ]),
      rawEntry({ name: 'bin/ping', mode: 0o755, mtime: T }, 'PING'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 4);
    const x = xattrs(s.p('bin/ping'));
    expect(x.get('security.capability')).toEqual(cap);
    expect(x.get('trusted.x')).toEqual(Buffer.alloc(0));
    expect(x.get('trusted.overlay.redirect')?.toString()).toBe('/elsewhere');
  });

  it('decodes LIBARCHIVE.xattr records (url-encoded name, base64 value)', async () => {
    const tar = Buffer.concat([
      rawPax([
        ['LIBARCHIVE.xattr.user.a%3Db', Buffer.from([0, 1, 2]).toString('base64')],
        ['LIBARCHIVE.xattr.user.plain', Buffer.from('text value').toString('base64')],
      ]),
      rawEntry({ name: 'f', mtime: 1 }, ''),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 0);
    const x = xattrs(s.p('f'));
    expect(x.get('user.a=b')).toEqual(Buffer.from([0, 1, 2]));
    expect(x.get('user.plain')?.toString()).toBe('text value');
  });

  it('empty input is an empty layer; so is an archive that is only its end blocks', async () => {
    const s = sandbox();
    const res = await applyTar(s.dir, Buffer.alloc(0));
    expectApplied(res, Buffer.alloc(0), 0);
    expect(res.stdout).toBe(`${EMPTY_SHA256} 0\n`);
    expect(fs.readdirSync(s.dir)).toEqual([]);
    expectApplied(await applyTar(s.dir, END_OF_ARCHIVE), END_OF_ARCHIVE, 0);
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });

  it('the diffID covers record padding and any bytes after the end-of-archive blocks', async () => {
    const tar = await packTar([{ name: 'a', mtime: TD, data: 'x' }]);
    const padded = Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, padded), padded, 1);
    expect(read(s.p('a')).toString()).toBe('x');

    // junk that would be a header if anyone parsed past the end: hashed, never applied
    const junk = rawEntry({ name: 'after-the-end', mtime: T }, 'nope');
    const trailing = Buffer.concat([tar, junk, Buffer.from('and some text')]);
    const s2 = sandbox();
    expectApplied(await applyTar(s2.dir, trailing), trailing, 1);
    expect(fs.readdirSync(s2.dir)).toEqual(['a']);

    // more than any read buffer holds, plain and gzipped
    const long = Buffer.concat([tar, randomBytes(3 * 1024 * 1024 + 3)]);
    for (const input of [long, gzipSync(long, { level: 1 })]) {
      const s3 = sandbox();
      expectApplied(await applyTar(s3.dir, input), long, 1);
      expect(fs.readdirSync(s3.dir)).toEqual(['a']);
    }
  });

  it('large random files arrive intact through a pipe and from a file', async () => {
    const big = randomBytes(5 * 1024 * 1024 + 17);
    const odd = randomBytes(1024 * 1024 - 1);
    const tar = await packTar([
      { name: 'big', mtime: TD, data: big },
      { name: 'odd', mtime: TD, data: odd },
      { name: 'small', mtime: TD, data: 'after the big ones' },
    ]);
    for (const feed of ['pipe', 'file'] as const) {
      const s = sandbox();
      expectApplied(await applyTar(s.dir, tar, { feed }), tar, big.length + odd.length + 18);
      expect(read(s.p('big')).equals(big), feed).toBe(true);
      expect(read(s.p('odd')).equals(odd), feed).toBe(true);
      expect(read(s.p('small')).toString()).toBe('after the big ones');
    }
  });

  it('stdin in 1-byte and 7-byte writes', async () => {
    const tar = await packTar([
      { name: 'd/', type: 'directory', mode: 0o750, mtime: TD },
      { name: 'd/f', mode: 0o640, mtime: TD, data: 'piecemeal' },
      { name: 'd/l', type: 'symlink', linkname: 'f', mtime: TD },
    ]);
    for (const chunk of [1, 7]) {
      const s = sandbox();
      expectApplied(await applyTar(s.dir, tar, { feed: { chunk } }), tar, 9);
      expect(read(s.p('d/f')).toString()).toBe('piecemeal');
      expect(fs.readlinkSync(s.p('d/l'))).toBe('f');
      expect(perm(s.p('d'))).toBe(0o750);
    }
  });

  it('a missing DIR is an error, and is not created', async () => {
    const s = sandbox();
    const res = await applyTar(s.p('no-such-dir'), await packTar([{ name: 'a', mtime: TD, data: 'x' }]));
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.lines).toHaveLength(1);
    expect(res.last.startsWith('skiff-helper: ')).toBe(true);
    expect(exists(s.p('no-such-dir'))).toBe(false);
  });
});

describe('apply-tar --blob-out', () => {
  it('copies the raw input, byte for byte, to a new file while unpacking it', async () => {
    const tar = await packTar([{ name: 'a', mtime: TD, data: 'abc' }]);
    const gz = Buffer.concat([gzipSync(tar), Buffer.from('trailing bytes, kept in the blob')]);
    const s = sandbox();
    const out = path.join(s.top, 'blob');
    const res = await applyTar(s.dir, gz, { blobOut: out, feed: { chunk: 7 } });
    expectApplied(res, tar, 3);
    expect(read(out).equals(gz)).toBe(true);
    expect(lst(out).mode & 0o777).toBe(0o600);
  });

  it('refuses an existing file rather than overwriting it', async () => {
    const s = sandbox();
    const out = path.join(s.top, 'blob');
    fs.writeFileSync(out, 'precious');
    const res = await applyTar(s.dir, await packTar([{ name: 'a', mtime: TD, data: 'abc' }]), { blobOut: out });
    expect(res.code).toBe(1);
    expect(res.last).toBe(`skiff-helper: apply-tar: ${out}: File exists`);
    expect(read(out).toString()).toBe('precious');
    expect(exists(s.p('a'))).toBe(false);
  });
});

/** A small tree (file, directory, file in it) that the compression tests pack. */
const abcEntries = (): PackEntry[] => [
  { name: 'a', mtime: TD, data: 'abc' },
  { name: 'b/', type: 'directory', mode: 0o700, mtime: TD },
  { name: 'b/c', mtime: TD, data: 'in b' },
];

function expectABC(s: Sandbox): void {
  expect(read(s.p('a')).toString()).toBe('abc');
  expect(perm(s.p('b'))).toBe(0o700);
  expect(read(s.p('b/c')).toString()).toBe('in b');
}

// Every gzip case runs on both decoders: ISA-L (what the helper picks when the libisal.so.2
// that the build puts next to it loads) and zlib (its fallback). SKIFF_GZIP=isa-l makes the
// helper fail rather than fall back, so these runs prove ISA-L is really loaded.
describe.each(GZIP_BACKENDS)('apply-tar: gzip via %s', (gzip) => {
  it('the diffID is the digest of the uncompressed tar', async () => {
    const tar = await packTar(abcEntries());
    const gz = gzipSync(tar);
    const s = sandbox();
    const res = await applyTar(s.dir, gz, { gzip });
    expectApplied(res, tar, 7);
    expect(res.stdout).not.toContain(sha256(gz));
    expectABC(s);
  });

  it('in 7-byte writes', async () => {
    const tar = await packTar(abcEntries());
    const s = sandbox();
    expectApplied(await applyTar(s.dir, gzipSync(tar), { feed: { chunk: 7 }, gzip }), tar, 7);
    expectABC(s);
  });

  it('concatenated members are one stream, split anywhere', async () => {
    const tar = await packTar([...abcEntries(), { name: 'big', mtime: TD, data: randomBytes(300_000) }]);
    // cut in the middle of a header, in the middle of file data, and at a block boundary
    const cuts = [100, 1024 + 3, 2048, 2560 + 100_000];
    const parts: Buffer[] = [];
    let from = 0;
    for (const c of cuts) {
      parts.push(gzipSync(tar.subarray(from, c)));
      from = c;
    }
    parts.push(gzipSync(tar.subarray(from)));
    const gz = Buffer.concat(parts);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, gz, { gzip }), tar, 7 + 300_000);
    expectABC(s);
    expect(lst(s.p('big')).size).toBe(300_000);
    // an empty member in between is fine too
    const withEmpty = Buffer.concat([gzipSync(tar.subarray(0, 1000)), gzipSync(Buffer.alloc(0)), gzipSync(tar.subarray(1000))]);
    const s2 = sandbox();
    expectApplied(await applyTar(s2.dir, withEmpty, { gzip }), tar, 7 + 300_000);
    expectABC(s2);
  });

  it('concatenated members and trailing bytes, in 5-byte writes', async () => {
    // Small writes put each member boundary (trailer, next magic) in separate reads, where a
    // decoder that buffers input ahead could swallow the start of the next member.
    const tar = await packTar(abcEntries());
    const gz = Buffer.concat([
      gzipSync(tar.subarray(0, 700)),
      gzipSync(tar.subarray(700, 1500)),
      gzipSync(tar.subarray(1500)),
      Buffer.from('not gzip: ignored, as Node does'),
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, gz, { feed: { chunk: 5 }, gzip }), tar, 7);
    expectABC(s);
  });

  it('a large random file crosses the buffers intact', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 5);
    const tar = await packTar([{ name: 'big', mtime: TD, data: big }, { name: 'z', mtime: TD, data: 'z' }]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, gzipSync(tar, { level: 1 }), { gzip }), tar, big.length + 1);
    expect(read(s.p('big')).equals(big)).toBe(true);
    expect(read(s.p('z')).toString()).toBe('z');
  });

  it('truncated or corrupt data is a corrupt layer', async () => {
    const tar = await packTar([{ name: 'a', mtime: TD, data: randomBytes(20000) }, { name: 'after', mtime: TD, data: 'x' }]);
    const gz = gzipSync(tar);
    const cut = gz.subarray(0, gz.length - 30);
    const flipped = Buffer.from(gz);
    flipped[Math.floor(gz.length / 2)] ^= 0xff;
    const badCrc = Buffer.from(gz);
    badCrc[gz.length - 8] ^= 0x01; // the CRC32 in the trailer
    const noTrailer = gz.subarray(0, gz.length - 8);
    for (const [what, bad] of [
      ['cut', cut],
      ['flipped byte', flipped],
      ['bad CRC', badCrc],
      ['no trailer', noTrailer],
      ['magic only', gz.subarray(0, 2)],
    ] as const) {
      const s = sandbox();
      const res = await applyTar(s.dir, bad, { gzip });
      expect(res.code, `${what}: ${res.stderr}`).toBe(1);
      expectRefusedWith(res, 'layer is truncated or corrupt');
    }
  });
});

describe('apply-tar: compression', () => {
  it('zstd (made by zstd(1)), also in 7-byte writes', async () => {
    const tar = await packTar(abcEntries());
    const zst = zstd(tar);
    expect(zst.readUInt32LE(0)).toBe(0xfd2fb528);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, zst), tar, 7);
    expectABC(s);
    const s2 = sandbox();
    expectApplied(await applyTar(s2.dir, zst, { feed: { chunk: 7 } }), tar, 7);
    expectABC(s2);
  });

  it('zstd: several frames are one stream; a large random file arrives intact', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 5);
    const tar = await packTar([...abcEntries(), { name: 'big', mtime: TD, data: big }]);
    const zst = Buffer.concat([
      zstd(tar.subarray(0, 700)),
      zstd(tar.subarray(700, 2_000_000), ['-1']),
      zstd(tar.subarray(2_000_000)),
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, zst), tar, 7 + big.length);
    expectABC(s);
    expect(read(s.p('big')).equals(big)).toBe(true);
  });

  // A tar holding z.txt ("hello zstd world\n"), compressed by zstd(1): runs without the CLI.
  const ZSTD_TAR = Buffer.from(
    'KLUv/WQAJ/0CAMQDei50eHQAMDAwMDY0NDAwMDAwMjEAADAxMDUyMAAgMAB1c3RhciAgAHJvb2hlbGxvIHpzdGQgd29ybGQKDQDMBfAAZhB0GwEUACQMxcHCuj0AyQEG0GqAY+UyO4EiR/bWew==',
    'base64',
  );

  it('zstd: a stored fixture', async () => {
    const s = sandbox();
    const res = await applyTar(s.dir, ZSTD_TAR);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^sha256:[0-9a-f]{64} 17\n$/);
    expect(read(s.p('z.txt')).toString()).toBe('hello zstd world\n');
  });

  it('truncated or corrupt zstd is a corrupt layer', async () => {
    const tar = await packTar([{ name: 'a', mtime: TD, data: randomBytes(20000) }, { name: 'after', mtime: TD, data: 'x' }]);
    const zst = zstd(tar, ['--check']);
    const flipped = Buffer.from(zst);
    flipped[Math.floor(zst.length / 2)] ^= 0xff;
    for (const [what, bad] of [
      ['cut', zst.subarray(0, zst.length - 10)],
      ['flipped byte', flipped],
      ['magic only', zst.subarray(0, 4)],
      ['fixture cut', ZSTD_TAR.subarray(0, ZSTD_TAR.length - 10)],
    ] as const) {
      const s = sandbox();
      const res = await applyTar(s.dir, bad);
      expect(res.code, `${what}: ${res.stderr}`).toBe(1);
      expectRefusedWith(res, 'layer is truncated or corrupt');
    }
  });

  it('refuses xz and bzip2 with a clear message and writes nothing', async () => {
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0, 1, 2, 3]);
    const s = sandbox();
    expectRefused(await applyTar(s.dir, xz), 'xz-compressed layer is not supported; decompress it first or use gzip or zstd');
    expect(fs.readdirSync(s.dir)).toEqual([]);
    const bz = Buffer.from('BZh91AY&SY\x00\x00\x00', 'latin1');
    expectRefused(await applyTar(s.dir, bz), 'bzip2-compressed layer is not supported; decompress it first or use gzip or zstd');
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });
});

describe('apply-tar: whiteouts', () => {
  const layer = () =>
    packTar([
      { name: 'etc/.wh.passwd', mtime: TD, data: '' },
      { name: './.wh.top', mtime: TD, data: '' },
      { name: 'var/lib/.wh..wh..opq', mtime: TD, data: '' },
      { name: '.wh..wh..opq', mtime: TD, data: '' },
      { name: 'gone/.wh.dir/', type: 'directory', mtime: TD },
      { name: '.wh..wh.plnk/1234.5678', mtime: TD, data: 'aufs' },
      { name: '.wh..wh.aufs', mtime: TD, data: '' },
      { name: 'etc/.wh.with-data', mtime: TD, data: 'a whiteout has no content; this is skipped' },
      { name: 'etc/keep', mtime: TD, data: 'k' },
    ]);

  it('whiteouts become overlay whiteouts, opaque markers the opaque xattr; AUFS metadata is skipped with a note', async () => {
    const tar = await layer();
    const s = sandbox();
    // what a lower layer left here: the whiteout replaces it
    fs.mkdirSync(s.p('etc'));
    fs.writeFileSync(s.p('etc/passwd'), 'root:x:0:0');
    const res = await applyTar(s.dir, tar);
    expectApplied(res, tar, 1);
    expect(res.lines.filter((l) => l.includes('AUFS'))).toEqual([
      'skiff-helper: note: skipping AUFS metadata entry ".wh..wh.plnk/1234.5678"',
      'skiff-helper: note: skipping AUFS metadata entry ".wh..wh.aufs"',
    ]);
    expect(exists(s.p('.wh..wh.plnk'))).toBe(false);

    expect(read(s.p('etc/keep')).toString()).toBe('k');
    const whiteouts = ['etc/passwd', 'top', 'gone/dir', 'etc/with-data'];
    for (const w of whiteouts) expect(exists(s.p(w)), w).toBe(true);
    if (IS_ROOT) for (const w of whiteouts) expect(isWhiteout(s.p(w)), w).toBe(true);
    expect(lst(s.p('var/lib')).isDirectory()).toBe(true);
    expect(xattrs(s.p('var/lib')).get(OPQ)?.toString()).toBe('y');
    expect(xattrs(s.dir).get(OPQ)?.toString()).toBe('y');
    // no marker file is ever written as such, and the AUFS entries are not there
    const all: string[] = [];
    const walk = (d: string) => {
      for (const n of fs.readdirSync(d)) {
        all.push(n);
        if (lst(path.join(d, n)).isDirectory()) walk(path.join(d, n));
      }
    };
    walk(s.dir);
    expect(all.filter((n) => n.startsWith('.wh.'))).toEqual([]);
  });

  it.runIf(IS_ROOT)('as root, without --opaque-xattr, the opaque xattr is trusted.overlay.opaque', async () => {
    const tar = await packTar([{ name: 'd/.wh..wh..opq', mtime: TD, data: '' }, { name: 'd/f', mtime: TD, data: 'f' }]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar, { opaqueXattr: null }), tar, 1);
    expect(xattrs(s.p('d')).get('trusted.overlay.opaque')?.toString()).toBe('y');
    const s2 = sandbox();
    expectApplied(await applyTar(s2.dir, tar, { opaqueXattr: 'user.overlay.opaque' }), tar, 1);
    const x = xattrs(s2.p('d'));
    expect(x.get('user.overlay.opaque')?.toString()).toBe('y');
    expect(x.has('trusted.overlay.opaque')).toBe(false);
  });

  it('refuses whiteouts that name no file', async () => {
    for (const name of ['a/.wh..', 'a/.wh...', '.wh.', 'x/y/.wh.']) {
      const tar = await packTar([
        { name: 'ok', mtime: TD, data: 'fine' },
        { name, mtime: TD, data: '' },
        { name: 'after', mtime: TD, data: 'late' },
      ]);
      const s = sandbox();
      const before = s.outside();
      expectRefused(await applyTar(s.dir, tar), `whiteout entry ${JSON.stringify(name)} names no file${HOSTILE}`);
      expect(exists(s.p('after')), name).toBe(false);
      expect(s.outside()).toBe(before);
    }
  });

  it('--flatten: a whiteout removes the path, an opaque dir keeps only what this layer wrote', async () => {
    const s = sandbox();
    // the lower layers, already flattened into DIR
    for (const f of ['a/keep', 'a/old', 'a/sub/old', 'b/file', 'b/deep/er/file', 'c', 'e/x', 'top-keep']) {
      fs.mkdirSync(path.dirname(s.p(f)), { recursive: true });
      fs.writeFileSync(s.p(f), f);
    }
    fs.symlinkSync('/etc', s.p('a/link'));
    const tar = await packTar([
      { name: 'a/new', mtime: TD, data: 'n' },
      { name: 'a/sub/new', mtime: TD, data: 'n' },
      { name: 'a/keep', mtime: TD, data: 'rewritten' },
      { name: 'a/.wh..wh..opq', mtime: TD, data: '' },
      { name: 'a/later', mtime: TD, data: 'l' },
      { name: '.wh.b', mtime: TD, data: '' },
      { name: '.wh.c', mtime: TD, data: '' },
      { name: 'missing/.wh.x', mtime: TD, data: '' },
      { name: 'c/.wh.x', mtime: TD, data: '' },
      { name: 'nodir/.wh..wh..opq', mtime: TD, data: '' },
      { name: 'e/.wh..wh..opq', mtime: TD, data: '' },
    ]);
    const res = await applyTar(s.dir, tar, { flatten: true });
    expectApplied(res, tar, 1 + 1 + 9 + 1);
    expect(fs.readdirSync(s.p('a')).sort()).toEqual(['keep', 'later', 'new', 'sub']);
    expect(read(s.p('a/keep')).toString()).toBe('rewritten');
    expect(fs.readdirSync(s.p('a/sub'))).toEqual(['new']);
    expect(exists(s.p('b'))).toBe(false);
    expect(exists(s.p('c'))).toBe(false);
    expect(read(s.p('top-keep')).toString()).toBe('top-keep');
    expect(fs.readdirSync(s.p('e'))).toEqual([]);
    // nothing that --flatten does leaves a marker: no whiteout devices, no opaque xattr
    expect(exists(s.p('missing'))).toBe(false);
    expect(exists(s.p('nodir'))).toBe(false);
    expect(xattrs(s.p('a')).has(OPQ)).toBe(false);
    expect(xattrs(s.p('e')).has(OPQ)).toBe(false);
  });
});

describe('apply-tar: replacing what is there', () => {
  it('each entry replaces what a previous entry or layer put at its path', async () => {
    const s = sandbox();
    const lower = await packTar([
      { name: 'f2d', mtime: TD, data: 'x' },
      { name: 'd2f/child/grandchild', mtime: TD, data: 'c' },
      { name: 'l2f', type: 'symlink', linkname: '/etc/passwd', mtime: TD },
      { name: 'd2l/c', mtime: TD, data: '' },
      { name: 'twice', mtime: TD, data: 'one' },
      { name: 'keepdir/', type: 'directory', mode: 0o700, mtime: TD },
      { name: 'keepdir/child', mtime: TD, data: 'stays' },
      { name: 'f2l', mtime: TD, data: 'file' },
      { name: 'fifo2f', type: 'fifo', mtime: TD },
    ]);
    expectApplied(await applyTar(s.dir, lower), lower, 1 + 1 + 3 + 5 + 4);
    const upper = await packTar([
      { name: 'f2d/', type: 'directory', mode: 0o711, mtime: TD },
      { name: 'd2f', mtime: TD, data: 'now a file' },
      { name: 'l2f', mtime: TD, data: 'not a link' },
      { name: 'd2l', type: 'symlink', linkname: 'elsewhere', mtime: TD },
      { name: 'twice', mtime: TD, data: 'two' },
      { name: 'keepdir/', type: 'directory', mode: 0o755, mtime: TD },
      { name: 'f2l', type: 'symlink', linkname: 'twice', mtime: TD },
      { name: 'fifo2f', mtime: TD, data: 'was a fifo' },
      { name: 'self', type: 'link', linkname: 'twice', mtime: TD },
      { name: 'self', type: 'link', linkname: 'self', mtime: TD },
    ]);
    expectApplied(await applyTar(s.dir, upper), upper, 10 + 10 + 3 + 10);
    expect(lst(s.p('f2d')).isDirectory()).toBe(true);
    expect(perm(s.p('f2d'))).toBe(0o711);
    expect(read(s.p('d2f')).toString()).toBe('now a file');
    expect(lst(s.p('l2f')).isFile()).toBe(true);
    expect(read(s.p('l2f')).toString()).toBe('not a link');
    expect(fs.readlinkSync(s.p('d2l'))).toBe('elsewhere');
    expect(read(s.p('twice')).toString()).toBe('two');
    // a directory over a directory keeps what is in it and takes the new mode
    expect(perm(s.p('keepdir'))).toBe(0o755);
    expect(read(s.p('keepdir/child')).toString()).toBe('stays');
    expect(fs.readlinkSync(s.p('f2l'))).toBe('twice');
    expect(read(s.p('fifo2f')).toString()).toBe('was a fifo');
    expect(lst(s.p('self')).ino).toBe(lst(s.p('twice')).ino);
  });

  it('within one layer: a file replaces a directory and a directory a file', async () => {
    const tar = await packTar([
      { name: 'x/inner/file', mtime: TD, data: 'deep' },
      { name: 'x', mtime: TD, data: 'x is a file now' },
      { name: 'y', mtime: TD, data: 'y was a file' },
      { name: 'y/', type: 'directory', mode: 0o750, mtime: TD },
      { name: 'y/z', mtime: TD, data: 'z' },
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 4 + 15 + 12 + 1);
    expect(read(s.p('x')).toString()).toBe('x is a file now');
    expect(lst(s.p('y')).isDirectory()).toBe(true);
    expect(perm(s.p('y'))).toBe(0o750);
    expect(read(s.p('y/z')).toString()).toBe('z');
  });
});

describe('apply-tar: hostile layers', () => {
  const good: PackEntry = { name: 'ok', mtime: TD, data: 'fine' };
  const after: PackEntry = { name: 'after', mtime: TD, data: 'late' };
  const cases: [string, PackEntry, string][] = [
    ['../evil', { name: '../evil', mtime: TD, data: 'x' }, 'entry "../evil" points outside the layer root'],
    ['a/../../evil', { name: 'a/../../evil', mtime: TD, data: 'x' }, 'entry "a/../../evil" points outside the layer root'],
    ['..', { name: '..', type: 'directory', mtime: TD }, 'entry ".." points outside the layer root'],
    ['../host/secret', { name: '../host/secret', mtime: TD, data: 'overwritten' }, 'entry "../host/secret" points outside the layer root'],
    ['/etc/evil', { name: '/etc/evil', mtime: TD, data: 'x' }, 'entry "/etc/evil" is an absolute path'],
    [
      'hard link ../../etc/passwd',
      { name: 'pw', type: 'link', linkname: '../../etc/passwd', mtime: TD },
      'hard link "pw" -> "../../etc/passwd" points outside the layer root',
    ],
    [
      'hard link a/../../x',
      { name: 'd/pw', type: 'link', linkname: 'a/../../x', mtime: TD },
      'hard link "d/pw" -> "a/../../x" points outside the layer root',
    ],
    [
      'hard link ../host/secret',
      { name: 'hs', type: 'link', linkname: '../host/secret', mtime: TD },
      'hard link "hs" -> "../host/secret" points outside the layer root',
    ],
    ['root as a file', { name: './', mtime: TD, data: 'x' }, 'entry "./" is the layer root but not a directory'],
    ['root as a symlink', { name: '.', type: 'symlink', linkname: '/', mtime: TD }, 'entry "." is the layer root but not a directory'],
  ];
  for (const [title, entry, what] of cases) {
    it(`refuses ${title}; nothing after it is applied, nothing outside DIR changes`, async () => {
      const tar = await packTar([good, entry, after]);
      const s = sandbox();
      const before = s.outside();
      const res = await applyTar(s.dir, tar);
      expectRefused(res, `${what}${HOSTILE}`);
      expect(exists(s.p('after'))).toBe(false);
      expect(s.outside()).toBe(before);
      expect(fs.readdirSync(s.top).sort()).toEqual(['host', 'layer']);
      expect(exists('/etc/evil')).toBe(false);
      // the refused entry itself is not there either (an escaping link would be a trap)
      if ((entry.type === 'symlink' || entry.type === 'link') && entry.name !== '.') expect(exists(s.p(entry.name))).toBe(false);
      if (entry.name === './') expect(lst(s.dir).isDirectory()).toBe(true);
    });
  }

  it('a hostile name cannot add lines to the refusal', async () => {
    const name = '../evil\nskiff-helper: all good';
    const tar = await packTar([{ name, mtime: TD, data: 'x' }]);
    const s = sandbox();
    const res = await applyTar(s.dir, tar);
    expect(res.code).toBe(1);
    expect(res.lines).toHaveLength(1);
    expect(res.last.startsWith('skiff-helper: entry "../evil')).toBe(true);
    expect(res.last.endsWith(`points outside the layer root${HOSTILE}`)).toBe(true);
  });

  // found by the fuzzer's one-line oracle (native/helper/fuzz): storage.c printed the path raw
  it('a hostile name or link target cannot add lines to an error from applying it', async () => {
    const name = 'a\nskiff-helper: all good';
    const tar = Buffer.concat([
      rawEntry({ name, mtime: T }, 'x'),
      rawEntry({ name: `${name}/c`, mtime: T }, 'y'), // its parent is a file
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    const res = await applyTar(s.dir, tar);
    expect(res.lines, res.stderr).toHaveLength(1);
    expectRefused(res, 'apply-tar: a\\u000askiff-helper: all good/c: Not a directory');
    const link = Buffer.concat([rawEntry({ name: 'h\r', type: '1', linkname: 'no\nwhere', mtime: T }), END_OF_ARCHIVE]);
    const res2 = await applyTar(s.dir, link);
    expect(res2.lines, res2.stderr).toHaveLength(1);
    expectRefused(res2, 'apply-tar: h\\u000d: link target no\\u000awhere: No such file or directory');
  });

  it('allows absolute symlinks, relative ones that stay inside, and absolute hard link targets', async () => {
    const tar = await packTar([
      { name: 'etc/evil', type: 'symlink', linkname: '/etc/passwd', mtime: TD },
      { name: 'root', type: 'symlink', linkname: '/', mtime: TD },
      { name: 'x/y/z', type: 'symlink', linkname: '../../etc', mtime: TD },
      { name: 'x/self', type: 'symlink', linkname: '.', mtime: TD },
      { name: 'x/parent', type: 'symlink', linkname: '..', mtime: TD },
      { name: 'x/abs-up', type: 'symlink', linkname: '/../../..', mtime: TD },
      { name: 'hl', type: 'link', linkname: '/etc/evil', mtime: TD },
      { name: 'x/../y', mtime: TD, data: '' },
      { name: 'etc/passwd', mtime: TD, data: 'in the layer' },
      { name: 'pw', type: 'link', linkname: '/etc/passwd', mtime: TD },
      { name: 'pw2', type: 'link', linkname: '//etc/../etc/./passwd', mtime: TD },
    ]);
    const s = sandbox();
    const hostPasswdLinks = lst('/etc/passwd').nlink;
    expectApplied(await applyTar(s.dir, tar), tar, 12);
    expect(fs.readlinkSync(s.p('etc/evil'))).toBe('/etc/passwd');
    expect(fs.readlinkSync(s.p('root'))).toBe('/');
    expect(fs.readlinkSync(s.p('x/y/z'))).toBe('../../etc');
    expect(fs.readlinkSync(s.p('x/self'))).toBe('.');
    expect(fs.readlinkSync(s.p('x/parent'))).toBe('..');
    expect(fs.readlinkSync(s.p('x/abs-up'))).toBe('/../../..');
    // a hard link to a symlink links the symlink itself (resolved inside the root)
    expect(lst(s.p('hl')).isSymbolicLink()).toBe(true);
    expect(lst(s.p('hl')).ino).toBe(lst(s.p('etc/evil')).ino);
    expect(lst(s.p('y')).isFile()).toBe(true);
    expect(lst(s.p('pw')).ino).toBe(lst(s.p('etc/passwd')).ino);
    expect(lst(s.p('pw2')).ino).toBe(lst(s.p('etc/passwd')).ino);
    expect(lst('/etc/passwd').nlink).toBe(hostPasswdLinks);
  });

  it('refuses an absolute name hidden in a pax path record', async () => {
    const tar = Buffer.concat([
      rawEntry({ name: 'ok', mtime: T }, 'fine'),
      rawPax([['path', '/etc/shadow']]),
      rawEntry({ name: 'innocent', mtime: T }, 'x'),
      rawEntry({ name: 'after', mtime: T }, 'late'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectRefused(await applyTar(s.dir, tar), `entry "/etc/shadow" is an absolute path${HOSTILE}`);
    expect(exists(s.p('innocent'))).toBe(false);
    expect(exists(s.p('after'))).toBe(false);
  });

  it('refuses an escaping name hidden in a GNU long name', async () => {
    const tar = Buffer.concat([
      rawGnuLong('L', '../' + 'e'.repeat(120)),
      rawEntry({ name: 'innocent', format: 'gnu', mtime: T }, 'x'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    const before = s.outside();
    expectRefused(await applyTar(s.dir, tar), `entry ${JSON.stringify('../' + 'e'.repeat(120))} points outside the layer root${HOSTILE}`);
    expect(s.outside()).toBe(before);
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });

  it('refuses an empty symlink target and a hard link to the root', async () => {
    const s = sandbox();
    expectRefused(
      await applyTar(s.dir, Buffer.concat([rawEntry({ name: 's', type: '2', linkname: '' }), END_OF_ARCHIVE])),
      `symlink "s" has an invalid target${HOSTILE}`,
    );
    expect(exists(s.p('s'))).toBe(false);
    expectRefused(
      await applyTar(s.dir, Buffer.concat([rawEntry({ name: 'h', type: '1', linkname: './' }), END_OF_ARCHIVE])),
      `hard link "h" -> "./" points outside the layer root${HOSTILE}`,
    );
    expect(exists(s.p('h'))).toBe(false);
  });

  it('refuses unsupported entry types (GNU sparse)', async () => {
    const s = sandbox();
    const tar = Buffer.concat([rawEntry({ name: 'sparse', type: 'S' }, 'abc'), rawEntry({ name: 'after' }, 'x'), END_OF_ARCHIVE]);
    expectRefused(await applyTar(s.dir, tar), `unsupported tar entry type 'S' for "sparse"; re-export the image with a standard tar`);
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });

  it('a write through a symlink in the tree lands inside DIR, never on the host', async () => {
    const s = sandbox();
    const before = s.outside();
    const hostInRoot = s.p(s.host); // where an absolute link to the host dir resolves inside DIR
    const tar = await packTar([
      { name: 'link', type: 'symlink', linkname: s.host, mtime: TD },
      { name: 'link/evil', mtime: TD, data: 'e' },
      { name: 'link/sub/evil2', mtime: TD, data: 'e' },
      { name: 'rootlink', type: 'symlink', linkname: '/', mtime: TD },
      { name: `rootlink${s.host}/evil3`, mtime: TD, data: 'e' },
      { name: 'up', type: 'symlink', linkname: '/../../..', mtime: TD },
      { name: `up${s.host}/evil4`, mtime: TD, data: 'e' },
      { name: 'x/parent', type: 'symlink', linkname: '..', mtime: TD },
      { name: 'x/parent/parent-ok', mtime: TD, data: 'p' },
    ]);
    const res = await applyTar(s.dir, tar);
    // writing through the link may be refused (exit 1) or land inside DIR; never outside
    if (res.code === 0) {
      for (const n of ['evil', 'sub/evil2', 'evil3', 'evil4']) expect(read(path.join(hostInRoot, n)).toString(), n).toBe('e');
      expect(read(s.p('parent-ok')).toString()).toBe('p');
    } else {
      expectRefusedWith(res, '');
    }
    expect(s.outside()).toBe(before);
    expect(fs.readdirSync(s.host).sort()).toEqual(['secret', 'sub']);
  });

  it('entries placed over a symlink to the host replace the link, not the host file', async () => {
    const s = sandbox();
    const before = s.outside();
    const tar = await packTar([
      { name: 'sec', type: 'symlink', linkname: path.join(s.host, 'secret'), mtime: TD },
      { name: 'sec', mtime: TD, data: 'overwritten?' },
      { name: 'm', type: 'symlink', linkname: path.join(s.host, 'sub'), mtime: TD },
      { name: 'm/', type: 'directory', mode: 0o777, mtime: TD },
      // the same with relative links that climb out of DIR (kept as they are: see below)
      { name: 'relsec', type: 'symlink', linkname: '../host/secret', mtime: TD },
      { name: 'relsec', mtime: TD, data: 'overwritten too?' },
      { name: 'relm', type: 'symlink', linkname: '../host/sub', mtime: TD },
      { name: 'relm/', type: 'directory', mode: 0o777, mtime: TD },
    ]);
    expectApplied(await applyTar(s.dir, tar), tar, 28);
    expect(lst(s.p('sec')).isFile()).toBe(true);
    expect(read(s.p('sec')).toString()).toBe('overwritten?');
    expect(lst(s.p('m')).isDirectory()).toBe(true);
    expect(perm(s.p('m'))).toBe(0o777);
    expect(read(s.p('relsec')).toString()).toBe('overwritten too?');
    expect(lst(s.p('relm')).isDirectory()).toBe(true);
    expect(perm(s.p('relm'))).toBe(0o777);
    expect(s.outside()).toBe(before);
  });

  // containerd stores any symlink target, and real images have links like linuxrc ->
  // ../bin/busybox; what keeps writes inside DIR is storage.c's RESOLVE_IN_ROOT, where ".."
  // stops at DIR as it stops at "/" in a container.
  it('keeps relative symlinks that climb above the root; writes through them land inside DIR', async () => {
    const s = sandbox();
    const before = s.outside();
    const tmpName = `skiff-escape-${randomBytes(6).toString('hex')}`;
    const tar = await packTar([
      { name: 'linuxrc', type: 'symlink', linkname: '../bin/busybox', mtime: TD },
      { name: 'x/y/z', type: 'symlink', linkname: '../../../etc', mtime: TD },
      { name: 'up', type: 'symlink', linkname: '..', mtime: TD },
      // links aimed at the sandbox's host tree and at /tmp, with the same names inside DIR
      { name: 'host/sub/', type: 'directory', mode: 0o755, mtime: TD },
      { name: `tmp/${tmpName}/`, type: 'directory', mode: 0o755, mtime: TD },
      { name: 'h', type: 'symlink', linkname: '../host', mtime: TD },
      { name: 'h/pwned', mtime: TD, data: 'p1' },
      { name: 'h/sub/pwned', mtime: TD, data: 'p2' },
      { name: 't', type: 'symlink', linkname: `../../../../tmp/${tmpName}`, mtime: TD },
      { name: 't/x', mtime: TD, data: 'p3' },
      { name: 'up/via-up', mtime: TD, data: 'p4' },
      // a whiteout below such a link, and a hard link to one
      { name: 'w', type: 'symlink', linkname: '../../host', mtime: TD },
      { name: 'w/.wh.secret', mtime: TD, data: '' },
      { name: 'hl', type: 'link', linkname: 't', mtime: TD },
    ]);
    expectApplied(await applyTar(s.dir, tar), tar, 8);
    expect(fs.readlinkSync(s.p('linuxrc'))).toBe('../bin/busybox');
    expect(fs.readlinkSync(s.p('x/y/z'))).toBe('../../../etc');
    expect(fs.readlinkSync(s.p('up'))).toBe('..');
    expect(fs.readlinkSync(s.p('t'))).toBe(`../../../../tmp/${tmpName}`);
    expect(read(s.p('host/pwned')).toString()).toBe('p1');
    expect(read(s.p('host/sub/pwned')).toString()).toBe('p2');
    expect(read(s.p(`tmp/${tmpName}/x`)).toString()).toBe('p3');
    expect(read(s.p('via-up')).toString()).toBe('p4');
    expect(exists(s.p('host/secret'))).toBe(true); // the whiteout, inside DIR
    // a hard link to such a symlink links the symlink itself
    expect(lst(s.p('hl')).isSymbolicLink()).toBe(true);
    expect(lst(s.p('hl')).ino).toBe(lst(s.p('t')).ino);
    expect(exists(path.join(os.tmpdir(), tmpName))).toBe(false);
    expect(exists(path.join('/tmp', tmpName))).toBe(false);
    expect(s.outside()).toBe(before);
    expect(read(path.join(s.host, 'secret')).toString()).toBe('secret');
    expect(fs.readdirSync(s.host).sort()).toEqual(['secret', 'sub']);

    // --flatten: a whiteout or an opaque marker below such a link removes only inside DIR
    const flat = await packTar([
      { name: 'w2', type: 'symlink', linkname: '../host', mtime: TD },
      { name: 'w2/.wh.secret', mtime: TD, data: '' },
      { name: 'w2/sub/.wh..wh..opq', mtime: TD, data: '' },
    ]);
    expectApplied(await applyTar(s.dir, flat, { flatten: true }), flat, 0);
    expect(exists(s.p('host/secret'))).toBe(false);
    expect(fs.readdirSync(s.p('host/sub'))).toEqual([]);
    expect(s.outside()).toBe(before);
  });

  it('xattrs, devices, whiteouts and hard links aimed through a symlink stay inside DIR', async () => {
    const s = sandbox();
    const before = s.outside();
    const secret = path.join(s.host, 'secret');
    const tar = Buffer.concat([
      rawEntry({ name: 'w', type: '2', linkname: s.host, mtime: T }),
      rawPax([['SCHILY.xattr.user.pwned', '1']]),
      rawEntry({ name: 'esc', type: '2', linkname: secret, mtime: T }),
      rawEntry({ name: 'fifo', type: '2', linkname: path.join(s.host, 'fifo'), mtime: T }),
      rawEntry({ name: 'fifo', type: '6', mtime: T }),
      rawEntry({ name: 'o', type: '2', linkname: path.join(s.host, 'sub'), mtime: T }),
      rawEntry({ name: 'o/.wh..wh..opq', mtime: T }),
      END_OF_ARCHIVE,
    ]);
    const res = await applyTar(s.dir, tar);
    if (res.code !== 0) expectRefusedWith(res, '');
    expect(s.outside()).toBe(before);
    expect(xattrs(secret).has('user.pwned')).toBe(false);
    expect(xattrs(path.join(s.host, 'sub')).has(OPQ)).toBe(false);

    // each of these must be refused or stay inside DIR
    const tarOf = (...entries: Buffer[]) => Buffer.concat([...entries, END_OF_ARCHIVE]);
    const cases: [string, Buffer][] = [
      ['whiteout below a symlinked dir', tarOf(rawEntry({ name: 'w/.wh.secret', mtime: T }))],
      ['hard link via a symlinked dir', tarOf(rawEntry({ name: 'hl2', type: '1', linkname: 'w/secret', mtime: T }))],
      [
        'xattr through a symlinked dir',
        tarOf(rawPax([['SCHILY.xattr.user.pwned', '1']]), rawEntry({ name: 'w/secret', type: '5', mtime: T })),
      ],
      [
        'file through /proc/self/root',
        tarOf(
          rawEntry({ name: 'p', type: '2', linkname: '/proc/self/root', mtime: T }),
          rawEntry({ name: `p${secret}`, mtime: T }, 'pwned'),
        ),
      ],
    ];
    for (const [what, layer] of cases) {
      const r = await applyTar(s.dir, layer);
      if (r.code !== 0) {
        expect(r.code, what).toBe(1);
        expect(r.lines.filter((l) => !l.startsWith('skiff-helper: note: ')), what).toHaveLength(1);
      }
      expect(s.outside(), what).toBe(before);
    }
    expect(lst(secret).nlink).toBe(1);
    expect(read(secret).toString()).toBe('secret');
  });

  it('--flatten: whiteouts and opaque markers below a symlink to the host remove nothing there', async () => {
    const s = sandbox();
    fs.writeFileSync(path.join(s.host, 'sub', 'child'), 'c');
    const before = s.outside();
    const tar = Buffer.concat([
      rawEntry({ name: 'w', type: '2', linkname: s.host, mtime: T }),
      rawEntry({ name: 'w/.wh.secret', mtime: T }),
      rawEntry({ name: 'w/sub/.wh..wh..opq', mtime: T }),
      rawEntry({ name: 'o', type: '2', linkname: path.join(s.host, 'sub'), mtime: T }),
      rawEntry({ name: 'o/.wh..wh..opq', mtime: T }),
      rawEntry({ name: 'r', type: '2', linkname: '/', mtime: T }),
      rawEntry({ name: `r${s.host}/.wh.secret`, mtime: T }),
      END_OF_ARCHIVE,
    ]);
    const res = await applyTar(s.dir, tar, { flatten: true });
    if (res.code !== 0) expectRefusedWith(res, '');
    expect(s.outside()).toBe(before);
    expect(read(path.join(s.host, 'secret')).toString()).toBe('secret');
    expect(fs.readdirSync(path.join(s.host, 'sub'))).toEqual(['child']);
  });
});

describe('apply-tar: broken input', () => {
  it('an archive cut inside file data', async () => {
    const tar = await packTar([
      { name: 'a', mtime: TD, data: 'first' },
      { name: 'b', mtime: TD, data: Buffer.alloc(5000, 1) },
      { name: 'c', mtime: TD, data: 'never' },
    ]);
    const s = sandbox();
    const res = await applyTar(s.dir, tar.subarray(0, 512 + 512 + 512 + 2000));
    expectRefusedWith(res, 'layer is truncated or corrupt');
    expect(exists(s.p('c'))).toBe(false);
  });

  it('an archive cut inside a header, or inside a pax header', async () => {
    const tar = await packTar([{ name: 'a', mtime: TD, data: 'first' }, { name: 'b', mtime: TD, data: 'second' }]);
    const s = sandbox();
    expectRefusedWith(await applyTar(s.dir, tar.subarray(0, 1024 + 100)), 'layer is truncated or corrupt');
    expect(exists(s.p('b'))).toBe(false);
    const pax = Buffer.concat([rawPax([['path', 'p'.repeat(300)]]), rawEntry({ name: 'x' }, 'x')]);
    expectRefusedWith(await applyTar(s.dir, pax.subarray(0, 600)), 'layer is truncated or corrupt');
  });

  it('an archive cut inside the padding of the last entry', async () => {
    const tar = await packTar([{ name: 'a', mtime: TD, data: 'first' }]);
    const s = sandbox();
    expectRefusedWith(await applyTar(s.dir, tar.subarray(0, 512 + 100)), 'layer is truncated or corrupt');
  });

  it('a corrupt header checksum', async () => {
    const tar = await packTar([{ name: 'a', mtime: TD, data: 'x' }]);
    tar[0] ^= 0x55;
    const s = sandbox();
    expectRefusedWith(await applyTar(s.dir, tar), 'layer is truncated or corrupt');
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });

  it('a corrupt checksum in a later header stops there', async () => {
    const tar = await packTar([
      { name: 'a', mtime: TD, data: 'x' },
      { name: 'b', mtime: TD, data: 'y' },
    ]);
    tar[1024 + 1] ^= 0x55; // b's header
    const s = sandbox();
    expectRefusedWith(await applyTar(s.dir, tar), 'layer is truncated or corrupt');
    expect(fs.readdirSync(s.dir)).toEqual(['a']);
  });

  it('a name over 4096 bytes, a link target over 64 KiB, and a hard link to nothing: one line each', async () => {
    const s = sandbox();
    const cases: [string, Buffer, string][] = [
      ['long name', Buffer.concat([rawPax([['path', 'a/'.repeat(2500) + 'x']]), rawEntry({ name: 'p' }), END_OF_ARCHIVE]), 'layer is truncated or corrupt: entry name too long'],
      [
        'long target',
        Buffer.concat([rawPax([['linkpath', 'a'.repeat(70000)]]), rawEntry({ name: 'l', type: '2', linkname: 'x' }), END_OF_ARCHIVE]),
        'layer is truncated or corrupt: link target or extended attribute too large',
      ],
      ['missing target', Buffer.concat([rawEntry({ name: 'hx', type: '1', linkname: 'missing' }), END_OF_ARCHIVE]), 'apply-tar: hx: link target missing: No such file or directory'],
    ];
    for (const [what, tar, message] of cases) {
      const res = await applyTar(s.dir, tar);
      expect(res.lines, what).toHaveLength(1);
      expectRefused(res, message);
    }
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });

  it('garbage that is not a tar at all', async () => {
    const s = sandbox();
    expectRefusedWith(await applyTar(s.dir, randomBytes(4096)), 'layer is truncated or corrupt');
    expect(fs.readdirSync(s.dir)).toEqual([]);
  });
});

/** H with BYTES written at OFF (a numeric field, say) and its checksum made right again. */
function withField(h: Buffer, off: number, bytes: number[]): Buffer {
  const b = Buffer.from(h);
  Buffer.from(bytes).copy(b, off);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

describe('apply-tar: numbers and metadata entries, as Go archive/tar (Docker, containerd) reads them', () => {
  it('refuses a base-256 size beyond int64: near 2^64 it would wrap the skip over a global header', async () => {
    // 2^64 - 1: the padding to the next block is 1, and size + padding wraps to 0, so the
    // "skipped" data (here a file entry) would be read as the next header and applied
    const size = [0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const tar = Buffer.concat([
      withField(rawHeader({ name: 'g', type: 'g', format: 'gnu' }), 124, size),
      rawEntry({ name: 'smuggled', mtime: T }, 'from the data of a global header'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectRefused(await applyTar(s.dir, tar), 'layer is truncated or corrupt: invalid number in a tar header');
    expect(fs.readdirSync(s.dir)).toEqual([]);
    // 2^63 as a file size and as an mtime: refused too (Go's fields are int64)
    const big = [0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0];
    for (const off of [124, 136]) {
      const t = Buffer.concat([withField(rawHeader({ name: 'f', format: 'gnu' }), off, big), END_OF_ARCHIVE]);
      expectRefused(await applyTar(s.dir, t), 'layer is truncated or corrupt: invalid number in a tar header');
    }
  });

  it('a pax header replaces an earlier one before the same entry, so they cannot pile up xattrs', async () => {
    const tar = Buffer.concat([
      rawPax([['SCHILY.xattr.user.first', '1'], ['path', 'named-by-the-first']]),
      rawPax([['SCHILY.xattr.user.second', '2']]),
      rawEntry({ name: 'f', mtime: T }, 'f'),
      // the same name twice in one header: the later record wins, as pax says
      rawPax([['SCHILY.xattr.user.twice', 'old'], ['SCHILY.xattr.user.twice', 'new']]),
      rawEntry({ name: 'g', mtime: T }, 'g'),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 2);
    expect(fs.readdirSync(s.dir).sort()).toEqual(['f', 'g']);
    const user = (p: string) => [...xattrs(p)].filter(([k]) => k.startsWith('user.')).map(([k, v]) => `${k}=${v}`);
    expect(user(s.p('f'))).toEqual(['user.second=2']);
    expect(user(s.p('g'))).toEqual(['user.twice=new']);
  });

  it('a GNU long name wins over a pax path, whichever comes first', async () => {
    const tar = Buffer.concat([
      rawGnuLong('L', 'gnu-1'),
      rawPax([['path', 'pax-1']]),
      rawEntry({ name: 'header-1', mtime: T }, '1'),
      rawPax([['path', 'pax-2'], ['linkpath', 'pax-target']]),
      rawGnuLong('L', 'gnu-2'),
      rawGnuLong('K', 'gnu-target'),
      rawEntry({ name: 'header-2', type: '2', linkname: 'header-target', mtime: T }),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    expectApplied(await applyTar(s.dir, tar), tar, 1);
    expect(fs.readdirSync(s.dir).sort()).toEqual(['gnu-1', 'gnu-2']);
    expect(fs.readlinkSync(s.p('gnu-2'))).toBe('gnu-target');
  });

  it('a pax mtime is [-]SECONDS[.FRACTION] within int64, rounded down; anything else is refused', async () => {
    const good: [string, number][] = [
      ['1700000123.987654', 1700000123],
      ['-1.5', -2],
      ['-7', -7],
      ['+5', 5],
      ['12.', 12],
    ];
    for (const [v, want] of good) {
      const tar = Buffer.concat([rawPax([['mtime', v]]), rawEntry({ name: 'f', mtime: T }, ''), END_OF_ARCHIVE]);
      const s = sandbox();
      expectApplied(await applyTar(s.dir, tar), tar, 0);
      expect(mtime(s.p('f')), v).toBe(want);
    }
    // 1e300 used to reach (int64_t)floor(1e300), which is undefined behaviour
    for (const v of ['1e300', '1.5e9', 'nan', 'inf', '', '.5', '12abc', '9223372036854775808', '0x10', ' 5']) {
      const tar = Buffer.concat([rawPax([['mtime', v]]), rawEntry({ name: 'f', mtime: T }, ''), END_OF_ARCHIVE]);
      const s = sandbox();
      expectRefused(await applyTar(s.dir, tar), 'layer is truncated or corrupt: invalid mtime in a pax header');
      expect(fs.readdirSync(s.dir), v).toEqual([]);
    }
  });

  it('pax size, uid and gid are decimal within int64', async () => {
    for (const [k, v] of [
      ['size', '18446744073709551615'],
      ['size', '9223372036854775808'],
      ['uid', '-1'],
      ['gid', '1e3'],
      ['size', ''],
    ]) {
      const tar = Buffer.concat([rawPax([[k, v]]), rawEntry({ name: 'f', mtime: T }, ''), END_OF_ARCHIVE]);
      const s = sandbox();
      expectRefused(await applyTar(s.dir, tar), 'layer is truncated or corrupt: invalid number in a pax header');
    }
  });
});

// The fuzz target (native/helper/fuzz/) is the helper's apply-tar built with AddressSanitizer
// and UBSan: it catches memory errors that do not crash the normal build.
describe('apply-tar under the sanitizers (the fuzz target)', () => {
  const FUZZ_DIR = path.resolve(__dirname, '../../native/helper/fuzz');
  let fuzzBin = '';

  beforeAll(() => {
    const r = spawnSync('bash', [path.join(FUZZ_DIR, 'build.sh')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`native/helper/fuzz/build.sh failed: ${r.stderr}`);
    fuzzBin = r.stdout.trim();
  }, 120_000);

  /** Run each input once through the sanitizer build; the output when anything fired. */
  function replay(inputs: string[]): { code: number | null; output: string } {
    // its scratch directory in a sandbox, so that a crash (no clean-up) leaves nothing behind
    const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', SKIFF_FUZZ_TMPDIR: sandbox().top };
    const r = spawnSync(fuzzBin, inputs, { encoding: 'utf8', env });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
  }

  it('the committed regression inputs run clean', () => {
    const dir = path.join(FUZZ_DIR, 'regressions');
    const inputs = fs.readdirSync(dir).map((n) => path.join(dir, n));
    expect(inputs.length).toBeGreaterThan(0);
    const r = replay(inputs);
    expect(r.output).not.toMatch(/ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:/);
    expect(r.code, r.output).toBe(0);
  });

  it('quoting a name that fills the message buffer ends on an escape without writing past it', async () => {
    // The AUFS note quotes the raw name: slashes (dropped when the name is cleaned, so the name
    // stays short enough) bring the quoted text to 7 bytes before the end of its buffer, where
    // a control character's 6-byte escape, the closing quote and the NUL used to overrun it by
    // one. Two notes first: the quoting buffers rotate, and the third is the last in memory.
    const name = '.wh..wh.x' + '/'.repeat(16370) + '\x01';
    const tar = Buffer.concat([
      rawEntry({ name: '.wh..wh.a' }),
      rawEntry({ name: '.wh..wh.b' }),
      rawPax([['path', name]]),
      rawEntry({ name: 'placeholder' }),
      END_OF_ARCHIVE,
    ]);
    const s = sandbox();
    const input = path.join(s.top, 'input.tar');
    fs.writeFileSync(input, tar);
    const r = replay([input]);
    expect(r.output).not.toContain('ERROR: AddressSanitizer');
    expect(r.code, r.output).toBe(0);
    // the real helper: the note is one line, cut short, and still ends with the closing quote
    const res = await applyTar(s.dir, tar);
    expectApplied(res, tar, 0);
    const note = res.lines[2];
    expect(note.startsWith('skiff-helper: note: skipping AUFS metadata entry ".wh..wh.x///')).toBe(true);
    expect(note.endsWith('///"')).toBe(true);
  });
});
