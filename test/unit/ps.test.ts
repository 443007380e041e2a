import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../../src/engine/container-store';
import { commandText, statusText } from '../../src/engine/ps';

const CREATED = '2024-01-01T00:00:00.000Z';
const T0 = Date.parse(CREATED);

function rec(over: { path?: string; args?: string[]; state?: ContainerRecord['state'] } = {}): ContainerRecord {
  return {
    id: 'a'.repeat(64), name: 'n', created: CREATED, image: 'busybox', imageId: `sha256:${'b'.repeat(64)}`,
    path: over.path ?? 'sh', args: over.args ?? [],
    config: {
      env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, userSpec: '', hostname: 'h',
      tty: false, openStdin: false, network: 'none', autoRemove: false,
    },
    storage: { driver: 'vfs', layers: [] },
    state: over.state ?? { status: 'created' },
  };
}

describe('statusText', () => {
  it('a --restart container between two runs -> "Restarting (<last exit code>) <since it exited> ago" (Docker)', () => {
    const finishedAt = '2024-01-01T00:00:10.000Z';
    const r = rec({ state: { status: 'running', startedAt: CREATED, restarting: true, exitCode: 3, finishedAt } });
    expect(statusText(r, Date.parse(finishedAt) + 3000)).toBe('Restarting (3) 3 seconds ago');
  });

  it('created -> "Created"', () => {
    expect(statusText(rec(), T0 + 5000)).toBe('Created');
  });

  it('running -> "Up <duration since start>"', () => {
    const startedAt = '2024-01-01T00:00:10.000Z';
    const r = rec({ state: { status: 'running', startedAt } });
    expect(statusText(r, Date.parse(startedAt) + 500)).toBe('Up Less than a second');
    expect(statusText(r, Date.parse(startedAt) + 3000)).toBe('Up 3 seconds');
    expect(statusText(r, Date.parse(startedAt) + 90_000)).toBe('Up About a minute');
    expect(statusText(r, Date.parse(startedAt) + 5 * 3600_000)).toBe('Up 5 hours');
  });

  it('running without startedAt counts from creation', () => {
    expect(statusText(rec({ state: { status: 'running' } }), T0 + 47_000)).toBe('Up 47 seconds');
  });

  it('exited -> "Exited (code) <duration since finish> ago"', () => {
    const finishedAt = '2024-01-01T01:00:00.000Z';
    expect(statusText(rec({ state: { status: 'exited', exitCode: 0, finishedAt } }), Date.parse(finishedAt) + 2 * 60_000))
      .toBe('Exited (0) 2 minutes ago');
    expect(statusText(rec({ state: { status: 'exited', exitCode: 137, finishedAt } }), Date.parse(finishedAt) + 1000))
      .toBe('Exited (137) 1 second ago');
    expect(statusText(rec({ state: { status: 'exited', exitCode: 1, finishedAt } }), Date.parse(finishedAt) + 3 * 86400_000))
      .toBe('Exited (1) 3 days ago');
  });

  it('exited without an exit code or finish time shows 0 and counts from creation', () => {
    expect(statusText(rec({ state: { status: 'exited' } }), T0 + 10_000)).toBe('Exited (0) 10 seconds ago');
  });
});

describe('commandText', () => {
  it('quotes the command line', () => {
    expect(commandText(rec({ path: 'sh' }), false)).toBe('"sh"');
    expect(commandText(rec({ path: 'echo', args: ['hi'] }), false)).toBe('"echo hi"');
  });

  it('keeps exactly 20 characters whole', () => {
    const r = rec({ path: '/bin/sleep', args: ['123456789'] }); // 10 + 1 + 9 = 20
    expect(commandText(r, false)).toBe('"/bin/sleep 123456789"');
  });

  it('cuts longer commands to 19 characters plus "…" (Docker Ellipsis(cmd, 20))', () => {
    const r = rec({ path: '/bin/sleep', args: ['1234567890'] }); // 21 characters
    expect(commandText(r, false)).toBe('"/bin/sleep 12345678…"');
    const long = rec({ path: 'docker-entrypoint.sh', args: ['postgres'] });
    expect(commandText(long, false)).toBe('"docker-entrypoint.s…"');
  });

  it('--no-trunc keeps the whole command', () => {
    const long = rec({ path: 'docker-entrypoint.sh', args: ['postgres', '-c', 'max_connections=100'] });
    expect(commandText(long, true)).toBe('"docker-entrypoint.sh postgres -c max_connections=100"');
  });

  // BUG: Docker's daemon (daemon/list.go) wraps arguments containing a space in single quotes
  // when it builds the COMMAND ("sh -c 'echo hello; sleep 100'"); skiff joins them bare, so
  // `ps --no-trunc` shows an ambiguous "sh -c echo hello; sleep 100".
  it('arguments with spaces are single-quoted, as Docker', () => {
    const r = rec({ path: 'sh', args: ['-c', 'echo hello; sleep 100'] });
    expect(commandText(r, true)).toBe(`"sh -c 'echo hello; sleep 100'"`);
  });

  // BUG: the Docker CLI prints COMMAND with strconv.Quote, so a double quote inside the
  // command is escaped (\"); skiff wraps it in quotes without escaping.
  it('double quotes inside the command are escaped (strconv.Quote)', () => {
    const r = rec({ path: 'echo', args: ['a"b'] });
    expect(commandText(r, true)).toBe('"echo a\\"b"');
  });
});
