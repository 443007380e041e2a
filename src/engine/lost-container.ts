import fs from 'node:fs';
import path from 'node:path';
import { runHelperSync } from '../native/helper';
import { withLockSync } from '../state/lock';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { rootfsStorageDirs } from './rootfs';

/**
 * A container whose monitor died without writing an exit code (killed, OOM): nothing reaps
 * its process, removes it (--rm) or unmounts its root any more. The first skiff command that
 * notices settles it, as a daemon would have: the container's process and a fuse-overlayfs
 * still serving its root are killed, then the record says exited 137 (SIGKILL, what Docker
 * reports for a killed container) with the reason, or an --rm container is removed.
 */

/** Docker's exit code for a container killed by SIGKILL (128 + 9). */
export const LOST_EXIT_CODE = 137;
export const LOST_ERROR = 'the container monitor (skiff-helper) died; the container was killed';

/** /proc/PID/stat after the command name: field 3 (state) first, field 22 (start time) at 19. */
function statFields(pid: number): string[] | undefined {
  try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' '); } catch { return undefined; }
}

/** The start time: a PID with the same start time is the same process. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * Is the monitor recorded for this container still the same live process? A zombie is not:
 * its parent (the skiff that started it) is gone, and whoever inherited it may never reap it.
 */
export function monitorAlive(c: ContainerRecord): boolean {
  const pid = c.state.monitorPid;
  const f = pid ? statFields(pid) : undefined;
  if (!f || f[0] === 'Z' || f[0] === 'X') return false;
  return !c.state.monitorStart || f[19] === c.state.monitorStart;
}

/**
 * Settle `seen` (a record saying running, whose monitor is gone and left no exit file) under
 * containers.lock, after checking that the record still says so: a monitor that was only slow
 * (its exit file, its --rm removal) or a new start of the same container wins. Best effort: a
 * failure leaves the record as it was, and the next command tries again.
 */
export function settleLostContainer(engine: Engine, seen: ContainerRecord, exitFile: string): void {
  try {
    withLockSync(engine.containers.lockFile, () => {
      const c = engine.containers.get(seen.id);
      if (!c || c.state.status !== 'running' || c.state.monitorPid !== seen.state.monitorPid) return;
      if (monitorAlive(c) || fs.existsSync(exitFile)) return;
      killIfSame(c.state.pid, c.state.pidStart);
      killFuseOverlayfs(path.join(engine.containers.dir(c.id), 'merged'));
      if (c.config.autoRemove) {
        // Sub-ID owned files: removed by the helper inside the namespace, as `rm` does.
        const storage = rootfsStorageDirs(engine, c).filter((d) => fs.existsSync(d));
        if (storage.length && runHelperSync(engine.userns, ['rm', ...storage]) !== 0) return;
        fs.rmSync(engine.containers.dir(c.id), { recursive: true, force: true });
        return;
      }
      c.state = { ...c.state, status: 'exited', exitCode: LOST_EXIT_CODE, error: LOST_ERROR, pid: undefined, finishedAt: new Date().toISOString() };
      engine.containers.save(c);
    });
  } catch { /* the view is still right; the record is settled next time */ }
}

/** SIGKILL the container's init, unless its PID now belongs to another process. */
function killIfSame(pid: number | undefined, start: string | undefined): void {
  if (!pid || !start || processStartTime(pid) !== start) return;
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
}

/** A fuse-overlayfs of ours whose command line names `merged` as its mount point. */
function killFuseOverlayfs(merged: string): void {
  const uid = process.getuid?.();
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (fs.statSync(`/proc/${n}`).uid !== uid) continue;
      const argv = fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0]) === 'fuse-overlayfs' && argv.includes(merged)) process.kill(Number(n), 'SIGKILL');
    } catch { /* exited meanwhile */ }
  }
}
