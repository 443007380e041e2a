import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainIds } from '../../src/storage/layout';

const sha = (s: string) => `sha256:${crypto.createHash('sha256').update(s).digest('hex')}`;

// Arbitrary but realistic diff IDs.
const D1 = sha('layer one');
const D2 = sha('layer two');
const D3 = sha('layer three');

describe('chainIds (OCI image spec: ChainID(n) = SHA256(ChainID(n-1) + " " + DiffID(n)))', () => {
  it('no layers -> no chain IDs', () => {
    expect(chainIds([])).toEqual([]);
  });

  it('the first chain ID is the first diff ID', () => {
    expect(chainIds([D1])).toEqual([D1]);
  });

  it('later chain IDs hash the previous chain ID, one space and the diff ID', () => {
    const c2 = sha(`${D1} ${D2}`);
    const c3 = sha(`${c2} ${D3}`);
    expect(chainIds([D1, D2, D3])).toEqual([D1, c2, c3]);
  });

  it('matches a hand-computed digest of the exact byte string', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    const expected = crypto.createHash('sha256')
      .update(Buffer.from(`sha256:${'a'.repeat(64)} sha256:${'b'.repeat(64)}`, 'ascii'))
      .digest('hex');
    expect(chainIds([a, b])).toEqual([a, `sha256:${expected}`]);
    // not the digest of the bare hex, nor without the separator
    expect(chainIds([a, b])[1]).not.toBe(sha(`${'a'.repeat(64)} ${'b'.repeat(64)}`));
    expect(chainIds([a, b])[1]).not.toBe(sha(`${a}${b}`));
  });

  it('depends on the order of the layers', () => {
    expect(chainIds([D1, D2])[1]).not.toBe(chainIds([D2, D1])[1]);
    expect(chainIds([D2, D1])).toEqual([D2, sha(`${D2} ${D1}`)]);
  });

  it('a repeated diff ID gives a different chain ID at each position', () => {
    const out = chainIds([D1, D1, D1]);
    expect(out).toEqual([D1, sha(`${D1} ${D1}`), sha(`${sha(`${D1} ${D1}`)} ${D1}`)]);
    expect(new Set(out).size).toBe(3);
  });

  it('each prefix of the layer list gives the same chain IDs (shared base layers)', () => {
    const full = chainIds([D1, D2, D3]);
    expect(chainIds([D1, D2])).toEqual(full.slice(0, 2));
  });

  it('every chain ID after the first is sha256:<64 lowercase hex>', () => {
    for (const c of chainIds([D1, D2, D3]).slice(1)) expect(c).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
