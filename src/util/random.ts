import fs from 'node:fs';

// Random bytes for names and identifiers (container IDs, generated names, temporary file names),
// read from the kernel's /dev/urandom. node:crypto would give the same bytes, but loading it
// (with the streams and the key classes it brings) cost `run` ~10 ms of start-up for 32 bytes
// of ID and a few temporary names (docs/PERFORMANCE.md). Hashing still uses node:crypto.

let pool = Buffer.alloc(0);
let used = 0;

/** `n` bytes from /dev/urandom (one read of at least 256 bytes serves several calls). */
export function randomBytes(n: number): Buffer {
  if (used + n > pool.length) {
    pool = Buffer.allocUnsafe(Math.max(256, n));
    used = 0;
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      for (let got = 0; got < pool.length;) got += fs.readSync(fd, pool, got, pool.length - got, null);
    } finally {
      fs.closeSync(fd);
    }
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  used += n;
  return out;
}

/** `n` random bytes as 2n hexadecimal digits. */
export function randomHex(n: number): string {
  return randomBytes(n).toString('hex');
}

/** A uniformly random integer in [0, max), for 0 < max <= 2^32 (rejection sampling: no modulo bias). */
export function randomInt(max: number): number {
  if (!Number.isInteger(max) || max <= 0 || max > 2 ** 32) throw new RangeError(`randomInt: max must be an integer in 1..2^32, got ${max}`);
  const limit = Math.floor(2 ** 32 / max) * max;
  for (;;) {
    const v = randomBytes(4).readUInt32LE(0);
    if (v < limit) return v % max;
  }
}
