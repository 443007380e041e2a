/**
 * Signalling a recorded PID only while it is still the recorded process (src/runtime/process-identity.ts):
 * `rm -f` and the lost-container clean-up must never kill whoever inherited a reused PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import { isSameLiveProcess, processStartTime, signalIfSame } from '../../src/runtime/process-identity';

const children: ChildProcess[] = [];
afterEach(() => { for (const c of children.splice(0)) c.kill('SIGKILL'); });

function sleeper(): { child: ChildProcess; exited: Promise<NodeJS.Signals | null> } {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  return { child, exited };
}

describe('signalIfSame', () => {
  test('a live PID whose start time does not match the record is not signalled', async () => {
    const { child, exited } = sleeper();
    const pid = child.pid!;
    const start = processStartTime(pid)!;
    expect(start).toMatch(/^\d+$/);
    const otherStart = String(Number(start) + 1);
    expect(signalIfSame(pid, otherStart, 'SIGKILL')).toBe(false);
    const outcome = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 300))]);
    expect(outcome).toBe('still running');
    expect(isSameLiveProcess(pid, start)).toBe(true);
  });

  test('a record without a start time is not signalled', async () => {
    const { child, exited } = sleeper();
    expect(signalIfSame(child.pid!, undefined, 'SIGKILL')).toBe(false);
    const outcome = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 300))]);
    expect(outcome).toBe('still running');
  });

  test('the recorded process is signalled through its pidfd', async () => {
    const { child, exited } = sleeper();
    expect(signalIfSame(child.pid!, processStartTime(child.pid!), 'SIGTERM')).toBe(true);
    expect(await exited).toBe('SIGTERM');
  });

  test('a process that has exited is not signalled', async () => {
    const { child, exited } = sleeper();
    const pid = child.pid!, start = processStartTime(pid);
    child.kill('SIGKILL');
    await exited;
    expect(signalIfSame(pid, start, 'SIGKILL')).toBe(false);
    expect(isSameLiveProcess(pid, start)).toBe(false);
  });
});
