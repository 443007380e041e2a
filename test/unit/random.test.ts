// src/util/random.ts: the randomness of container IDs, generated names and temporary file names,
// read from /dev/urandom instead of node:crypto (which cost run ~10 ms to load).
import { describe, expect, it } from 'vitest';
import { randomBytes, randomHex, randomInt } from '../../src/util/random';

describe('util/random', () => {
  it('gives the number of bytes asked for, different each time, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const h = randomHex(32); // 200 x 32 bytes: many refills of the 256-byte pool
      expect(h).toMatch(/^[0-9a-f]{64}$/);
      seen.add(h);
    }
    expect(seen.size).toBe(200);
    expect(randomBytes(1000)).toHaveLength(1000); // larger than the pool
    expect(randomBytes(0)).toHaveLength(0);
  });

  it('randomInt stays in [0, max) and reaches every value', () => {
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[randomInt(7)]++;
    for (const c of counts) expect(c).toBeGreaterThan(700); // 1000 expected each; a stuck or biased source fails
    expect(randomInt(1)).toBe(0);
    expect(randomInt(2 ** 32)).toBeLessThan(2 ** 32);
  });

  it('refuses a bound it cannot draw from uniformly', () => {
    expect(() => randomInt(0)).toThrow(RangeError);
    expect(() => randomInt(1.5)).toThrow(RangeError);
    expect(() => randomInt(2 ** 32 + 1)).toThrow(RangeError);
  });
});
