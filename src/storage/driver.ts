import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../state/atomic';
import { runHelper } from '../native/helper';
import type { UserNamespacePlan } from '../native/helper-namespace';
import { SkiffError } from '../util/errors';
import { randomHex } from '../util/random';
import { removeTree } from '../util/remove-tree';
import { findOnPath } from '../util/which';
import { layersRoot, storageStateFile } from './layout';

export const DRIVERS = ['overlay', 'fuse-overlayfs', 'vfs'] as const;
export type DriverName = (typeof DRIVERS)[number];

export function isDriverName(s: string): s is DriverName {
  return (DRIVERS as readonly string[]).includes(s);
}

/** dataRoot/storage.json: the driver the store was created with (layers differ per driver). */
interface StorageState { driver: DriverName }

function storeHasLayers(dataRoot: string): boolean {
  try { return fs.readdirSync(layersRoot(dataRoot)).length > 0; } catch { return false; }
}

/** Does kernel overlayfs mount in our (user) namespace? Asked once per store, then recorded. */
async function kernelOverlayWorks(dataRoot: string, userns: UserNamespacePlan | undefined): Promise<boolean> {
  const dir = path.join(dataRoot, 'tmp', `probe-${randomHex(4)}`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    await runHelper(userns, ['probe-overlay', dir, ...(userns ? ['userxattr'] : [])], 'probe overlay');
    return true;
  } catch {
    return false;
  } finally {
    removeTree(dir); // the overlay workdir's work/ is left with mode 000
  }
}

function canUseFuse(): boolean {
  try { fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK); return true; } catch { return false; }
}

/**
 * The storage driver: the one the store already uses, else the requested one (flag, env,
 * config), else the best that works here: kernel overlay -> fuse-overlayfs -> vfs (copies).
 */
export async function resolveDriver(dataRoot: string, userns: UserNamespacePlan | undefined,
  requested: string | undefined): Promise<DriverName> {
  if (requested !== undefined && !isDriverName(requested)) {
    throw new SkiffError(`unknown storage driver "${requested}": use one of ${DRIVERS.join(', ')}`);
  }
  const recorded = readJson<StorageState>(storageStateFile(dataRoot))?.driver;
  if (recorded && (!requested || requested === recorded)) return recorded;
  if (recorded && requested && storeHasLayers(dataRoot)) {
    throw new SkiffError(`storage driver "${requested}" requested, but the store at ${dataRoot} was created with "${recorded}": remove its images or use another --root`);
  }
  let driver: DriverName;
  if (requested) driver = requested as DriverName;
  else if (await kernelOverlayWorks(dataRoot, userns)) driver = 'overlay';
  else if (findOnPath('fuse-overlayfs') && canUseFuse()) driver = 'fuse-overlayfs';
  else driver = 'vfs';
  if (driver === 'fuse-overlayfs' && !findOnPath('fuse-overlayfs')) {
    throw new SkiffError('storage driver fuse-overlayfs: fuse-overlayfs not found in $PATH; install the fuse-overlayfs package');
  }
  fs.mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
  writeJsonAtomic(storageStateFile(dataRoot), { driver } satisfies StorageState);
  return driver;
}
