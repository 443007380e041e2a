import { markStoppedByUser, waitForMonitorGone } from '../runtime/monitor-client';
import { parseSignal } from '../util/signals';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { currentState, isLive, recordExit } from './container-state';
import { killNow, signalContainer } from './kill';
import { forgetFreezer } from './pause';

export interface StopOptions {
  /** seconds before SIGKILL (-1: wait for ever); default the container's --stop-timeout, else 10 */
  timeout?: number;
  /** default the container's --stop-signal (or its image's StopSignal), else SIGTERM */
  signal?: string;
}

/** Docker's default grace period before SIGKILL. */
export const DEFAULT_STOP_TIMEOUT = 10;

/**
 * `stop`: the container's stop signal, then SIGKILL once the timeout has passed, and the exit
 * recorded. A container that is not running is left as it is (Docker: success).
 */
export async function stopContainer(engine: Engine, nameOrId: string, o: StopOptions = {}): Promise<ContainerRecord> {
  const c = currentState(engine, nameOrId);
  return stopRecord(engine, c, o);
}

/** `stop` for a record already looked up (rm -t, restart). */
export async function stopRecord(engine: Engine, c: ContainerRecord, o: StopOptions = {}): Promise<ContainerRecord> {
  const signo = parseSignal(o.signal ?? c.config.stopSignal ?? 'SIGTERM');
  if (!isLive(c)) return c;
  const timeout = o.timeout ?? c.config.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
  // a user's stop ends --restart always/unless-stopped until the next start (Docker's rule)
  if (c.config.restartPolicy) markStoppedByUser(engine.containers.dir(c.id));
  await signalContainer(c, signo);
  const graceMs = timeout < 0 ? Number.POSITIVE_INFINITY : timeout * 1000;
  if (!(await waitForMonitorGone(c.state.monitorPid, c.state.monitorStart, graceMs))) await killNow(c);
  await recordExit(engine, c);
  forgetFreezer(c);
  return c;
}
