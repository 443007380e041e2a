import fs from 'node:fs';
import os from 'node:os';
import { pidfdOpen, pidfdSendSignal } from '../native/addon';

/**
 * A PID alone does not name a process: once it exits and is reaped, the kernel may give the
 * number to another one. Records therefore keep the start time (field 22 of /proc/PID/stat)
 * next to each PID; a live process with the same PID and start time is the same process.
 */

/** /proc/PID/stat after the command name: field 3 (state) first, field 22 (start time) at 19. */
function statFields(pid: number): string[] | undefined {
  try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' '); } catch { return undefined; }
}

/** The process's start time (clock ticks after boot, as text), or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/**
 * Is `pid` still the live process recorded with start time `start`? A zombie is not (it has
 * exited; whoever inherited it may never reap it). Without a recorded start time (records older
 * than the field) a live PID is taken as the same process.
 */
export function isSameLiveProcess(pid: number | undefined, start: string | undefined): boolean {
  const f = pid ? statFields(pid) : undefined;
  if (!f || f[0] === 'Z' || f[0] === 'X') return false;
  return !start || f[19] === start;
}

/**
 * Send `signal` to `pid` only if it is still the process recorded with start time `start`;
 * true when it was signalled. The pidfd is opened before the check, so the process the check
 * saw is the one the signal reaches: a PID reused after the check would leave the pidfd naming
 * the exited process (ESRCH), never the newcomer. No start time, no signal: an unchecked PID
 * may belong to anyone.
 */
export function signalIfSame(pid: number | undefined, start: string | undefined, signal: NodeJS.Signals | number): boolean {
  if (!pid || !start) return false;
  let pidfd: number;
  try { pidfd = pidfdOpen(pid); } catch { return false; /* gone */ }
  try {
    if (processStartTime(pid) !== start) return false;
    pidfdSendSignal(pidfd, typeof signal === 'number' ? signal : os.constants.signals[signal]);
    return true;
  } catch {
    return false; // exited between the check and the signal
  } finally {
    fs.closeSync(pidfd);
  }
}

let bootId: string | undefined;

/**
 * This boot's ID (/proc/sys/kernel/random/boot_id). PIDs and start times count from boot, so a
 * PID and start time recorded before a reboot can match an unrelated process after it (early
 * boot is much the same every time): records keep the boot ID too, and a record from another
 * boot names no live process at all.
 */
export function currentBootId(): string {
  if (bootId === undefined) {
    try { bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { bootId = ''; }
  }
  return bootId;
}
