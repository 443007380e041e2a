import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { readImageArchive } from '../image/archive';
import { canonicalString, familiarString, parseReference } from '../image/reference';
import { layerMediaType } from '../image/media-types';
import type { LayerDescriptor } from '../image/store';
import { layerFile } from '../storage/layer-store';
import { chainIds } from '../image/chain-id';
import { usingLayers } from './layers-in-use';
import type { Engine } from './context';

/**
 * `skiff load`: read a Docker or OCI archive, verify every blob, unpack the layers through the
 * helper, then record the image. The image record is written last, so a failure at any point
 * leaves no image behind (unpacked layers stay as a cache and are reused by the next load).
 */
export function loadImages(engine: Engine, input: Readable): Promise<string[]> {
  // Held throughout: layers are unreferenced until the records are written (layers-in-use.ts).
  return usingLayers(engine, () => loadImagesNow(engine, input));
}

async function loadImagesNow(engine: Engine, input: Readable): Promise<string[]> {
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
      const oci = img.layers.some((l) => l.mediaType?.startsWith('application/vnd.oci.'));
      const descriptors: LayerDescriptor[] = [];
      for (let i = 0; i < img.layers.length; i++) {
        const l = img.layers[i];
        const rec = await layers.ensure(chains[i], chains[i - 1], diffIds[i], layerFile(l.path));
        size += rec.size;
        // Keep the layer blob as the archive had it (verified while staging): save and push send it.
        const digest = l.fileDigest;
        if (!engine.blobs.has(digest) && fs.existsSync(l.path)) engine.blobs.adopt(l.path, digest);
        const compression = l.compression === 'gzip' || l.compression === 'zstd' ? l.compression : 'none';
        descriptors.push({ mediaType: l.mediaType ?? layerMediaType(oci, compression), digest, size: l.size, diffId: diffIds[i] });
      }
      const tags = img.repoTags.map((t) => canonicalString(parseReference(t)));
      // the archive's manifest is kept so that push (and save) send the same manifest digest
      const image = await engine.images.commit({
        source: 'load', configBytes: img.config.bytes, layers: descriptors, size, manifest: img.manifest, tags,
      });
      if (tags.length) loaded.push(...tags.map((t) => `Loaded image: ${familiarString(parseReference(t))}`));
      else loaded.push(`Loaded image ID: ${image.id}`);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return loaded;
}
