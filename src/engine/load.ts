import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { readImageArchive } from '../image/archive';
import { canonicalString, familiarString, parseReference } from '../image/reference';
import type { ImageConfig, ImageRecord } from '../image/store';
import { writeFileAtomic } from '../state/atomic';
import { withLock } from '../state/lock';
import { chainIds } from '../storage/layer-store';
import type { Engine } from './context';

/** Point `tags` at `image`, taking them away from whichever image had them (Docker's tag move). */
export function moveTags(engine: Engine, image: ImageRecord, tags: string[]): void {
  for (const other of engine.images.list()) {
    if (other.id === image.id) continue;
    const kept = other.repoTags.filter((t) => !tags.includes(t));
    if (kept.length !== other.repoTags.length) engine.images.save({ ...other, repoTags: kept });
  }
  image.repoTags = [...new Set([...image.repoTags, ...tags])];
  engine.images.save(image);
}

/**
 * `skiff load`: read a Docker or OCI archive, verify every blob, unpack the layers through the
 * helper, then record the image. The image record is written last, so a failure at any point
 * leaves no image behind (unpacked layers stay as a cache and are reused by the next load).
 */
export async function loadImages(engine: Engine, input: Readable): Promise<string[]> {
  engine.ensureDirs();
  const layers = await engine.layers();
  const staging = layers.tempDir('load');
  const loaded: string[] = [];
  try {
    const images = await readImageArchive(input, staging);
    for (const img of images) {
      const diffIds = img.layers.map((l) => l.diffId);
      const chains = chainIds(diffIds);
      let size = 0;
      for (let i = 0; i < img.layers.length; i++) {
        const rec = await layers.ensure(chains[i], chains[i - 1], diffIds[i], () => fs.createReadStream(img.layers[i].path));
        size += rec.size;
      }
      const blobDir = path.join(engine.paths.dataRoot, 'blobs', 'sha256');
      fs.mkdirSync(blobDir, { recursive: true });
      writeFileAtomic(path.join(blobDir, img.config.digest.replace(/^sha256:/, '')), img.config.bytes, 0o644);
      const tags = img.repoTags.map((t) => canonicalString(parseReference(t)));
      await withLock(engine.images.lockFile, () => {
        const existing = engine.images.get(img.config.digest);
        const rec: ImageRecord = existing ?? {
          id: img.config.digest, repoTags: [], repoDigests: [], chainIds: chains, size,
          loadedAt: new Date().toISOString(), config: img.config.parsed as ImageConfig,
        };
        moveTags(engine, rec, tags);
      });
      if (tags.length) loaded.push(...tags.map((t) => `Loaded image: ${familiarString(parseReference(t))}`));
      else loaded.push(`Loaded image ID: ${img.config.digest}`);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return loaded;
}
