import fs from 'node:fs';
import { flock, unlock } from '../native/addon';

/**
 * Hold an exclusive flock(2) on `lockFile` while fn runs. flock locks die with the process,
 * so a crashed skiff never leaves a stale lock behind (unlike lock files created with O_EXCL).
 * Blocking is fine: one CLI process does one job at a time.
 */
export async function withLock<T>(lockFile: string, fn: () => T | Promise<T>): Promise<T> {
  return (await holding(lockFile, true, true, fn))!.value; // waiting, so never busy
}

/** The same with a shared lock: any number of holders at once, none beside an exclusive one. */
export async function withSharedLock<T>(lockFile: string, fn: () => T | Promise<T>): Promise<T> {
  return (await holding(lockFile, false, true, fn))!.value;
}

/** An exclusive lock if it is free right now: `{ value }` from fn, or undefined (fn not run). */
export async function withLockIfFree<T>(lockFile: string, fn: () => T | Promise<T>): Promise<{ value: T } | undefined> {
  return holding(lockFile, true, false, fn);
}

/** withLock for synchronous work (a read-only command settling a lost container). */
export function withLockSync<T>(lockFile: string, fn: () => T): T {
  const fd = take(lockFile, true, true)!;
  try { return fn(); } finally { release(fd); }
}

async function holding<T>(lockFile: string, exclusive: boolean, wait: boolean, fn: () => T | Promise<T>): Promise<{ value: T } | undefined> {
  const fd = take(lockFile, exclusive, wait);
  if (fd === undefined) return undefined;
  try { return { value: await fn() }; } finally { release(fd); }
}

/** The locked fd, or undefined when not waiting and the lock is busy. */
function take(lockFile: string, exclusive: boolean, wait: boolean): number | undefined {
  // Node opens files close-on-exec, so helpers we spawn meanwhile do not inherit the lock.
  const fd = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    if (flock(fd, exclusive, wait)) return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  fs.closeSync(fd);
  return undefined;
}

function release(fd: number): void {
  try { unlock(fd); } catch { /* closing releases it anyway */ }
  fs.closeSync(fd);
}
