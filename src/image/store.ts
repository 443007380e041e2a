import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../state/atomic';
import { SkiffError } from '../util/errors';
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

const hexOf = (id: string) => id.replace(/^sha256:/, '');

export class ImageStore {
  constructor(private readonly dataRoot: string) {}

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

  /** Callers hold lockFile. */
  save(rec: ImageRecord): void {
    fs.mkdirSync(this.dir, { recursive: true });
    writeJsonAtomic(this.file(rec.id), rec);
  }

  remove(id: string): void { fs.rmSync(this.file(id), { force: true }); }

  /**
   * Find an image the way Docker does: a full or short (>= 1 hex char) ID, `sha256:` prefixed
   * or not, or a reference (tag or digest). Returns undefined when nothing matches.
   */
  find(nameOrId: string): ImageRecord | undefined {
    const images = this.list();
    const idPrefix = nameOrId.replace(/^sha256:/, '');
    const looksLikeId = /^[0-9a-f]{1,64}$/.test(idPrefix);
    // Docker resolves a name first; only then an ID prefix.
    const ref = nameOrId.startsWith('sha256:') || idPrefix.length === 64 ? null : tryParseReference(nameOrId);
    if (ref) {
      const wanted = canonicalString(ref);
      const byName = ref.digest && !ref.tag
        ? images.find((i) => i.repoDigests.includes(wanted))
        : images.find((i) => i.repoTags.includes(wanted));
      if (byName) return byName;
    } else if (!looksLikeId) {
      parseReference(nameOrId); // throws the reference error
    }
    if (!looksLikeId) return undefined;
    const byId = images.filter((i) => hexOf(i.id).startsWith(idPrefix));
    if (byId.length > 1) {
      throw new SkiffError(`image ID prefix "${nameOrId}" is ambiguous: it matches ${byId.length} images; give more characters`);
    }
    return byId[0];
  }
}
