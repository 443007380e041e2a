import { tryWaitPid } from './addon';

/**
 * Reap a child of ours (started by the addon) once its pipes reached EOF; its exit code, or
 * 128+N if killed by signal N. It closes its pipes only by exiting, but the kernel closes an
 * exiting process's files a moment before it can be reaped, so this polls rather than block
 * the event loop on waitpid.
 */
export async function reapChild(pid: number): Promise<number> {
  for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, 50)) {
    const code = tryWaitPid(pid);
    if (code >= 0) return code;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
