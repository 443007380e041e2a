/**
 * In-memory tar builders for the image unit tests (apply-tar, archive, archive-input).
 * `packTar` uses tar-stream's packer; `raw*` build bytes by hand so tests can express what a
 * well-behaved packer would refuse to write (binary pax values, odd type flags, bad checksums).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';

export type PackEntry = Parameters<ReturnType<typeof pack>['entry']>[0] & { data?: Buffer | string };

export async function packTar(entries: PackEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c) => {
      chunks.push(c as Buffer);
    });
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const e of entries) {
    const { data, ...header } = e;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (data !== undefined) p.entry(header, data, cb);
      else p.entry(header, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function octal(b: Buffer, off: number, len: number, n: number): void {
  b.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

export interface RawHeader {
  name: string;
  type?: string; // one typeflag character, default '0'
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** ustar prefix field (the directories of a long name) */
  prefix?: string;
  /** header format: POSIX ustar (default), GNU ("ustar  \0") or V7 (no magic at all) */
  format?: 'ustar' | 'gnu' | 'v7';
}

export function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode ?? 0o644);
  octal(b, 108, 8, h.uid ?? 0);
  octal(b, 116, 8, h.gid ?? 0);
  octal(b, 124, 12, h.size ?? 0);
  octal(b, 136, 12, h.mtime ?? 0);
  b.fill(0x20, 148, 156);
  b.write(h.type ?? '0', 156, 1, 'latin1');
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  const format = h.format ?? 'ustar';
  if (format === 'ustar') {
    b.write('ustar\0', 257, 'latin1');
    b.write('00', 263, 'latin1');
  } else if (format === 'gnu') {
    b.write('ustar  \0', 257, 'latin1');
  }
  if (format !== 'v7') {
    octal(b, 329, 8, h.devmajor ?? 0);
    octal(b, 337, 8, h.devminor ?? 0);
  }
  if (h.prefix) b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** Zero-pad to a whole number of 512-byte blocks, as tar stores entry data. */
export function pad(data: Buffer): Buffer {
  const rem = data.length % 512;
  return rem ? Buffer.concat([data, Buffer.alloc(512 - rem)]) : data;
}

export function rawEntry(h: RawHeader, data: Buffer | string = Buffer.alloc(0)): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([rawHeader({ ...h, size: h.size ?? d.length }), pad(d)]);
}

/** A pax extended header ('x', or 'g' for a global one) whose values are raw bytes. */
export function rawPax(records: [string, Buffer | string][], type: 'x' | 'g' = 'x'): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of records) {
    const body = Buffer.concat([Buffer.from(` ${k}=`), typeof v === 'string' ? Buffer.from(v) : v, Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.concat([Buffer.from(String(len)), body]));
  }
  const data = Buffer.concat(parts);
  return rawEntry({ name: type === 'g' ? 'GlobalHead' : 'PaxHeader', type }, data);
}

/**
 * A GNU long-name ('L') or long-link-name ('K') entry: its data is the NUL-terminated name of
 * the entry that follows, as GNU tar writes it for names over 100 bytes.
 */
export function rawGnuLong(type: 'L' | 'K', name: string): Buffer {
  return rawEntry({ name: '././@LongLink', type, format: 'gnu' }, Buffer.concat([Buffer.from(name), Buffer.from([0])]));
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

export function sha256(b: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

/** A Readable that yields `buf` in chunks of `chunk` bytes. */
export function chunked(buf: Buffer, chunk = 4096): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts, { objectMode: false });
}
