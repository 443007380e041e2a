import { withLock } from '../state/lock';
import { SkiffError } from '../util/errors';
import { removeTree } from '../util/remove-tree';
import { markStoppedByUser, waitForMonitorGone } from '../runtime/monitor-client';
import { signalIfSame } from '../runtime/process-identity';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';
import { rootfsStorageDirs } from './rootfs';

/**
 * Kill a running container's init; the monitor reaps it and exits. The init is signalled only
 * through a pidfd, after checking that its PID still has the recorded start time (a PID can be
 * reused once the process has gone). When that check fails while the monitor (checked the same
 * way) still runs, SIGKILL goes to the monitor instead: the init dies with it (parent-death
 * signal), and the lost-container path settles the rest.
 */
export async function killContainer(c: ContainerRecord, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const { pid, pidStart, monitorPid, monitorStart } = c.state;
  if (!signalIfSame(pid, pidStart, signal) && signal === 'SIGKILL') signalIfSame(monitorPid, monitorStart, 'SIGKILL');
  if (signal === 'SIGKILL' && !(await waitForMonitorGone(monitorPid, monitorStart, 10000))) {
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
    // Or its monitor would take the kill for a crash and run it again (--restart).
    if (c.config.restartPolicy) markStoppedByUser(engine.containers.dir(c.id));
    await killContainer(c);
    c = refreshState(engine, engine.containers.get(c.id) ?? c);
  }
  await removeContainerFiles(engine, c);
}
