// skiff exec (a process in a running container: its namespaces, credentials, seccomp filter,
// env, stdio and exit codes) and skiff top.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, lines, parseTable, sh, skiff, store, uniqueName, useStore, waitFor } from './harness';
import { typeInPty } from './pty-driver';

useStore();

/** Start a detached busybox container running `script` (after a marker file is written); returns its name and ID. */
async function started(flags: string[] = [], script = 'sleep 1000'): Promise<{ name: string; id: string }> {
  const name = uniqueName('exec');
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c', `echo from-init > /tmp/marker; ${script}`]);
  expect(r.code, r.stderr).toBe(0);
  return { name, id: r.stdout.trim() };
}

/** A container that ran `true` and has exited. */
async function stopped(): Promise<{ name: string; id: string }> {
  const name = uniqueName('stopped');
  const r = await skiff(['run', '-d', '--name', name, BUSYBOX, 'true']);
  expect(r.code, r.stderr).toBe(0);
  await waitFor(async () => (await skiff(['ps', '-a', '--no-trunc'])).stdout.split('\n').some((l) => l.includes(name) && l.includes('Exited')), 20_000, 'the container to exit');
  return { name, id: r.stdout.trim() };
}

let ctr: { name: string; id: string };
beforeAll(async () => {
  ctr = await started(['-h', 'exechost', '-e', 'A=from-run', '-w', '/etc', '--network', 'none']);
  // the init has written its marker once exec sees it
  await waitFor(async () => (await skiff(['exec', ctr.name, 'cat', '/tmp/marker'])).stdout.includes('from-init'), 20_000, 'the container to start');
});

const exec = (args: string[], opts = {}) => skiff(['exec', ...args], opts);

describe('exec joins the container', () => {
  test('every namespace of the container (user, mnt, pid, uts, ipc, net, cgroup) is the init\'s', async () => {
    const r = await exec([ctr.name, 'sh', '-c', 'for n in user mnt pid uts ipc net cgroup; do [ "$(readlink /proc/self/ns/$n)" = "$(readlink /proc/1/ns/$n)" ] && echo "$n same" || echo "$n differs"; done']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['user same', 'mnt same', 'pid same', 'uts same', 'ipc same', 'net same', 'cgroup same']);
  });

  test('the hostname, PID 1, the init\'s files and the loopback-only network are the container\'s', async () => {
    const r = await exec([ctr.name, 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; cat /tmp/marker; ls /sys/class/net']);
    expect(r.code, r.stderr).toBe(0);
    // (busybox sh execs its last command: PID 1 is the sleep)
    expect(lines(r.stdout)).toEqual(['exechost', 'sleep 1000', 'from-init', 'lo']);
  });

  test('with --network host the shared network namespace is simply kept', async () => {
    const c = await started(['--network', 'host']);
    const r = await exec([c.name, 'sh', '-c', 'ls /sys/class/net | grep -c . ; [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ] && echo mnt-same']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)[1]).toBe('mnt-same');
    const hostIfaces = fs.readdirSync('/sys/class/net').length;
    expect(Number(lines(r.stdout)[0])).toBe(hostIfaces);
  });
});

describe('the process settings', () => {
  test('by default: the container\'s user, env and working directory', async () => {
    const r = await exec([ctr.name, 'sh', '-c', 'id -u; echo "$A"; pwd']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['0', 'from-run', '/etc']);
  });

  test('-u resolves the name in the container\'s /etc/passwd, with HOME from it; -u UID:GID too', async () => {
    const r = await exec(['-u', 'nobody', ctr.name, 'sh', '-c', 'id -u; id -g; echo "$HOME"']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['65534', '65534', '/nonexistent']);
    const n = await exec(['-u', '1234:1235', ctr.name, 'id']);
    expect(n.code, n.stderr).toBe(0);
    expect(n.stdout.trim()).toMatch(/^uid=1234 gid=1235 /);
  });

  test('-u reads the live /etc/passwd: a user added in the container exists for exec', async () => {
    const c = await started([], 'echo "late:x:4242:4242:late:/late:/bin/sh" >> /etc/passwd; sleep 1000');
    await waitFor(async () => (await exec([c.name, 'grep', '-c', 'late', '/etc/passwd'])).stdout.trim() === '1', 20_000, 'the user to be added');
    const r = await exec(['-u', 'late', c.name, 'sh', '-c', 'id -u; echo $HOME']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['4242', '/late']);
  });

  test('an unknown user: one line, nothing run', async () => {
    const r = await exec(['-u', 'nosuchuser', ctr.name, 'true']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toEqual(['skiff: unable to find user nosuchuser: no matching entries in passwd file']);
  });

  test('-e and --env-file add to and override the container\'s env', async () => {
    const file = path.join(store().dir, 'exec.env');
    fs.writeFileSync(file, 'C=from-file\n');
    fs.chmodSync(file, 0o644);
    const r = await exec(['-e', 'A=overridden', '-e', 'B=added', '--env-file', file, ctr.name, 'sh', '-c', 'echo "$A $B $C $HOSTNAME"']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('overridden added from-file exechost');
  });

  test('-w sets the working directory; a relative one is refused as Docker does', async () => {
    const r = await exec(['-w', '/usr', ctr.name, 'pwd']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('/usr');
    const bad = await exec(['-w', 'usr', ctr.name, 'pwd']);
    expect(bad.code).toBe(125);
    expect(errorLines(bad.stderr)).toEqual(["skiff: the working directory 'usr' is invalid, it needs to be an absolute path"]);
  });
});

describe('privileges', () => {
  const capEff = async (args: string[]) => {
    const r = await exec([...args, 'grep', '^CapEff:', '/proc/self/status']);
    expect(r.code, r.stderr).toBe(0);
    return BigInt(`0x${r.stdout.trim().split(/\s+/)[1]}`);
  };
  const CAP_SYS_ADMIN = 1n << 21n;

  test("Docker's default capabilities, the container's; --privileged gives all of them", async () => {
    expect(await capEff([ctr.name])).toBe(0xa80425fbn);
    const all = await capEff(['--privileged', ctr.name]);
    expect(all & CAP_SYS_ADMIN).toBe(CAP_SYS_ADMIN);
    expect(all & 0xa80425fbn).toBe(0xa80425fbn);
  });

  test('a non-root user has no effective capabilities', async () => {
    expect(await capEff(['-u', 'nobody', ctr.name])).toBe(0n);
  });

  test("the container's seccomp filter applies (unshare is denied by Docker's profile); not with --privileged", async () => {
    const r = await exec([ctr.name, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; unshare -r true && echo unshared']);
    expect(r.stdout.split('\n')[0]).toMatch(/^Seccomp:\s+2$/);
    expect(r.stderr).toContain('Operation not permitted');
    expect(r.stdout).not.toContain('unshared');
    const p = await exec(['--privileged', ctr.name, 'sh', '-c', 'grep ^Seccomp: /proc/self/status; unshare -r true && echo unshared']);
    expect(p.code, p.stderr).toBe(0);
    expect(lines(p.stdout)).toEqual([expect.stringMatching(/^Seccomp:\s+0$/), 'unshared']);
  });

  test('a container run with seccomp=unconfined gives exec no filter either', async () => {
    const c = await started(['--security-opt', 'seccomp=unconfined']);
    const r = await exec([c.name, 'sh', '-c', 'unshare -r true && echo unshared']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('unshared');
  });

  test('no_new_privs of the container applies to exec', async () => {
    const c = await started(['--security-opt', 'no-new-privileges']);
    const r = await exec([c.name, 'grep', '^NoNewPrivs:', '/proc/self/status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^NoNewPrivs:\s+1$/);
    const plain = await exec([ctr.name, 'grep', '^NoNewPrivs:', '/proc/self/status']);
    expect(plain.stdout.trim()).toMatch(/^NoNewPrivs:\s+0$/);
  });
});

describe('exit codes', () => {
  test("the command's exit code", async () => {
    expect((await exec([ctr.name, 'sh', '-c', 'exit 42'])).code).toBe(42);
  });

  test('127 for a command that is not there, 126 for one that cannot be executed', async () => {
    const nf = await exec([ctr.name, 'nosuchcommand']);
    expect(nf.code).toBe(127);
    expect(errorLines(nf.stderr)).toEqual(['skiff: exec: "nosuchcommand": executable file not found in $PATH']);
    const ne = await exec([ctr.name, '/etc/passwd']);
    expect(ne.code).toBe(126);
    expect(errorLines(ne.stderr)).toHaveLength(1);
  });

  test('a missing working directory counts as not found (127), as in Docker', async () => {
    const r = await exec(['-w', '/nonexistent', ctr.name, 'true']);
    expect(r.code).toBe(127);
    expect(errorLines(r.stderr)).toEqual(['skiff: chdir to cwd ("/nonexistent") failed: No such file or directory']);
  });

  test("a stopped container: Docker's message, exit 1", async () => {
    const { name, id } = await stopped();
    const r = await exec([name, 'true']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([`skiff: container ${id} is not running`]);
  });

  test('a missing container: exit 1', async () => {
    const r = await exec(['nosuchcontainer', 'true']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['skiff: No such container: nosuchcontainer']);
  });
});

describe('stdio', () => {
  test('-i forwards stdin; without it the command reads /dev/null', async () => {
    const r = await exec(['-i', ctr.name, 'cat'], { input: 'piped\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('piped\n');
    const n = await exec([ctr.name, 'cat'], { input: 'piped\n' });
    expect(n.code, n.stderr).toBe(0);
    expect(n.stdout).toBe('');
  });

  test('stdout and stderr stay apart', async () => {
    const r = await exec([ctr.name, 'sh', '-c', 'echo out; echo err >&2']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  test('-it runs under a pty in the container\'s devpts, with our window size, and returns its exit code', async () => {
    // a terminal of 33 rows and 101 columns types a few commands into the shell
    const r = await typeInPty(['exec', '-it', ctr.name, 'sh'], [{ type: 'tty; stty size; echo "T=$TERM"; exit 3\n' }], { size: [33, 101] });
    const out = r.screen;
    expect(out).toMatch(/^\/dev\/pts\/\d+$/m);
    expect(out).toMatch(/^33 101$/m);
    expect(out).toMatch(/^T=xterm$/m);
    expect(r.code, out).toBe(3);
  });

  test('-it without a terminal on stdin: Docker\'s error', async () => {
    const r = await exec(['-it', ctr.name, 'true']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['skiff: the input device is not a TTY']);
  });

  test('-d returns at once and the command keeps running in the container', async () => {
    const t0 = Date.now();
    const r = await exec(['-d', ctr.name, 'sh', '-c', 'sleep 2; echo done > /tmp/detached']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(2000);
    await waitFor(async () => (await exec([ctr.name, 'cat', '/tmp/detached'])).stdout.trim() === 'done', 20_000, 'the detached command');
  });

  test('signals skiff gets reach the command', async () => {
    const r = await sh(`"$SKIFF" exec ${ctr.name} sh -c 'trap "echo got-term; exit 9" TERM; sleep 100 >/dev/null 2>&1 & wait' & pid=$!; sleep 2; kill -TERM $pid; wait $pid; echo "rc=$?"`);
    expect(lines(r.stdout)).toEqual(['got-term', 'rc=9']);
  });
});

describe('top', () => {
  // a shell that stays (its last command is not the sleep) and the sleep
  let topped: { name: string; id: string };
  beforeAll(async () => {
    topped = await started([], 'sleep 1000; echo end');
  });

  test("ps -ef's columns, and only the container's processes", async () => {
    const r = await skiff(['top', topped.name]);
    expect(r.code, r.stderr).toBe(0);
    const t = parseTable(r.stdout);
    expect(t.header).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    expect(t.rows.map((row) => row.CMD).sort()).toEqual(['sh -c echo from-init > /tmp/marker; sleep 1000; echo end', 'sleep 1000'].sort());
  });

  test('ps options are passed on; with -o the PID column Docker adds to match lines is not shown', async () => {
    const r = await skiff(['top', topped.name, '-o', 'comm']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toEqual(['COMMAND', 'sh', 'sleep']);
  });

  test("a stopped container: Docker's message, exit 1", async () => {
    const { name, id } = await stopped();
    const r = await skiff(['top', name]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([`skiff: container ${id} is not running`]);
  });

  test('bad ps options: ps says why, in one line', async () => {
    const r = await skiff(['top', ctr.name, '--no-such-ps-option']);
    expect(r.code).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^skiff: ps: /);
  });
});
