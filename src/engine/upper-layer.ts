import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chainIds } from '../image/chain-id';
import { layerMediaType } from '../image/media-types';
import type { LayerDescriptor } from '../image/store';
import type { UserNamespacePlan } from '../native/helper-namespace';
import { layerFile, type LayerStore } from '../storage/layer-store';
import { spawnHelperStream } from './container-fs';
import type { Engine } from './context';

/**
 * THE writable-layer-to-image-layer step (commit now, build later): the tar of an overlay
 * upper dir as an image layer, overlay whiteouts (char 0:0, opaque xattrs) turned into the
 * image format's `.wh.` entries, written by the helper inside the user namespace (the files
 * may be sub-ID owned) to FILE, uncompressed. `exclude` names entries (relative) to leave out.
 * Returns the layer's diff ID (the tar's sha256) and its size in bytes.
 */
export async function writeUpperLayer(userns: UserNamespacePlan | undefined, upperDir: string, file: string,
  exclude: readonly string[] = []): Promise<{ diffId: string; size: number }> {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    const args = ['tar-out', '--layer', '--name', '', ...exclude.flatMap((e) => ['--exclude', e]), '--root', upperDir, '/'];
    await spawnHelperStream(userns, args, ['ignore', fd], 'commit').done;
  } finally {
    fs.closeSync(fd);
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

/** A writable layer stored as an image layer: its blob descriptor and its unpacked size. */
export interface StoredLayer { descriptor: LayerDescriptor; size: number }

/**
 * writeUpperLayer, then the tar unpacked into the layer store over PARENT_DIFF_IDS and kept as
 * the layer's blob (uncompressed, so its digest is its diff ID): the one way commit and build
 * turn an upper dir into a layer an image can name. STAGING is a private dir under tmp/.
 */
export async function storeUpperLayer(engine: Engine, layers: LayerStore, upperDir: string, staging: string,
  parentDiffIds: readonly string[], exclude: readonly string[] = []): Promise<StoredLayer> {
  const file = path.join(staging, 'layer.tar');
  const { diffId, size } = await writeUpperLayer(engine.userns, upperDir, file, exclude);
  const chain = chainIds([...parentDiffIds, diffId]);
  const layer = await layers.ensure(chain.at(-1)!, chain.at(-2), diffId, layerFile(file));
  if (!engine.blobs.has(diffId)) engine.blobs.adopt(file, diffId);
  else fs.rmSync(file, { force: true });
  return { descriptor: { mediaType: layerMediaType(true, 'none'), digest: diffId, size, diffId }, size: layer.size };
}
