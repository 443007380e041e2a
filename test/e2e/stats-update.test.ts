// stats (figures from /proc of the container's processes, Docker's columns and "--") and update
// (--restart carried out by the running monitor; cgroup limits where the host allows them).
import fs from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, lines, parseTable, sh, shq, skiff, skiffBin, uniqueName, useStore, waitFor } from './harness';

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
    const holder = await runDetached([], 'x=$(head -c 20000000 /dev/zero | tr "\\0" a); touch /ready; while :; do sleep 1; done');
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
