import fs from 'node:fs';
import path from 'node:path';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';

/** Is the monitor recorded for this container still the same live process? */
export function monitorAlive(c: ContainerRecord): boolean {
  const pid = c.state.monitorPid;
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !c.state.monitorStart || stat.split(') ')[1]?.split(' ')[19] === c.state.monitorStart;
  } catch {
    return false;
  }
}

/**
 * There is no daemon to tell us a detached container ended: when the record says running but
 * its monitor is gone, take the exit code the monitor left behind. Nothing is written here:
 * readers must never race a concurrent `rm` (or the monitor's --rm cleanup) on the directory;
 * the next start or rm rewrites the record anyway.
 */
export function refreshState(engine: Engine, c: ContainerRecord): ContainerRecord {
  if (c.state.status !== 'running' || monitorAlive(c)) return c;
  const dir = engine.containers.dir(c.id);
  let exitCode = 255;
  let finishedAt = new Date().toISOString();
  try {
    const exitFile = path.join(dir, 'exit');
    exitCode = Number(fs.readFileSync(exitFile, 'utf8').trim());
    finishedAt = fs.statSync(exitFile).mtime.toISOString();
  } catch { /* killed before it could write: Docker reports 255 for a lost container */ }
  return { ...c, state: { ...c.state, status: 'exited', exitCode, finishedAt, pid: undefined } };
}
