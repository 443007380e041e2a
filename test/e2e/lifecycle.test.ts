// Container lifecycle: names, --rm, create/start, detached containers, rm -f, and many
// containers at once.
import { describe, expect, test } from 'vitest';
import {
  BUSYBOX,
  errorLines,
  hostProcessesMatching,
  parseTable,
  psAll,
  skiff,
  store,
  uniqueName,
  useStore,
  waitFor,
  walk,
} from './harness';
import { typeInPty } from './pty-driver';

useStore();

const byName = async (name: string) => (await psAll()).find((r) => r.NAMES === name);

describe('ps', () => {
  test('ps -a has docker\'s columns', async () => {
    const r = await skiff(['ps', '-a']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseTable(r.stdout).header).toEqual(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
  });
});

describe('--name', () => {
  const name = uniqueName('named');

  test('a named container shows up in ps -a as Exited (0)', async () => {
    const r = await skiff(['run', '--name', name, BUSYBOX, 'true']);
    expect(r.code, r.stderr).toBe(0);
    const row = await byName(name);
    expect(row).toBeDefined();
    expect(row!['CONTAINER ID']).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.IMAGE).toMatch(/^skiff-test\/busybox/);
    expect(row!.COMMAND).toContain('true');
    expect(row!.STATUS).toMatch(/^Exited \(0\) .*ago$/);
    expect(row!.CREATED).toMatch(/ago$/);
  });

  test('ps without -a hides stopped containers; ps -q / -aq print short IDs', async () => {
    const ps = await skiff(['ps']);
    expect(parseTable(ps.stdout).rows.find((r) => r.NAMES === name)).toBeUndefined();
    const q = await skiff(['ps', '-aq']);
    expect(q.code).toBe(0);
    const ids = q.stdout.split('\n').filter(Boolean);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
    const full = (await byName(name))!['CONTAINER ID'];
    expect(ids).toContain(full.slice(0, 12));
  });

  test('a second container with the same name is refused (125), the first is kept', async () => {
    const r = await skiff(['run', '--name', name, BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(name);
    expect(r.stderr).toMatch(/already in use/);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect((await psAll()).filter((x) => x.NAMES === name)).toHaveLength(1);
  });

  test('an invalid name is refused (125)', async () => {
    const r = await skiff(['run', '--name', 'bad name/x', BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
  });

  test('rm by name removes it and prints the name', async () => {
    const r = await skiff(['rm', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    expect(await byName(name)).toBeUndefined();
  });

  test('rm of an unknown container exits 1 with one line naming it', async () => {
    const r = await skiff(['rm', 'no-such-container']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no-such-container');
    expect(errorLines(r.stderr)).toHaveLength(1);
  });
});

describe('--rm', () => {
  const dirs = () =>
    walk(store().root, 5)
      .filter((f) => f.st.isDirectory())
      .map((f) => f.path)
      .sort();

  test('--rm leaves no container and no directory behind, whatever the exit', async () => {
    // Warm up: the first run may create store-wide directories lazily.
    expect((await skiff(['run', '--rm', BUSYBOX, 'true'])).code).toBe(0);
    const psBefore = await psAll();
    const before = new Set(dirs());
    const cases: [string[], number][] = [
      [['sh', '-c', 'echo x > /tmp/f; mkdir -p /a/b/c'], 0],
      [['sh', '-c', 'exit 3'], 3],
      [['nosuchcmd'], 127],
    ];
    for (const [cmd, code] of cases) {
      const r = await skiff(['run', '--rm', BUSYBOX, ...cmd]);
      expect(r.code, `${cmd.join(' ')}: ${r.stderr}`).toBe(code);
    }
    expect(await psAll()).toEqual(psBefore);
    expect(dirs().filter((d) => !before.has(d))).toEqual([]);
  });
});

describe('create and start', () => {
  test('create prints the full ID; the container is Created', async () => {
    const name = uniqueName('created');
    const c = await skiff(['create', '--name', name, BUSYBOX, 'sh', '-c', 'echo hello; exit 3']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const row = await byName(name);
    expect(row!['CONTAINER ID']).toBe(id);
    expect(row!.STATUS).toBe('Created');

    const s = await skiff(['start', '-a', name]);
    expect(s.code).toBe(3);
    expect(s.stdout).toBe('hello\n');
    expect((await byName(name))!.STATUS).toMatch(/^Exited \(3\) /);

    // a stopped container can be started again
    const again = await skiff(['start', '-a', id.slice(0, 12)]);
    expect(again.code).toBe(3);
    expect(again.stdout).toBe('hello\n');
    expect((await skiff(['rm', name])).code).toBe(0);
  });

  test('create + start -a exits 0 and ps -a says Exited (0)', async () => {
    const name = uniqueName('ok');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'true'])).code).toBe(0);
    const s = await skiff(['start', '-a', name]);
    expect(s.code, s.stderr).toBe(0);
    expect((await byName(name))!.STATUS).toMatch(/^Exited \(0\) /);
  });

  test('start (detached) returns, ps shows it running, then it stops by itself', async () => {
    const name = uniqueName('detached');
    expect((await skiff(['create', '--name', name, BUSYBOX, 'sleep', '3'])).code).toBe(0);
    const s = await skiff(['start', name]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toBe(`${name}\n`);
    const running = await skiff(['ps']);
    const row = parseTable(running.stdout).rows.find((r) => r.NAMES === name);
    expect(row, running.stdout).toBeDefined();
    expect(row!.STATUS).toMatch(/^Up /);
    await waitFor(async () => /^Exited \(0\) /.test((await byName(name))?.STATUS ?? ''), 30_000, `${name} to exit`);
    expect(parseTable((await skiff(['ps'])).stdout).rows.find((r) => r.NAMES === name)).toBeUndefined();
  });

  test('start of an unknown container exits 1', async () => {
    const r = await skiff(['start', 'no-such-container']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
  });
});

describe('detached run and rm -f', () => {
  test('run -d prints the ID and returns while the container runs', async () => {
    const name = uniqueName('bg');
    const marker = '7311';
    const r = await skiff(['run', '-d', '--name', name, BUSYBOX, 'sleep', marker]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect((await byName(name))!.STATUS).toMatch(/^Up /);
    expect(hostProcessesMatching(`sleep ${marker}`, { exact: true }).length).toBe(1);

    // rm without -f refuses a running container (docker: exit 1)
    const refused = await skiff(['rm', name]);
    expect(refused.code).toBe(1);
    expect(errorLines(refused.stderr)).toHaveLength(1);
    expect((await byName(name))!.STATUS).toMatch(/^Up /);

    const rm = await skiff(['rm', '-f', name]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toBe(`${name}\n`);
    expect(await byName(name)).toBeUndefined();
    await waitFor(() => hostProcessesMatching(`sleep ${marker}`, { exact: true }).length === 0, 10_000, 'the container process to die');
  });

  test('run -d --rm removes the container when it ends', async () => {
    const name = uniqueName('bgrm');
    const r = await skiff(['run', '-d', '--rm', '--name', name, BUSYBOX, 'sleep', '1']);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(async () => (await byName(name)) === undefined, 30_000, `${name} to be removed`);
  });
});

describe('concurrency', () => {
  test('10 concurrent run --rm plus 5 named runs all succeed; ps -a stays consistent', { timeout: 180_000 }, async () => {
    const before = await psAll();
    const names = Array.from({ length: 5 }, (_, i) => uniqueName(`cc${i}`));
    let stop = false;
    const psErrors: string[] = [];
    const poller = (async () => {
      while (!stop) {
        const r = await skiff(['ps', '-a', '--no-trunc'], { timeoutMs: 60_000 });
        if (r.code !== 0) psErrors.push(r.stderr);
        for (const row of parseTable(r.stdout).rows) {
          if (!/^[0-9a-f]{64}$/.test(row['CONTAINER ID'])) psErrors.push(`bad row: ${JSON.stringify(row)}`);
        }
      }
    })();
    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        skiff(['run', '--rm', BUSYBOX, 'sh', '-c', `echo ok-${i}`], { timeoutMs: 150_000 }),
      ),
      ...names.map((n) => skiff(['run', '--name', n, BUSYBOX, 'true'], { timeoutMs: 150_000 })),
    ]);
    stop = true;
    await poller;
    results.slice(0, 10).forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`ok-${i}\n`);
    });
    for (const r of results.slice(10)) expect(r.code, r.stderr).toBe(0);
    expect(psErrors).toEqual([]);

    const after = await psAll();
    expect(after.length).toBe(before.length + names.length);
    for (const n of names) expect(after.find((r) => r.NAMES === n)?.STATUS).toMatch(/^Exited \(0\) /);
    const ids = after.map((r) => r['CONTAINER ID']);
    expect(new Set(ids).size).toBe(ids.length);

    const rm = await skiff(['rm', ...names]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout.split('\n').filter(Boolean).sort()).toEqual([...names].sort());
    expect((await psAll()).length).toBe(before.length);
  });
});

describe('detach keys', () => {
  test('run -it: ctrl-p ctrl-q detaches (exit 0, nothing odd printed), the container runs on and can be attached to', async () => {
    const name = uniqueName('detach');
    const r = await typeInPty(['run', '-it', '--name', name, BUSYBOX, 'sh'], [['# ', 'echo hi-$((40+2))\r'], ['hi-42', '\x10\x11']]);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain('hi-42');
    expect(r.screen).not.toContain('escape');
    expect((await byName(name))?.STATUS).toMatch(/^Up /);
    // the shell is still there: attach, type into it, and end it with its own exit code
    const again = await typeInPty(['attach', name], [['', '\r'], ['# ', 'exit 5\r']]);
    expect(again.code, again.screen).toBe(5);
    await waitFor(async () => /^Exited \(5\)/.test((await byName(name))?.STATUS ?? ''), 20_000, 'the shell to exit');
    expect((await skiff(['logs', name])).stdout).toContain('hi-42');
    expect((await skiff(['rm', name])).code).toBe(0);
  });

  test('--detach-keys: another sequence detaches; the default one then reaches the container; bytes that only begin it pass on', async () => {
    const name = uniqueName('detachx');
    const r = await typeInPty(['run', '-it', '--detach-keys', 'ctrl-x,x', '--name', name, BUSYBOX, 'sh'], [
      ['# ', 'echo a\x18b-$((6*7))\r'], ['b-42', '\x10\x11echo still-$((2+3))\r'], ['still-5', '\x18x'],
    ]);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain('still-5');
    expect((await byName(name))?.STATUS).toMatch(/^Up /);
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });

  test('start -a -i of a stopped -it container detaches the same way (exit 0)', async () => {
    const name = uniqueName('detachstart');
    expect((await skiff(['create', '-it', '--name', name, BUSYBOX, 'sh'])).code).toBe(0);
    const r = await typeInPty(['start', '-a', '-i', name], [['# ', 'echo up-$((1+1))\r'], ['up-2', '\x10\x11']]);
    expect(r.code, r.screen).toBe(0);
    expect((await byName(name))?.STATUS).toMatch(/^Up /);
    expect((await skiff(['rm', '-f', name])).code).toBe(0);
  });

  test('run --rm -it that was detached leaves no record behind when it later exits', async () => {
    const name = uniqueName('detachrm');
    const r = await typeInPty(['run', '--rm', '-it', '--name', name, BUSYBOX, 'sh', '-c', 'echo ready; sleep 2'], [['ready', '\x10\x11']]);
    expect(r.code, r.screen).toBe(0);
    await waitFor(async () => !(await byName(name)), 30_000, 'the container to be removed');
    expect((await skiff(['inspect', name])).code).toBe(1);
  });

  test('a bad --detach-keys is refused with Docker\'s message before anything is created', async () => {
    const name = uniqueName('badkeys');
    const r = await skiff(['run', '-it', '--detach-keys', 'ctrl-P', '--name', name, BUSYBOX, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual(["skiff: invalid detach keys (ctrl-P): Unknown character: 'ctrl-P'"]);
    expect(await byName(name)).toBeUndefined();
    const attach = await skiff(['attach', '--detach-keys', 'ctrl-', name]);
    expect(attach.code).toBe(1);
  });
});
