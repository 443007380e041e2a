// The e2e run's timing table and its tiers (test/e2e/timing-reporter.ts, test/e2e/tiers.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatTiming, type FileTime, type TestTime } from '../e2e/timing-reporter';
import { FAST_TIER, tierFiles, tierFromEnv } from '../e2e/tiers';

const REPO = path.resolve(__dirname, '../..');

describe('timing table', () => {
  const files: FileTime[] = [
    { file: 'test/e2e/a.test.ts', ms: 2_000, tests: 3, state: 'passed' },
    { file: 'test/e2e/slowest.test.ts', ms: 6_000, tests: 1, state: 'failed' },
    { file: 'test/e2e/b.test.ts', ms: 2_100, tests: 7, state: 'passed' },
  ];
  const tests: TestTime[] = Array.from({ length: 12 }, (_, i) => ({ file: 'test/e2e/a.test.ts', name: `t${i}`, ms: 100 * i }));
  const out = formatTiming('rootless, fast tier', files, tests);
  const lines = out.split('\n');

  test('files slowest first, with time, share of the total, test count and state', () => {
    expect(lines[1]).toBe('e2e time per file (rootless, fast tier): 3 files, 10.1 s');
    expect(lines[2]).toMatch(/^ {2}file +time +share +tests +state$/);
    expect(lines.slice(3, 6)).toEqual([
      '  test/e2e/slowest.test.ts     6.0 s    59%      1  failed',
      '  test/e2e/b.test.ts           2.1 s    21%      7  passed',
      '  test/e2e/a.test.ts           2.0 s    20%      3  passed',
    ]);
  });

  test('one file is "1 file"', () => {
    expect(formatTiming('rootful', files.slice(0, 1), []).split('\n')[1]).toBe('e2e time per file (rootful): 1 file, 2.0 s');
  });

  test('then the ten slowest tests, slowest first', () => {
    const start = lines.indexOf('slowest tests (rootless, fast tier):');
    expect(start).toBe(6);
    const slow = lines.slice(start + 1).filter(Boolean);
    expect(slow).toHaveLength(10);
    expect(slow[0]).toBe('     1.1 s  test/e2e/a.test.ts > t11');
    expect(slow[9]).toBe('     0.2 s  test/e2e/a.test.ts > t2');
  });
});

describe('tiers', () => {
  const e2eFiles = fs.readdirSync(path.join(REPO, 'test/e2e')).filter((f) => f.endsWith('.test.ts')).map((f) => `test/e2e/${f}`);

  test('every fast-tier file exists, and the rest tier excludes exactly them', () => {
    for (const f of FAST_TIER) expect(e2eFiles).toContain(f);
    expect(tierFiles('fast')).toEqual({ include: FAST_TIER, exclude: [] });
    expect(tierFiles('rest')).toEqual({ include: ['test/e2e/**/*.test.ts'], exclude: FAST_TIER });
    expect(tierFiles(undefined)).toEqual({ include: ['test/e2e/**/*.test.ts'], exclude: [] });
  });

  test('SKIFF_E2E_TIER: fast, rest, or unset; anything else is an error', () => {
    expect(tierFromEnv('fast')).toBe('fast');
    expect(tierFromEnv('rest')).toBe('rest');
    expect(tierFromEnv(undefined)).toBeUndefined();
    expect(tierFromEnv('')).toBeUndefined();
    expect(() => tierFromEnv('quick')).toThrow('SKIFF_E2E_TIER=quick: expected fast, rest or nothing (the whole suite)');
  });
});
