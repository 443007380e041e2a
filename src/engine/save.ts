/**
 * `skiff save`: images to a tar stream, written entry by entry (blobs are streamed from the
 * blob store, never held in memory).
 *
 * docker-archive (default) is the layout Docker 25+ writes: an OCI image layout (oci-layout,
 * index.json, blobs/sha256/...) plus manifest.json and repositories for the older loaders, so
 * both the legacy `docker load` and the containerd-based one read it. oci-archive is the plain
 * OCI layout, tags in org.opencontainers.image.ref.name annotations.
 *
 * The manifest written is imageManifest()'s, byte for byte (the one the image was pulled with
 * when it is stored), so a save/load/push round trip keeps the manifest digest.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { pack as tarPack, type Pack } from 'tar-stream';
import { imageManifest, requireLayerBlobs, type ManifestBlob } from '../image/manifest';
import { MEDIA_TYPES, layerCompression, layerMediaType } from '../image/media-types';
import { canonicalString, familiarName, fullName, parseReference, tryParseReference } from '../image/reference';
import type { ImageRecord } from '../image/store';
import { NotFoundError } from '../errors';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';
import { familiarRef } from './tag';

export type SaveFormat = 'docker-archive' | 'oci-archive';

export interface SaveSelection { image: ImageRecord; tags: string[] }

/** Does the user's name carry a tag or digest (else Docker saves every tag of the repository)? */
function hasTagOrDigest(name: string): boolean {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') || name.includes('@');
}

/**
 * Resolve the names as Docker's save does (image/tarexport parseNames): `repo` alone means every
 * tag of that repository, `repo:tag` that tag, an ID or a digest reference the image without
 * tags. The same image named twice is saved once with all the tags asked for.
 */
export function selectImages(engine: Engine, names: string[]): SaveSelection[] {
  const all = engine.images.list();
  const byId = new Map<string, SaveSelection>();
  const add = (image: ImageRecord, tags: string[]) => {
    const sel = byId.get(image.id) ?? { image, tags: [] };
    for (const t of tags) if (!sel.tags.includes(t)) sel.tags.push(t);
    byId.set(image.id, sel);
  };
  for (const name of names) {
    if (!hasTagOrDigest(name) && !/^(sha256:)?[0-9a-f]{64}$/.test(name)) {
      const ref = parseReference(name);
      const repo = fullName(ref);
      const tagged = all.flatMap((i) => i.repoTags.filter((t) => fullName(parseReference(t)) === repo).map((t) => [i, t] as const));
      if (tagged.length) {
        for (const [i, t] of tagged) add(i, [t]);
        continue;
      }
    }
    const image = engine.images.find(name);
    if (!image) throw new NotFoundError(`No such image: ${name}`);
    // found by its tag: save that tag; by ID or digest: no tag
    const ref = tryParseReference(name);
    const tag = ref?.tag !== undefined && ref.digest === undefined ? canonicalString(ref) : undefined;
    add(image, tag && image.repoTags.includes(tag) ? [tag] : []);
  }
  return [...byId.values()];
}

interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string>; platform?: object }

const EPOCH = new Date(0);

/** Write the archive of `selection` to `out`. */
export async function writeImageArchive(engine: Engine, selection: SaveSelection[], format: SaveFormat, out: Writable): Promise<void> {
  // Check everything first: no half-written archive because a blob is missing.
  const plans = selection.map(({ image, tags }) => {
    const layers = requireLayerBlobs(engine.blobs, image);
    const stored = imageManifest(engine.blobs, image);
    const manifest = format === 'oci-archive' ? ociManifest(stored) : stored;
    const configSize = engine.blobs.size(image.id);
    if (configSize === undefined) throw new SkiffError(`image ${image.id.slice(7, 19)}: its config is not in the store; pull or load the image again`);
    for (const l of layers) {
      const size = engine.blobs.size(l.digest);
      if (size !== l.size) throw new SkiffError(`image ${image.id.slice(7, 19)}: layer blob ${l.digest} has ${size} bytes, ${l.size} expected; the store is damaged, pull or load the image again`);
    }
    return { image, tags, layers, manifest };
  });

  const pack = tarPack();
  const written = pipeline(pack, out);
  written.catch(() => undefined); // reported below, after the entries stop
  const seen = new Set<string>();
  try {
    await addDir(pack, 'blobs/');
    await addDir(pack, 'blobs/sha256/');
    for (const p of plans) {
      for (const digest of [...p.layers.map((l) => l.digest), p.image.id]) {
        if (seen.has(digest)) continue;
        seen.add(digest);
        await addFile(pack, blobName(digest), engine.blobs.path(digest), engine.blobs.size(digest)!);
      }
      if (!seen.has(p.manifest.digest)) {
        seen.add(p.manifest.digest);
        await addBytes(pack, blobName(p.manifest.digest), p.manifest.bytes);
      }
    }
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: plans.flatMap((p) => indexEntries(p.manifest, p.image, p.tags, format)),
    };
    await addBytes(pack, 'index.json', Buffer.from(JSON.stringify(index)));
    if (format === 'docker-archive') {
      const manifestJson = plans.map((p) => ({
        Config: blobName(p.image.id),
        RepoTags: p.tags.length ? p.tags.map(familiarRef) : null,
        Layers: p.layers.map((l) => blobName(l.digest)),
      }));
      await addBytes(pack, 'manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    }
    await addBytes(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (format === 'docker-archive') {
      const repositories = legacyRepositories(plans);
      if (repositories) await addBytes(pack, 'repositories', Buffer.from(JSON.stringify(repositories)));
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    await written.catch(() => undefined);
    throw e;
  }
  try {
    await written;
  } catch (e) {
    throw new SkiffError(`cannot write the archive: ${(e as Error).message}`, 1);
  }
}

/**
 * An OCI image layout holds OCI manifests (skopeo and Podman skip Docker schema2 entries), so a
 * Docker manifest is rewritten with the OCI media types of the same blobs: the image ID (config
 * digest) and layer digests stay, only the manifest digest changes, as with Podman's save.
 */
export function ociManifest(m: ManifestBlob): ManifestBlob {
  if (m.mediaType !== MEDIA_TYPES.dockerManifest) return m;
  const docker = JSON.parse(m.bytes.toString('utf8')) as {
    config: { digest: string; size: number }; layers: { mediaType: string; digest: string; size: number; urls?: string[] }[];
  };
  const oci = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: docker.config.digest, size: docker.config.size },
    layers: docker.layers.map((l) => ({
      mediaType: l.mediaType === MEDIA_TYPES.dockerForeignLayerGzip ? MEDIA_TYPES.ociLayerNondistributableGzip
        : layerMediaType(true, layerCompression(l.mediaType) ?? 'none'),
      digest: l.digest,
      size: l.size,
      ...(l.urls ? { urls: l.urls } : {}),
    })),
  };
  const bytes = Buffer.from(JSON.stringify(oci));
  return { mediaType: MEDIA_TYPES.ociManifest, digest: `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

function blobName(digest: string): string {
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

/**
 * One index entry per tag (an untagged image gets one without a name). Docker names the image
 * with containerd's annotation and the tag alone in the OCI ref name; a plain OCI archive puts
 * the whole name in the ref name, as Podman and skopeo do.
 */
function indexEntries(manifest: ManifestBlob, image: ImageRecord, tags: string[], format: SaveFormat): Descriptor[] {
  const base: Descriptor = { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length };
  if (format === 'oci-archive') {
    const cfg = image.config as { os?: string; architecture?: string; variant?: string };
    if (cfg.os && cfg.architecture) {
      base.platform = { architecture: cfg.architecture, os: cfg.os, ...(cfg.variant ? { variant: cfg.variant } : {}) };
    }
  }
  if (tags.length === 0) return [base];
  return tags.map((t) => ({
    ...base,
    annotations: {
      'io.containerd.image.name': t,
      'org.opencontainers.image.ref.name': format === 'oci-archive' ? t : parseReference(t).tag!,
    },
  }));
}

/** The pre-1.10 `repositories` file: {"busybox": {"latest": "<top layer>"}}. */
function legacyRepositories(plans: { tags: string[]; layers: { digest: string }[] }[]): Record<string, Record<string, string>> | undefined {
  const repos: Record<string, Record<string, string>> = {};
  for (const p of plans) {
    const top = p.layers.at(-1);
    if (!top) continue;
    for (const t of p.tags) {
      const ref = parseReference(t);
      (repos[familiarName(ref)] ??= {})[ref.tag!] = top.digest.slice('sha256:'.length);
    }
  }
  return Object.keys(repos).length ? repos : undefined;
}

function header(name: string, size: number, type: 'file' | 'directory' = 'file') {
  return { name, size, type, mode: type === 'directory' ? 0o755 : 0o644, mtime: EPOCH, uid: 0, gid: 0 } as const;
}

function addDir(pack: Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header(name, 0, 'directory'), (e) => (e ? reject(e) : resolve())));
}

function addBytes(pack: Pack, name: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header(name, bytes.length), bytes, (e) => (e ? reject(e) : resolve())));
}

async function addFile(pack: Pack, name: string, file: string, size: number): Promise<void> {
  let finish: (e?: Error | null) => void = () => undefined;
  const added = new Promise<void>((resolve, reject) => { finish = (e) => (e ? reject(e) : resolve()); });
  await pipeline(fs.createReadStream(file), pack.entry(header(name, size), (e) => finish(e)));
  await added;
}

/** `save` to a stream (STDOUT). */
export async function saveToStream(engine: Engine, names: string[], format: SaveFormat, out: Writable): Promise<void> {
  await writeImageArchive(engine, selectImages(engine, names), format, out);
}

/**
 * `save -o FILE`: written to a temporary file beside it and renamed when complete (as Docker's
 * CLI), so FILE is never a partial archive.
 */
export async function saveToFile(engine: Engine, names: string[], format: SaveFormat, file: string): Promise<void> {
  const selection = selectImages(engine, names);
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new SkiffError(`failed to save image: invalid output path: directory "${dir}" does not exist`, 1);
  const tmp = path.join(dir, `.skiff_temp_${crypto.randomBytes(6).toString('hex')}`);
  try {
    await writeImageArchive(engine, selection, format, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
