import { waitForMonitorGone } from '../runtime/monitor-client';
import { signalIfSame } from '../runtime/process-identity';
import { SkiffError } from '../util/errors';
import { parseSignal } from '../util/signals';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { currentState, isLive, recordExit } from './container-state';
import { forgetFreezer, thawIfPaused } from './pause';

const SIGKILL = 9;

/**
 * Send signal `signo` to a live container's init. Only through a pidfd, after checking that
 * its PID still has the recorded start time (a PID can be reused once the process has gone):
 * process-identity.ts. When that check fails while the monitor (checked the same way) still
 * runs, SIGKILL goes to the monitor instead: the init dies with it (parent-death signal), and
 * the lost-container path settles the rest. A paused container is thawed after a SIGKILL, so
 * that it dies (Docker does the same); other signals wait for `unpause`. False when there was
 * nothing to signal.
 */
export async function signalContainer(c: ContainerRecord, signo: number): Promise<boolean> {
  const { pid, pidStart, monitorPid, monitorStart } = c.state;
  let sent = signalIfSame(pid, pidStart, signo);
  if (!sent && signo === SIGKILL) sent = signalIfSame(monitorPid, monitorStart, 'SIGKILL');
  if (sent && signo === SIGKILL) await thawIfPaused(c);
  return sent;
}

/** SIGKILL a live container and wait until its monitor has gone (it reaps the init first). */
export async function killNow(c: ContainerRecord): Promise<void> {
  await signalContainer(c, SIGKILL);
  if (!(await waitForMonitorGone(c.state.monitorPid, c.state.monitorStart, 10000))) {
    throw new SkiffError(`container ${c.name} did not stop after SIGKILL; try again`);
  }
}

/**
 * `kill [-s SIG]`: Docker's default is SIGKILL, after which it waits for the container to be
 * gone (so the next `ps` says Exited); other signals are sent and left to the container.
 */
export async function killContainer(engine: Engine, nameOrId: string, signal = 'SIGKILL'): Promise<void> {
  const signo = parseSignal(signal);
  const c = currentState(engine, nameOrId);
  const notRunning = () => new SkiffError(`cannot kill container: ${nameOrId}: container ${c.id} is not running`, 1);
  if (!isLive(c)) throw notRunning();
  if (signo === SIGKILL) {
    await killNow(c);
    await recordExit(engine, c);
    forgetFreezer(c);
    return;
  }
  if (!(await signalContainer(c, signo))) throw notRunning();
}
