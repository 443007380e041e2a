import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import { removeTree } from '../util/remove-tree';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { monitorAlive, refreshState } from './container-state';
import { rootfsStorageDirs } from './rootfs';

async function waitForExit(c: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (monitorAlive(c)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Kill a running container's init; the monitor reaps it and exits. */
export async function killContainer(c: ContainerRecord, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (c.state.pid) {
    try { process.kill(c.state.pid, signal); } catch { /* already gone */ }
  }
  if (signal === 'SIGKILL' && !(await waitForExit(c, 10000))) {
    throw new SkiffError(`container ${c.name} did not stop after SIGKILL; try again`);
  }
}

/** Remove the container's storage (inside the namespace) and then its directory and record. */
export async function removeContainerFiles(engine: Engine, c: ContainerRecord, storageToo = true): Promise<void> {
  const dir = engine.containers.dir(c.id);
  if (storageToo) {
    const layers = await engine.layers();
    await layers.removeTree(...rootfsStorageDirs(engine, c));
  }
  await withLock(engine.containers.lockFile, () => removeTree(dir));
}

/** `rm [-f]`: Docker refuses to remove a running container unless forced. */
export async function removeContainer(engine: Engine, nameOrId: string, force: boolean): Promise<void> {
  let c = refreshState(engine, engine.containers.mustFind(nameOrId));
  if (c.state.status === 'running') {
    if (!force) {
      throw new SkiffError(`cannot remove container "${c.name}": container is running: stop the container before removing or force remove`, 1);
    }
    await killContainer(c);
    c = refreshState(engine, engine.containers.get(c.id) ?? c);
  }
  await removeContainerFiles(engine, c);
}
