import { readExitFile } from '../runtime/monitor-client';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { LOST_ERROR, LOST_EXIT_CODE, monitorAlive, settleLostContainer } from './lost-container';

export { monitorAlive } from './lost-container';

/**
 * There is no daemon to tell us a detached container ended: when the record says running but
 * its monitor is gone, take the exit code the monitor left behind. That case writes nothing:
 * readers must never race a concurrent `rm` (or the monitor's --rm cleanup) on the directory;
 * the next start or rm rewrites the record anyway. A monitor that died without an exit code
 * leaves a container nobody looks after: that one is settled here (src/engine/lost-container.ts).
 */
export function refreshState(engine: Engine, c: ContainerRecord): ContainerRecord {
  if (c.state.status !== 'running' || monitorAlive(c)) return c;
  const exit = readExitFile(engine.containers.dir(c.id));
  if (exit) return { ...c, state: { ...c.state, status: 'exited', ...exit, pid: undefined } };
  // no exit code: the monitor was killed
  settleLostContainer(engine, c);
  const finishedAt = new Date().toISOString();
  return { ...c, state: { ...c.state, status: 'exited', exitCode: LOST_EXIT_CODE, error: LOST_ERROR, finishedAt, pid: undefined } };
}
