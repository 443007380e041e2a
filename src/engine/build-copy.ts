import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { posix as posixPath } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack, type Pack } from 'tar-stream';
import type { FileDigests } from '../build/cache';
import { listTree, type ContextFile, type ContextFiles, type CopySource, type PathMatcher } from '../build/context';
import { SkiffError } from '../util/errors';

/**
 * COPY and ADD from the build context: the sources become one tar, made here, whose entries
 * carry the owners and modes the layer must have (--chown, else 0:0; --chmod, else the
 * source's), named below the deepest directory that already exists at the destination; the
 * step's root applies it (BuildStepRoot.tarIn, in the user namespace). While the tar is
 * planned, every input is digested (name, type, mode, owner, content) for the cache key.
 */

/** One entry of the tar to apply: a directory, a file (from the host), a symlink, or bytes. */
export interface PlannedEntry {
  name: string;
  type: 'directory' | 'file' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** file: where to read it */
  source?: string;
  /** file: its content when it is not a host file (heredoc, download) */
  data?: Buffer;
  size?: number;
  linkname?: string;
}

export interface CopyOwner { uid: number; gid: number }

/**
 * The destination as Docker reads it: relative to WORKDIR; a directory when it ends in `/`,
 * when there are several sources, or when the image has a directory there.
 */
export function copyDestination(dest: string, workdir: string | undefined): { abs: string; trailingSlash: boolean } {
  const trailingSlash = dest.endsWith('/') || dest.endsWith('/.') || dest === '.';
  const abs = path.posix.resolve('/', workdir || '/', dest);
  return { abs, trailingSlash };
}

/** Digests what goes into the layer, in order: the cache key's part for the step's inputs. */
export class InputDigest {
  private readonly hash = createHash('sha256');
  add(e: PlannedEntry, content: string): void {
    this.hash.update(`${e.name}\0${e.type}\0${e.mode.toString(8)}\0${e.uid}:${e.gid}\0${content}\n`);
  }
  hex(): string { return this.hash.digest('hex'); }
}

/** How one context entry is planned: under NAME, owned by OWNER, CHMOD over its mode. */
function planEntry(f: ContextFile, name: string, owner: CopyOwner, chmod: number | undefined, digests: FileDigests,
  digest: InputDigest, out: PlannedEntry[]): void {
  const base = { name, mode: chmod ?? f.mode, uid: owner.uid, gid: owner.gid, mtime: new Date(f.mtimeMs) };
  const stamp = `${f.uid}:${f.gid}`; // the source's owner: part of the key (the "owner")
  if (f.type === 'dir') {
    const e: PlannedEntry = { ...base, type: 'directory' };
    out.push(e);
    digest.add(e, stamp);
  } else if (f.type === 'symlink') {
    const e: PlannedEntry = { ...base, type: 'symlink', mode: 0o777, linkname: f.linkTarget };
    out.push(e);
    digest.add(e, `${stamp}\0${e.linkname}`);
  } else if (f.type === 'file') {
    const e: PlannedEntry = { ...base, type: 'file', source: f.abs, size: f.size };
    out.push(e);
    digest.add(e, `${stamp}\0${digests.digest(f.abs, fs.lstatSync(f.abs, { bigint: true }))}`);
  }
  // sockets, fifos and devices in a context are not copied (as BuildKit's context transfer)
}

/**
 * Plan one resolved COPY source below NAME ("" for a directory: its contents go to the
 * destination itself), what .dockerignore and --exclude leave out skipped.
 */
export async function planContextSource(ctx: ContextFiles, src: CopySource, name: string, owner: CopyOwner, chmod: number | undefined,
  digests: FileDigests, digest: InputDigest, out: PlannedEntry[], exclude?: PathMatcher): Promise<void> {
  if (src.entry.type !== 'dir') {
    planEntry(src.entry, name, owner, chmod, digests, digest, out);
    return;
  }
  if (name) planEntry(src.entry, name, owner, chmod, digests, digest, out);
  for (const f of await listTree(ctx, src.entry.path, exclude)) {
    const rel = src.entry.path === '.' ? f.path : posixPath.relative(src.entry.path, f.path);
    planEntry(f, name ? `${name}/${rel}` : rel, owner, chmod, digests, digest, out);
  }
}

/** The planned entries as a tar stream (files read as it is consumed). */
export function packEntries(entries: PlannedEntry[]): Readable {
  const pack = tarPack();
  void (async () => {
    try {
      for (const e of entries) await addEntry(pack, e);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack as unknown as Readable;
}

async function addEntry(pack: Pack, e: PlannedEntry): Promise<void> {
  const header: Parameters<Pack["entry"]>[0] = { name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
  if (e.type === 'symlink') header.linkname = e.linkname;
  if (e.type !== 'file') {
    await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
    return;
  }
  if (e.data) {
    await new Promise<void>((resolve, reject) => pack.entry({ ...header, size: e.data!.length }, e.data!, (err) => (err ? reject(err) : resolve())));
    return;
  }
  let done!: () => void, fail!: (err: Error) => void;
  const written = new Promise<void>((resolve, reject) => { done = resolve; fail = reject; });
  const sink = pack.entry({ ...header, size: e.size }, (err) => (err ? fail(err) : done()));
  await pipeline(fs.createReadStream(e.source!), sink);
  await written;
}

/**
 * Rewrite a tar stream's entries on the way (COPY --from, ADD of an archive): names below
 * PREFIX, and the owner and mode when given. Entries whose name would leave the prefix are
 * dropped (the helper refuses them anyway).
 */
export function retarEntries(input: Readable, prefix: string, owner: CopyOwner | undefined, chmod: number | undefined): Readable {
  const extract = tarExtract();
  const pack = tarPack();
  extract.on('entry', (header, stream, next) => {
    const clean = path.posix.normalize(header.name).replace(/^\/+/, '').replace(/\/+$/, '');
    if (clean === '..' || clean.startsWith('../')) { stream.resume(); stream.on('end', next); return; }
    const h: Parameters<Pack["entry"]>[0] & { uname?: string; gname?: string } = { ...header, name: prefix ? (clean === '.' ? prefix : `${prefix}/${clean}`) : clean };
    if (h.name === '' || h.name === '.') { stream.resume(); stream.on('end', next); return; }
    if (owner) { h.uid = owner.uid; h.gid = owner.gid; delete h.uname; delete h.gname; }
    if (chmod !== undefined && h.type !== 'symlink' && h.type !== 'link') h.mode = chmod;
    if (h.type === 'link' && h.linkname) h.linkname = prefix ? `${prefix}/${path.posix.normalize(h.linkname).replace(/^\/+/, '')}` : h.linkname;
    stream.pipe(pack.entry(h, (err) => (err ? extract.destroy(err) : next())));
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (e) => pack.destroy(e));
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract);
  const out = new PassThrough();
  pack.on('error', (e) => out.destroy(e));
  return pack.pipe(out);
}

/** `--chmod=0755`: octal only (as BuildKit before symbolic modes). */
export function parseChmod(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-7]{3,4}$/.test(value)) throw new SkiffError(`invalid chmod parameter ${value}: use an octal mode such as 0755`, 1);
  return parseInt(value, 8);
}
