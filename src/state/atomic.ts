import fs from 'node:fs';
import path from 'node:path';
import { randomHex } from '../util/random';

/**
 * Write a file so that a crash leaves either the old or the new content, never a torn one:
 * write a unique temp file in the same directory, fsync it, rename over the target.
 */
// The temporary name's randomness comes from util/random, not node:crypto: loading crypto cost
// ~10 ms of start-up (docs/PERFORMANCE.md).
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600, durable = true): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomHex(6)}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * `durable: false` still renames atomically (readers never see a torn file) but skips the
 * fsync: for state that a crash may lose anyway, like a --rm container's record.
 */
export function writeJsonAtomic(file: string, value: unknown, durable = true): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', 0o600, durable);
}

/** Read a JSON object file; undefined when it does not exist. */
export function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}
