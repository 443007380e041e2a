/**
 * Image archives (`docker load` / `skiff load` input), read from a non-seekable stream.
 *
 * Supported:
 *  - Docker archive (`docker save`): manifest.json [{Config, RepoTags, Layers}], with the legacy
 *    layout (<id>/layer.tar, <hex>.json, possibly symlinked duplicate layers) or the newer
 *    OCI-layout-inside layout (blobs/sha256/<hex>), which Docker 25+ writes.
 *  - OCI image layout archive: oci-layout, index.json, blobs/<alg>/<hex>; manifests possibly
 *    behind nested indexes; tags from org.opencontainers.image.ref.name (or containerd's
 *    io.containerd.image.name).
 *
 * Entry order in an archive is arbitrary, so every regular file is first streamed into the
 * caller's staging directory under a generated name (never the archive's own name, so nothing
 * can land outside it), hashing it on the way; then the metadata is parsed and every blob that
 * has a digest is checked against the hash computed while staging. The whole archive may be
 * gzip-compressed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import { SkiffError } from '../util/errors';
import { cleanRelative, decompressIfNeeded, detectCompression, feedExtractor, stopExtraction, watchExtractor, type Compression } from './archive-input';
import { MEDIA_TYPES } from './media-types';
import { isAttestation, isObject, parseDescriptor as parseDescriptorWith, parseImageConfig, type Descriptor, type ImageConfigJson } from './oci-json';
import { choosePlatform, hostPlatform, platformString, type Platform } from './platform';
import { digestError, familiarString, parseReference } from './reference';

export { MEDIA_TYPES, hostPlatform, type Platform };

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const MAX_JSON = 64 * 1024 * 1024;
const MAX_INDEX_DEPTH = 4;

export interface ArchiveLayer {
  /** the staged file holding this layer's bytes (compressed or not, as in the archive) */
  path: string;
  /** compressed (blob) digest when known: OCI descriptors and blobs/sha256/<hex> names */
  digest?: string;
  /** uncompressed digest from the config's rootfs.diff_ids */
  diffId: string;
  mediaType?: string;
  /** sha256 of the staged bytes, already computed (equals diffId for an uncompressed layer) */
  fileDigest: string;
  size: number;
  /** detected from the magic bytes of the staged file */
  compression: Compression;
}

export type { ImageConfigJson };

export interface ArchiveImage {
  /** familiar form, as Docker prints them: `busybox:latest`, `host:5000/app:v1` */
  repoTags: string[];
  config: { digest: string; bytes: Buffer; parsed: ImageConfigJson };
  layers: ArchiveLayer[];
  /** OCI archives: the digest of the image manifest that was used */
  manifestDigest?: string;
  /**
   * The image manifest as the archive holds it (OCI archives, and Docker 25+ archives through
   * their index.json), verified against its digest: keeping it lets a later push send the same
   * manifest digest.
   */
  manifest?: { digest: string; mediaType: string; bytes: Buffer };
}

export interface ReadArchiveOptions {
  /** platform to pick from a multi-platform index (default: this host) */
  platform?: Platform;
}

interface Staged {
  file: string;
  sha256: string;
  size: number;
  head: Buffer;
}

type StagedEntry = { kind: 'file'; staged: Staged } | { kind: 'alias'; target: string };

function invalid(what: string): SkiffError {
  return new SkiffError(`invalid archive: ${what}`, 125);
}

function corrupt(msg: string): SkiffError {
  return new SkiffError(`archive is truncated or corrupt: ${msg}; the file is incomplete or damaged, export it again`, 125);
}

/**
 * Read an image archive from `input` into `stagingDir` (which must exist and be private to the
 * caller) and return the images it holds, verified. Throws SkiffError on any problem.
 */
export async function readImageArchive(
  input: Readable,
  stagingDir: string,
  opts: ReadArchiveOptions = {},
): Promise<ArchiveImage[]> {
  const plain = await decompressIfNeeded(input, undefined, 'image archive');
  const entries = await stageArchive(plain, stagingDir);
  const files = new ArchiveFiles(entries);
  verifyBlobNames(files);

  let images: ArchiveImage[];
  if (files.has('manifest.json')) {
    images = await readDockerArchive(files);
  } else if (files.has('index.json')) {
    images = await readOciArchive(files, opts.platform ?? hostPlatform());
  } else if (entries.size === 0) {
    throw invalid('the archive is empty; expected the output of `docker save` or an OCI image archive');
  } else if (files.has('repositories')) {
    throw invalid('this is a pre-1.10 Docker archive (no manifest.json), which is not supported; save the image again with a current Docker');
  } else {
    throw invalid('no manifest.json or index.json found; expected the output of `docker save` or an OCI image archive');
  }
  return mergeImages(images);
}

// ---------------------------------------------------------------------------------------------
// Staging

async function stageArchive(tar: Readable, stagingDir: string): Promise<Map<string, StagedEntry>> {
  const entries = new Map<string, StagedEntry>();
  const ex = tarExtract();
  const exState = watchExtractor(ex);
  const detach = feedExtractor(tar, ex);

  let seq = 0;
  // unique per call, so one staging directory may serve several reads
  const prefix = `entry-${randomBytes(4).toString('hex')}-`;
  try {
    for await (const entry of ex) {
      const h = entry.header;
      const name = h.name ?? '';
      if (name.includes('\0') || name.startsWith('/')) {
        throw invalid(`entry ${JSON.stringify(name)} is an absolute path; the archive is corrupt or malicious`);
      }
      const path = cleanRelative(name);
      if (path === null) {
        throw invalid(`entry ${JSON.stringify(name)} points outside the archive; the archive is corrupt or malicious`);
      }
      const type = h.type as string | null;
      if (type === 'file' || type === 'contiguous-file') {
        if (path === '.') throw invalid(`entry ${JSON.stringify(name)} is not a file name`);
        const file = join(stagingDir, `${prefix}${String(++seq).padStart(6, '0')}`);
        const staged = await stageFile(entry as AsyncIterable<Buffer>, file, h.size ?? 0, name);
        entries.set(path, { kind: 'file', staged });
      } else if (type === 'symlink' || type === 'link') {
        const target = h.linkname ?? '';
        const base = type === 'symlink' && !target.startsWith('/') ? dirOf(path) : '.';
        const resolved = target.includes('\0') ? null : cleanRelative(joinRel(base, target.replace(/^\/+/, '')));
        if (target === '' || resolved === null) {
          throw invalid(
            `link ${JSON.stringify(name)} -> ${JSON.stringify(target)} points outside the archive; the archive is corrupt or malicious`,
          );
        }
        entries.set(path, { kind: 'alias', target: resolved });
        await drain(entry);
      } else {
        // directories need no staging (files get generated names); devices/fifos are ignored
        await drain(entry);
      }
    }
  } catch (e) {
    await stopExtraction(tar, ex, exState);
    if (e instanceof SkiffError) throw e;
    const cause = exState.error ?? e;
    const err = cause as NodeJS.ErrnoException;
    if (err && typeof err.code === 'string' && err.syscall) {
      throw new SkiffError(`cannot stage the image archive in ${stagingDir}: ${err.message}`, 125);
    }
    throw corrupt(cause instanceof Error ? cause.message : String(cause));
  } finally {
    detach();
  }
  return entries;
}

async function stageFile(data: AsyncIterable<Buffer>, file: string, expected: number, name: string): Promise<Staged> {
  const fh = await open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  const hash = createHash('sha256');
  let size = 0;
  const headParts: Buffer[] = [];
  let headLen = 0;
  try {
    for await (const chunk of data) {
      hash.update(chunk);
      size += chunk.length;
      if (headLen < 8) {
        headParts.push(chunk.subarray(0, 8 - headLen));
        headLen += Math.min(chunk.length, 8 - headLen);
      }
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
    }
  } finally {
    await fh.close();
  }
  if (size !== expected) throw corrupt(`entry ${JSON.stringify(name)} is short`);
  return { file, sha256: `sha256:${hash.digest('hex')}`, size, head: Buffer.concat(headParts) };
}

async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  for await (const _ of entry) {
    /* discard */
  }
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : p.slice(0, i);
}

function joinRel(dir: string, name: string): string {
  return dir === '.' ? name : `${dir}/${name}`;
}

// ---------------------------------------------------------------------------------------------
// Staged file lookup

class ArchiveFiles {
  constructor(readonly entries: Map<string, StagedEntry>) {}

  /** Resolve an archive path (following the archive's own links) to a staged file. */
  get(p: string): Staged | undefined {
    let path = cleanRelative(p.replace(/^\/+/, ''));
    for (let hops = 0; path !== null && hops < 40; hops++) {
      const e = this.entries.get(path);
      if (!e) return undefined;
      if (e.kind === 'file') return e.staged;
      path = e.target;
    }
    return undefined;
  }

  has(p: string): boolean {
    return this.get(p) !== undefined;
  }

  /** A file that must exist, for `what` (used in the message). */
  need(p: string, what: string): Staged {
    if (typeof p !== 'string' || p === '') throw invalid(`${what}: missing file name`);
    if (p.includes('\0') || cleanRelative(p.replace(/^\/+/, '')) === null) {
      throw invalid(`${what}: path ${JSON.stringify(p)} points outside the archive`);
    }
    const s = this.get(p);
    if (!s) throw invalid(`${what}: ${JSON.stringify(p)} is not in the archive`);
    return s;
  }

  async json(p: string, what: string): Promise<{ staged: Staged; bytes: Buffer; value: unknown }> {
    const staged = this.need(p, what);
    if (staged.size > MAX_JSON) throw invalid(`${what}: ${p} is too large (${staged.size} bytes) to be JSON metadata`);
    const bytes = await readFile(staged.file);
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw invalid(`${what}: ${(e as Error).message}`);
    }
    return { staged, bytes, value };
  }
}

/** blobs/<alg>/<hex> must hash to <alg>:<hex>. sha256 was computed while staging. */
function verifyBlobNames(files: ArchiveFiles): void {
  for (const [path, e] of files.entries) {
    if (e.kind !== 'file') continue;
    const m = /^blobs\/([^/]+)\/([^/]+)$/.exec(path);
    if (!m || m[1] !== 'sha256') continue;
    const want = `sha256:${m[2]}`;
    if (digestError(want) !== null) throw invalid(`blob ${path} is not named by a valid sha256 digest`);
    if (e.staged.sha256 !== want) {
      throw invalid(`blob ${want} does not match its content (${e.staged.sha256}); the archive is corrupt`);
    }
  }
}

async function blobDigestOk(s: Staged, digest: string): Promise<boolean> {
  if (digest.startsWith('sha256:')) return s.sha256 === digest;
  const alg = digest.slice(0, digest.indexOf(':'));
  const h = createHash(alg);
  h.update(await readFile(s.file));
  return `${alg}:${h.digest('hex')}` === digest;
}

// ---------------------------------------------------------------------------------------------
// Config and tags

function normalizeRepoTag(tag: unknown, what: string): string {
  if (typeof tag !== 'string') throw invalid(`${what}: invalid repo tag ${JSON.stringify(tag)}`);
  let ref;
  try {
    ref = parseReference(tag);
  } catch (e) {
    throw invalid(`${what}: invalid repo tag ${JSON.stringify(tag)}: ${(e as Error).message}`);
  }
  const noDigest = tag.split('@')[0];
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  if (ref.digest !== undefined || !last.includes(':')) {
    throw invalid(`${what}: invalid repo tag ${JSON.stringify(tag)}: a tag needs name:tag and no digest`);
  }
  return familiarString(ref);
}

function layerCountCheck(layers: number, diffIds: number, what: string): void {
  if (layers !== diffIds) {
    throw invalid(
      `${what}: the image has ${layers} layer${layers === 1 ? '' : 's'} but its config lists ${diffIds} (rootfs.diff_ids)`,
    );
  }
}

function blobDigestFromPath(p: string): string | undefined {
  const clean = cleanRelative(p.replace(/^\/+/, ''));
  const m = clean ? /^blobs\/sha256\/([a-f0-9]{64})$/.exec(clean) : null;
  return m ? `sha256:${m[1]}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Docker archive

/** Docker names the config by its digest: `<hex>.json` (legacy) or `blobs/sha256/<hex>`. */
function configDigestFromPath(p: string): string | undefined {
  const blobDigest = blobDigestFromPath(p);
  if (blobDigest) return blobDigest;
  const m = /^([a-f0-9]{64})\.json$/.exec(cleanRelative(p.replace(/^\/+/, '')) ?? '');
  return m ? `sha256:${m[1]}` : undefined;
}

async function readDockerArchive(files: ArchiveFiles): Promise<ArchiveImage[]> {
  const { value } = await files.json('manifest.json', 'manifest.json');
  if (!Array.isArray(value)) throw invalid('manifest.json: expected a JSON array');
  if (value.length === 0) throw invalid('manifest.json: lists no images');
  const images: ArchiveImage[] = [];
  for (let i = 0; i < value.length; i++) {
    const m = value[i];
    const what = `manifest.json[${i}]`;
    if (!isObject(m)) throw invalid(`${what}: not a JSON object`);
    if (typeof m.Config !== 'string') throw invalid(`${what}: Config is missing`);
    if (!Array.isArray(m.Layers)) throw invalid(`${what}: Layers is missing`);
    const repoTags = m.RepoTags == null ? [] : m.RepoTags;
    if (!Array.isArray(repoTags)) throw invalid(`${what}: RepoTags is not a list`);

    const cfg = await files.json(m.Config, `${what}: config`);
    const configDigest = cfg.staged.sha256;
    // the config's file name is its digest in both layouts: <hex>.json or blobs/sha256/<hex>
    const named = configDigestFromPath(m.Config);
    if (named !== undefined && named !== configDigest) {
      throw invalid(`image config ${m.Config} does not match its digest (content is ${configDigest}); the archive is corrupt`);
    }
    const parsed = parseConfig(cfg.value, `config ${m.Config}`);
    layerCountCheck(m.Layers.length, parsed.rootfs.diff_ids.length, `${what} (config ${configDigest})`);

    const layers: ArchiveLayer[] = m.Layers.map((lp: unknown, j: number) => {
      if (typeof lp !== 'string') throw invalid(`${what}: Layers[${j}] is not a path`);
      const s = files.need(lp, `${what}: layer ${j + 1}`);
      const diffId = parsed.rootfs.diff_ids[j];
      const digest = blobDigestFromPath(lp);
      const compression = detectCompression(s.head);
      if (compression === 'none' && s.sha256 !== diffId) {
        throw invalid(`layer ${lp} does not match its diff ID ${diffId} (content is ${s.sha256}); the archive is corrupt`);
      }
      const layer: ArchiveLayer = { path: s.file, diffId, fileDigest: s.sha256, size: s.size, compression };
      if (digest) layer.digest = digest;
      return layer;
    });

    const image: ArchiveImage = {
      repoTags: repoTags.map((t: unknown) => normalizeRepoTag(t, what)),
      config: { digest: configDigest, bytes: cfg.bytes, parsed },
      layers,
    };
    const manifest = await dockerArchiveManifest(files, configDigest, layers);
    if (manifest) image.manifest = manifest;
    images.push(image);
  }
  return images;
}

/**
 * Docker 25+ archives (and skiff's) also hold the image manifests (index.json, blobs/): keep the
 * one whose config and layer blobs are this image's, with its layer media types. Anything that
 * does not fit is ignored: manifest.json alone describes the image.
 */
async function dockerArchiveManifest(files: ArchiveFiles, configDigest: string, layers: ArchiveLayer[]): Promise<ArchiveImage['manifest']> {
  if (!files.has('index.json')) return undefined;
  let index: unknown;
  try {
    index = (await files.json('index.json', 'index.json')).value;
  } catch {
    return undefined;
  }
  if (!isObject(index) || !Array.isArray(index.manifests)) return undefined;
  for (const entry of index.manifests) {
    let m: unknown;
    let d: Descriptor;
    let bytes: Buffer;
    try {
      d = parseDescriptor(entry, 'index.json');
      if (!d.digest.startsWith('sha256:') || !files.has(blobPath(d.digest))) continue;
      ({ bytes, value: m } = await blobJson(files, d, 'index.json'));
    } catch {
      continue;
    }
    if (!isObject(m) || !isObject(m.config) || m.config.digest !== configDigest || !Array.isArray(m.layers)) continue;
    const mediaType = typeof m.mediaType === 'string' ? m.mediaType : d.mediaType;
    if (mediaType !== MEDIA_TYPES.ociManifest && mediaType !== MEDIA_TYPES.dockerManifest) continue;
    const descs = m.layers.filter(isObject);
    if (descs.length !== layers.length || descs.some((l, i) => l.digest !== layers[i].fileDigest)) continue;
    descs.forEach((l, i) => {
      if (typeof l.mediaType === 'string') layers[i].mediaType = l.mediaType;
    });
    return { digest: d.digest, mediaType, bytes };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// OCI archive

const parseDescriptor = (v: unknown, what: string): Descriptor => parseDescriptorWith(v, what, invalid);
const parseConfig = (v: unknown, what: string): ImageConfigJson => parseImageConfig(v, what, invalid);

function blobPath(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

/** Fetch a blob for a descriptor and check digest and size. */
async function blob(files: ArchiveFiles, d: Descriptor, what: string): Promise<Staged> {
  const s = files.get(blobPath(d.digest));
  if (!s) throw invalid(`${what}: blob ${d.digest} is not in the archive`);
  if (!(await blobDigestOk(s, d.digest))) {
    throw invalid(`blob ${d.digest} does not match its content; the archive is corrupt`);
  }
  if (d.size !== undefined && d.size !== s.size) {
    throw invalid(`blob ${d.digest} has ${s.size} bytes but its descriptor says ${d.size}; the archive is corrupt`);
  }
  return s;
}

async function blobJson(files: ArchiveFiles, d: Descriptor, what: string): Promise<{ bytes: Buffer; value: unknown }> {
  const s = await blob(files, d, what);
  if (s.size > MAX_JSON) throw invalid(`${what}: blob ${d.digest} is too large to be JSON metadata`);
  const bytes = await readFile(s.file);
  try {
    return { bytes, value: JSON.parse(bytes.toString('utf8')) };
  } catch (e) {
    throw invalid(`${what} ${d.digest}: ${(e as Error).message}`);
  }
}

function isIndexType(mt: string | undefined, value?: Record<string, unknown>): boolean {
  if (mt === MEDIA_TYPES.ociIndex || mt === MEDIA_TYPES.dockerManifestList) return true;
  if (mt === undefined && value) return Array.isArray(value.manifests) && !('layers' in value);
  return false;
}


function tagsFor(d: Descriptor): string[] {
  const a = d.annotations ?? {};
  const full = a[CONTAINERD_NAME];
  const name = a[REF_NAME];
  for (const cand of [full, name]) {
    if (!cand) continue;
    // A bare tag ("latest") names no repository: such an image loads untagged, as with Docker.
    if (!cand.includes(':') && !cand.includes('/')) continue;
    try {
      const ref = parseReference(cand);
      if (ref.digest !== undefined) continue;
      return [familiarString(ref)];
    } catch {
      continue;
    }
  }
  return [];
}

async function readOciArchive(files: ArchiveFiles, platform: Platform): Promise<ArchiveImage[]> {
  if (files.has('oci-layout')) {
    const { value } = await files.json('oci-layout', 'oci-layout');
    if (!isObject(value) || typeof value.imageLayoutVersion !== 'string') {
      throw invalid('oci-layout: imageLayoutVersion is missing');
    }
  }
  const { value } = await files.json('index.json', 'index.json');
  if (!isObject(value) || !Array.isArray(value.manifests)) throw invalid('index.json: manifests is missing');
  const images: ArchiveImage[] = [];
  for (let i = 0; i < value.manifests.length; i++) {
    const d = parseDescriptor(value.manifests[i], `index.json: manifests[${i}]`);
    if (isAttestation(d)) continue;
    const chosen = await resolveManifest(files, d, platform, `index.json: manifests[${i}]`, 0);
    if (!chosen) continue;
    images.push(await readOciImage(files, chosen.descriptor, chosen.bytes, chosen.value, tagsFor(d)));
  }
  if (images.length === 0) throw invalid('index.json lists no image manifests');
  return images;
}

interface ChosenManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  value: Record<string, unknown>;
}

async function resolveManifest(
  files: ArchiveFiles,
  d: Descriptor,
  platform: Platform,
  what: string,
  depth: number,
): Promise<ChosenManifest | null> {
  if (depth > MAX_INDEX_DEPTH) throw invalid(`${what}: indexes are nested too deeply`);
  const { bytes, value } = await blobJson(files, d, what);
  if (!isObject(value)) throw invalid(`${what} ${d.digest}: not a JSON object`);
  const mt = (typeof value.mediaType === 'string' ? value.mediaType : undefined) ?? d.mediaType;
  if (!isIndexType(mt, value)) {
    if (mt !== undefined && mt !== MEDIA_TYPES.ociManifest && mt !== MEDIA_TYPES.dockerManifest) {
      throw invalid(`${what}: unsupported manifest media type ${mt}`);
    }
    return { descriptor: d, bytes, value };
  }
  if (!Array.isArray(value.manifests)) throw invalid(`${what} ${d.digest}: manifests is missing`);
  const children = value.manifests
    .map((m, j) => parseDescriptor(m, `${what} ${d.digest}: manifests[${j}]`))
    .filter((c) => !isAttestation(c));
  // Only the manifests whose blobs were saved can be loaded; prefer this platform among them.
  const present = children.filter((c) => files.has(blobPath(c.digest)));
  const pick = choosePlatform(present, platform) ?? (present.length === 1 ? present[0] : undefined);
  if (!pick) {
    const want = platformString(platform);
    throw invalid(
      present.length === 0
        ? `${what}: none of the manifests in index ${d.digest} are in the archive`
        : `${what}: index ${d.digest} has no image for ${want}`,
    );
  }
  return resolveManifest(files, pick, platform, what, depth + 1);
}

async function readOciImage(
  files: ArchiveFiles,
  md: Descriptor,
  bytes: Buffer,
  m: Record<string, unknown>,
  repoTags: string[],
): Promise<ArchiveImage> {
  const what = `manifest ${md.digest}`;
  const cd = parseDescriptor(m.config, `${what}: config`);
  if (cd.mediaType !== undefined && cd.mediaType !== MEDIA_TYPES.ociConfig && cd.mediaType !== MEDIA_TYPES.dockerConfig) {
    throw invalid(`${what}: config media type ${cd.mediaType} is not a container image`);
  }
  if (!Array.isArray(m.layers)) throw invalid(`${what}: layers is missing`);
  const cfgBlob = await blobJson(files, cd, `${what}: config`);
  const parsed = parseConfig(cfgBlob.value, `config ${cd.digest}`);
  layerCountCheck(m.layers.length, parsed.rootfs.diff_ids.length, what);
  const layers: ArchiveLayer[] = [];
  for (let j = 0; j < m.layers.length; j++) {
    const ld = parseDescriptor(m.layers[j], `${what}: layers[${j}]`);
    const s = await blob(files, ld, `${what}: layer ${j + 1}`);
    const diffId = parsed.rootfs.diff_ids[j];
    const compression = detectCompression(s.head);
    if (compression === 'none' && s.sha256 !== diffId) {
      throw invalid(`layer ${ld.digest} does not match its diff ID ${diffId}; the archive is corrupt`);
    }
    const layer: ArchiveLayer = { path: s.file, digest: ld.digest, diffId, fileDigest: s.sha256, size: s.size, compression };
    if (ld.mediaType) layer.mediaType = ld.mediaType;
    layers.push(layer);
  }
  return {
    repoTags,
    config: { digest: cd.digest, bytes: cfgBlob.bytes, parsed },
    layers,
    manifestDigest: md.digest,
    ...(md.digest.startsWith('sha256:') ? {
      manifest: { digest: md.digest, mediaType: typeof m.mediaType === 'string' ? m.mediaType : md.mediaType ?? MEDIA_TYPES.ociManifest, bytes },
    } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

/** One entry per image (config digest), tags merged in order of appearance. */
function mergeImages(images: ArchiveImage[]): ArchiveImage[] {
  const byConfig = new Map<string, ArchiveImage>();
  const out: ArchiveImage[] = [];
  for (const img of images) {
    const prev = byConfig.get(img.config.digest);
    if (prev) {
      for (const t of img.repoTags) if (!prev.repoTags.includes(t)) prev.repoTags.push(t);
      continue;
    }
    const copy = { ...img, repoTags: [...new Set(img.repoTags)] };
    byConfig.set(img.config.digest, copy);
    out.push(copy);
  }
  return out;
}
