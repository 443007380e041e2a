// Healthchecks run by the monitor: --health-* flags, the image's HEALTHCHECK, --no-healthcheck,
// the health in ps's STATUS, and `skiff healthcheck run`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, fixture, psAll, skiff, store, uniqueName, useStore, waitFor } from './harness';

useStore();

const statusOf = async (name: string) => (await psAll()).find((r) => r.NAMES === name)?.STATUS ?? '';

/** A busybox container whose health is "does /tmp/ok exist", probed every second. */
async function probed(flags: string[] = []): Promise<string> {
  const name = uniqueName('health');
  const r = await skiff(['run', '-d', '--name', name, '--health-cmd', 'test -e /tmp/ok', '--health-interval', '1s', ...flags, BUSYBOX, 'sleep', '1000']);
  expect(r.code, r.stderr).toBe(0);
  return name;
}

describe('--health-cmd', () => {
  test('inspect shows State.Health (Status, FailingStreak, Log); a restart starts the health over', async () => {
    const name = uniqueName('health');
    const r = await skiff(['run', '-d', '--name', name, '--health-cmd', 'echo probed; test -e /tmp/ok', '--health-interval', '1s',
      '--health-retries', '2', '--restart', 'always', BUSYBOX, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
    expect(r.code, r.stderr).toBe(0);
    const health = async () => JSON.parse((await skiff(['inspect', name])).stdout)[0].State.Health;
    await waitFor(async () => (await health())?.Status === 'unhealthy', 20_000, 'unhealthy');
    const h = await health();
    expect(h.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(h.Log.length).toBeGreaterThanOrEqual(2);
    expect(h.Log.length).toBeLessThanOrEqual(5);
    expect(Object.keys(h.Log[0])).toEqual(['Start', 'End', 'ExitCode', 'Output']);
    expect(h.Log[0]).toMatchObject({ ExitCode: 1, Output: 'probed\n' });
    expect(Date.parse(h.Log[0].End)).toBeGreaterThanOrEqual(Date.parse(h.Log[0].Start));
    expect((await skiff(['inspect', '-f', '{{.State.Health.Status}}', name])).stdout).toBe('unhealthy\n');

    // the monitor runs the command again (a signal from outside, not a stop): health starts over,
    // and is probed again on the new run
    const pid = Number((await skiff(['inspect', '-f', '{{.State.Pid}}', name])).stdout);
    const restartedAfter = Date.now();
    process.kill(pid, 'SIGTERM');
    // Pid is 0 while the monitor waits out the restart back-off: wait for the new run's own
    await waitFor(async () => ![0, pid].includes(Number((await skiff(['inspect', '-f', '{{.State.Pid}}', name])).stdout)), 10_000, 'a new run');
    const fresh = await health();
    for (const l of fresh.Log) expect(Date.parse(l.Start)).toBeGreaterThanOrEqual(restartedAfter);
    expect((await skiff(['exec', name, 'touch', '/tmp/ok'])).code).toBe(0);
    await waitFor(async () => (await health())?.Status === 'healthy', 20_000, 'healthy after the restart');
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });

  test('no healthcheck: no State.Health', async () => {
    const name = uniqueName('nohealth');
    expect((await skiff(['run', '-d', '--name', name, BUSYBOX, 'sleep', '1000'])).code).toBe(0);
    expect((await skiff(['inspect', '-f', '{{json .State.Health}}', name])).stdout).toBe('null\n');
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });

  test('starting, then unhealthy after --health-retries failures, then healthy once the check passes', async () => {
    const name = await probed(['--health-retries', '2']);
    expect(await statusOf(name)).toMatch(/^Up .* \(health: starting\)$/);
    await waitFor(async () => / \(unhealthy\)$/.test(await statusOf(name)), 20_000, 'unhealthy');
    expect((await skiff(['exec', name, 'touch', '/tmp/ok'])).code).toBe(0);
    await waitFor(async () => / \(healthy\)$/.test(await statusOf(name)), 20_000, 'healthy');
  });

  test('the probe runs in the container (its files, its user) with the output kept', async () => {
    const name = uniqueName('health');
    const r = await skiff(['run', '-d', '--name', name, '-u', 'nobody', '--health-cmd', 'id -u; cat /etc/hostname', '--health-interval', '1s',
      '-h', 'probehost', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => / \(healthy\)$/.test(await statusOf(name)), 20_000, 'healthy');
    const log = fs.readFileSync(path.join(store().root, 'containers', r.stdout.trim(), 'health.log'), 'utf8').split('\n')[0].split(' ');
    expect(log[2]).toBe('0');
    expect(Buffer.from(log[3], 'hex').toString()).toBe('65534\nprobehost\n');
  });

  test('a probe that outlives --health-timeout fails', async () => {
    const name = uniqueName('health');
    const r = await skiff(['run', '-d', '--name', name, '--health-cmd', 'sleep 30', '--health-interval', '1s', '--health-timeout', '500ms',
      '--health-retries', '1', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => / \(unhealthy\)$/.test(await statusOf(name)), 20_000, 'unhealthy');
  });

  test('failures inside --health-start-period do not count', async () => {
    const name = await probed(['--health-retries', '1', '--health-start-period', '1h']);
    // a few probes fail, and it stays "starting"
    await new Promise((r) => setTimeout(r, 3500));
    expect(await statusOf(name)).toMatch(/\(health: starting\)$/);
  });

  test('the probe log stays bounded (the newer half is kept past 256 KiB) and the health stays right', async () => {
    const name = uniqueName('health');
    // 4096 bytes of output: 8 KiB of hex per probe line
    const r = await skiff(['run', '-d', '--name', name, '--health-cmd', 'head -c 4096 /dev/zero', '--health-interval', '100ms', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const log = path.join(store().root, 'containers', r.stdout.trim(), 'health.log');
    let trimmed = false;
    let last = 0;
    await waitFor(() => {
      const size = fs.statSync(log, { throwIfNoEntry: false })?.size ?? 0;
      if (size < last) trimmed = true;
      last = size;
      return trimmed;
    }, 45_000, 'the log to be trimmed');
    expect(fs.statSync(log).size).toBeLessThanOrEqual(256 * 1024 + 8300);
    expect(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).every((l) => /^\d+ \d+ 0 (00)+$/.test(l))).toBe(true);
    expect(await statusOf(name)).toMatch(/\(healthy\)$/);
  }, 60_000);

  test('bad flags: one line, exit 125, nothing created', async () => {
    const before = (await psAll()).length;
    const bad = await skiff(['run', '--health-interval', 'soon', BUSYBOX, 'true']);
    expect(bad.code).toBe(125);
    expect(errorLines(bad.stderr)).toEqual(['skiff: invalid argument "soon" for "--health-interval" flag: time: invalid duration "soon"']);
    const conflict = await skiff(['run', '--no-healthcheck', '--health-cmd', 'true', BUSYBOX, 'true']);
    expect(conflict.code).toBe(125);
    expect(errorLines(conflict.stderr)).toEqual(['skiff: --no-healthcheck conflicts with --health-* options']);
    expect((await psAll()).length).toBe(before);
  });
});

describe("the image's HEALTHCHECK", () => {
  const IMG = 'skiff-test/healthy:latest';
  beforeAll(async () => {
    // busybox's layer imported with a HEALTHCHECK
    const archive = fixture('busybox.docker.tar');
    const layer = JSON.parse(execFileSync('tar', ['-xOf', archive, 'manifest.json'], { encoding: 'utf8' }))[0].Layers[0];
    const tarFile = path.join(store().dir, 'busybox-layer.tar');
    fs.writeFileSync(tarFile, execFileSync('tar', ['-xOf', archive, layer], { maxBuffer: 64 << 20 }));
    fs.chmodSync(tarFile, 0o644);
    const r = await skiff(['import', '-c', 'HEALTHCHECK --interval=1s --retries=1 CMD ["test", "-e", "/tmp/ok"]', tarFile, IMG]);
    expect(r.code, r.stderr).toBe(0);
  });

  test('runs without any flag', async () => {
    const name = uniqueName('imagehc');
    expect((await skiff(['run', '-d', '--name', name, IMG, 'sleep', '1000'])).code).toBe(0);
    await waitFor(async () => / \(unhealthy\)$/.test(await statusOf(name)), 20_000, 'unhealthy');
  });

  test('--health-cmd replaces its command and keeps its interval', async () => {
    const name = uniqueName('imagehc');
    expect((await skiff(['run', '-d', '--name', name, '--health-cmd', 'true', IMG, 'sleep', '1000'])).code).toBe(0);
    await waitFor(async () => / \(healthy\)$/.test(await statusOf(name)), 20_000, 'healthy');
  });

  test('--no-healthcheck turns it off', async () => {
    const name = uniqueName('imagehc');
    expect((await skiff(['run', '-d', '--name', name, '--no-healthcheck', IMG, 'sleep', '1000'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await statusOf(name)).toMatch(/^Up [^(]*$/);
    const r = await skiff(['healthcheck', 'run', name]);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual([`skiff: container ${name} has no defined healthcheck`]);
  });
});

describe('healthcheck run', () => {
  test('probes now and prints the health: unhealthy (exit 1), then healthy (exit 0)', async () => {
    const name = uniqueName('hcrun');
    const r = await skiff(['run', '-d', '--name', name, '--health-cmd', 'test -e /tmp/ok', '--health-interval', '1h', '--health-retries', '1', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const bad = await skiff(['healthcheck', 'run', name]);
    expect([bad.code, bad.stdout]).toEqual([1, 'unhealthy\n']);
    expect(await statusOf(name)).toMatch(/\(unhealthy\)$/);
    expect((await skiff(['exec', name, 'touch', '/tmp/ok'])).code).toBe(0);
    const good = await skiff(['healthcheck', 'run', name]);
    expect([good.code, good.stdout]).toEqual([0, 'healthy\n']);
  });
});
