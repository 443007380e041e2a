import type { Engine } from './context';
import { currentState } from './container-state';
import { startContainer } from './start';
import { stopRecord, type StopOptions } from './stop';

/**
 * `restart`: stop (the stop signal, SIGKILL after the timeout) when it runs, then start it
 * detached again. A created or exited container is simply started, as Docker does.
 */
export async function restartContainer(engine: Engine, nameOrId: string, o: StopOptions = {}): Promise<void> {
  const c = await stopRecord(engine, currentState(engine, nameOrId), o);
  await startContainer(engine, c, { attach: false, interactive: false });
}
