import fs from 'node:fs';
import path from 'node:path';
// node:crypto is taken with process.getBuiltinModule where it is used: every command loads this
// module through the engine, and ps or images, which never hash, should not pay for crypto.
import { writeFileAtomic } from '../state/atomic';
import { SkiffError } from '../util/errors';

/**
 * Content-addressed blobs: blobs/sha256/<hex>. Holds image configs, manifests and the layer
 * blobs exactly as they were pulled or loaded (compressed or not), so `push` and `save` send the
 * same bytes and digests the image came with. A blob file only ever appears by rename after its
 * digest was checked, so a file present under a digest is that digest's content.
 */
export class BlobStore {
  constructor(private readonly dataRoot: string) {}

  get dir(): string { return path.join(this.dataRoot, 'blobs', 'sha256'); }

  path(digest: string): string {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new SkiffError(`unsupported blob digest ${digest}: only sha256 is supported`);
    return path.join(this.dir, digest.slice(7));
  }

  has(digest: string): boolean { return fs.existsSync(this.path(digest)); }

  read(digest: string): Buffer { return fs.readFileSync(this.path(digest)); }

  size(digest: string): number | undefined {
    try { return fs.statSync(this.path(digest)).size; } catch { return undefined; }
  }

  /** Store small metadata (config, manifest) after checking it against its digest. */
  writeBytes(digest: string, bytes: Uint8Array): void {
    const actual = `sha256:${process.getBuiltinModule('node:crypto').createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) throw new SkiffError(`blob ${digest}: content has digest ${actual}`);
    if (this.has(digest)) return;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(this.path(digest), bytes, 0o644);
  }

  /**
   * Move a file whose sha256 the caller computed while writing it into the store. The file must
   * be on the same filesystem (under dataRoot/tmp). A second writer of the same digest simply
   * replaces identical content.
   */
  adopt(file: string, digest: string): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(file, 0o644);
    fs.renameSync(file, this.path(digest));
  }

  /** Every blob digest present. */
  list(): string[] {
    let names: string[] = [];
    try { names = fs.readdirSync(this.dir); } catch { return []; }
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  remove(digest: string): void { fs.rmSync(this.path(digest), { force: true }); }
}
