import fs from 'node:fs';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';
import { containerRootArgs, spawnHelperStream } from './container-fs';

/**
 * `export [-o FILE] CONTAINER`: the container's root filesystem (image plus its changes, without
 * what is mounted over it at run time) as one tar, written by the helper straight to the file or
 * to our stdout. A failed export removes the file it started.
 */
export async function exportContainer(engine: Engine, name: string, output: string | undefined, stdoutIsTty: boolean): Promise<void> {
  if (output === undefined && stdoutIsTty) throw new SkiffError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
  const c = engine.containers.mustFind(name);
  const root = containerRootArgs(engine, c, { write: false, mounts: false });
  let fd = 1;
  if (output !== undefined) {
    try {
      fd = fs.openSync(output, 'w', 0o644);
    } catch (e) {
      throw new SkiffError(`failed to export container: open ${output}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, 1);
    }
  }
  try {
    await spawnHelperStream(engine.userns, ['tar-out', '--name', '', ...root, '/'], ['ignore', fd], 'export').done;
  } catch (e) {
    if (output !== undefined) fs.rmSync(output, { force: true });
    throw e;
  } finally {
    if (fd !== 1) fs.closeSync(fd);
  }
}
