/**
 * A build context given as a tar archive (`skiff build - < ctx.tar`, `skiff build ctx.tar.gz`),
 * unpacked into a private temporary directory that the build then reads like any context
 * directory. Unpacking is done by Node as the user: the files are the user's, which is what a
 * COPY wants (COPY gives files to root, or to --chown, whatever the archive said). Nothing
 * may land outside the directory: names are cleaned and refused when they climb out, and no
 * entry is written through a symlink an earlier entry made. Devices and FIFOs are skipped.
 */
import { constants as fsc } from 'node:fs';
import { chmod, link, lstat, mkdir, open, rm, symlink } from 'node:fs/promises';
import { posix, join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { BuildError } from '../../errors';

/** Whether the first bytes of a stream are a tar archive (plain or gzip-compressed). */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Compressions Docker accepts for a context that we do not unpack: a clear refusal. */
export function unsupportedCompression(head: Buffer): string | undefined {
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return undefined;
}

/** A member name as a path inside the root, or undefined for the root itself; throws when it climbs out. */
function memberPath(name: string, label: string): string | undefined {
  const cleaned = posix.normalize(name.replace(/^\/+/, '')).replace(/\/$/, '');
  if (cleaned === '..' || cleaned.startsWith('../')) {
    throw new BuildError(`${label}: the entry ${name} points outside the build context`);
  }
  return cleaned === '' || cleaned === '.' ? undefined : cleaned;
}

class Unpacker {
  /** Directories known to be real directories of ours (not symlinks). */
  private readonly safeDirs = new Set<string>(['']);

  constructor(private readonly root: string, private readonly label: string) {}

  /** Makes the parents of `rel`, refusing to go through a symlink. */
  private async parents(rel: string): Promise<void> {
    const parts = rel.split('/').slice(0, -1);
    let dir = '';
    for (const part of parts) {
      dir = dir ? `${dir}/${part}` : part;
      if (this.safeDirs.has(dir)) continue;
      const abs = join(this.root, dir);
      const st = await lstat(abs).catch(() => undefined);
      if (!st) await mkdir(abs, { mode: 0o755 });
      else if (!st.isDirectory()) throw new BuildError(`${this.label}: the entry ${rel} is under ${dir}, which is not a directory`);
      this.safeDirs.add(dir);
    }
  }

  /** Removes what a repeated name left, unless both are directories. */
  private async replace(abs: string, dir: boolean): Promise<boolean> {
    const st = await lstat(abs).catch(() => undefined);
    if (!st) return false;
    if (dir && st.isDirectory()) return true;
    await rm(abs, { recursive: true, force: true });
    return false;
  }

  async entry(header: Header, body: Readable): Promise<void> {
    const rel = memberPath(header.name, this.label);
    const mode = (header.mode ?? 0o644) & 0o7777;
    if (rel === undefined) {
      body.resume();
      return;
    }
    await this.parents(rel);
    const abs = join(this.root, rel);
    switch (header.type) {
      case 'directory': {
        if (!(await this.replace(abs, true))) await mkdir(abs, { mode: 0o700 });
        // owner rwx kept so later entries can be written; the mode is set at the end
        this.pendingModes.push([abs, mode]);
        this.safeDirs.add(rel);
        body.resume();
        return;
      }
      case 'file':
      case 'contiguous-file': {
        await this.replace(abs, false);
        const fh = await open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) await fh.write(chunk as Buffer);
        } finally {
          await fh.close();
        }
        await chmod(abs, mode);
        return;
      }
      case 'symlink':
        await this.replace(abs, false);
        await symlink(header.linkname ?? '', abs);
        body.resume();
        return;
      case 'link': {
        const target = memberPath(header.linkname ?? '', this.label);
        if (target === undefined) throw new BuildError(`${this.label}: the hard link ${header.name} has no target`);
        // only through directories of ours: never a symlink an earlier entry made
        if (!this.safeDirs.has(posix.dirname(target) === '.' ? '' : posix.dirname(target))) {
          throw new BuildError(`${this.label}: the hard link ${header.name} points to ${header.linkname}, which is not an earlier file of the archive`);
        }
        await this.replace(abs, false);
        await link(join(this.root, target), abs).catch(() => {
          throw new BuildError(`${this.label}: the hard link ${header.name} points to ${header.linkname}, which is not an earlier file of the archive`);
        });
        body.resume();
        return;
      }
      default:
        // devices, FIFOs, pax headers: nothing a build context needs
        body.resume();
    }
  }

  readonly pendingModes: [string, number][] = [];

  async finish(): Promise<void> {
    // deepest first, so a read-only parent does not stop its children's chmod
    for (const [abs, mode] of this.pendingModes.reverse()) await chmod(abs, mode | 0o700);
  }
}

/**
 * Unpacks a tar stream (plain or gzip) into `root` (an empty directory). `head` is the
 * stream's first bytes, already read (they are part of the stream). Throws BuildError.
 */
export async function unpackTarContext(input: Readable, head: Buffer, root: string, label: string): Promise<void> {
  const other = unsupportedCompression(head);
  if (other) throw new BuildError(`${label}: ${other}-compressed build contexts are not supported; use a plain or gzip-compressed tar`);
  let tar: Readable = input;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    pipeline(input, gunzip, () => { /* errors surface on gunzip, which the extractor reads */ });
    tar = gunzip;
  }
  const unpacker = new Unpacker(root, label);
  const ex = tarExtract();
  let failure: unknown;
  ex.on('entry', (header, body, next) => {
    if (failure) {
      body.resume();
      next();
      return;
    }
    unpacker.entry(header, body as unknown as Readable).then(() => next(), (e) => {
      failure = e;
      body.resume();
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    tar.on('error', reject);
    tar.pipe(ex);
  }).catch((e: Error) => {
    failure ??= new BuildError(`${label}: not a valid tar archive: ${e.message}`);
  });
  if (failure) throw failure;
  await unpacker.finish();
}
