import { readContainerPid, readExitFile, readRestartState } from '../runtime/monitor-client';
import { processStartTime } from '../runtime/process-identity';
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
  if (c.state.status === 'running' && c.config.restartPolicy && monitorAlive(c)) return withRestartState(engine, c);
  if (c.state.status !== 'running' || monitorAlive(c)) return c;
  const exit = readExitFile(engine.containers.dir(c.id));
  if (exit) return { ...c, state: { ...c.state, status: 'exited', ...exit, pid: undefined } };
  // no exit code: the monitor was killed
  settleLostContainer(engine, c);
  const finishedAt = new Date().toISOString();
  return { ...c, state: { ...c.state, status: 'exited', exitCode: LOST_EXIT_CODE, error: LOST_ERROR, finishedAt, pid: undefined } };
}

/**
 * A container with a restart policy: its monitor may have run it again since the record was
 * written (another PID, a restart count) or be waiting out a back-off (Docker's "restarting").
 * Read-only, like the rest: the record is rewritten by the next start or rm.
 */
function withRestartState(engine: Engine, c: ContainerRecord): ContainerRecord {
  const dir = engine.containers.dir(c.id);
  const r = readRestartState(dir);
  if (!r || r.count === 0) return c;
  const exit = readExitFile(dir);
  const pid = r.restarting ? undefined : readContainerPid(dir);
  return {
    ...c,
    state: {
      ...c.state, restartCount: r.count, restarting: r.restarting || undefined,
      pid, pidStart: pid ? processStartTime(pid) : undefined,
      ...(r.restarting && exit ? { exitCode: exit.exitCode, finishedAt: exit.finishedAt } : {}),
    },
  };
}
