import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../state/atomic';
import { withLock } from '../state/lock';
import { NameIndex } from '../state/name-index';
import { chainIds } from './chain-id';
import { SkiffError } from '../util/errors';
import { BlobStore } from './blob-store';
import { canonicalString, parseReference, tryParseReference } from './reference';

/** The parts of an OCI image config that skiff uses (the full config is kept verbatim). */
export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  config?: {
    Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; User?: string;
    Labels?: Record<string, string>; ExposedPorts?: Record<string, object>; Volumes?: Record<string, object>;
    StopSignal?: string;
    Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: object[];
}

/** One layer of an image: its blob as stored in blobs/ (compressed or not) and what it unpacks to. */
export interface LayerDescriptor { mediaType: string; digest: string; size: number; diffId: string }

/** One file per image: images/<hex>.json. The image ID is the config digest, as in Docker. */
export interface ImageRecord {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  chainIds: string[];
  /** the layer blobs, in order (absent on images stored before skiff kept blobs) */
  layers?: LayerDescriptor[];
  /** the image manifest in blobs/ that this image was pulled or pushed with, when there is one */
  manifestDigest?: string;
  size: number;
  loadedAt: string;
  config: ImageConfig;
}

/**
 * Where an image being recorded came from. It decides what a record of the same image that is
 * already there keeps: a pull's manifest and layer blobs are what the registry serves under the
 * digest the record names, so they replace the record's (push then sends the same manifest);
 * a load or import only fills in what the record lacks (it may hold a pulled manifest).
 */
export type ImageSource = 'pull' | 'load' | 'import';

/** Everything needed to record one image (ImageStore.commit). */
export interface ImageCommit {
  source: ImageSource;
  /** the config exactly as received or made: its sha256 is the image ID */
  configBytes: Uint8Array;
  /** the layer blobs, bottom first, each with the diff ID it unpacks to */
  layers: LayerDescriptor[];
  /** the unpacked layers' total size */
  size: number;
  /** the image manifest, when the image came with one (pull; an archive that kept it) */
  manifest?: { digest: string; bytes: Uint8Array };
  /** `name@sha256:…` to add to RepoDigests (pull) */
  repoDigest?: string;
  /** canonical tags to point at the image: moved away from whichever images have them */
  tags: string[];
  /** when the record is made (import passes its config's `created`), default now */
  recordedAt?: string;
}

const hexOf = (id: string) => id.replace(/^sha256:/, '');
const sameBlobs = (a: LayerDescriptor[], b: LayerDescriptor[]) => a.map((l) => l.digest).join() === b.map((l) => l.digest).join();

export class ImageStore {
  constructor(private readonly dataRoot: string, private readonly blobs = new BlobStore(dataRoot)) {}

  get dir(): string { return path.join(this.dataRoot, 'images'); }
  get lockFile(): string { return path.join(this.dataRoot, 'images.lock'); }

  private file(id: string): string { return path.join(this.dir, `${hexOf(id)}.json`); }

  get(id: string): ImageRecord | undefined { return readJson<ImageRecord>(this.file(id)); }

  list(): ImageRecord[] {
    let names: string[];
    try { names = fs.readdirSync(this.dir); } catch { return []; }
    return names.filter((n) => n.endsWith('.json')).flatMap((n) => {
      const rec = readJson<ImageRecord>(path.join(this.dir, n));
      return rec ? [rec] : [];
    });
  }

  /**
   * image-names/REFERENCE -> image ID (hex), for the references of repoTags and repoDigests: a
   * cache that spares `run IMAGE` reading every image record. Only a hint: a lookup trusts an
   * entry once the record it names holds the reference (a tag is on one image at a time), and
   * falls back to reading every record when not (an entry that is missing, stale after rmi or a
   * tag moved by an older skiff, or an image from before the cache), then fixes the entry. So
   * its writes need no lock and may fail: a miss costs what a lookup cost without it.
   */
  private get refs(): NameIndex { return new NameIndex(path.join(this.dataRoot, 'image-names')); }

  private remember(ref: string, id: string): void {
    try {
      fs.mkdirSync(this.refs.dir, { recursive: true, mode: 0o700 });
      this.refs.point(ref, hexOf(id));
    } catch { /* a hint only (a reference too long for a file name, a read-only store) */ }
  }

  /** The image the cache says holds `ref`, once its record confirms it. */
  private cached(ref: string, holds: (i: ImageRecord) => boolean): ImageRecord | undefined {
    const hex = this.refs.lookup(ref);
    if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) return undefined;
    let rec: ImageRecord | undefined;
    try { rec = this.get(hex); } catch { return undefined; }
    return rec && holds(rec) ? rec : undefined;
  }

  /** Callers hold lockFile. */
  save(rec: ImageRecord): void {
    fs.mkdirSync(this.dir, { recursive: true });
    writeJsonAtomic(this.file(rec.id), rec);
  }

  remove(id: string): void { fs.rmSync(this.file(id), { force: true }); }

  /**
   * THE way an image is recorded (pull, load, import): store its config and manifest blobs
   * (layer blobs are the caller's, stored as they were unpacked), then, under the images lock,
   * write its record (or update the one there, see ImageSource) and move the tags to it. The
   * record is written last, so a failure before leaves no image. Callers hold layers-in-use
   * from their first layer until this returns: until the record names the layers, only that
   * keeps a collector from taking them. Returns the record as written.
   */
  async commit(c: ImageCommit): Promise<ImageRecord> {
    const id = `sha256:${process.getBuiltinModule('node:crypto').createHash('sha256').update(c.configBytes).digest('hex')}`;
    this.blobs.writeBytes(id, c.configBytes);
    if (c.manifest) this.blobs.writeBytes(c.manifest.digest, c.manifest.bytes);
    const config = JSON.parse(Buffer.from(c.configBytes).toString('utf8')) as ImageConfig;
    return withLock(this.lockFile, () => {
      const existing = this.get(id);
      const rec: ImageRecord = existing ?? {
        id, repoTags: [], repoDigests: [], chainIds: chainIds(c.layers.map((l) => l.diffId)), layers: c.layers,
        size: c.size, loadedAt: c.recordedAt ?? new Date().toISOString(), config,
      };
      if (c.source === 'pull' || !rec.layers) rec.layers = c.layers;
      if (c.manifest && (c.source === 'pull' || (!rec.manifestDigest && sameBlobs(rec.layers, c.layers)))) {
        rec.manifestDigest = c.manifest.digest;
      }
      if (c.repoDigest && !rec.repoDigests.includes(c.repoDigest)) rec.repoDigests = [...rec.repoDigests, c.repoDigest];
      this.moveTags(rec, c.tags);
      return rec;
    });
  }

  /**
   * Point `tags` (canonical strings) at `image` and save it, taking them away from whichever
   * image had them (Docker moves a tag; the image that loses its last tag becomes dangling).
   * Callers hold lockFile.
   */
  moveTags(image: ImageRecord, tags: string[]): void {
    for (const other of this.list()) {
      if (other.id === image.id) continue;
      const kept = other.repoTags.filter((t) => !tags.includes(t));
      if (kept.length !== other.repoTags.length) this.save({ ...other, repoTags: kept });
    }
    image.repoTags = [...new Set([...image.repoTags, ...tags])];
    this.save(image);
    for (const ref of [...tags, ...image.repoDigests]) this.remember(ref, image.id);
  }

  /**
   * Find an image the way Docker does: a full or short (>= 1 hex char) ID, `sha256:` prefixed
   * or not, or a reference (tag or digest). Returns undefined when nothing matches.
   */
  find(nameOrId: string): ImageRecord | undefined {
    const idPrefix = nameOrId.replace(/^sha256:/, '');
    const looksLikeId = /^[0-9a-f]{1,64}$/.test(idPrefix);
    // Docker resolves a name first; only then an ID prefix.
    const ref = nameOrId.startsWith('sha256:') || idPrefix.length === 64 ? null : tryParseReference(nameOrId);
    if (ref) {
      const wanted = canonicalString(ref);
      const holds = ref.digest && !ref.tag ? (i: ImageRecord) => i.repoDigests.includes(wanted) : (i: ImageRecord) => i.repoTags.includes(wanted);
      const known = this.cached(wanted, holds);
      if (known) return known;
      const byName = this.list().find(holds);
      if (byName) {
        this.remember(wanted, byName.id);
        return byName;
      }
    } else if (!looksLikeId) {
      parseReference(nameOrId); // throws the reference error
    }
    if (!looksLikeId) return undefined;
    // image IDs are the records' file names: only the records they name are read
    let files: string[];
    try { files = fs.readdirSync(this.dir); } catch { return undefined; }
    const byId = files.filter((f) => f.endsWith('.json') && f.startsWith(idPrefix)).flatMap((f) => {
      const rec = this.get(f.slice(0, -'.json'.length));
      return rec ? [rec] : [];
    });
    if (byId.length > 1) {
      throw new SkiffError(`image ID prefix "${nameOrId}" is ambiguous: it matches ${byId.length} images; give more characters`);
    }
    return byId[0];
  }
}
