// The container state machine's moves (src/engine/container-state.ts): Docker's statuses, and
// which verb may take a container from one to another.
import { describe, expect, test } from 'vitest';
import { canMove, dockerState } from '../../src/engine/container-state';
import type { ContainerRecord } from '../../src/engine/container-store';

describe('canMove', () => {
  test('the moves the verbs make', () => {
    expect(canMove('created', 'running')).toBe(true);   // start
    expect(canMove('running', 'paused')).toBe(true);    // pause
    expect(canMove('paused', 'running')).toBe(true);    // unpause
    expect(canMove('running', 'exited')).toBe(true);    // the monitor's exit
    expect(canMove('paused', 'exited')).toBe(true);     // kill of a paused container
    expect(canMove('exited', 'running')).toBe(true);    // start, restart
    expect(canMove('exited', 'removing')).toBe(true);   // rm
    expect(canMove('removing', 'removing')).toBe(true); // an rm that died half way is finished by the next
  });
  test('and the ones no verb may make', () => {
    expect(canMove('created', 'paused')).toBe(false);
    expect(canMove('exited', 'paused')).toBe(false);
    expect(canMove('removing', 'running')).toBe(false);
    expect(canMove('created', 'exited')).toBe(false);
  });
});

describe('dockerState', () => {
  const rec = (state: ContainerRecord['state']) => ({ state } as ContainerRecord);
  test('a paused container is Running and Paused, with its PID', () => {
    expect(dockerState(rec({ status: 'paused', pid: 42, startedAt: '2026-01-01T00:00:00.000Z' }))).toMatchObject({
      Status: 'paused', Running: true, Paused: true, Restarting: false, Pid: 42, ExitCode: 0, FinishedAt: '0001-01-01T00:00:00Z',
    });
  });
  test('an exited one has no PID, its exit code and error', () => {
    expect(dockerState(rec({ status: 'exited', pid: 42, exitCode: 255, error: 'the host rebooted while the container was running' }))).toMatchObject({
      Status: 'exited', Running: false, Paused: false, Pid: 0, ExitCode: 255, Error: 'the host rebooted while the container was running',
    });
  });
});
