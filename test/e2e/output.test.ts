// One shape for output and errors: --format on ps, images, inspect, version and info through
// the one output engine (src/cli/output/render.ts), and Docker's error words and exit codes
// through the one error path (src/errors.ts, src/cli/output/errors.ts, src/cli/targets.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, REPO, errorLines, fixtureInfo, looksLikeStackTrace, skiff, uniqueName, useStore } from './harness';

const VERSION: string = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;

useStore();

const ok = async (args: string[]) => {
  const r = await skiff(args);
  expect(r.code, `skiff ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};
const create = async (name: string, ...cmd: string[]) => (await ok(['create', '--name', name, BUSYBOX, ...cmd])).stdout.trim();

describe('ps --format, --filter, -n, -l', () => {
  const older = uniqueName('fmt-old');
  const newer = uniqueName('fmt-new');
  let olderId = '';
  let newerId = '';

  test('setup: two created containers, the second newer', async () => {
    olderId = await create(older, 'echo', 'hello world');
    await new Promise((r) => setTimeout(r, 20)); // distinct creation times for before/since
    newerId = await create(newer, 'true');
  });

  test('a template over Docker\'s fields, one line per container', async () => {
    const f = '{{.Names}}|{{.State}}|{{.Status}}|{{.Image}}|{{.Command}}|{{.Networks}}|{{.Ports}}|[{{.Label "k"}}]';
    const r = await ok(['ps', '-a', '--filter', `name=^${older}$`, '--format', f]);
    expect(r.stdout).toBe(`${older}|created|Created|${BUSYBOX}|"echo 'hello world'"|bridge||[]\n`);
  });

  test('.ID is short, or full with --no-trunc; -q prints IDs and --format wins over -q, as docker-cli', async () => {
    expect((await ok(['ps', '-a', '-f', `name=^${older}$`, '--format', '{{.ID}}'])).stdout).toBe(`${olderId.slice(0, 12)}\n`);
    expect((await ok(['ps', '-a', '-f', `name=^${older}$`, '--no-trunc', '--format', '{{.ID}}'])).stdout).toBe(`${olderId}\n`);
    expect((await ok(['ps', '-a', '-q', '-f', `name=^${older}$`])).stdout).toBe(`${olderId.slice(0, 12)}\n`);
    expect((await ok(['ps', '-a', '-q', '-f', `name=^${older}$`, '--format', '{{.Names}}'])).stdout).toBe(`${older}\n`);
  });

  test('json: one object per line, Docker\'s keys in sorted order', async () => {
    const r = await ok(['ps', '-a', '-f', `id=${newerId}`, '--format', 'json']);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const o = JSON.parse(lines[0]);
    expect(Object.keys(o)).toEqual([
      'Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports',
      'RunningFor', 'Size', 'State', 'Status',
    ]);
    expect(o.Names).toBe(newer);
    expect(o.CreatedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+$/);
  });

  test('table TEMPLATE: a header and aligned columns', async () => {
    const r = await ok(['ps', '-a', '-f', `name=^${newer}$`, '--format', 'table {{.Names}}\\t{{.State}}']);
    expect(r.stdout).toBe(`${'NAMES'.padEnd(newer.length + 3)}STATE\n${newer}   created\n`);
  });

  test('filters: status shows stopped containers without -a; before/since; -n and -l', async () => {
    const created = (await ok(['ps', '-f', 'status=created', '--format', '{{.Names}}'])).stdout.split('\n');
    expect(created).toContain(older);
    expect(created).toContain(newer);
    expect((await ok(['ps', '-a', '-f', `since=${older}`, '--format', '{{.Names}}'])).stdout.split('\n')).toContain(newer);
    expect((await ok(['ps', '-a', '-f', `before=${newer}`, '--format', '{{.Names}}'])).stdout.split('\n')).not.toContain(newer);
    expect((await ok(['ps', '-a', '-f', `before=${newer}`, '-f', `name=^${older}$`, '--format', '{{.Names}}'])).stdout).toBe(`${older}\n`);
    expect((await ok(['ps', '-l', '--format', '{{.Names}}'])).stdout).toBe(`${newer}\n`);
    expect((await ok(['ps', '-n', '2', '--format', '{{.Names}}'])).stdout).toBe(`${newer}\n${older}\n`);
    expect((await ok(['ps', '-a', '-f', 'ancestor=skiff-test/busybox', '-f', `name=^${newer}$`, '-q'])).stdout).toBe(`${newerId.slice(0, 12)}\n`);
  });

  test('exited=CODE', async () => {
    const name = uniqueName('fmt-exit');
    const r = await skiff(['run', '--name', name, BUSYBOX, 'sh', '-c', 'exit 3']);
    expect(r.code).toBe(3);
    expect((await ok(['ps', '-f', 'exited=3', '--format', '{{.Names}} {{.State}}'])).stdout).toBe(`${name} exited\n`);
    expect((await ok(['ps', '-f', 'exited=4', '-f', `name=^${name}$`, '-q'])).stdout).toBe('');
  });

  test('bad filters and values: Docker\'s words and exit codes', async () => {
    const noEq = await skiff(['ps', '-f', 'status']);
    expect([noEq.code, noEq.stderr]).toEqual([125, 'skiff: invalid argument "status" for "-f, --filter" flag: bad format of filter (expected name=value)\n']);
    const key = await skiff(['ps', '-f', 'colour=red']);
    expect([key.code, key.stderr]).toEqual([1, "skiff: invalid filter 'colour'\n"]);
    const n = await skiff(['ps', '-n', 'x']);
    expect(n.code).toBe(125);
    // pflag's words and docker-cli's usage hint, as for every other flag value of the wrong type
    expect(n.stderr).toBe('invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax\n\nUsage:  skiff ps [OPTIONS]\n\nRun \'skiff ps --help\' for more information\n');
    const since = await skiff(['ps', '-f', 'since=no-such-container']);
    expect([since.code, since.stderr]).toEqual([1, 'skiff: No such container: no-such-container\n']);
  });

  test('a template that fails is one line, exit 1; a format that is a flag is refused (125)', async () => {
    const bad = await skiff(['ps', '-a', '--format', '{{.Nope}}']);
    expect(bad.code).toBe(1);
    expect(errorLines(bad.stderr)).toEqual([expect.stringMatching(/^skiff: failed to execute template: template: .*can't evaluate field Nope/)]);
    const flag = await skiff(['ps', '--format=--quiet']);
    expect(flag.code).toBe(125);
    expect(flag.stderr).toMatch(/^skiff: invalid argument "--quiet" for "--format" flag/);
  });
});

describe('images, inspect, version, info --format', () => {
  test('images: template, json, -q', async () => {
    expect((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n')).toContain(BUSYBOX);
    const j = JSON.parse((await ok(['images', '--format', 'json', BUSYBOX])).stdout);
    expect(j.Repository).toBe('skiff-test/busybox');
    const id = fixtureInfo()[BUSYBOX].id;
    expect((await ok(['images', '-q', BUSYBOX])).stdout).toBe(`${id.slice(7, 19)}\n`);
  });

  test('inspect: template per object; a template that does not parse exits 64 before printing', async () => {
    expect((await ok(['inspect', '--format', '{{.Id}}', BUSYBOX])).stdout).toBe(`${fixtureInfo()[BUSYBOX].id}\n`);
    const bad = await skiff(['inspect', '--format', '{{.Id', BUSYBOX]);
    expect(bad.code).toBe(64);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^skiff: template parsing error: template: :1: /);
  });

  test('version: {{.Client.Version}}, {{json .}}, json; a broken template exits 64', async () => {
    expect((await ok(['version', '--format', '{{.Client.Version}}'])).stdout).toBe(`${VERSION}\n`);
    expect(JSON.parse((await ok(['version', '--format', '{{json .}}'])).stdout).Client.Version).toBe(VERSION);
    expect(JSON.parse((await ok(['version', '--format', 'json'])).stdout).Client.Os).toBe('linux');
    expect((await skiff(['version', '--format', '{{.Client.Version'])).code).toBe(64);
  });

  test('info: Docker\'s fields and skiff\'s under .Skiff; the human text stays', async () => {
    const o = JSON.parse((await ok(['info', '--format', '{{json .}}'])).stdout);
    expect(o.Images).toBeGreaterThanOrEqual(1);
    expect(o.Containers).toBeGreaterThanOrEqual(2);
    expect(o.OSType).toBe('linux');
    expect(['overlay', 'fuse-overlayfs', 'vfs']).toContain(o.Driver);
    expect(typeof o.Skiff.Rootless).toBe('boolean');
    expect((await ok(['info', '--format', '{{.Driver}}'])).stdout).toBe(`${o.Driver}\n`);
    expect((await ok(['info'])).stdout).toMatch(/^Storage driver: \S+$/m);
  });
});

describe('errors: one line, Docker\'s exit codes', () => {
  test('rm and inspect of a missing container exit 1 with "No such ..."', async () => {
    const rm = await skiff(['rm', 'no-such-ctr']);
    expect([rm.code, rm.stderr]).toEqual([1, 'skiff: No such container: no-such-ctr\n']);
    const inspect = await skiff(['inspect', 'no-such-ctr']);
    expect(inspect.code).toBe(1);
    expect(inspect.stdout).toBe('[]\n');
    expect(inspect.stderr).toBe('skiff: No such object: no-such-ctr\n');
  });

  test('several targets, one missing: the others are done, each failure is reported, exit 1; rm -f tolerates missing ones', async () => {
    const a = uniqueName('multi-a');
    const b = uniqueName('multi-b');
    await create(a, 'true');
    await create(b, 'true');
    const r = await skiff(['rm', a, 'no-such-ctr', b]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${a}\n${b}\n`);
    expect(r.stderr).toBe('skiff: No such container: no-such-ctr\n');
    expect((await ok(['ps', '-a', '-q', '-f', `name=^${a}$`])).stdout).toBe('');
    const f = await skiff(['rm', '-f', 'no-such-ctr']);
    expect([f.code, f.stderr]).toEqual([0, 'skiff: No such container: no-such-ctr\n']);
    const rmi = await skiff(['rmi', 'skiff-test/none:1', 'skiff-test/none:2']);
    expect(rmi.code).toBe(1);
    expect(errorLines(rmi.stderr)).toEqual(['skiff: No such image: skiff-test/none:1', 'skiff: No such image: skiff-test/none:2']);
  });

  test('run of an image that is not there exits 125 with one line, as Docker\'s run', async () => {
    const r = await skiff(['run', '--pull', 'never', 'skiff-test/none:1', 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(/^skiff: No such image: skiff-test\/none:1/)]);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
  });

  test('a raw system error is one line in Go\'s words, not a bare message with 125', async () => {
    // a data root under a file: Node's ENOTDIR from mkdir, which no code path words itself
    const r = await skiff(['--root', '/dev/null/skiff', 'load', '-i', '/etc/hostname']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('skiff: mkdir /dev/null/skiff: not a directory\n');
  });

  test('--log-level telepathic is refused as docker-cli does', async () => {
    const r = await skiff(['--log-level', 'telepathic', 'version']);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', 'Unable to parse logging level: telepathic\n']);
    expect((await skiff(['--log-level', 'WARN', 'version', '--format', '{{.Client.Os}}'])).stdout).toBe('linux\n');
  });
});
