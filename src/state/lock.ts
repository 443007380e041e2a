import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryFlock, unlock } from '../native/addon';

/**
 * Hold an exclusive flock(2) on `lockFile` while fn runs. flock locks die with the process,
 * so a crashed skiff never leaves a stale lock behind (unlike lock files created with O_EXCL).
 * Waiting for a busy lock never blocks the event loop (see waitForLock): a pull runs several
 * layer jobs at once, and one of them waiting must not stall the downloads of the others.
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

async function holding<T>(lockFile: string, exclusive: boolean, wait: boolean, fn: () => T | Promise<T>): Promise<{ value: T } | undefined> {
  // Node opens files close-on-exec, so helpers we spawn meanwhile do not inherit the lock.
  const fd = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    // The common case, a free lock, is taken at once, synchronously.
    if (!tryFlock(fd, exclusive)) {
      if (!wait) return undefined;
      await waitForLock(fd, exclusive);
    }
    return { value: await fn() };
  } finally {
    try { unlock(fd); } catch { /* closing releases it anyway */ }
    fs.closeSync(fd);
  }
}

/**
 * Take a lock and keep it until the returned release is called, for a hold that spans more
 * than one callback (a container start keeps the networks' users lock until its monitor took
 * its own). Shared unless `exclusive`.
 */
export async function acquireLock(lockFile: string, exclusive: boolean): Promise<() => void> {
  const fd = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    if (!tryFlock(fd, exclusive)) await waitForLock(fd, exclusive);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    try { unlock(fd); } catch { /* closing releases it anyway */ }
    fs.closeSync(fd);
  };
}

/** The longest pause between two tries: how late at most a waiter notices a released lock. */
const MAX_RETRY_MS = 20;

/**
 * Try the busy lock again, without blocking, after pauses that double up to MAX_RETRY_MS.
 * Not a blocking flock on a libuv worker thread: the pool has only 4 threads, which fs, zlib
 * and crypto share, so a few waiters would stall the very jobs (in this process too: flock
 * locks belong to open files, and two opens of one file conflict) that must finish to release
 * the lock; and a thread stuck in flock cannot be cancelled, which would hold up process exit.
 */
async function waitForLock(fd: number, exclusive: boolean): Promise<void> {
  for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, MAX_RETRY_MS)) {
    await sleep(delayMs);
    if (tryFlock(fd, exclusive)) return;
  }
}

/**
 * withLock for synchronous work (a read-only command such as ps settling a lost container,
 * which is rare and brief). It does block the event loop while the lock is busy: only for
 * callers that have nothing else running.
 */
export function withLockSync<T>(lockFile: string, fn: () => T): T {
  const fd = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let delayMs = 1; !tryFlock(fd, true); delayMs = Math.min(delayMs * 2, MAX_RETRY_MS)) {
      Atomics.wait(pause, 0, 0, delayMs);
    }
    return fn();
  } finally {
    try { unlock(fd); } catch { /* closing releases it anyway */ }
    fs.closeSync(fd);
  }
}
