import { Readable, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  OP,
  S_IFBLK,
  S_IFCHR,
  S_IFIFO,
  cleanRelative,
  decodeFrames,
  decompressIfNeeded,
  detectCompression,
  encodeFrame,
  endFrame,
  normalizeEntryName,
  objectName,
  parsePaxRecords,
  writeEnd,
  writeLayerOps,
  type DecodedFrame,
} from '../../src/image/layer-ops';
import { SkiffError } from '../../src/util/errors';
import {
  END_OF_ARCHIVE,
  chunked,
  collector,
  packTar,
  rawEntry,
  rawPax,
  sha256,
  type PackEntry,
} from './image-tar-fixtures';

const T = new Date(1700000000 * 1000);

async function run(tar: Buffer, opts: { slow?: boolean; chunk?: number; label?: string } = {}) {
  const c = collector(opts.slow);
  const notes: string[] = [];
  const res = await writeLayerOps(chunked(tar, opts.chunk), c.sink, {
    label: opts.label,
    onNote: (m) => notes.push(m),
  });
  return { res, frames: decodeFrames(c.data()), notes, bytes: c.data() };
}

async function runPack(entries: PackEntry[]) {
  return run(await packTar(entries));
}

async function rejects(tar: Buffer, label?: string): Promise<{ err: SkiffError; frames: DecodedFrame[] }> {
  const c = collector();
  try {
    await writeLayerOps(chunked(tar), c.sink, { label });
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    const frames = decodeFramesLenient(c.data());
    return { err: e as SkiffError, frames };
  }
  throw new Error('expected the layer to be rejected');
}

// a FILE frame may be cut short when a layer fails mid-file: decode what is complete
function decodeFramesLenient(b: Buffer): DecodedFrame[] {
  try {
    return decodeFrames(b);
  } catch {
    return [];
  }
}

function f(
  op: number,
  path: string,
  extra: Partial<Omit<DecodedFrame, 'arg' | 'data'>> & { arg?: Buffer | string; data?: Buffer | string } = {},
): DecodedFrame {
  return {
    op,
    mode: extra.mode ?? 0,
    uid: extra.uid ?? 0,
    gid: extra.gid ?? 0,
    mtime: extra.mtime ?? 1700000000,
    path,
    arg: typeof extra.arg === 'string' ? Buffer.from(extra.arg) : (extra.arg ?? Buffer.alloc(0)),
    data: typeof extra.data === 'string' ? Buffer.from(extra.data) : (extra.data ?? Buffer.alloc(0)),
  };
}

describe('frame encoding', () => {
  it('encodes the header little-endian with exact offsets', () => {
    const b = encodeFrame({ op: OP.FILE, mode: 0o755, uid: 1000, gid: 100, mtime: -2, path: 'a/b', arg: 'xy', dataLen: 5 });
    expect(b.length).toBe(40 + 3 + 2);
    expect(b.readUInt32LE(0)).toBe(2);
    expect(b.readUInt32LE(4)).toBe(0o755);
    expect(b.readUInt32LE(8)).toBe(1000);
    expect(b.readUInt32LE(12)).toBe(100);
    expect(b.readBigInt64LE(16)).toBe(-2n);
    expect(b.readUInt32LE(24)).toBe(3);
    expect(b.readUInt32LE(28)).toBe(2);
    expect(b.readBigUInt64LE(32)).toBe(5n);
    expect(b.subarray(40).toString()).toBe('a/bxy');
  });

  it('END frame is 40 bytes with op 255 and nothing else', () => {
    const e = endFrame();
    expect(e.length).toBe(40);
    expect(e.readUInt32LE(0)).toBe(255);
    expect(e.subarray(4).every((x) => x === 0)).toBe(true);
  });

  it('writeEnd writes exactly the END frame', async () => {
    const c = collector(true);
    await writeEnd(c.sink);
    expect(c.data().equals(endFrame())).toBe(true);
  });

  it('decodeFrames rejects a truncated stream', () => {
    const b = encodeFrame({ op: OP.FILE, path: 'x', dataLen: 10 });
    expect(() => decodeFrames(Buffer.concat([b, Buffer.from('abc')]))).toThrow(/truncated frame body/);
    expect(() => decodeFrames(b.subarray(0, 20))).toThrow(/truncated frame header/);
  });
});

describe('path helpers', () => {
  it('cleanRelative', () => {
    expect(cleanRelative('./a//b/')).toBe('a/b');
    expect(cleanRelative('./')).toBe('.');
    expect(cleanRelative('a/../b')).toBe('b');
    expect(cleanRelative('a/./b/../../c')).toBe('c');
    expect(cleanRelative('..')).toBeNull();
    expect(cleanRelative('a/../../b')).toBeNull();
    expect(cleanRelative('../evil')).toBeNull();
  });
  it('normalizeEntryName', () => {
    expect(normalizeEntryName('./usr//bin/')).toBe('usr/bin');
    expect(() => normalizeEntryName('/etc/passwd')).toThrow(
      'refusing to apply layer: entry "/etc/passwd" is an absolute path; the image is corrupt or malicious, do not use it',
    );
    expect(() => normalizeEntryName('a\0b')).toThrow(/NUL byte/);
  });
  it('parsePaxRecords keeps raw bytes', () => {
    const v = Buffer.from([0x01, 0x00, 0xff, 0x0a]);
    const body = Buffer.concat([Buffer.from(' SCHILY.xattr.security.capability='), v, Buffer.from('\n')]);
    const rec = Buffer.concat([Buffer.from(String(body.length + 2)), body]);
    const m = parsePaxRecords(Buffer.concat([rec, Buffer.from('12 path=abc\n')]));
    expect(m.get('SCHILY.xattr.security.capability')).toEqual(v);
    expect(m.get('path')?.toString()).toBe('abc');
  });
});

describe('writeLayerOps: regular layers', () => {
  it('emits exact frames for every entry type, diffID and size', async () => {
    const tar = await packTar([
      { name: './', type: 'directory', mode: 0o755, mtime: T },
      { name: './etc/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: T },
      { name: './etc/hosts', mode: 0o644, uid: 1, gid: 2, mtime: T, data: 'hello\n' },
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', mode: 0o777, mtime: T },
      { name: 'usr/bin/env', type: 'symlink', linkname: '../../bin/busybox', mode: 0o777, mtime: T },
      { name: 'etc/hosts2', type: 'link', linkname: './etc//hosts', mtime: T },
      { name: 'run/fifo', type: 'fifo', mode: 0o600, mtime: T },
      { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3, mtime: T },
      { name: 'dev/sda', type: 'block-device', mode: 0o660, devmajor: 8, devminor: 0, mtime: T },
      { name: 'bin/suid', mode: 0o4755, uid: 0, gid: 0, mtime: T, data: Buffer.alloc(3000, 7) },
      { name: 'empty', mode: 0o600, mtime: T, data: '' },
    ]);
    const { res, frames } = await run(tar, { chunk: 100 });
    const dev = (maj: number, min: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(maj, 0);
      b.writeUInt32LE(min, 4);
      return b;
    };
    expect(frames).toEqual([
      f(OP.MKDIR, '.', { mode: 0o755 }),
      f(OP.MKDIR, 'etc', { mode: 0o755 }),
      f(OP.FILE, 'etc/hosts', { mode: 0o644, uid: 1, gid: 2, data: 'hello\n' }),
      f(OP.SYMLINK, 'bin/sh', { mode: 0o777, arg: '/bin/busybox' }),
      f(OP.SYMLINK, 'usr/bin/env', { mode: 0o777, arg: '../../bin/busybox' }),
      f(OP.HARDLINK, 'etc/hosts2', { mode: 0o644, arg: 'etc/hosts' }),
      f(OP.DEVICE, 'run/fifo', { mode: S_IFIFO | 0o600, arg: dev(0, 0) }),
      f(OP.DEVICE, 'dev/null', { mode: S_IFCHR | 0o666, arg: dev(1, 3) }),
      f(OP.DEVICE, 'dev/sda', { mode: S_IFBLK | 0o660, arg: dev(8, 0) }),
      f(OP.FILE, 'bin/suid', { mode: 0o4755, data: Buffer.alloc(3000, 7) }),
      f(OP.FILE, 'empty', { mode: 0o600 }),
    ]);
    expect(res.diffId).toBe(sha256(tar));
    expect(res.tarBytes).toBe(tar.length);
    expect(res.size).toBe(6 + 3000);
  });

  it('the diffID covers trailing record padding after the end-of-archive marker', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: 'x' }]);
    const padded = Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))]);
    const { res, frames } = await run(padded, { chunk: 777 });
    expect(frames).toHaveLength(1);
    expect(res.diffId).toBe(sha256(padded));
    expect(res.tarBytes).toBe(padded.length);
  });

  it('never writes END itself', async () => {
    const { bytes } = await runPack([{ name: 'a', data: 'x', mtime: T }]);
    expect(decodeFrames(bytes).some((x) => x.op === OP.END)).toBe(false);
  });

  it('empty input is an empty layer', async () => {
    const { res, frames } = await run(Buffer.alloc(0));
    expect(frames).toEqual([]);
    expect(res.diffId).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const eoa = await run(END_OF_ARCHIVE);
    expect(eoa.frames).toEqual([]);
    expect(eoa.res.diffId).toBe(sha256(END_OF_ARCHIVE));
  });

  it('long names and link targets (pax / gnu)', async () => {
    const long = 'd'.repeat(120) + '/' + 'f'.repeat(150);
    const target = 'x/'.repeat(60) + 'target';
    const { frames } = await runPack([
      { name: long, mtime: T, data: 'L' },
      { name: 'ln', type: 'symlink', linkname: target, mtime: T },
      { name: 'hl', type: 'link', linkname: long, mtime: T },
    ]);
    expect(frames.map((x) => [x.op, x.path, x.arg.toString()])).toEqual([
      [OP.FILE, long, ''],
      [OP.SYMLINK, 'ln', target],
      [OP.HARDLINK, 'hl', long],
    ]);
  });

  it('non-ASCII names survive', async () => {
    const { frames } = await runPack([{ name: 'usr/share/ünïcødé ✓.txt', mtime: T, data: 'u' }]);
    expect(frames[0].path).toBe('usr/share/ünïcødé ✓.txt');
  });

  it('pax xattrs become XATTR frames right after their entry', async () => {
    const { frames } = await runPack([
      {
        name: 'bin/ping',
        mode: 0o755,
        mtime: T,
        data: 'P',
        pax: { 'SCHILY.xattr.user.comment': 'hi there', 'SCHILY.xattr.trusted.x': '' },
      } as PackEntry,
      { name: 'next', mtime: T, data: '' },
    ]);
    expect(frames).toEqual([
      f(OP.FILE, 'bin/ping', { mode: 0o755, data: 'P' }),
      f(OP.XATTR, 'bin/ping', { arg: 'user.comment\0hi there' }),
      f(OP.XATTR, 'bin/ping', { arg: 'trusted.x\0' }),
      f(OP.FILE, 'next', { mode: 0o644 }),
    ]);
  });

  it('binary xattr values (security.capability) are passed byte for byte', async () => {
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0xfe, 0x80, 0x0a, 0x00]);
    const tar = Buffer.concat([
      rawPax([
        ['SCHILY.xattr.security.capability', cap],
        ['uid', '3000000'],
        ['gid', '4000000'],
        ['mtime', '1700000123.987654'],
      ]),
      rawEntry({ name: 'bin/ping', mode: 0o755, mtime: 5 }, 'PING'),
      rawEntry({ name: 'after', mode: 0o600, uid: 7, mtime: 9 }, ''),
      END_OF_ARCHIVE,
    ]);
    const { frames, res } = await run(tar);
    expect(frames).toEqual([
      f(OP.FILE, 'bin/ping', { mode: 0o755, uid: 3000000, gid: 4000000, mtime: 1700000123, data: 'PING' }),
      f(OP.XATTR, 'bin/ping', {
        uid: 3000000,
        gid: 4000000,
        mtime: 1700000123,
        arg: Buffer.concat([Buffer.from('security.capability\0'), cap]),
      }),
      // pax records apply to one entry only
      f(OP.FILE, 'after', { mode: 0o600, uid: 7, mtime: 9 }),
    ]);
    expect(res.diffId).toBe(sha256(tar));
  });

  it('LIBARCHIVE.xattr records are decoded (url-encoded name, base64 value)', async () => {
    const tar = Buffer.concat([
      rawPax([['LIBARCHIVE.xattr.user.a%3Db', Buffer.from([0, 1, 2]).toString('base64')]]),
      rawEntry({ name: 'f', mtime: 1 }, ''),
      END_OF_ARCHIVE,
    ]);
    const { frames } = await run(tar);
    expect(frames[1]).toEqual(f(OP.XATTR, 'f', { mtime: 1, arg: Buffer.from([...Buffer.from('user.a=b\0'), 0, 1, 2]) }));
  });

  it('honours backpressure on a slow sink and keeps data intact', async () => {
    const big = Buffer.alloc(1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const tar = await packTar([{ name: 'big', mtime: T, data: big }]);
    const c = collector(true);
    let maxBuffered = 0;
    const origWrite = c.sink.write.bind(c.sink);
    c.sink.write = ((chunk: Buffer, ...rest: never[]) => {
      const r = origWrite(chunk, ...rest);
      maxBuffered = Math.max(maxBuffered, c.sink.writableLength);
      return r;
    }) as typeof c.sink.write;
    const res = await writeLayerOps(chunked(tar, 65536), c.sink);
    const frames = decodeFrames(c.data());
    expect(frames).toHaveLength(1);
    expect(frames[0].data.equals(big)).toBe(true);
    expect(res.size).toBe(big.length);
    // never more than one chunk queued beyond the high-water mark
    expect(maxBuffered).toBeLessThanOrEqual(65536 + 16 + 40);
  });
});

describe('writeLayerOps: whiteouts', () => {
  it('translates whiteouts and opaque markers', async () => {
    const { frames, notes } = await runPack([
      { name: 'etc/.wh.passwd', mtime: T, data: '' },
      { name: './.wh.top', mtime: T, data: '' },
      { name: 'var/lib/.wh..wh..opq', mtime: T, data: '' },
      { name: '.wh..wh..opq', mtime: T, data: '' },
      { name: 'gone/.wh.dir/', type: 'directory', mtime: T },
      { name: '.wh..wh.plnk/1234.5678', mtime: T, data: 'aufs' },
      { name: '.wh..wh.aufs', mtime: T, data: '' },
      { name: 'etc/keep', mtime: T, data: 'k' },
    ]);
    expect(frames).toEqual([
      f(OP.WHITEOUT, 'etc/passwd'),
      f(OP.WHITEOUT, 'top'),
      f(OP.OPAQUE, 'var/lib'),
      f(OP.OPAQUE, '.'),
      f(OP.WHITEOUT, 'gone/dir'),
      f(OP.FILE, 'etc/keep', { mode: 0o644, data: 'k' }),
    ]);
    expect(notes).toEqual([
      'skipping AUFS metadata entry ".wh..wh.plnk/1234.5678"',
      'skipping AUFS metadata entry ".wh..wh.aufs"',
    ]);
  });

  it('rejects whiteouts that name no file (.wh.., .wh.)', async () => {
    for (const name of ['a/.wh..', 'a/.wh...', '.wh.']) {
      const { err } = await rejects(await packTar([{ name, mtime: T, data: '' }]));
      expect(err.message).toBe(
        `refusing to apply layer: whiteout entry ${JSON.stringify(name)} names no file; the image is corrupt or malicious, do not use it`,
      );
    }
  });
});

describe('writeLayerOps: hostile layers', () => {
  const good: PackEntry = { name: 'ok', mtime: T, data: 'fine' };
  const cases: [string, PackEntry, string][] = [
    ['../evil', { name: '../evil', mtime: T, data: 'x' }, 'entry "../evil" points outside the layer root'],
    ['a/../../evil', { name: 'a/../../evil', mtime: T, data: 'x' }, 'entry "a/../../evil" points outside the layer root'],
    ['..', { name: '..', type: 'directory', mtime: T }, 'entry ".." points outside the layer root'],
    ['/etc/evil', { name: '/etc/evil', mtime: T, data: 'x' }, 'entry "/etc/evil" is an absolute path'],
    [
      'hardlink ../../etc/passwd',
      { name: 'pw', type: 'link', linkname: '../../etc/passwd', mtime: T },
      'hard link "pw" -> "../../etc/passwd" points outside the layer root',
    ],
    [
      'hardlink a/../../x',
      { name: 'd/pw', type: 'link', linkname: 'a/../../x', mtime: T },
      'hard link "d/pw" -> "a/../../x" points outside the layer root',
    ],
    [
      'relative symlink escaping',
      { name: 'a', type: 'symlink', linkname: '../../../etc', mtime: T },
      'symlink "a" -> "../../../etc" points outside the layer root',
    ],
    [
      'nested relative symlink escaping by one',
      { name: 'x/y/z', type: 'symlink', linkname: '../../../etc', mtime: T },
      'symlink "x/y/z" -> "../../../etc" points outside the layer root',
    ],
    [
      'symlink to ..',
      { name: 'up', type: 'symlink', linkname: '..', mtime: T },
      'symlink "up" -> ".." points outside the layer root',
    ],
    ['root as a file', { name: './', mtime: T, data: 'x' } as PackEntry, 'entry "./" is the layer root but not a directory'],
  ];
  for (const [title, entry, what] of cases) {
    it(`rejects ${title}, with no END and nothing after it`, async () => {
      const tar = await packTar([good, entry, { name: 'after', mtime: T, data: 'late' }]);
      const { err, frames } = await rejects(tar);
      expect(err.message).toBe(
        `refusing to apply layer: ${what}; the image is corrupt or malicious, do not use it`,
      );
      expect(err.exitCode).toBe(125);
      expect(frames).toEqual([f(OP.FILE, 'ok', { mode: 0o644, data: 'fine' })]);
    });
  }

  it('objectName does not repeat the noun', () => {
    expect(objectName()).toBe('layer');
    expect(objectName('sha256:ab')).toBe('layer sha256:ab');
    expect(objectName('layer 0123abcd')).toBe('layer 0123abcd');
    expect(objectName('layered', 'layer')).toBe('layer layered');
    expect(objectName(undefined, 'image archive')).toBe('image archive');
  });

  it('a label that already says "layer" is not doubled', async () => {
    const { err } = await rejects(await packTar([{ name: '../x', mtime: T, data: '' }]), 'layer 0123abcd');
    expect(err.message).toBe(
      'refusing to apply layer 0123abcd: entry "../x" points outside the layer root; the image is corrupt or malicious, do not use it',
    );
  });

  it('names the layer when a label is given', async () => {
    const { err } = await rejects(await packTar([{ name: '../x', mtime: T, data: '' }]), 'sha256:abcd');
    expect(err.message).toBe(
      'refusing to apply layer sha256:abcd: entry "../x" points outside the layer root; the image is corrupt or malicious, do not use it',
    );
  });

  it('allows absolute symlinks and relative ones that stay inside', async () => {
    const { frames } = await runPack([
      { name: 'etc/evil', type: 'symlink', linkname: '/etc/passwd', mtime: T },
      { name: 'root', type: 'symlink', linkname: '/', mtime: T },
      { name: 'x/y/z', type: 'symlink', linkname: '../../etc', mtime: T },
      { name: 'x/self', type: 'symlink', linkname: '.', mtime: T },
      { name: 'x/parent', type: 'symlink', linkname: '..', mtime: T },
      { name: 'hl', type: 'link', linkname: '/etc/evil', mtime: T },
      { name: 'x/../y', mtime: T, data: '' },
    ]);
    expect(frames.map((x) => [x.op, x.path, x.arg.toString()])).toEqual([
      [OP.SYMLINK, 'etc/evil', '/etc/passwd'],
      [OP.SYMLINK, 'root', '/'],
      [OP.SYMLINK, 'x/y/z', '../../etc'],
      [OP.SYMLINK, 'x/self', '.'],
      [OP.SYMLINK, 'x/parent', '..'],
      // absolute hard link targets resolve inside the root, as in Docker
      [OP.HARDLINK, 'hl', 'etc/evil'],
      [OP.FILE, 'y', ''],
    ]);
  });

  it('rejects an absolute name hidden in a pax path record', async () => {
    const tar = Buffer.concat([rawPax([['path', '/etc/shadow']]), rawEntry({ name: 'innocent' }, 'x'), END_OF_ARCHIVE]);
    const { err } = await rejects(tar);
    expect(err.message).toContain('entry "/etc/shadow" is an absolute path');
  });

  it('rejects empty and hard-link-to-root targets', async () => {
    const a = await rejects(Buffer.concat([rawEntry({ name: 's', type: '2', linkname: '' }), END_OF_ARCHIVE]));
    expect(a.err.message).toContain('symlink "s" has an invalid target');
    const b = await rejects(Buffer.concat([rawEntry({ name: 'h', type: '1', linkname: './' }), END_OF_ARCHIVE]));
    expect(b.err.message).toContain('hard link "h" -> "./" points outside the layer root');
  });

  it('rejects unsupported entry types (GNU sparse)', async () => {
    const { err } = await rejects(Buffer.concat([rawEntry({ name: 'sparse', type: 'S' }, 'abc'), END_OF_ARCHIVE]));
    expect(err.message).toBe(
      'layer has an unsupported tar entry type for "sparse"; re-export the image with a standard tar',
    );
  });
});

describe('writeLayerOps: broken input', () => {
  it('truncated archive', async () => {
    const tar = await packTar([
      { name: 'a', mtime: T, data: 'first' },
      { name: 'b', mtime: T, data: Buffer.alloc(5000, 1) },
    ]);
    const { err } = await rejects(tar.subarray(0, 512 + 512 + 512 + 2000), 'sha256:1234');
    expect(err.message).toBe('layer sha256:1234 is truncated or corrupt: Unexpected end of data');
  });

  it('truncated inside a header', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: 'first' }]);
    const { err } = await rejects(tar.subarray(0, 1024 + 100));
    expect(err.message).toBe('layer is truncated or corrupt: Unexpected end of data');
  });

  it('corrupt header checksum', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: 'x' }]);
    tar[0] ^= 0x55;
    const { err } = await rejects(tar);
    expect(err.message).toBe(
      'layer is truncated or corrupt: Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?',
    );
  });

  it('an input stream error aborts', async () => {
    const c = collector();
    const input = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(writeLayerOps(input, c.sink)).rejects.toThrow('layer is truncated or corrupt: connection reset');
  });

  it('a dead helper (sink error) aborts with a clear error', async () => {
    const sink = new Writable({
      highWaterMark: 1,
      write(_c, _e, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const tar = await packTar([{ name: 'a', mtime: T, data: Buffer.alloc(100000, 1) }]);
    const p = writeLayerOps(chunked(tar), sink);
    await expect(p).rejects.toBeInstanceOf(SkiffError);
    await expect(p).rejects.toThrow(/the storage helper stopped reading the layer stream/);
  });
});

describe('decompressIfNeeded', () => {
  async function collect(r: Readable): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const c of r) out.push(c as Buffer);
    return Buffer.concat(out);
  }

  it('detectCompression', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(detectCompression(Buffer.from('BZh91'))).toBe('bzip2');
    expect(detectCompression(Buffer.from('etc/'))).toBe('none');
    expect(detectCompression(Buffer.alloc(0))).toBe('none');
  });

  it('passes a plain tar through unchanged, even in 1-byte chunks', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: 'abc' }]);
    expect((await collect(await decompressIfNeeded(chunked(tar, 1)))).equals(tar)).toBe(true);
  });

  it('inflates gzip, and the diffID is the digest of the uncompressed tar', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: 'abc' }, { name: 'b/', type: 'directory', mtime: T }]);
    const gz = gzipSync(tar);
    const plain = await decompressIfNeeded(chunked(gz, 3));
    const c = collector();
    const res = await writeLayerOps(plain, c.sink);
    expect(res.diffId).toBe(sha256(tar));
    expect(res.diffId).not.toBe(sha256(gz));
    expect(decodeFrames(c.data()).map((x) => x.path)).toEqual(['a', 'b']);
  });

  it('corrupt gzip surfaces as a corrupt layer', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: Buffer.alloc(20000, 9) }]);
    const gz = gzipSync(tar);
    const bad = gz.subarray(0, gz.length - 30);
    const c = collector();
    await expect(writeLayerOps(await decompressIfNeeded(chunked(bad, 1000)), c.sink)).rejects.toThrow(
      /^layer is truncated or corrupt: unexpected end of file$/,
    );
  });

  it('empty input', async () => {
    expect((await collect(await decompressIfNeeded(Readable.from([])))).length).toBe(0);
  });

  // A tar holding z.txt ("hello zstd world\n"), compressed by zstd(1).
  const ZSTD_TAR = Buffer.from('KLUv/WQAJ/0CAMQDei50eHQAMDAwMDY0NDAwMDAwMjEAADAxMDUyMAAgMAB1c3RhciAgAHJvb2hlbGxvIHpzdGQgd29ybGQKDQDMBfAAZhB0GwEUACQMxcHCuj0AyQEG0GqAY+UyO4EiR/bWew==', 'base64');

  it('inflates zstd layers', async () => {
    const c = collector();
    const res = await writeLayerOps(await decompressIfNeeded(chunked(ZSTD_TAR, 7)), c.sink);
    const frames = decodeFrames(c.data());
    expect(frames.map((x) => x.path)).toEqual(['z.txt']);
    expect(res.size).toBeGreaterThan(0);
  });

  it('truncated zstd surfaces as a clear error', async () => {
    const c = collector();
    const bad = ZSTD_TAR.subarray(0, ZSTD_TAR.length - 10);
    await expect(writeLayerOps(await decompressIfNeeded(chunked(bad, 7), 'sha256:feed'), c.sink)).rejects.toThrow(/layer sha256:feed/);
  });

  it('rejects xz with a clear message', async () => {
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]);
    await expect(decompressIfNeeded(chunked(xz), 'sha256:feed')).rejects.toThrow(
      'xz-compressed layer sha256:feed is not supported; decompress it first or use gzip or zstd',
    );
  });
});
