// The verbs that move a container through its states: stop (signal order and timing), kill -s,
// restart, wait, rm -f, rename, pause, container prune, and the Podman forms scripts use.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, hostProcessesMatching, isRootless, psAll, skiff, store, uniqueName, useStore, waitFor } from './harness';

useStore();

const row = async (name: string) => (await psAll()).find((r) => r.NAMES === name);
const record = (id: string) => JSON.parse(fs.readFileSync(path.join(store().root, 'containers', id, 'container.json'), 'utf8'));

/** A detached busybox shell running `script` (a loop that notices traps within 0.1 s). */
async function runScript(name: string, script: string, flags: string[] = []): Promise<string> {
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c', `${script}\nwhile :; do sleep 0.1; done`]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
}

describe('stop', () => {
  test('SIGTERM first: a container that exits on it stops at once, with its own exit code', async () => {
    const name = uniqueName('term');
    await runScript(name, 'trap "exit 42" TERM');
    const { value: r, ms } = await timed(() => skiff(['stop', name]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    expect(ms).toBeLessThan(5000);
    expect((await row(name))!.STATUS).toMatch(/^Exited \(42\) /);
  });

  test('then SIGKILL once -t has passed: a container that ignores SIGTERM takes the timeout and ends 137', async () => {
    const name = uniqueName('stubborn');
    await runScript(name, 'trap "echo ignored" TERM');
    const { value: r, ms } = await timed(() => skiff(['stop', '-t', '2', name]));
    expect(r.code, r.stderr).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(2000);
    expect(ms).toBeLessThan(8000);
    expect((await row(name))!.STATUS).toMatch(/^Exited \(137\) /);
  });

  test('--stop-signal is what stop sends; -s overrides it; --stop-timeout is its default grace', async () => {
    const name = uniqueName('stopsig');
    const script = 'trap "exit 10" USR1; trap "exit 15" TERM';
    await runScript(name, script, ['--stop-signal', 'USR1']);
    expect((await skiff(['stop', name])).code).toBe(0);
    expect((await row(name))!.STATUS).toMatch(/^Exited \(10\) /);

    expect((await skiff(['start', name])).code).toBe(0);
    const s = await skiff(['stop', '-s', 'SIGTERM', name]);
    expect(s.code, s.stderr).toBe(0);
    expect((await row(name))!.STATUS).toMatch(/^Exited \(15\) /);

    const slow = uniqueName('stoptimeout');
    await runScript(slow, 'trap "" TERM', ['--stop-timeout', '1']);
    const { value: r, ms } = await timed(() => skiff(['stop', slow]));
    expect(r.code, r.stderr).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(6000);
    expect((await row(slow))!.STATUS).toMatch(/^Exited \(137\) /);
  });

  test('stop of a stopped container succeeds; of a missing one is exit 1 with one line, the others still stopped', async () => {
    const name = uniqueName('twice');
    await runScript(name, 'trap "exit 1" TERM');
    const r = await skiff(['stop', name, 'no-such-ctr', name]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${name}\n${name}\n`);
    expect(errorLines(r.stderr)).toEqual(['skiff: No such container: no-such-ctr']);
  });

  test('a bad signal is refused before anything is signalled', async () => {
    const name = uniqueName('badsig');
    await runScript(name, 'true');
    const r = await skiff(['stop', '-s', 'SIGNOPE', name]);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('Invalid signal: SIGNOPE');
    expect((await row(name))!.STATUS).toMatch(/^Up /);
    expect((await skiff(['kill', name])).code).toBe(0);
  });
});

describe('kill', () => {
  test('kill -s sends that signal and returns; the container acts on it', async () => {
    const name = uniqueName('usr2');
    await runScript(name, 'trap "exit 12" USR2');
    const r = await skiff(['kill', '-s', 'USR2', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    const w = await skiff(['wait', name]);
    expect(w.stdout).toBe('12\n');
  });

  test('kill (SIGKILL) waits until it is gone: ps says Exited (137) right after', async () => {
    const name = uniqueName('kill9');
    await runScript(name, 'trap "" TERM');
    const r = await skiff(['kill', name]);
    expect(r.code, r.stderr).toBe(0);
    expect((await row(name))!.STATUS).toMatch(/^Exited \(137\) /);
  });

  test('kill of a container that is not running is exit 1, in Docker\'s words', async () => {
    const name = uniqueName('notrunning');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'true'])).code).toBe(0);
    const r = await skiff(['kill', name]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`cannot kill container: ${name}: container [0-9a-f]{64} is not running`));
  });
});

describe('restart', () => {
  test('restart stops the running container and starts it again (a new process)', async () => {
    const name = uniqueName('restart');
    const id = await runScript(name, 'trap "exit 0" TERM');
    const before = record(id).state.pid;
    const r = await skiff(['restart', '-t', '5', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    expect((await row(name))!.STATUS).toMatch(/^Up /);
    const after = record(id).state.pid;
    expect(after).toBeGreaterThan(0);
    expect(after).not.toBe(before);
    expect((await skiff(['kill', name])).code).toBe(0);
  });
});

describe('wait', () => {
  test('several containers: each exit code in the order given; a missing one is one line and exit 1', async () => {
    const a = uniqueName('wa'), b = uniqueName('wb');
    expect((await skiff(['run', '-d', '--name', a, BUSYBOX, 'sh', '-c', 'sleep 1; exit 3'])).code).toBe(0);
    expect((await skiff(['run', '-d', '--name', b, BUSYBOX, 'sh', '-c', 'exit 5'])).code).toBe(0);
    const r = await skiff(['wait', a, 'no-such-ctr', b]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('3\n5\n');
    expect(errorLines(r.stderr)).toEqual(['skiff: No such container: no-such-ctr']);
  });

  test('--condition running (Podman) returns once a created container runs', async () => {
    const name = uniqueName('wrun');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'sleep', '1000'])).code).toBe(0);
    const waiting = skiff(['wait', '--condition', 'running', name]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await skiff(['start', name])).code).toBe(0);
    const w = await waiting;
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toBe('-1\n');
    expect((await skiff(['kill', name])).code).toBe(0);
  });
});

describe('rm', () => {
  test('rm -f kills at once (no stop grace), and nothing of it is left running', async () => {
    const name = uniqueName('rmf');
    const marker = `${Date.now() % 100000}.5`;
    const r0 = await skiff(['run', '-d', '--name', name, BUSYBOX, 'sleep', marker]);
    expect(r0.code, r0.stderr).toBe(0);
    const { value: r, ms } = await timed(() => skiff(['rm', '-f', name]));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    expect(ms).toBeLessThan(5000);
    expect(await row(name)).toBeUndefined();
    await waitFor(() => hostProcessesMatching(`sleep ${marker}`, { exact: true }).length === 0, 10_000, 'the process to die');
  });

  test('rm of a missing container is exit 1; with -f it is said on stderr and exit 0 (Docker 28)', async () => {
    const plain = await skiff(['rm', 'no-such-ctr']);
    expect(plain.code).toBe(1);
    expect(errorLines(plain.stderr)).toEqual(['skiff: No such container: no-such-ctr']);
    const forced = await skiff(['rm', '-f', 'no-such-ctr']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe('');
    expect(errorLines(forced.stderr)).toEqual(['skiff: No such container: no-such-ctr']);
  });

  test('rm -v is accepted', async () => {
    const name = uniqueName('rmv');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'true'])).code).toBe(0);
    const r = await skiff(['rm', '-v', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(await row(name)).toBeUndefined();
  });
});

describe('rename', () => {
  test('a running container takes its new name; a taken, invalid or unchanged name is refused', async () => {
    const name = uniqueName('old'), other = uniqueName('other'), next = uniqueName('new');
    await runScript(name, 'true');
    expect((await skiff(['create', '--name', other, BUSYBOX, 'true'])).code).toBe(0);
    const taken = await skiff(['rename', name, other]);
    expect(taken.code).toBe(1);
    expect(errorLines(taken.stderr)).toHaveLength(1);
    expect(taken.stderr).toContain(`Conflict. The container name "/${other}" is already in use by container`);
    const invalid = await skiff(['rename', name, '-bad']);
    expect(invalid.code).not.toBe(0);
    expect(errorLines(invalid.stderr).length).toBeGreaterThan(0);
    const same = await skiff(['rename', name, name]);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('Renaming a container with the same name as its current name');

    const r = await skiff(['rename', name, next]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(await row(name)).toBeUndefined();
    expect((await row(next))!.STATUS).toMatch(/^Up /);
    expect((await skiff(['rm', '-f', next, other])).code).toBe(0);
  });
});

describe('pause', () => {
  test.runIf(isRootless())('rootless on cgroup v1: one line saying why, exit 1, the container runs on', async () => {
    const name = uniqueName('nopause');
    await runScript(name, 'true');
    const r = await skiff(['pause', name]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/rootless containers cannot be paused on a cgroup v1 host: .*run skiff as root/);
    expect((await row(name))!.STATUS).toMatch(/^Up /);
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });

  test.runIf(!isRootless())('rootful: the freezer stops every process; unpause resumes; rm -f of a paused one works', async () => {
    const name = uniqueName('pause');
    const id = await runScript(name, 'sleep 1000 &');
    const cg = `/sys/fs/cgroup/freezer/skiff/${id}`;
    const p = await skiff(['pause', name]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(`${name}\n`);
    expect(fs.readFileSync(`${cg}/freezer.state`, 'utf8').trim()).toBe('FROZEN');
    const procs = fs.readFileSync(`${cg}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(procs).toContain(record(id).state.pid);
    expect(procs.length).toBeGreaterThanOrEqual(2); // the shell and its background sleep
    expect((await row(name))!.STATUS).toMatch(/^Up .*\(Paused\)$/);
    const again = await skiff(['pause', name]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('is already paused');

    const u = await skiff(['unpause', name]);
    expect(u.code, u.stderr).toBe(0);
    expect(fs.readFileSync(`${cg}/freezer.state`, 'utf8').trim()).toBe('THAWED');
    expect((await row(name))!.STATUS).toMatch(/^Up [^(]*$/);

    expect((await skiff(['pause', name])).code).toBe(0);
    const refused = await skiff(['rm', name]);
    expect(refused.code).toBe(1);
    expect(errorLines(refused.stderr)).toEqual([`skiff: cannot remove container "/${name}": container is paused: unpause the container before stopping or force remove`]);
    const { value: rm, ms } = await timed(() => skiff(['rm', '-f', name]));
    expect(rm.code, rm.stderr).toBe(0);
    expect(ms).toBeLessThan(8000);
    expect(fs.existsSync(cg)).toBe(false);
  });
});

describe('a paused container whose monitor dies', () => {
  test.runIf(!isRootless())('is settled as Exited (137): its frozen process is thawed so that the SIGKILL lands', async () => {
    const name = uniqueName('lostpaused');
    const id = await runScript(name, 'true');
    expect((await skiff(['pause', name])).code).toBe(0);
    const { pid, monitorPid } = record(id).state;
    process.kill(monitorPid, 'SIGKILL');
    const alive = (p: number) => { try { return !/\) [ZX] /.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8')); } catch { return false; } };
    await waitFor(() => !alive(monitorPid), 10_000, 'the monitor to die');
    expect((await row(name))!.STATUS).toMatch(/^Exited \(137\) /);
    await waitFor(() => !alive(pid), 10_000, 'the container process to die');
    expect((await skiff(['rm', name])).code).toBe(0);
  });
});

describe('container prune', () => {
  test('removes the stopped containers the filters select, keeps running ones; Docker\'s report', async () => {
    const before = new Set((await psAll()).map((r) => r['CONTAINER ID']));
    const labelled = uniqueName('pl'), plain = uniqueName('pp'), running = uniqueName('pr');
    // 3000 bytes in its writable layer: the report's total
    expect((await skiff(['run', '--name', labelled, '--label', 'prune=me', '--network', 'none', BUSYBOX, 'sh', '-c', 'head -c 3000 /dev/zero >/f'])).code).toBe(0);
    expect((await skiff(['create', '--name', plain, BUSYBOX, 'true'])).code).toBe(0);
    await runScript(running, 'true', ['--label', 'prune=me']);
    const id = async (n: string) => (await row(n))!['CONTAINER ID'];
    const labelledId = await id(labelled);

    const r = await skiff(['container', 'prune', '-f', '--filter', 'label=prune=me']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Deleted Containers:\n${labelledId}\n\nTotal reclaimed space: 3kB\n`);
    expect(await row(labelled)).toBeUndefined();
    expect(await row(plain)).toBeDefined();

    const all = await skiff(['container', 'prune', '-f']);
    expect(all.code, all.stderr).toBe(0);
    expect(await row(plain)).toBeUndefined();
    expect((await row(running))!.STATUS).toMatch(/^Up /);
    const left = (await psAll()).map((r) => r['CONTAINER ID']).filter((x) => !before.has(x));
    expect(left).toEqual([await id(running)]);

    const asked = await skiff(['container', 'prune'], { input: 'n\n' });
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain('WARNING! This will remove all stopped containers.');
    expect((await skiff(['rm', '-f', running])).code).toBe(0);
  });
});

describe('the Podman forms', () => {
  test('container exists: 0 when it does, 1 when not, nothing printed', async () => {
    const name = uniqueName('exists');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'true'])).code).toBe(0);
    const yes = await skiff(['container', 'exists', name]);
    expect([yes.code, yes.stdout, yes.stderr]).toEqual([0, '', '']);
    const no = await skiff(['container', 'exists', 'no-such-ctr']);
    expect([no.code, no.stdout, no.stderr]).toEqual([1, '', '']);
    expect((await skiff(['rm', name])).code).toBe(0);
  });

  test('--ignore on rm, stop and kill: a missing container is no error and prints nothing', async () => {
    for (const verb of ['rm', 'stop', 'kill']) {
      const r = await skiff([verb, '-i', 'no-such-ctr']);
      expect([verb, r.code, r.stdout, r.stderr]).toEqual([verb, 0, '', '']);
    }
  });

  test('rm -f -t N stops with N seconds of grace (SIGTERM first) instead of killing at once', async () => {
    const name = uniqueName('rmt');
    const id = await runScript(name, 'trap "" TERM');
    const { value: r, ms } = await timed(() => skiff(['rm', '-f', '-t', '1', name]));
    expect(r.code, r.stderr).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(fs.existsSync(path.join(store().root, 'containers', id))).toBe(false);
  });

  test('--all on stop, start, restart, kill, rm', { timeout: 120_000 }, async () => {
    const names = [uniqueName('all1'), uniqueName('all2')];
    for (const n of names) await runScript(n, 'trap "exit 0" TERM');
    const stop = await skiff(['stop', '--all']);
    expect(stop.code, stop.stderr).toBe(0);
    for (const n of names) expect((await row(n))!.STATUS).toMatch(/^Exited \(0\) /);
    const start = await skiff(['start', '--all']);
    expect(start.code, start.stderr).toBe(0);
    for (const n of names) expect((await row(n))!.STATUS).toMatch(/^Up /);
    const restart = await skiff(['restart', '-a']);
    expect(restart.code, restart.stderr).toBe(0);
    for (const n of names) expect((await row(n))!.STATUS).toMatch(/^Up /);
    const kill = await skiff(['kill', '-a']);
    expect(kill.code, kill.stderr).toBe(0);
    for (const n of names) expect((await row(n))!.STATUS).toMatch(/^Exited \(137\) /);
    const rm = await skiff(['rm', '-a']);
    expect(rm.code, rm.stderr).toBe(0);
    expect(await psAll()).toEqual([]);
    const both = await skiff(['rm', '-a', names[0]]);
    expect(both.code).toBe(125);
    expect(errorLines(both.stderr)).toHaveLength(1);
  });

  test('--noheading on ps and images: the rows alone, aligned as in the table', async () => {
    const name = uniqueName('nohead');
    await runScript(name, 'true');
    const format = ['--format', 'table {{.ID}}\t{{.Names}}\t{{.Image}}'];
    const full = await skiff(['ps', '-a', '--no-trunc', ...format]);
    const bare = await skiff(['ps', '-a', '--no-trunc', '--noheading', ...format]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toBe(full.stdout.slice(full.stdout.indexOf('\n') + 1));
    expect(bare.stdout).toContain(name);
    const images = await skiff(['images', '--noheading']);
    expect(images.code, images.stderr).toBe(0);
    expect(images.stdout).toMatch(/^skiff-test\/busybox +latest /m);
    expect(images.stdout).not.toContain('REPOSITORY');
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });

  test('run --replace removes the container holding the name, running or not', async () => {
    const name = uniqueName('replace');
    const first = await runScript(name, 'true');
    const r = await skiff(['run', '-d', '--replace', '--name', name, BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const second = r.stdout.trim();
    expect(second).not.toBe(first);
    expect((await row(name))!['CONTAINER ID']).toBe(second);
    expect(fs.existsSync(path.join(store().root, 'containers', first))).toBe(false);
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });
});

describe('run/create --label, --label-file, --cidfile', () => {
  test('labels from the file, then the flags over them, are recorded; prune filters on them', async () => {
    const file = path.join(store().dir, 'labels');
    fs.writeFileSync(file, '# a comment\n\na=from-file\nb=2\n');
    const name = uniqueName('labels');
    const r = await skiff(['create', '--name', name, '--label-file', file, '-l', 'a=from-flag', '--label', 'c', BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
    expect(record(r.stdout.trim()).config.labels).toEqual({ a: 'from-flag', b: '2', c: '' });
    expect((await skiff(['rm', name])).code).toBe(0);
  });

  test('--cidfile gets the ID; an existing file is refused before anything is created', async () => {
    const file = path.join(store().dir, `cid-${Date.now()}`);
    const name = uniqueName('cid');
    const r = await skiff(['create', '--name', name, '--cidfile', file, BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(r.stdout.trim());
    const count = (await psAll()).length;
    const again = await skiff(['create', '--cidfile', file, BUSYBOX, 'true']);
    expect(again.code).toBe(125);
    expect(errorLines(again.stderr)).toEqual([`skiff: Container ID file found, make sure the other container isn't running or delete ${file}`]);
    expect((await psAll()).length).toBe(count);
    expect((await skiff(['rm', name])).code).toBe(0);
  });

  test('a create that fails takes its cidfile away again', async () => {
    const file = path.join(store().dir, `cid-fail-${Date.now()}`);
    const r = await skiff(['create', '--cidfile', file, '--pull', 'never', 'skiff-test/no-such-image', 'true']);
    expect(r.code).toBe(125);
    expect(fs.existsSync(file)).toBe(false);
  });
});
