/**
 * skiff-helper's --uidmap/--gidmap: every range reaches newuidmap/newgidmap (the kernel takes up
 * to 340 since Linux 4.15), and a map it cannot apply is refused with one line before anything
 * runs. A stand-in newuidmap records its arguments and fails, so nothing is really mapped.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const HELPER = process.env.SKIFF_TEST_HELPER ?? path.resolve(__dirname, '../../native/helper/build/skiff-helper');
let tmp: string;
let tool: string;
let record: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-maps-test-'));
  record = path.join(tmp, 'args');
  tool = path.join(tmp, 'newuidmap');
  fs.writeFileSync(tool, `#!/bin/sh\necho "$@" > ${record}\nexit 1\n`, { mode: 0o755 });
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** N ranges: 0:<own id>:1, then 1-wide ranges at 100000, 100010, ... */
function map(n: number): string {
  const ranges = [`0:${process.getuid!()}:1`];
  for (let i = 1; i < n; i++) ranges.push(`${i}:${100000 + 10 * i}:1`);
  return ranges.join(',');
}

function helper(uidmap: string): { status: number | null; stderr: string } {
  const r = spawnSync(HELPER, ['--uidmap', uidmap, '--gidmap', uidmap, '--newuidmap', tool, '--newgidmap', tool,
    'rm', path.join(tmp, 'nothing')], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('skiff-helper --uidmap', () => {
  it('hands all of a 340-range map to newuidmap (it used to stop at 32)', () => {
    const r = helper(map(340));
    expect(r.status).toBe(1); // the stand-in fails
    expect(r.stderr).toMatch(/newuidmap failed/);
    const args = fs.readFileSync(record, 'utf8').trim().split(' ');
    expect(args).toHaveLength(1 + 3 * 340); // the pid, then C H N per range
    expect(args.slice(1).join(' ')).toBe(map(340).replace(/[:,]/g, ' '));
  });

  it('refuses 341 ranges with one line, before running anything', () => {
    const r = helper(map(341));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('skiff-helper: --uidmap has 341 ranges; the kernel takes at most 340: merge adjacent ranges in /etc/subuid and /etc/subgid\n');
    expect(fs.existsSync(record)).toBe(false);
  });

  it.each(['0:1', '0:1:1,', '0:1:1,,1:2:3', 'a:1:1', '0:1:1;2:3:4', ''])('refuses the malformed map %j', (bad) => {
    const r = helper(bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`skiff-helper: --uidmap ${bad}: not a map of the form C:H:N[,C:H:N...]\n`);
    expect(fs.existsSync(record)).toBe(false);
  });
});
