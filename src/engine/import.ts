/**
 * `skiff import`: a root filesystem tarball (plain or compressed; from a file, stdin or an
 * http(s) URL) becomes a one-layer image, as Docker's ImportImage: a config with created = now,
 * this host's platform (or --platform), the layer's diff ID, one history entry, and the -c
 * changes applied.
 *
 * The tarball is staged in the store's tmp/ while its sha256 is computed, unpacked through the
 * layer store (whose tar checks refuse path traversal and links out of the layer), and kept as
 * the image's layer blob, so save and push send it unchanged.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyChanges, type ChangeConfig } from '../image/dockerfile-changes';
import { decompressIfNeeded, detectCompression } from '../image/archive-input';
import { layerMediaType } from '../image/media-types';
import { hostPlatform, parsePlatform } from '../image/platform';
import { canonicalString } from '../image/reference';
import { layerFile } from '../storage/layer-store';
import { SkiffError } from '../util/errors';
import { usingLayers } from './layers-in-use';
import type { Engine } from './context';
import { tagTarget } from './tag';

export interface ImportOptions {
  /** a file, `-` for stdin, or an http(s) URL */
  source: string;
  /** REPOSITORY[:TAG] to give the new image */
  reference?: string;
  changes: string[];
  message?: string;
  platform?: string;
  stdin: Readable;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** Open the source; a missing file fails before anything is written. */
async function openSource(o: ImportOptions): Promise<Readable> {
  if (o.source === '-') return o.stdin;
  if (isUrl(o.source)) {
    const { Agent, redirectInterceptor, request } = await import('../util/undici');
    const dispatcher = new Agent().compose(redirectInterceptor({ maxRedirections: 5 }));
    let res;
    try {
      res = await request(o.source, { dispatcher, method: 'GET' });
    } catch (e) {
      throw new SkiffError(`import ${o.source}: ${(e as Error).message}`, 1);
    }
    if (res.statusCode >= 400) {
      res.body.destroy();
      throw new SkiffError(`import ${o.source}: the server answered HTTP ${res.statusCode}`, 1);
    }
    return res.body;
  }
  try {
    fs.accessSync(o.source, fs.constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SkiffError(`open ${o.source}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, 1);
  }
  return fs.createReadStream(o.source);
}

interface Staged { digest: string; size: number; head: Buffer }

/** Copy `input` to `file`, computing its sha256 and keeping its first bytes (the magic). */
async function stage(input: Readable, file: string): Promise<Staged> {
  const hash = createHash('sha256');
  let size = 0;
  const head: Buffer[] = [];
  let headLen = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      if (headLen < 8) { head.push(chunk.subarray(0, 8 - headLen)); headLen += Math.min(8 - headLen, chunk.length); }
      done(null, chunk);
    },
  });
  await pipeline(input, tap, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  return { digest: `sha256:${hash.digest('hex')}`, size, head: Buffer.concat(head) };
}

/** sha256 of the uncompressed tar: the layer's diff ID. */
async function diffIdOf(file: string, staged: Staged): Promise<string> {
  if (detectCompression(staged.head) === 'none') return staged.digest;
  const plain = await decompressIfNeeded(fs.createReadStream(file), 'import', 'tarball');
  const hash = createHash('sha256');
  for await (const chunk of plain) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * The image config, keys in the order Docker writes them (OCI Image: created, platform,
 * config, rootfs, history), so that the same input gives the same bytes.
 */
export function importConfig(opts: { created: string; platform: { os: string; architecture: string; variant?: string };
  config: ChangeConfig; diffId: string; comment: string }): object {
  return {
    created: opts.created,
    architecture: opts.platform.architecture,
    os: opts.platform.os,
    ...(opts.platform.variant ? { variant: opts.platform.variant } : {}),
    config: opts.config,
    rootfs: { type: 'layers', diff_ids: [opts.diffId] },
    history: [{ created: opts.created, comment: opts.comment }],
  };
}

/** Import the tarball; returns the new image ID. */
export function importImage(engine: Engine, o: ImportOptions): Promise<string> {
  // Held throughout: its layer is unreferenced until the record is written (layers-in-use.ts).
  return usingLayers(engine, () => importImageNow(engine, o));
}

async function importImageNow(engine: Engine, o: ImportOptions): Promise<string> {
  // Everything the user typed is checked before the (possibly long) input is read.
  const tag = o.reference ? canonicalString(tagTarget(o.reference)) : undefined;
  const platform = o.platform ? parsePlatform(o.platform) : hostPlatform();
  const config = applyChanges({}, o.changes);
  const comment = o.message ?? `Imported from ${isUrl(o.source) ? o.source : '-'}`;
  const input = await openSource(o);

  engine.ensureDirs();
  const layers = await engine.layers();
  const staging = layers.tempDir('import');
  try {
    const file = path.join(staging, 'layer');
    let staged: Staged;
    try {
      staged = await stage(input, file);
    } catch (e) {
      if (e instanceof SkiffError) throw e;
      throw new SkiffError(`import ${o.source}: ${(e as Error).message}`, 1);
    }
    if (staged.size === 0) throw new SkiffError(`import ${o.source}: the input is empty; expected a tar archive of a root filesystem`, 125);
    const diffId = await diffIdOf(file, staged);
    const layer = await layers.ensure(diffId, undefined, diffId, layerFile(file));
    const compression = detectCompression(staged.head);
    const created = new Date().toISOString();
    const bytes = Buffer.from(JSON.stringify(importConfig({ created, platform, config, diffId, comment })));
    if (!engine.blobs.has(staged.digest)) engine.blobs.adopt(file, staged.digest);
    const image = await engine.images.commit({
      source: 'import',
      configBytes: bytes,
      layers: [{
        mediaType: layerMediaType(true, compression === 'gzip' || compression === 'zstd' ? compression : 'none'),
        digest: staged.digest, size: staged.size, diffId,
      }],
      size: layer.size,
      tags: tag ? [tag] : [],
      recordedAt: created,
    });
    return image.id;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
