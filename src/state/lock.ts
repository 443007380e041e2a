import fs from 'node:fs';
import { flock, unlock } from '../native/addon';

/**
 * Hold an exclusive flock(2) on `lockFile` while fn runs. flock locks die with the process,
 * so a crashed skiff never leaves a stale lock behind (unlike lock files created with O_EXCL).
 * Blocking is fine: one CLI process does one job at a time.
 */
export async function withLock<T>(lockFile: string, fn: () => T | Promise<T>): Promise<T> {
  // Node opens files close-on-exec, so helpers we spawn meanwhile do not inherit the lock.
  const fd = fs.openSync(lockFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    flock(fd, true, true);
    return await fn();
  } finally {
    try { unlock(fd); } catch { /* closing releases it anyway */ }
    fs.closeSync(fd);
  }
}
