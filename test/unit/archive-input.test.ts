/**
 * What stays of the Node-side layer code (src/image/archive-input.ts): path cleaning, how objects
 * are named in messages, and compression sniffing/decompression (image archives). Parsing and
 * applying layers is the helper's job now: test/unit/apply-tar.test.ts.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cleanRelative, decompressIfNeeded, detectCompression, objectName } from '../../src/image/archive-input';
import { chunked, packTar } from './image-tar-fixtures';

const T = new Date(1700000000 * 1000);

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

  it('objectName does not repeat the noun', () => {
    expect(objectName()).toBe('layer');
    expect(objectName('sha256:ab')).toBe('layer sha256:ab');
    expect(objectName('layer 0123abcd')).toBe('layer 0123abcd');
    expect(objectName('layered', 'layer')).toBe('layer layered');
    expect(objectName(undefined, 'image archive')).toBe('image archive');
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

  it('inflates gzip, also concatenated members fed in small chunks', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: 'abc' }, { name: 'b/', type: 'directory', mtime: T }]);
    expect((await collect(await decompressIfNeeded(chunked(gzipSync(tar), 3)))).equals(tar)).toBe(true);
    const two = Buffer.concat([gzipSync(tar.subarray(0, 700)), gzipSync(tar.subarray(700))]);
    expect((await collect(await decompressIfNeeded(chunked(two, 5)))).equals(tar)).toBe(true);
  });

  it('corrupt gzip fails the stream', async () => {
    const tar = await packTar([{ name: 'a', mtime: T, data: Buffer.alloc(20000, 9) }]);
    const gz = gzipSync(tar);
    const bad = gz.subarray(0, gz.length - 30);
    await expect(collect(await decompressIfNeeded(chunked(bad, 1000)))).rejects.toThrow(/unexpected end of file/);
  });

  it('empty input', async () => {
    expect((await collect(await decompressIfNeeded(Readable.from([])))).length).toBe(0);
  });

  // A tar holding z.txt ("hello zstd world\n"), compressed by zstd(1).
  const ZSTD_TAR = Buffer.from('KLUv/WQAJ/0CAMQDei50eHQAMDAwMDY0NDAwMDAwMjEAADAxMDUyMAAgMAB1c3RhciAgAHJvb2hlbGxvIHpzdGQgd29ybGQKDQDMBfAAZhB0GwEUACQMxcHCuj0AyQEG0GqAY+UyO4EiR/bWew==', 'base64');

  it('inflates zstd', async () => {
    const tar = await collect(await decompressIfNeeded(chunked(ZSTD_TAR, 7)));
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(0, 5).toString()).toBe('z.txt');
    expect(tar.subarray(512, 512 + 17).toString()).toBe('hello zstd world\n');
  });

  it('truncated zstd fails the stream with a clear error', async () => {
    const bad = ZSTD_TAR.subarray(0, ZSTD_TAR.length - 10);
    await expect(collect(await decompressIfNeeded(chunked(bad, 7), 'sha256:feed'))).rejects.toThrow(
      /^layer sha256:feed: (bad|truncated) zstd data/,
    );
  });

  it('rejects xz and bzip2 with a clear message', async () => {
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]);
    await expect(decompressIfNeeded(chunked(xz), 'sha256:feed')).rejects.toThrow(
      'xz-compressed layer sha256:feed is not supported; decompress it first or use gzip or zstd',
    );
    await expect(decompressIfNeeded(chunked(Buffer.from('BZh91AY&SY')), 'x.tar', 'image archive')).rejects.toThrow(
      'bzip2-compressed image archive x.tar is not supported; decompress it first or use gzip or zstd',
    );
  });
});
