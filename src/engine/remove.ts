import fs from 'node:fs';
import path from 'node:path';
import { withLock } from '../state/lock';
import { ConflictError, NotFoundError } from '../errors';
import { removeTree } from '../util/remove-tree';
import { markStoppedByUser } from '../runtime/monitor-client';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState, transition } from './container-state';
import { killNow } from './kill';
import { forgetFreezer } from './pause';
import { rootfsStorageDirs } from './rootfs';
import { stopRecord } from './stop';

/**
 * Remove the container's storage (inside the namespace), then its directory and record, then its
 * name. The directory leaves containers/ in one rename, into a staging dir of the store's own
 * (locked while this process lives; a killed rm's is swept by the next command that opens the
 * layer store: Engine.layers, pruneStaging), and is removed there: a command that opens a file in it meanwhile, such as a racing `start` creating
 * its op.lock, gets ENOENT ("No such container") instead of adding an entry to a directory half
 * removed, which made the rmdir fail with ENOTEMPTY and left the container behind.
 */
export async function removeContainerFiles(engine: Engine, c: ContainerRecord, storageToo = true): Promise<void> {
  const dir = engine.containers.dir(c.id);
  const layers = await engine.layers();
  if (storageToo) await layers.removeTree(...rootfsStorageDirs(engine, c));
  const staging = layers.tempDir('removed-container');
  await withLock(engine.containers.lockFile, () => {
    const name = engine.containers.get(c.id)?.name ?? c.name; // renamed since c was read?
    try {
      fs.renameSync(dir, path.join(staging, c.id));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    // the record first: until it is gone, its name's entry must stay (container-store.ts)
    engine.containers.releaseName(name, c.id);
  });
  removeTree(staging);
}

export interface RemoveOptions {
  /** -f: a running container is killed first (SIGKILL at once, as Docker) */
  force: boolean;
  /** Podman's rm -t N: with -f, stop it with N seconds of grace instead of killing at once */
  timeout?: number;
  /** -v: the container's anonymous volumes go too */
  volumes?: boolean;
}

/**
 * `rm [-f]`: Docker refuses to remove a running container unless forced. The container's op
 * lock is held throughout, so a `start` of the same container waits for the outcome (and then
 * finds it gone) instead of starting a monitor on a root being removed. The record says
 * `removing` while its files go, so that `ps` tells, and an `rm` that dies half way is
 * finished by the next one.
 */
export async function removeContainer(engine: Engine, nameOrId: string, o: RemoveOptions): Promise<void> {
  const found = engine.containers.mustFind(nameOrId);
  try {
    await withLock(engine.containers.opLock(found.id), () => removeLocked(engine, found.id, nameOrId, o));
  } catch (e) {
    // the lock's directory went with a concurrent rm (or the monitor's --rm clean-up)
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`No such container: ${nameOrId}`);
    throw e;
  }
}

async function removeLocked(engine: Engine, id: string, nameOrId: string, o: RemoveOptions): Promise<void> {
  const rec = engine.containers.get(id);
  if (!rec) throw new NotFoundError(`No such container: ${nameOrId}`);
  let c = refreshState(engine, rec);
  if (isLive(c)) {
    if (!o.force) {
      const why = c.state.status === 'paused'
        ? 'container is paused: unpause the container before stopping or force remove'
        : `container is ${c.state.status}: stop the container before removing or force remove`;
      throw new ConflictError(`cannot remove container "/${c.name}": ${why}`);
    }
    // or its monitor would take the kill for a crash and run it again (--restart)
    if (c.config.restartPolicy) markStoppedByUser(engine.containers.dir(c.id));
    if (o.timeout !== undefined) await stopRecord(engine, c, { timeout: o.timeout });
    else await killNow(c);
  }
  forgetFreezer(c);
  try {
    c = await transition(engine, id, 'removing', () => undefined,
      (now) => `cannot remove container "/${now.name}": container is ${now.state.status}`);
  } catch (e) {
    // a detached --rm container's monitor removes it itself once it has been killed
    if (!engine.containers.get(id)) return;
    throw e;
  }
  await removeContainerFiles(engine, c);
  // its peers on user networks stop resolving its name (the record is gone: no longer listed)
  const networkIds = new Set(Object.values(c.endpoints ?? {}).map((e) => e.networkId));
  if (networkIds.size) (await import('./network-hosts')).refreshNetworkHosts(engine, c, networkIds);
  if (o.volumes && c.config.mounts?.some((m) => m.anonymous)) await (await import('./volume-remove')).removeAnonymousVolumes(engine, c);
}
