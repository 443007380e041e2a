import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chainIds } from '../image/chain-id';
import { layerMediaType } from '../image/media-types';
import type { LayerDescriptor } from '../image/store';
import type { UserNamespacePlan } from '../native/helper-namespace';
import { layerFile, type LayerStore } from '../storage/layer-store';
import { SkiffError } from '../util/errors';
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

/**
 * Move the entries EXCLUDE names (relative) out of UPPER_DIR into ASIDE, so the dir holds only
 * the layer. A name whose parent is no real directory in the upper dir (a symlink, a file, or
 * missing) is not in it: nothing to move, and nothing is ever followed. False when a name
 * cannot be looked at or moved (a directory closed to this user, rootless): the caller then
 * takes the tar path, whose --exclude needs no access.
 */
function setAside(upperDir: string, exclude: readonly string[], aside: string): boolean {
  fs.mkdirSync(aside, { mode: 0o700 });
  let n = 0;
  for (const rel of exclude) {
    const parts = rel.split('/').filter(Boolean);
    let cur = upperDir;
    let present = true;
    try {
      for (const [i, part] of parts.entries()) {
        cur = path.join(cur, part);
        const st = fs.lstatSync(cur, { throwIfNoEntry: false });
        if (!st || (i < parts.length - 1 && !st.isDirectory())) { present = false; break; }
      }
      if (present) fs.renameSync(cur, path.join(aside, String(n++)));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Build's way to turn a step's upper dir into a layer: its tar written once by the helper (the
 * blob, with its digest and sizes computed on the way, synced), then the upper dir itself
 * renamed into the layer store as the layer's tree, instead of unpacking that tar again (it is
 * already in the store's overlay format). The upper dir must be unmounted and no longer used.
 * SCRATCH is a private dir under tmp/ that the caller removes with the helper (what was set
 * aside may be sub-ID owned). Falls back to storeUpperLayer when the excluded entries cannot
 * be moved aside.
 */
export async function adoptUpperLayer(engine: Engine, layers: LayerStore, upperDir: string, scratch: string,
  parentDiffIds: readonly string[], exclude: readonly string[] = []): Promise<StoredLayer> {
  if (!setAside(upperDir, exclude, path.join(scratch, 'excluded'))) {
    return storeUpperLayer(engine, layers, upperDir, scratch, parentDiffIds, exclude);
  }
  const file = path.join(scratch, 'layer.tar');
  const printed = await spawnHelperStream(engine.userns, ['tar-out', '--layer', '--name', '', '--to', file, '--root', upperDir, '/'],
    ['ignore', 'pipe'], 'build', { collectStdout: true }).done;
  const m = /^(sha256:[0-9a-f]{64}) (\d+) (\d+)\n$/.exec(printed);
  if (!m) throw new SkiffError(`skiff-helper tar-out printed ${JSON.stringify(printed)} instead of a digest and sizes`);
  const [, diffId, bytes, fileBytes] = m;
  const chain = chainIds([...parentDiffIds, diffId]);
  const layer = await layers.adoptTree(chain.at(-1)!, chain.at(-2), diffId, upperDir, Number(fileBytes));
  if (!engine.blobs.has(diffId)) engine.blobs.adopt(file, diffId);
  return { descriptor: { mediaType: layerMediaType(true, 'none'), digest: diffId, size: Number(bytes), diffId }, size: layer.size };
}
