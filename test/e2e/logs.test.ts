// Container stdio: the log the monitor writes (json-file, k8s-file, none, rotation), `logs`
// and its flags, and `attach` (detach keys through a real pty, stdin through the attach socket).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, skiff, store, uniqueName, useStore, waitFor } from './harness';
import { typeInPty } from './pty-driver';

useStore();

interface Record { id: string; logPath?: string; config: { logConfig?: { Type: string; Config: { [k: string]: string } } } }

function record(id: string): Record {
  return JSON.parse(fs.readFileSync(path.join(store().root, 'containers', id, 'container.json'), 'utf8')) as Record;
}

async function runDetached(args: string[]): Promise<string> {
  const r = await skiff(['run', '-d', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

async function waitExited(id: string): Promise<void> {
  await waitFor(async () => {
    const r = await skiff(['ps', '-a', '--no-trunc']);
    return r.stdout.split('\n').some((l) => l.startsWith(id) && /Exited/.test(l));
  }, 20_000, `container ${id} to exit`);
}

/** The full ID of the container NAME. */
function idOf(name: string): string {
  const dir = path.join(store().root, 'containers');
  const id = fs.readdirSync(dir).find((d) => { try { return JSON.parse(fs.readFileSync(path.join(dir, d, 'container.json'), 'utf8')).name === name; } catch { return false; } });
  if (!id) throw new Error(`no container named ${name}`);
  return id;
}

/** The container's status line in ps -a. */
async function status(name: string): Promise<string> {
  const r = await skiff(['ps', '-a']);
  return r.stdout.split('\n').find((l) => l.trimEnd().endsWith(` ${name}`)) ?? '';
}

const jsonLines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { log: string; stream: string; time: string });

describe('json-file log', () => {
  test('a detached container\'s stdout and stderr are logged apart, in Docker\'s format, and logs gives each back on its own stream', async () => {
    // (two pipes: what arrives on both at once has no order, as with Docker; the pauses give one)
    const id = await runDetached([BUSYBOX, 'sh', '-c', 'echo out1; sleep 0.3; echo err1 >&2; sleep 0.3; echo out2; printf tail']);
    await waitExited(id);
    const rec = record(id);
    expect(rec.logPath).toBe(path.join(store().root, 'containers', id, `${id}-json.log`));
    expect(rec.config.logConfig).toEqual({ Type: 'json-file', Config: {} });
    const entries = jsonLines(rec.logPath!);
    expect(entries.map((e) => [e.stream, e.log])).toEqual([
      ['stdout', 'out1\n'], ['stderr', 'err1\n'], ['stdout', 'out2\n'], ['stdout', 'tail'],
    ]);
    for (const e of entries) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    const r = await skiff(['logs', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('out1\nout2\ntail');
    expect(r.stderr).toBe('err1\n');
  });

  test('an attached run is logged too, and its output still reaches the caller', async () => {
    const name = uniqueName('att');
    const r = await skiff(['run', '--name', name, BUSYBOX, 'sh', '-c', 'echo to-out; echo to-err >&2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('to-out\n');
    expect(r.stderr).toBe('to-err\n');
    const logs = await skiff(['logs', name]);
    expect(logs.stdout).toBe('to-out\n');
    expect(logs.stderr).toBe('to-err\n');
  });

  test('a line longer than 16 KiB is logged in parts as Docker cuts it, and logs joins them back', async () => {
    const id = await runDetached([BUSYBOX, 'sh', '-c', 'head -c 40000 /dev/zero | tr "\\0" x; echo']);
    await waitExited(id);
    const entries = jsonLines(record(id).logPath!);
    expect(entries.map((e) => e.log.length)).toEqual([16384, 16384, 40000 - 2 * 16384 + 1]);
    expect(entries[2].log.endsWith('\n')).toBe(true);
    const r = await skiff(['logs', id]);
    expect(r.stdout).toBe(`${'x'.repeat(40000)}\n`);
  });

  test('escapes: quotes, backslashes, control characters, HTML characters and invalid UTF-8 as Go\'s encoder writes them', async () => {
    const id = await runDetached([BUSYBOX, 'sh', '-c', 'printf \'a"b\\\\c\\t<&>\\001\\377é\\n\'']);
    await waitExited(id);
    const raw = fs.readFileSync(record(id).logPath!, 'utf8');
    expect(raw).toContain('"log":"a\\"b\\\\c\\t\\u003c\\u0026\\u003e\\u0001\\ufffdé\\n"');
    const r = await skiff(['logs', id]);
    expect(r.stdout).toBe('a"b\\c\t<&>\u0001\ufffdé\n');
  });

  test('with -t the pty is one stream, logged as stdout', async () => {
    const id = await runDetached(['-t', BUSYBOX, 'sh', '-c', 'echo on-pty; echo also >&2']);
    await waitExited(id);
    const r = await skiff(['logs', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('on-pty\r\nalso\r\n');
    expect(r.stderr).toBe('');
  });

  test('max-size/max-file rotate the log: FILE and FILE.1, nothing older, and logs reads both', async () => {
    const id = await runDetached(['--log-opt', 'max-size=2k', '--log-opt', 'max-file=2', BUSYBOX, 'sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done']);
    await waitExited(id);
    const file = record(id).logPath!;
    expect(fs.existsSync(`${file}.1`)).toBe(true);
    expect(fs.existsSync(`${file}.2`)).toBe(false);
    // rotated before an entry is written to a file that has reached max-size: at most one entry over
    expect(fs.statSync(`${file}.1`).size).toBeLessThan(2000 + 100);
    expect(fs.statSync(`${file}.1`).size).toBeGreaterThanOrEqual(2000);
    const r = await skiff(['logs', id]);
    const got = r.stdout.split('\n').filter(Boolean);
    expect(got.at(-1)).toBe('line-299');
    // contiguous: the two files hold the newest lines in order
    const first = Number(got[0].slice(5));
    expect(got).toEqual(Array.from({ length: 300 - first }, (_, i) => `line-${first + i}`));
    expect(first).toBeGreaterThan(0);
  });
});

describe('logs flags', () => {
  test('--tail N and -n, -t (Docker\'s fixed nine-digit times), --since and --until', async () => {
    const id = await runDetached([BUSYBOX, 'sh', '-c', 'echo one; echo two; sleep 1.2; echo three']);
    await waitExited(id);
    expect((await skiff(['logs', '--tail', '1', id])).stdout).toBe('three\n');
    expect((await skiff(['logs', '-n', '2', id])).stdout).toBe('two\nthree\n');
    expect((await skiff(['logs', '--tail', 'all', id])).stdout).toBe('one\ntwo\nthree\n');
    const t = await skiff(['logs', '-t', id]);
    const stamps = t.stdout.split('\n').filter(Boolean).map((l) => l.split(' '));
    for (const [ts] of stamps) expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(stamps.map((s) => s[1])).toEqual(['one', 'two', 'three']);
    const third = stamps[2][0];
    expect((await skiff(['logs', '--since', third, id])).stdout).toBe('three\n');
    expect((await skiff(['logs', '--until', stamps[1][0], id])).stdout).toBe('one\ntwo\n');
    const unixSeconds = (Date.parse(third) / 1000 - 0.5).toFixed(3);
    expect((await skiff(['logs', '--since', unixSeconds, id])).stdout).toBe('three\n');
    expect((await skiff(['logs', '--since', '10m', id])).stdout).toBe('one\ntwo\nthree\n');
    expect((await skiff(['logs', '--until', '10m', id])).stdout).toBe('');
    const bad = await skiff(['logs', '--since', 'yesterday-ish', id]);
    expect(bad.code).toBe(1);
    expect(errorLines(bad.stderr)).toEqual(['skiff: invalid value for "since": failed to parse value as time or duration: "yesterday-ish"']);
  });

  test('-f follows a running container until it exits', async () => {
    const id = await runDetached([BUSYBOX, 'sh', '-c', 'i=0; while [ $i -lt 5 ]; do echo tick-$i; echo tock-$i >&2; i=$((i+1)); sleep 0.3; done']);
    const started = Date.now();
    const r = await skiff(['logs', '-f', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe([0, 1, 2, 3, 4].map((i) => `tick-${i}\n`).join(''));
    expect(r.stderr).toBe([0, 1, 2, 3, 4].map((i) => `tock-${i}\n`).join(''));
    // it waited for the loop (about 1.5 s), not just read what was there
    expect(Date.now() - started).toBeGreaterThan(1000);
  });

  test('-f follows across rotation', async () => {
    const id = await runDetached(['--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', BUSYBOX, 'sh', '-c', 'i=0; while [ $i -lt 60 ]; do echo row-$i; i=$((i+1)); sleep 0.02; done']);
    const r = await skiff(['logs', '-f', '--tail', '0', id]);
    expect(r.code, r.stderr).toBe(0);
    const got = r.stdout.split('\n').filter(Boolean);
    // whatever was there before -f started is skipped (--tail 0); from then on nothing is lost
    expect(got.at(-1)).toBe('row-59');
    const first = Number(got[0].slice(4));
    expect(got).toEqual(Array.from({ length: 60 - first }, (_, i) => `row-${first + i}`));
    expect(first).toBeLessThan(40);
  });
});

describe('other drivers', () => {
  test('k8s-file writes Podman\'s CRI format to ctr.log, and logs reads it', async () => {
    const id = await runDetached(['--log-driver', 'k8s-file', BUSYBOX, 'sh', '-c', 'echo k-out; echo k-err >&2; printf k-part']);
    await waitExited(id);
    const file = path.join(store().root, 'containers', id, 'ctr.log');
    expect(record(id).logPath).toBe(file);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => l.split(' ').slice(1).join(' '))).toEqual(['stdout F k-out', 'stderr F k-err', 'stdout P k-part']);
    for (const l of lines) expect(l.split(' ')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}([+-]\d\d:\d\d)$/);
    const r = await skiff(['logs', id]);
    expect(r.stdout).toBe('k-out\nk-part');
    expect(r.stderr).toBe('k-err\n');
  });

  test('none: nothing is written, the attached output still arrives, and logs gives Docker\'s error', async () => {
    const name = uniqueName('nolog');
    const r = await skiff(['run', '--name', name, '--log-driver', 'none', BUSYBOX, 'sh', '-c', 'echo visible']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('visible\n');
    const id = idOf(name);
    expect(record(id).logPath).toBeUndefined();
    expect(fs.readdirSync(path.join(store().root, 'containers', id)).filter((f) => f.includes('log') && f !== 'net-helper.log')).toEqual([]); // the network helper's own diagnostics are not the container's log
    const logs = await skiff(['logs', name]);
    expect(logs.code).toBe(1);
    expect(errorLines(logs.stderr)).toEqual(['skiff: configured logging driver does not support reading']);
  });

  test('bad --log-driver and --log-opt values are refused before anything is created', async () => {
    const cases: [string[], string][] = [
      [['--log-driver', 'syslog'], "logger: no log driver named 'syslog' is registered"],
      [['--log-opt', 'max-bytes=1'], "unknown log opt 'max-bytes' for json-file log driver"],
      [['--log-opt', 'max-file=0'], 'max-file cannot be less than 1'],
      [['--log-opt', 'max-size=0'], 'max-size must be a positive number'],
      [['--log-driver', 'none', '--log-opt', 'max-size=1m'], "unknown log opt 'max-size' for none log driver"],
    ];
    const before = (await skiff(['ps', '-aq'])).stdout;
    for (const [flags, msg] of cases) {
      const r = await skiff(['create', ...flags, BUSYBOX, 'true']);
      expect(r.code, flags.join(' ')).toBe(125);
      expect(errorLines(r.stderr)[0]).toContain(msg);
    }
    expect((await skiff(['ps', '-aq'])).stdout).toBe(before);
  });
});

describe('attach', () => {
  test('attach to a -it container: typed input reaches it, ctrl-p ctrl-q detaches and leaves it running', async () => {
    const name = uniqueName('tty');
    await runDetached(['-it', '--name', name, BUSYBOX, 'sh']);
    const r = await typeInPty(['attach', name], [{ type: 'echo hi-$((40+2))\r', pauseMs: 1000 }, { type: '\x10\x11', pauseMs: 1000 }], { settleMs: 1500 });
    expect(r.screen).toContain('hi-42');
    expect(r.screen).toContain('read escape sequence');
    expect(r.code).toBe(1);
    expect(await status(name)).toMatch(/Up /);
    // and again, with other detach keys; exiting the shell ends attach with its exit code
    const again = await typeInPty(['attach', '--detach-keys', 'ctrl-x', name], [{ type: 'exit 7\r', pauseMs: 1000 }], { settleMs: 1500 });
    expect(again.code).toBe(7);
    expect(await status(name)).toMatch(/Exited \(7\)/);
    // what was typed and shown is in the log
    expect((await skiff(['logs', name])).stdout).toContain('hi-42');
  });

  test('attach to a -i container sends piped stdin through the monitor; --no-stdin does not', async () => {
    const name = uniqueName('stdin');
    await runDetached(['-i', '--name', name, BUSYBOX, 'sh', '-c', 'while read l; do echo got-$l; [ "$l" = quit ] && exit 3; done']);
    const noStdin = await skiff(['attach', '--no-stdin', name], { input: 'quit\n', timeoutMs: 3000 }).catch((e: Error) => e);
    // without stdin nothing ends the container: attach is still there when the harness kills it
    expect(noStdin).toBeInstanceOf(Error);
    expect(await status(name)).toMatch(/Up /);
    const r = await skiff(['attach', name], { input: 'a\nquit\n' });
    expect(r.stdout).toBe('got-a\ngot-quit\n');
    expect(r.code).toBe(3);
  });

  test('start -a of a running container attaches to it', async () => {
    const name = uniqueName('sa');
    await runDetached(['-i', '--name', name, BUSYBOX, 'sh', '-c', 'read l; echo late-$l']);
    const r = await skiff(['start', '-ai', name], { input: 'x\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('late-x\n');
  });

  test('attach to a stopped container is refused as Docker does', async () => {
    const name = uniqueName('stopped');
    await skiff(['run', '--name', name, BUSYBOX, 'true']);
    const r = await skiff(['attach', name]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['skiff: You cannot attach to a stopped container, start it first']);
  });
});
