// --security-opt no-new-privileges, --cap-add/--cap-drop and --privileged, seen from inside the
// container (/proc/self/status), and Docker's errors for bad values.
import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, isRootless, skiff, useStore } from './harness';

useStore();

/** The container's /proc/self/status fields. */
async function status(flags: string[] = []): Promise<Record<string, string>> {
  const r = await skiff(['run', '--rm', ...flags, BUSYBOX, 'cat', '/proc/self/status']);
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries(r.stdout.split('\n').filter(Boolean).map((l) => {
    const [k, v] = l.split(':\t');
    return [k, v?.trim() ?? ''];
  }));
}

const capMask = (bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n).toString(16).padStart(16, '0');
const DEFAULT_MASK = '00000000a80425fb';
/** What this (test) process may hand on: a container cannot get more. */
const OUR_BOUNDING = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];

describe('--security-opt no-new-privileges', () => {
  test.each([['no-new-privileges'], ['no-new-privileges=true'], ['no-new-privileges:true']])('%s sets NoNewPrivs', async (opt) => {
    expect((await status(['--security-opt', opt])).NoNewPrivs).toBe('1');
  });
  test('off by default and with =false', async () => {
    expect((await status()).NoNewPrivs).toBe('0');
    expect((await status(['--security-opt', 'no-new-privileges=false'])).NoNewPrivs).toBe('0');
  });
  test("a bad value: Docker's error, exit 125", async () => {
    const r = await skiff(['run', '--rm', '--security-opt', 'no-new-privileges=maybe', BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual(['skiff: invalid --security-opt 2: "no-new-privileges=maybe"']);
  });
});

describe('--cap-add / --cap-drop', () => {
  test('drop ALL, then add one', async () => {
    const s = await status(['--cap-drop', 'ALL', '--cap-add', 'net_admin']);
    expect(s.CapBnd).toBe(capMask([12]));
    expect(s.CapEff).toBe(capMask([12]));
  });
  test('names with or without CAP_, any case', async () => {
    const s = await status(['--cap-add', 'CAP_SYS_PTRACE', '--cap-drop', 'chown', '--cap-drop', 'Cap_Kill']);
    const expected = (BigInt(`0x${DEFAULT_MASK}`) | (1n << 19n)) & ~1n & ~(1n << 5n);
    expect(s.CapBnd).toBe(expected.toString(16).padStart(16, '0'));
    expect(s.CapEff).toBe(s.CapBnd);
  });
  test('a non-root user keeps the bounding set only', async () => {
    const s = await status(['-u', '1000', '--cap-add', 'NET_ADMIN']);
    expect(s.CapBnd).toBe((BigInt(`0x${DEFAULT_MASK}`) | (1n << 12n)).toString(16).padStart(16, '0'));
    expect(s.CapEff).toBe('0000000000000000');
  });
  test('an unknown capability: one line naming it, exit 125, no container', async () => {
    const before = (await skiff(['ps', '-aq'])).stdout;
    const r = await skiff(['run', '--rm', '--cap-add', 'NOPE', BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual(['skiff: unknown capability: "CAP_NOPE"']);
    expect((await skiff(['ps', '-aq'])).stdout).toBe(before);
  });
});

describe('--privileged', () => {
  test('every capability available, no seccomp, /proc/sys not read-only', async () => {
    const r = await skiff(['run', '--rm', '--privileged', BUSYBOX, 'sh', '-c', 'grep -E "^(CapEff|CapBnd|Seccomp):" /proc/self/status; grep -c " /proc/sys " /proc/self/mountinfo || true']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.replace(/:\s+/g, ' ')).toBe(`CapEff ${OUR_BOUNDING}\nCapBnd ${OUR_BOUNDING}\nSeccomp 0\n0\n`);
  });
  test('the host devices are there', async () => {
    const r = await skiff(['run', '--rm', '--privileged', BUSYBOX, 'ls', '/dev']);
    expect(r.code, r.stderr).toBe(0);
    const inside = new Set(r.stdout.split(/\s+/));
    const host = fs.readdirSync('/dev', { withFileTypes: true }).filter((d) => d.isCharacterDevice() && !/^(tty|console|ptmx)/.test(d.name));
    expect(host.filter((d) => !inside.has(d.name)).map((d) => d.name)).toEqual([]);
  });
  test('rootless, one line says what it cannot give', async () => {
    const r = await skiff(['run', '--rm', '--privileged', BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('--privileged'));
    expect(warnings).toHaveLength(isRootless() ? 1 : 0);
    if (isRootless()) expect(warnings[0]).toMatch(/^WARNING: rootless --privileged: capabilities hold only inside the user namespace/);
  });
  test('a named seccomp profile still applies', async () => {
    const s = await status(['--privileged', '--security-opt', 'seccomp=builtin']);
    expect(s.Seccomp).toBe('2');
  });
});

describe("--security-opt errors, in Docker's words", () => {
  test.each([
    ['bogus', 'skiff: invalid --security-opt 1: "bogus"'],
    ['foo=bar', 'skiff: invalid --security-opt 2: "foo=bar"'],
    ['systempaths=confined', 'skiff: invalid --security-opt 2: "systempaths=confined"'],
  ])('%s', async (opt, message) => {
    const r = await skiff(['create', '--security-opt', opt, BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual([message]);
  });
  test('label= and apparmor= are accepted (no SELinux or AppArmor here)', async () => {
    const r = await skiff(['run', '--rm', '--security-opt', 'label=disable', '--security-opt', 'apparmor=unconfined', BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
  });
  test('systempaths=unconfined unmasks /proc (no read-only /proc/sys), seccomp stays', async () => {
    const script = 'grep -c " /proc/sys " /proc/self/mountinfo; grep "^Seccomp:" /proc/self/status';
    const masked = await skiff(['run', '--rm', BUSYBOX, 'sh', '-c', script]);
    expect(masked.stdout.replace(/:\s+/g, ' ')).toBe('1\nSeccomp 2\n');
    const r = await skiff(['run', '--rm', '--security-opt', 'systempaths=unconfined', BUSYBOX, 'sh', '-c', script]);
    expect(r.stdout.replace(/:\s+/g, ' ')).toBe('0\nSeccomp 2\n');
  });
});
