import fs from 'node:fs';
import path from 'node:path';
import { runHelperSync } from '../native/helper';
import { thawNow } from '../runtime/freezer';
import { monitorFile } from '../runtime/monitor-client';
import { currentBootId, isSameLiveProcess, signalIfSame } from '../runtime/process-identity';
import { withLockSync } from '../state/lock';
import { LIVE_STATUSES, type ContainerRecord } from './container-store';
import type { Engine } from './context';
import { rootfsStorageDirs } from './rootfs';
import { anonymousVolumeDirs } from './volume-mounts';
import { recordedNetHelper } from './container-network';

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

/** Docker's exit code for a container that was running when its daemon went away (a reboot). */
export const REBOOT_EXIT_CODE = 255;
export const REBOOT_ERROR = 'the host rebooted while the container was running';

/** Were the recorded PIDs handed out by an earlier boot? Then they name nothing of ours. */
export function fromOtherBoot(c: ContainerRecord): boolean {
  return c.state.bootId !== undefined && c.state.bootId !== currentBootId();
}

/**
 * Is the monitor recorded for this container still the same live process? A zombie is not:
 * its parent (the skiff that started it) is gone, and whoever inherited it may never reap it.
 */
export function monitorAlive(c: ContainerRecord): boolean {
  return !fromOtherBoot(c) && isSameLiveProcess(c.state.monitorPid, c.state.monitorStart);
}

/**
 * Settle `seen` (a record saying running, whose monitor is gone and left no exit file) under
 * containers.lock, after checking that the record still says so: a monitor that was only slow
 * (its exit file, its --rm removal) or a new start of the same container wins. Best effort: a
 * failure leaves the record as it was, and the next command tries again.
 */
export function settleLostContainer(engine: Engine, seen: ContainerRecord): void {
  const exitFile = monitorFile(engine.containers.dir(seen.id), 'exit');
  try {
    withLockSync(engine.containers.lockFile, () => {
      const c = engine.containers.get(seen.id);
      if (!c || !LIVE_STATUSES.has(c.state.status) || c.state.monitorPid !== seen.state.monitorPid) return;
      if (monitorAlive(c) || fs.existsSync(exitFile)) return;
      const rebooted = fromOtherBoot(c);
      if (!rebooted) {
        // Only if its PID still has the recorded start time: it may belong to another process now.
        // After a reboot nothing of the container survives, and its PIDs name strangers.
        signalIfSame(c.state.pid, c.state.pidStart, 'SIGKILL');
        if (c.state.status === 'paused') thawNow(c.id); // a frozen process holds the SIGKILL until thawed
        killFuseOverlayfs(path.join(engine.containers.dir(c.id), 'merged'));
        killNetworkHelper(engine.containers.dir(c.id));
      }
      if (c.config.autoRemove) {
        // Sub-ID owned files: removed by the helper inside the namespace, as `rm` does.
        // and its anonymous volumes, as its monitor would have removed them (start.ts: cleanup)
        const storage = [...rootfsStorageDirs(engine, c), ...anonymousVolumeDirs(engine, c)].filter((d) => fs.existsSync(d));
        if (storage.length && runHelperSync(engine.userns, ['rm', ...storage]) !== 0) return;
        fs.rmSync(engine.containers.dir(c.id), { recursive: true, force: true });
        return;
      }
      c.state = rebooted
        ? { ...c.state, status: 'exited', exitCode: REBOOT_EXIT_CODE, error: REBOOT_ERROR, pid: undefined, finishedAt: bootTime() }
        : { ...c.state, status: 'exited', exitCode: LOST_EXIT_CODE, error: LOST_ERROR, pid: undefined, finishedAt: new Date().toISOString() };
      engine.containers.save(c);
    });
  } catch { /* the view is still right; the record is settled next time */ }
}

/** When this boot began (/proc/stat btime): a container of an earlier boot ended before it. */
export function bootTime(): string {
  try {
    const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    if (btime) return new Date(Number(btime[1]) * 1000).toISOString();
  } catch { /* fall through */ }
  return new Date().toISOString();
}

/**
 * The user-mode network helper (pasta, slirp4netns) the monitor started, by the "PID STARTTIME"
 * it recorded. It has the parent-death signal and dies with the monitor; this covers the rest.
 */
function killNetworkHelper(dir: string): void {
  const helper = recordedNetHelper(dir);
  if (helper) signalIfSame(helper.pid, helper.start, 'SIGKILL');
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
