import { SkiffError } from '../util/errors';
import type { ContainerRecord, ContainerStatus } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';

/**
 * What `wait --condition` (Podman's) waits for; Docker's `wait` is `stopped`: not running,
 * which a created container already is.
 */
const CONDITIONS: Readonly<Record<string, (s: ContainerStatus) => boolean>> = {
  stopped: (s) => !['running', 'paused', 'restarting'].includes(s),
  exited: (s) => s === 'exited',
  running: (s) => s === 'running',
  paused: (s) => s === 'paused',
  created: (s) => s === 'created',
};

export const WAIT_CONDITIONS = Object.keys(CONDITIONS);

/** Check a --condition value before waiting on anything. */
export function checkCondition(condition: string): void {
  if (!CONDITIONS[condition]) {
    throw new SkiffError(`invalid condition "${condition}": use ${WAIT_CONDITIONS.join(', ')}`);
  }
}

/** How often a waiter looks: there is no daemon to tell us, only the monitor's exit. */
const POLL_MS = 50;

/**
 * Block until the container meets `condition`; its exit code then (for `stopped`/`exited`),
 * -1 for the other conditions (as Podman). A container removed meanwhile (its monitor's --rm)
 * is "No such container", the exit code having gone with it.
 */
export async function waitContainer(engine: Engine, nameOrId: string, condition = 'stopped'): Promise<number> {
  checkCondition(condition);
  const met = CONDITIONS[condition];
  const id = engine.containers.mustFind(nameOrId).id;
  for (;;) {
    const rec = engine.containers.get(id);
    if (!rec) throw new SkiffError(`No such container: ${nameOrId}`, 1);
    const c: ContainerRecord = refreshState(engine, rec);
    if (met(c.state.status)) return condition === 'stopped' || condition === 'exited' ? (isLive(c) ? -1 : c.state.exitCode ?? 0) : -1;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
