// stats (figures from /proc of the container's processes, Docker's columns and "--") and update
// (--restart carried out by the running monitor; cgroup limits where the host allows them).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, lines, parseTable, sh, shq, skiff, skiffBin, store, uniqueName, useStore, waitFor } from './harness';

useStore();

const created: string[] = [];
afterEach(async () => {
  if (created.length) await skiff(['rm', '-f', ...created.splice(0)]);
});

async function runDetached(flags: string[], script: string): Promise<{ name: string; id: string }> {
  const name = uniqueName('st');
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  created.push(name);
  return { name, id: r.stdout.trim() };
}

/** MemTotal of the host in bytes: the limit stats shows for a container without one. */
function hostMemory(): number {
  return Number(/^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
}

/** "20.86MiB" -> bytes */
function binaryBytes(s: string): number {
  const m = /^([0-9.]+)(B|KiB|MiB|GiB|TiB)$/.exec(s);
  if (!m) throw new Error(`not a binary size: ${s}`);
  return Number(m[1]) * 1024 ** ['B', 'KiB', 'MiB', 'GiB', 'TiB'].indexOf(m[2]);
}

describe('stats', () => {
  test('--no-stream: CPU of a busy container, memory it holds, its processes, the host memory as the limit', async () => {
    const busy = await runDetached([], 'while :; do :; done');
    // 20 MB held in a shell variable; the loop keeps the shell (and its memory) alive
    // --network none: only lo, so NET I/O is exactly 0B / 0B (the default network's interface
    // carries the kernel's own IPv6 neighbour traffic)
    const holder = await runDetached(['--network', 'none'], 'x=$(head -c 20000000 /dev/zero | tr "\\0" a); touch /ready; while :; do sleep 1; done');
    await waitFor(async () => (await skiff(['exec', holder.name, 'test', '-e', '/ready'])).code === 0, 30_000, 'the memory holder');

    const r = await skiff(['stats', '--no-stream']);
    expect(r.code, r.stderr).toBe(0);
    const { header, rows } = parseTable(r.stdout);
    expect(header).toEqual(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
    const row = (name: string) => rows.find((x) => x.NAME === name)!;
    expect(row(busy.name)['CONTAINER ID']).toBe(busy.id.slice(0, 12));
    expect(Number.parseFloat(row(busy.name)['CPU %'])).toBeGreaterThan(5);
    expect(row(busy.name).PIDS).toBe('1');

    const [usage, limit] = row(holder.name)['MEM USAGE / LIMIT'].split(' / ');
    expect(binaryBytes(usage)).toBeGreaterThan(19 * 1024 * 1024);
    expect(Math.abs(binaryBytes(limit) - hostMemory()) / hostMemory()).toBeLessThan(0.01);
    expect(row(holder.name)['MEM %']).toMatch(/^\d+\.\d\d%$/);
    expect(row(holder.name).PIDS).toBe('2');
    expect(row(holder.name)['NET I/O']).toBe('0B / 0B');
    expect(row(holder.name)['BLOCK I/O']).toMatch(/^[0-9.]+[kMG]?B \/ [0-9.]+[kMG]?B$/);
  });

  test('-a adds stopped containers with zeros; named ones are shown as named; --no-trunc; json', async () => {
    const stopped = uniqueName('stopped');
    expect((await skiff(['create', '--name', stopped, BUSYBOX, 'true'])).code).toBe(0);
    created.push(stopped);
    const running = await runDetached([], 'exec sleep 1000');

    const plain = await skiff(['stats', '--no-stream', '--format', '{{.Name}}']);
    expect(lines(plain.stdout)).toContain(running.name);
    expect(lines(plain.stdout)).not.toContain(stopped);

    const all = await skiff(['stats', '--no-stream', '-a', '--no-trunc']);
    expect(all.code, all.stderr).toBe(0);
    const row = parseTable(all.stdout).rows.find((x) => x.NAME === stopped)!;
    expect(row).toMatchObject({ 'CPU %': '0.00%', 'MEM USAGE / LIMIT': '0B / 0B', 'MEM %': '0.00%', 'NET I/O': '0B / 0B', 'BLOCK I/O': '0B / 0B', PIDS: '0' });
    expect(row['CONTAINER ID']).toHaveLength(64);

    const json = await skiff(['stats', '--no-stream', '--format', 'json', running.name]);
    expect(json.code, json.stderr).toBe(0);
    const obj = JSON.parse(json.stdout);
    expect(Object.keys(obj)).toEqual(['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
    expect(obj).toMatchObject({ Container: running.name, ID: running.id.slice(0, 12), Name: running.name, PIDs: '1' });
  });

  test('a missing container: one line, exit 1, the others still shown', async () => {
    const running = await runDetached([], 'exec sleep 1000');
    const r = await skiff(['stats', '--no-stream', '--format', '{{.Name}}', 'no-such-ctr', running.name]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['skiff: No such container: no-such-ctr']);
    expect(lines(r.stdout)).toEqual([running.name]);
    const bad = await skiff(['stats', '--no-stream', '--format', '--no-trunc']);
    expect(bad.code).toBe(125);
  });

  test('without --no-stream it prints a new reading every second until interrupted', async () => {
    const running = await runDetached([], 'exec sleep 1000');
    const r = await sh(`timeout -s INT 4 ${shq(skiffBin())} stats --format '{{.Name}} {{.PIDs}}' ${shq(running.name)}; true`);
    expect(lines(r.stdout).length).toBeGreaterThanOrEqual(2);
    for (const l of lines(r.stdout)) expect(l).toBe(`${running.name} 1`);
  });
});

/** A container that prints "run" and exits with CODE each time /go appears in it (a run waits for it). */
const WAIT_FOR_GO = (code: number) => `echo run; while [ ! -e /go ]; do sleep 0.1; done; rm /go; exit ${code}`;

/** How many times the container printed "run" (its json-file log). */
function runs(id: string): number {
  let text = '';
  try { text = fs.readFileSync(path.join(store().root, 'containers', id, `${id}-json.log`), 'utf8'); } catch { return 0; }
  return text.split('\n').filter((l) => l.includes('"log":"run\\n"')).length;
}

const inspect = async (name: string) => JSON.parse((await skiff(['inspect', name])).stdout)[0];

describe('update', () => {
  test('--restart on a running container that had no policy: its monitor restarts it at the next exit', async () => {
    const c = await runDetached([], WAIT_FOR_GO(3));
    await waitFor(() => runs(c.id) === 1, 20_000, 'the first run');
    const r = await skiff(['update', '--restart', 'on-failure:1', c.name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${c.name}\n`);
    expect((await inspect(c.name)).HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 1 });
    expect((await skiff(['exec', c.name, 'touch', '/go'])).code).toBe(0);
    await waitFor(() => runs(c.id) === 2, 20_000, 'a restart under the new policy');
    await waitFor(async () => (await skiff(['exec', c.name, 'touch', '/go'])).code === 0, 20_000, 'the second run to take /go');
    await waitFor(async () => (await inspect(c.name)).State.Status === 'exited', 20_000, 'the monitor to give up');
    const after = await inspect(c.name);
    expect(after.State.ExitCode).toBe(3);
    expect(after.RestartCount).toBe(1);
    expect(runs(c.id)).toBe(2);
  });

  test('--restart no on a running "always" container: it is not restarted when it exits', async () => {
    const c = await runDetached(['--restart', 'always'], WAIT_FOR_GO(0));
    await waitFor(() => runs(c.id) === 1, 20_000, 'the first run');
    expect((await skiff(['update', '--restart', 'no', c.name])).code).toBe(0);
    expect((await skiff(['exec', c.name, 'touch', '/go'])).code).toBe(0);
    await waitFor(async () => (await inspect(c.name)).State.Status === 'exited', 20_000, 'the exit');
    expect(runs(c.id)).toBe(1);
    // a stopped container takes the policy for its next start
    expect((await skiff(['update', '--restart', 'on-failure:3', c.name])).code).toBe(0);
    expect((await inspect(c.name)).HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
  });

  test('refusals: no flag, a bad value, --rm, a missing container, cgroup limits where the host has none; nothing changes', async () => {
    const c = await runDetached([], 'exec sleep 1000');
    const none = await skiff(['update', c.name]);
    expect(none.code).toBe(1);
    expect(errorLines(none.stderr)).toEqual(['skiff: you must provide one or more flags when using this command']);
    const badSize = await skiff(['update', '-m', 'lots', c.name]);
    expect(badSize.code).toBe(125);
    expect(errorLines(badSize.stderr)).toEqual([`skiff: invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'`]);
    const badPolicy = await skiff(['update', '--restart', 'sometimes', c.name]);
    expect(badPolicy.code).toBe(1);
    expect(errorLines(badPolicy.stderr)[0]).toContain("unknown policy 'sometimes'");
    const missing = await skiff(['update', '--restart', 'always', 'no-such-ctr', c.name]);
    expect(missing.code).toBe(1);
    expect(errorLines(missing.stderr)).toEqual(['skiff: No such container: no-such-ctr']);
    expect(missing.stdout).toBe(`${c.name}\n`);

    const rm = uniqueName('rm');
    expect((await skiff(['run', '-d', '--rm', '--name', rm, BUSYBOX, 'sleep', '1000'])).code).toBe(0);
    const autoRemove = await skiff(['update', '--restart', 'always', rm]);
    expect(autoRemove.code).toBe(1);
    expect(errorLines(autoRemove.stderr)).toEqual(['skiff: Restart policy cannot be updated because AutoRemove is enabled for the container']);
    expect((await skiff(['rm', '-f', rm])).code).toBe(0);

    if (!fs.existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      const before = (await inspect(c.name)).HostConfig.RestartPolicy;
      const mem = await skiff(['update', '-m', '512m', '--restart', 'on-failure:4', c.name]);
      expect(mem.code).toBe(1);
      const errs = errorLines(mem.stderr);
      expect(errs).toHaveLength(1);
      expect(errs[0]).toMatch(/^skiff: Cannot update container [0-9a-f]{64}: cgroup limits need a cgroup v2 host/);
      // refused as a whole: the policy given with it was not applied either
      expect((await inspect(c.name)).HostConfig.RestartPolicy).toEqual(before);
      expect((await inspect(c.name)).State.Status).toBe('running');
    }
  });
});
