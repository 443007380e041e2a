import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../state/atomic';

/**
 * The build cache. A step that makes a layer (RUN, COPY, ADD, a WORKDIR that creates its
 * directory) is looked up by a key that chains everything its result depends on: the key of
 * the state before it (which starts from the base image's ID and takes in every earlier
 * instruction, metadata ones included, so an ENV change misses every later RUN), the
 * instruction as expanded, what a RUN sees of the build args, and a digest of every input file
 * (name, content, mode, owner). A hit names a layer already in the layer store; the executor
 * checks it is still there (rmi and prune may have collected it) before using it, so a hit
 * creates no container and runs no command.
 *
 * Stored as one small JSON file per key under DATA_ROOT/build-cache/, written atomically: two
 * builds racing on one step both write the same answer.
 */

/** What a cached step produced: the layer as recorded in the image (blob) and unpacked (size). */
export interface CachedLayer {
  diffId: string;
  /** the layer blob in blobs/ (uncompressed tar: digest = diffId) */
  digest: string;
  mediaType: string;
  /** the blob's bytes */
  blobSize: number;
  /** the unpacked layer's size, for the image record */
  size: number;
  /** false: the step changed nothing, no layer (history's empty_layer) */
  layer: boolean;
  /** when the step ran: its history time, so a cached rebuild makes the same image */
  created?: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The key of a step: the parent key and the step's parts, each length-prefixed so no two splits collide. */
export function stepKey(parent: string, parts: readonly string[]): string {
  return sha256([parent, ...parts].map((p) => `${p.length}:${p}`).join('\n'));
}

/** The first key of a stage: its base image (an ID) or scratch. */
export function baseKey(imageId: string | undefined): string {
  return stepKey('', [imageId ?? 'scratch']);
}

export class BuildCache {
  constructor(private readonly dataRoot: string) {}

  get dir(): string { return path.join(this.dataRoot, 'build-cache'); }

  private file(key: string): string { return path.join(this.dir, `${key}.json`); }

  get(key: string): CachedLayer | undefined {
    return readJson<CachedLayer>(this.file(key));
  }

  put(key: string, value: CachedLayer): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Not durable: a cache entry lost in a crash costs a rebuild of the step, nothing more.
    writeJsonAtomic(this.file(key), value, false);
  }
}

/** What a file digest is remembered by: a change to any of these means the content may have changed. */
interface StatStamp { size: number; mtimeNs: string; ctimeNs: string; ino: number; digest: string }

/**
 * Content digests of context files, remembered by (path, inode, size, mtime, ctime) across
 * builds, so a rebuild of a large context hashes only what changed: ctime cannot be set by the
 * user, so an edit always shows. Kept in DATA_ROOT/build-cache/files.json.
 */
export class FileDigests {
  private stamps: Record<string, StatStamp>;
  private dirty = false;

  constructor(private readonly dataRoot: string) {
    this.stamps = readJson<Record<string, StatStamp>>(this.file) ?? {};
  }

  private get file(): string { return path.join(this.dataRoot, 'build-cache', 'files.json'); }

  /** The sha256 (hex) of the regular file at `abs`, whose lstat (bigint) is `st`. */
  digest(abs: string, st: fs.BigIntStats): string {
    const known = this.stamps[abs];
    const mtimeNs = String(st.mtimeNs), ctimeNs = String(st.ctimeNs);
    if (known && known.size === Number(st.size) && known.mtimeNs === mtimeNs && known.ctimeNs === ctimeNs && known.ino === Number(st.ino)) {
      return known.digest;
    }
    const hash = createHash('sha256');
    const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(fd);
    }
    const digest = hash.digest('hex');
    this.stamps[abs] = { size: Number(st.size), mtimeNs, ctimeNs, ino: Number(st.ino), digest };
    this.dirty = true;
    return digest;
  }

  /** Write what was learnt (once, at the end of a build). */
  save(): void {
    if (!this.dirty) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeJsonAtomic(this.file, this.stamps, false);
    this.dirty = false;
  }
}
