import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withLock, withLockIfFree, withSharedLock } from '../../src/state/lock';

let dir: string;
let child: ChildProcess | undefined;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-lock-test-')); });
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Another process (util-linux flock(1)) holds the lock on `file` for `holdMs`, and creates
 * `marker` just before it lets go; resolves once it holds the lock.
 */
function holdElsewhere(file: string, marker: string, holdMs: number, mode: '-x' | '-s' = '-x'): Promise<void> {
  child = spawn('flock', [mode, file, 'sh', '-c', `echo held; sleep ${holdMs / 1000}; touch "$1"`, 'sh', marker],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child!.stdout!.once('data', () => resolve());
    child!.once('error', reject);
  });
}

describe('withLock', () => {
  it('waits for a lock held by another process without blocking the event loop, and gets it once released', async () => {
    const file = path.join(dir, 'lock'), released = path.join(dir, 'released');
    await holdElsewhere(file, released, 400);
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 10);
    try {
      const started = Date.now();
      const acquiring = withLock(file, () => ({ ticksWhileWaiting: ticks, releasedFirst: fs.existsSync(released), waitedMs: Date.now() - started }));
      const ticksAtCall = ticks; // a synchronous, blocking wait would have ended already here
      const got = await acquiring;
      expect(ticksAtCall).toBe(0);
      // ~40 ticks in 400 ms; a loop blocked in flock(2) sees none
      expect(got.ticksWhileWaiting).toBeGreaterThanOrEqual(10);
      expect(got.releasedFirst).toBe(true);
      expect(got.waitedMs).toBeGreaterThanOrEqual(300);
    } finally {
      clearInterval(timer);
    }
  });

  it('takes a free lock and releases it when fn is done, also when fn throws', async () => {
    const file = path.join(dir, 'lock');
    expect(await withLock(file, () => 42)).toBe(42);
    await expect(withLock(file, () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await withLockIfFree(file, () => 'free')).toEqual({ value: 'free' });
  });

  it('excludes a holder in this process too: a second withLock waits for the first', async () => {
    const file = path.join(dir, 'lock');
    const order: string[] = [];
    const first = withLock(file, async () => { order.push('first in'); await new Promise((r) => setTimeout(r, 50)); order.push('first out'); });
    const second = withLock(file, () => { order.push('second in'); });
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });
});

describe('withLockIfFree and withSharedLock', () => {
  it('withLockIfFree does not run fn while another process holds the lock', async () => {
    const file = path.join(dir, 'lock');
    await holdElsewhere(file, path.join(dir, 'released'), 2000);
    let ran = false;
    expect(await withLockIfFree(file, () => { ran = true; })).toBeUndefined();
    expect(ran).toBe(false);
  });

  it('a shared lock is granted beside another shared holder at once', async () => {
    const file = path.join(dir, 'lock'), released = path.join(dir, 'released');
    await holdElsewhere(file, released, 2000, '-s');
    expect(await withSharedLock(file, () => fs.existsSync(released))).toBe(false);
  });
});
