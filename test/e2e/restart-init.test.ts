// --restart carried out by the container's monitor, --init as PID 1, and generate systemd.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BUSYBOX, psAll, skiff, store, uniqueName, useStore, waitFor } from './harness';

useStore();

const started: string[] = [];
afterAll(async () => {
  if (started.length) await skiff(['rm', '-f', ...started]);
});

async function runDetached(args: string[]): Promise<string> {
  const name = uniqueName('ml');
  const r = await skiff(['run', '-d', '--name', name, ...args]);
  expect(r.code, r.stderr).toBe(0);
  started.push(name);
  return r.stdout.trim();
}

const containerDir = (id: string) => path.join(store().root, 'containers', id);
const record = (id: string) => JSON.parse(fs.readFileSync(path.join(containerDir(id), 'container.json'), 'utf8'));
/** How many times the container printed LINE: its json-file log (Docker's format, one JSON object per line). */
const logLines = (id: string, line: string) => {
  let text: string;
  try { text = fs.readFileSync(path.join(containerDir(id), `${id}-json.log`), 'utf8'); } catch { return 0; }
  return text.split('\n').filter(Boolean).filter((l) => (JSON.parse(l) as { log: string }).log === `${line}\n`).length;
};
const statusOf = async (id: string) => (await psAll()).find((r) => r['CONTAINER ID'] === id)?.STATUS ?? '';
/** Running, not a zombie (an exited monitor may wait a while for whoever adopted it to reap it). */
const alive = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch { return false; }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('--restart', () => {
  test('on-failure:2 runs the command three times, then stays exited with its code', async () => {
    const id = await runDetached(['--restart', 'on-failure:2', BUSYBOX, 'sh', '-c', 'echo run; exit 3']);
    await waitFor(async () => /^Exited \(3\)/.test(await statusOf(id)), 20_000, 'the container to give up');
    expect(logLines(id, 'run')).toBe(3);
    await sleep(1500); // the longest back-off it could still be in is 200 ms
    expect(logLines(id, 'run')).toBe(3);
  });

  test('RestartCount counts the restarts while it runs and after the monitor gave up; start begins it again', async () => {
    const id = await runDetached(['--restart', 'on-failure:2', BUSYBOX, 'sh', '-c', 'echo run; sleep 0.3; exit 3']);
    await waitFor(async () => /^Exited \(3\)/.test(await statusOf(id)), 20_000, 'the container to give up');
    const inspect = async () => JSON.parse((await skiff(['inspect', id])).stdout)[0];
    expect((await inspect()).RestartCount).toBe(2);
    expect((await inspect()).State.ExitCode).toBe(3);
    // a new start counts from 0 again (Docker resets it), up to the same limit
    expect((await skiff(['start', id])).code).toBe(0);
    await waitFor(async () => /^Exited \(3\)/.test(await statusOf(id)), 20_000, 'the container to give up again');
    expect((await inspect()).RestartCount).toBe(2);
  });

  test('on-failure does not restart after exit 0', async () => {
    const id = await runDetached(['--restart', 'on-failure', BUSYBOX, 'sh', '-c', 'echo run; exit 0']);
    await waitFor(async () => /^Exited \(0\)/.test(await statusOf(id)), 20_000, 'the container to exit');
    await sleep(500);
    expect(logLines(id, 'run')).toBe(1);
  });

  test('always restarts after exit 0 and after being killed; a stop by the user ends it', async () => {
    const id = await runDetached(['--restart', 'always', BUSYBOX, 'sh', '-c',
      'trap "exit 0" TERM; echo run; while :; do sleep 0.1; done']);
    await waitFor(() => logLines(id, 'run') === 1, 10_000, 'the first run');
    const monitor = record(id).state.monitorPid as number;
    // A signal from outside (not a stop): the command exits, the monitor runs it again.
    process.kill(monitor, 'SIGTERM');
    await waitFor(() => logLines(id, 'run') === 2, 10_000, 'a second run');
    expect(await statusOf(id)).toMatch(/^Up /);
    // What `skiff stop` does through monitor-client's markStoppedByUser: the mark, then SIGTERM.
    fs.writeFileSync(path.join(containerDir(id), 'stopped-by-user'), '');
    process.kill(monitor, 'SIGTERM');
    await waitFor(() => !alive(monitor), 10_000, 'the monitor to end');
    await sleep(500);
    expect(logLines(id, 'run')).toBe(2);
    expect(await statusOf(id)).toMatch(/^Exited \(0\)/);
  });

  test('start puts the policy back in force after a user stop', async () => {
    const id = await runDetached(['--restart', 'always', BUSYBOX, 'sh', '-c', 'echo run; sleep 0.2']);
    await waitFor(() => logLines(id, 'run') >= 2, 10_000, 'a restart');
    fs.writeFileSync(path.join(containerDir(id), 'stopped-by-user'), '');
    const monitor = record(id).state.monitorPid as number;
    await waitFor(() => !alive(monitor), 10_000, 'the monitor to end');
    const runs = logLines(id, 'run');
    const r = await skiff(['start', id]);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => logLines(id, 'run') >= runs + 2, 10_000, 'restarts after start');
  });

  test('bad policies are refused with Docker\'s messages (125)', async () => {
    const cases: [string, string][] = [
      ['sometimes', "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
      ['always:3', "invalid restart policy: maximum retry count can only be used with 'on-failure'"],
      ['on-failure:x', 'invalid restart policy format: maximum retry count must be an integer'],
      [':3', 'invalid restart policy format: no policy provided before colon'],
    ];
    for (const [policy, message] of cases) {
      const r = await skiff(['create', '--restart', policy, BUSYBOX, 'true']);
      expect(r.code, policy).toBe(125);
      expect(r.stderr).toContain(message);
    }
    const rm = await skiff(['run', '--rm', '--restart', 'always', BUSYBOX, 'true']);
    expect(rm.code).toBe(125);
    expect(rm.stderr).toContain('Conflicting options: --restart and --rm');
  });
});

/** Zombie children of a host PID, read from /proc (field 3 of stat is the state, 4 the parent). */
function zombiesOf(pid: number): number {
  let n = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' && Number(ppid) === pid) n++;
    } catch { /* gone */ }
  }
  return n;
}

describe('--init', () => {
  // The orphaned `sleep 0.1` is adopted by the container's PID 1 and exits at once.
  const orphanThenSleep = ['sh', '-c', '(sleep 0.1 &); exec sleep 30'];

  test('PID 1 reaps orphans that exit, and shows as /sbin/docker-init -- CMD', async () => {
    const id = await runDetached(['--init', BUSYBOX, ...orphanThenSleep]);
    const pid1 = record(id).state.pid as number;
    await sleep(1000);
    expect(zombiesOf(pid1)).toBe(0);
    expect(fs.readFileSync(`/proc/${pid1}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0'))
      .toEqual(['/sbin/docker-init', '--', ...orphanThenSleep]);
    // ps keeps showing the command, as Docker's does
    expect((await psAll()).find((r) => r['CONTAINER ID'] === id)?.COMMAND).toBe(`"sh -c '(sleep 0.1 &); exec sleep 30'"`);
  });

  test('without --init the same orphan stays a zombie (the command as PID 1 does not reap)', async () => {
    const id = await runDetached([BUSYBOX, ...orphanThenSleep]);
    const pid1 = record(id).state.pid as number;
    await sleep(1000);
    expect(zombiesOf(pid1)).toBe(1);
  });

  test('forwards SIGTERM to the command and exits with its code', async () => {
    const id = await runDetached(['--init', BUSYBOX, 'sh', '-c', 'trap "exit 7" TERM; echo up; while :; do sleep 0.1; done']);
    await waitFor(() => logLines(id, 'up') === 1, 10_000, 'the trap to be set');
    process.kill(record(id).state.monitorPid, 'SIGTERM');
    await waitFor(async () => /^Exited \(7\)/.test(await statusOf(id)), 10_000, 'exit 7');
  });

  test('attached: the exit code of the command, and a command that is not found is 127', async () => {
    const r = await skiff(['run', '--rm', '--init', BUSYBOX, 'sh', '-c', 'exit 5']);
    expect(r.code).toBe(5);
    const nf = await skiff(['run', '--rm', '--init', BUSYBOX, 'no-such-command']);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toContain('no-such-command');
  });
});

describe('generate systemd', () => {
  test('a unit that starts the container attached and stops it, Restart= from the policy', async () => {
    const name = uniqueName('unit');
    const c = await skiff(['create', '--name', name, '--restart', 'unless-stopped', BUSYBOX, 'sleep', '1']);
    expect(c.code, c.stderr).toBe(0);
    started.push(name);
    const r = await skiff(['generate', 'systemd', '--name', name]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`# container-${name}.service`);
    expect(lines).toContain('Restart=always');
    expect(lines).toContain('Type=simple');
    expect(lines).toContain('WantedBy=default.target');
    expect(lines.find((l) => l.startsWith('ExecStart='))).toMatch(new RegExp(`^ExecStart=/\\S+ start -a ${name}$`));
    expect(lines.find((l) => l.startsWith('ExecStop='))).toMatch(new RegExp(`^ExecStop=/\\S+ stop -t 10 ${name}$`));
    // the unit uses the same store as the command that wrote it
    expect(lines).toContain(`Environment=SKIFF_ROOT=${store().root}`);
    const noPolicy = await skiff(['generate', 'systemd', '--restart-policy', 'on-failure', '-t', '3', name]);
    expect(noPolicy.stdout).toContain('Restart=on-failure');
    expect(noPolicy.stdout).toMatch(/\nExecStop=\S+ stop -t 3 [0-9a-f]{64}\n/);
  });

  test('an unknown container is refused', async () => {
    const r = await skiff(['generate', 'systemd', 'no-such-container']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No such container: no-such-container');
  });
});

describe('rm -f of a container with a restart policy', () => {
  test('removes it at once: the kill is not taken for a crash and restarted', async () => {
    const name = uniqueName('rmf');
    const r = await skiff(['run', '-d', '--name', name, '--restart', 'always', BUSYBOX, 'sleep', '30']);
    expect(r.code, r.stderr).toBe(0);
    const monitor = record(r.stdout.trim()).state.monitorPid as number;
    const t0 = Date.now();
    const rm = await skiff(['rm', '-f', name]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(alive(monitor)).toBe(false);
    expect((await psAll()).find((x) => x.NAMES === name)).toBeUndefined();
  });
});
