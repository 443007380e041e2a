import { freezeTree, freezerUnavailable, removeFreezerCgroup, thawTree } from '../runtime/freezer';
import { SkiffError } from '../util/errors';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { currentState, transition } from './container-state';

/**
 * `pause` / `unpause`: the cgroup freezer stops every process of the container at once (a
 * SIGSTOP could be seen, and caught by nothing but would leave the parent notified). Where
 * this host cannot freeze (rootless on cgroup v1), one line says why and what would work.
 */
export async function pauseContainer(engine: Engine, nameOrId: string): Promise<void> {
  const c = currentState(engine, nameOrId);
  if (c.state.status === 'paused') throw new SkiffError(`container ${c.id} is already paused`, 1);
  if (c.state.status !== 'running' || !c.state.pid) throw new SkiffError(`container ${c.id} is not running`, 1);
  const why = freezerUnavailable(engine.paths.rootless);
  if (why) throw new SkiffError(`cannot pause container ${c.name}: ${why}`, 1);
  await freezeTree(c.id, c.state.pid);
  try {
    await transition(engine, c.id, 'paused', () => undefined, (now) => `container ${now.id} is not running`);
  } catch (e) {
    await thawTree(c.id); // it ended meanwhile: leave nothing frozen behind
    throw e;
  }
}

export async function unpauseContainer(engine: Engine, nameOrId: string): Promise<void> {
  const c = currentState(engine, nameOrId);
  if (c.state.status !== 'paused') throw new SkiffError(`container ${c.id} is not paused`, 1);
  await thawTree(c.id);
  await transition(engine, c.id, 'running', () => undefined, (now) => `container ${now.id} is not paused`);
}

/**
 * commit --pause (Docker's default): freeze a running container while its writable layer is
 * read, so the image is one consistent moment of it. Returns how to thaw it, or undefined when
 * there is nothing to do: not running, paused by the user already (it stays paused), or a host
 * where skiff cannot freeze (rootless on cgroup v1), where the layer is read as it is, as
 * Podman's commit does without --pause.
 */
export async function pauseForCommit(engine: Engine, c: ContainerRecord): Promise<(() => Promise<void>) | undefined> {
  const now = currentState(engine, c.id);
  if (now.state.status !== 'running' || !now.state.pid || freezerUnavailable(engine.paths.rootless)) return undefined;
  await freezeTree(now.id, now.state.pid);
  // (the processes stay in their thawed freezer cgroup, which goes once they have exited: forgetFreezer)
  return () => thawTree(now.id);
}

/**
 * A signal to a frozen container waits until it thaws: kill and stop thaw it after signalling
 * (the record keeps saying paused until the container has exited, when the state machine moves
 * it to exited). Then the freezer cgroup can go with the container.
 */
export async function thawIfPaused(c: ContainerRecord): Promise<void> {
  if (c.state.status !== 'paused') return;
  await thawTree(c.id);
}

/** Once the container has exited: its freezer cgroup, if it had one, is empty and goes. */
export function forgetFreezer(c: ContainerRecord): void {
  if (c.state.status !== 'created') removeFreezerCgroup(c.id);
}
