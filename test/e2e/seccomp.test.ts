// The seccomp filter a container runs under: Docker's default profile (x86_64 path), the x32
// ABI closed, capability-dependent rules, custom profiles and unconfined.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, lines, REPO, skiff, useStore } from './harness';

useStore();

let workDir = '';
let probe: Buffer;

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-seccomp-'));
  fs.chmodSync(workDir, 0o755);
  const out = path.join(workDir, 'probe');
  // Static, so it runs in busybox; raw syscall numbers, so libc cannot pick another syscall.
  execFileSync('gcc', ['-static', '-O2', '-o', out, path.join(REPO, 'test/fixtures/seccomp-probe.c')]);
  probe = fs.readFileSync(out);
});

afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

/** Pipe the probe into a busybox container and run it there: "ATTEMPT RESULT" per attempt. */
async function runProbe(attempts: string[], flags: string[] = []): Promise<Record<string, string>> {
  const r = await skiff(['run', '--rm', '-i', ...flags, BUSYBOX, 'sh', '-c', 'cat > /probe && chmod +x /probe && exec /probe "$@"', 'sh', ...attempts], { input: probe });
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries(lines(r.stdout).map((l) => l.split(' ') as [string, string]));
}

const x86_64 = process.arch === 'x64';

describe("Docker's default profile", () => {
  test.runIf(x86_64)('the x32 ABI cannot reach unshare: the filter refuses it (EPERM), as it refuses the x86_64 call', async () => {
    // A kernel without x32 support would say ENOSYS: EPERM is the filter's answer.
    const r = await runProbe(['unshare', 'x32-unshare', 'x32-getpid']);
    expect(r).toEqual({ unshare: 'EPERM', 'x32-unshare': 'EPERM', 'x32-getpid': 'EPERM' });
  });

  test('io_uring is denied', async () => {
    expect(await runProbe(['io_uring_setup'])).toEqual({ io_uring_setup: 'EPERM' });
  });

  test("personality only with Docker's values", async () => {
    const r = await runProbe(['personality=0', 'personality=8', 'personality=0x20008', 'personality=0xffffffff', 'personality=0x40000', 'personality=0x400000']);
    expect(r).toEqual({
      'personality=0': 'ok', 'personality=8': 'ok', 'personality=0x20008': 'ok', 'personality=0xffffffff': 'ok',
      'personality=0x40000': 'EPERM', 'personality=0x400000': 'EPERM',
    });
  });

  test('mount is denied, and allowed with --cap-add SYS_ADMIN', async () => {
    expect(await runProbe(['mount'])).toEqual({ mount: 'EPERM' });
    expect(await runProbe(['mount', 'unshare'], ['--cap-add', 'SYS_ADMIN'])).toEqual({ mount: 'ok', unshare: 'ok' });
  });

  test('it is on with no_new_privs too (then loaded after the capabilities are dropped)', async () => {
    const r = await skiff(['run', '--rm', '--security-opt', 'no-new-privileges', '-u', '1000', BUSYBOX, 'grep', '-E', '^(Seccomp|NoNewPrivs):', '/proc/self/status']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).map((l) => l.replace(/\s+/, ' '))).toEqual(['NoNewPrivs: 1', 'Seccomp: 2']);
    expect(await runProbe(['io_uring_setup', 'mount'], ['--security-opt', 'no-new-privileges=true'])).toEqual({ io_uring_setup: 'EPERM', mount: 'EPERM' });
  });
});

describe('--security-opt seccomp=', () => {
  test('a Docker-format profile file', async () => {
    const file = path.join(workDir, 'no-mkdir.json');
    fs.writeFileSync(file, JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    }));
    fs.chmodSync(file, 0o644);
    expect(await runProbe(['mkdir=/made', 'io_uring_setup'], ['--security-opt', `seccomp=${file}`])).toEqual({ 'mkdir=/made': 'EPERM', io_uring_setup: 'ok' });
    const r = await skiff(['run', '--rm', '--security-opt', `seccomp=${file}`, BUSYBOX, 'mkdir', '/x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  test('unconfined', async () => {
    const r = await skiff(['run', '--rm', '--security-opt', 'seccomp=unconfined', BUSYBOX, 'grep', '^Seccomp:', '/proc/self/status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Seccomp:\s+0$/m);
  });

  test('a bad profile: one line naming the file, exit 125, no container left', async () => {
    const before = (await skiff(['ps', '-aq'])).stdout;
    const file = path.join(workDir, 'bad.json');
    fs.writeFileSync(file, '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [');
    fs.chmodSync(file, 0o644);
    const r = await skiff(['run', '--rm', '--security-opt', `seccomp=${file}`, BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`invalid seccomp profile (${file}): not valid JSON`);
    const missing = await skiff(['create', '--security-opt', `seccomp=${workDir}/missing.json`, BUSYBOX, 'true']);
    expect(missing.code).toBe(125);
    expect(errorLines(missing.stderr)).toEqual([`skiff: opening seccomp profile (${workDir}/missing.json) failed: open ${workDir}/missing.json: no such file or directory`]);
    expect((await skiff(['ps', '-aq'])).stdout).toBe(before);
  });
});
