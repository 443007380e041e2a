/**
 * The monitor mode (skiff-monitor) runs from a sealed memfd copy of itself even when started from its
 * file (native/helper/sealed_exe.c); Node's addon normally spawns it from such a copy already
 * (test/e2e/security-host.test.ts covers that path). The spec file here is a FIFO, so the
 * monitor waits on it and its /proc/PID/exe can be read at leisure.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';

const MONITOR = process.env.SKIFF_TEST_MONITOR ?? path.resolve(__dirname, '../../native/helper/build/skiff-monitor');
const NS_ARGS = process.getuid!() === 0 ? [] : ['--uidmap', `0:${process.getuid!()}:1`, '--gidmap', `0:${process.getgid!()}:1`];
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-sealed-test-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('monitor started from the helper file re-executes itself from a sealed memfd before anything else', async () => {
  const fifo = path.join(tmp, 'spec');
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const child = spawn(MONITOR, [...NS_ARGS, 'monitor', fifo], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    // It blocks opening the FIFO, after the re-execution (if any): wait for it to get there.
    let exe = '', comm = '';
    for (let i = 0; i < 200 && !(exe.startsWith('/memfd:') && comm === 'skiff-helper\n'); i++) {
      await sleep(25);
      exe = fs.readlinkSync(`/proc/${child.pid}/exe`);
      comm = fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8');
    }
    expect(exe).toBe('/memfd:skiff-helper (deleted)');
    expect(comm).toBe('skiff-helper\n'); // named back after the re-execution
  } finally {
    fs.closeSync(fs.openSync(fifo, 'w')); // an empty spec: the monitor refuses it and exits
  }
  expect(await exited).toBe(1);
  expect(stderr).toBe('skiff-helper: monitor: spec lacks rootfs or args\n');
});

it('skiff-monitor has the modes monitor and exec only, and none of the pull/unpack code (each container keeps a copy of it)', () => {
  const r = spawnSync(MONITOR, ['apply-tar', tmp], { encoding: 'utf8' });
  expect(r.stderr).toBe('skiff-helper: unknown mode apply-tar\n');
  expect(r.status).toBe(1);
  const symbols = spawnSync('nm', ['--defined-only', MONITOR], { encoding: 'utf8' }).stdout;
  expect(symbols).toMatch(/ T mode_monitor$/m);
  expect(symbols).toMatch(/ T mode_exec$/m);
  // untar.c, zlib, libzstd, libcrypto's sha256
  for (const name of ['mode_apply_tar', 'inflate', 'ZSTD_decompressStream', 'sha256_block_data_order']) {
    expect(symbols).not.toMatch(new RegExp(` ${name}$`, 'm'));
  }
});
