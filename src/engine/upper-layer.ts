import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { UserNamespacePlan } from '../native/helper-namespace';
import { spawnHelperStream } from './container-fs';

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
