// Run flags that shape the container's process and namespaces, each observed from inside:
// --ulimit, --oom-score-adj, --group-add, --uts/--ipc/--pid/--cgroupns, --tmpfs, --device, -w;
// and which streams an attached run gives the user (-a, -it without a terminal).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, isRootless, sh, skiff, store, uniqueName, useStore, waitFor } from './harness';

useStore();

const started: string[] = [];
afterAll(async () => {
  if (started.length) await skiff(['rm', '-f', ...started]);
});

/** Run COMMAND in a fresh --rm container with FLAGS; its stdout, after checking it succeeded. */
async function inside(flags: string[], script: string): Promise<string> {
  const r = await skiff(['run', '--rm', ...flags, BUSYBOX, 'sh', '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function refused(flags: string[], message: string): Promise<void> {
  const r = await skiff(['run', '--rm', ...flags, BUSYBOX, 'true']);
  expect(r.code, r.stderr).toBe(125);
  expect(r.stderr).toContain(message);
}

const ownNs = (type: string) => fs.readlinkSync(`/proc/self/ns/${type}`);

/** A detached container that prints its namespace inodes, then sleeps; returns them. */
async function donor(flags: string[]): Promise<{ name: string; ipc: string; pid: string }> {
  const name = uniqueName('donor');
  const r = await skiff(['run', '-d', '--name', name, ...flags, BUSYBOX, 'sh', '-c',
    'readlink /proc/self/ns/ipc; readlink /proc/self/ns/pid; exec sleep 60']);
  expect(r.code, r.stderr).toBe(0);
  started.push(name);
  const id = r.stdout.trim();
  const log = path.join(store().root, 'containers', id, `${id}-json.log`);
  const [ipc, pid] = await waitFor(() => {
    // the container's json-file log: one {"log":"LINE\n",...} object per line
    const l = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((j) => (JSON.parse(j) as { log: string }).log.trim()) : [];
    return l.length >= 2 ? l : undefined;
  }, 10_000, 'the donor to print its namespaces');
  return { name, ipc, pid };
}

describe('--ulimit', () => {
  test('soft and hard limits are set before the command runs', async () => {
    expect(await inside(['--ulimit', 'nofile=1024:2048'], 'ulimit -n; ulimit -Hn')).toBe('1024\n2048\n');
    expect(await inside(['--ulimit', 'nproc=500'], 'ulimit -u; ulimit -Hu')).toBe('500\n500\n');
  });

  test('bad values are refused with go-units\' messages', async () => {
    await refused(['--ulimit', 'nofile'], 'invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile');
    await refused(['--ulimit', 'bogus=1'], 'invalid ulimit type: bogus');
    await refused(['--ulimit', 'nofile=2048:1024'], 'ulimit soft limit must be less than or equal to hard limit: 2048 > 1024');
    await refused(['--ulimit', 'nofile=1:2:3'], 'too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`');
  });

  test.skipIf(!isRootless())('rootless cannot raise a hard limit above its own: one clear error', async () => {
    const hard = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
    await refused(['--ulimit', `nofile=1024:${hard + 1}`], `cannot set ulimit nofile: Operation not permitted: its hard limit cannot be raised above ${hard}`);
  });
});

describe('--oom-score-adj, --group-add', () => {
  test('--oom-score-adj is the container process\'s OOM score adjustment', async () => {
    expect(await inside(['--oom-score-adj', '500'], 'cat /proc/self/oom_score_adj')).toBe('500\n');
    await refused(['--oom-score-adj', '1001'], 'Invalid value 1001, range for oom score adj is [-1000, 1000]');
  });

  test('--group-add adds groups by number and by name from the image\'s /etc/group', async () => {
    expect(await inside(['--group-add', '2000', '--group-add', 'nogroup'], 'id -G')).toBe('0 2000 65534\n');
    await refused(['--group-add', 'no-such-group'], 'unable to find group no-such-group: no matching entries in group file');
  });
});

describe('namespace modes', () => {
  test('--uts host: the host\'s UTS namespace and name; a hostname with it is refused', async () => {
    expect(await inside(['--uts', 'host'], 'readlink /proc/self/ns/uts; hostname')).toBe(`${ownNs('uts')}\n${os.hostname()}\n`);
    expect(await inside([], 'readlink /proc/self/ns/uts')).not.toBe(`${ownNs('uts')}\n`);
    await refused(['--uts', 'host', '-h', 'box'], 'conflicting options: hostname and the UTS mode');
    await refused(['--uts', 'bogus'], '--uts: invalid UTS mode');
  });

  test('--ipc host shares the IPC namespace; private does not', async () => {
    expect(await inside(['--ipc', 'host'], 'readlink /proc/self/ns/ipc')).toBe(`${ownNs('ipc')}\n`);
    expect(await inside(['--ipc', 'private'], 'readlink /proc/self/ns/ipc')).not.toBe(`${ownNs('ipc')}\n`);
    expect(await inside(['--ipc', 'none'], 'test -e /dev/shm && echo shm || echo none')).toBe('none\n');
    await refused(['--ipc', 'bogus'], 'invalid IPC mode: bogus');
  });

  test('--ipc container:NAME joins a shareable donor\'s IPC namespace; a private donor is refused', async () => {
    const d = await donor(['--ipc', 'shareable']);
    expect(await inside(['--ipc', `container:${d.name}`], 'readlink /proc/self/ns/ipc')).toBe(`${d.ipc}\n`);
    const p = await donor([]);
    await refused(['--ipc', `container:${p.name}`], 'non-shareable IPC (hint: use IpcMode:shareable for the donor container)');
    await refused(['--ipc', 'container:no-such-container'], 'No such container: no-such-container');
  });

  test('--pid host and --pid container:NAME', async () => {
    expect(await inside(['--pid', 'host'], 'readlink /proc/self/ns/pid')).toBe(`${ownNs('pid')}\n`);
    const d = await donor([]);
    // The donor's own command is PID 1 of the namespace joined.
    expect(await inside(['--pid', `container:${d.name}`], 'readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\\0" " "; echo'))
      .toBe(`${d.pid}\nsleep 60 \n`);
    await refused(['--pid', 'bogus'], '--pid: invalid PID mode');
  });

  test('--cgroupns host shares the cgroup namespace; private does not', async () => {
    expect(await inside(['--cgroupns', 'host'], 'readlink /proc/self/ns/cgroup')).toBe(`${ownNs('cgroup')}\n`);
    expect(await inside(['--cgroupns', 'private'], 'readlink /proc/self/ns/cgroup')).not.toBe(`${ownNs('cgroup')}\n`);
    await refused(['--cgroupns', 'bogus'], '--cgroupns: invalid CGROUP mode');
  });
});

describe('--tmpfs, --device, --workdir', () => {
  test('--tmpfs mounts a tmpfs with Docker\'s defaults (noexec, nosuid, nodev) and the options given', async () => {
    const line = await inside(['--tmpfs', '/scratch:size=1m,mode=1777'], 'grep " /scratch " /proc/mounts; stat -c %a /scratch');
    const [mount, mode] = line.trim().split('\n');
    expect(mount).toMatch(/^tmpfs \/scratch tmpfs /);
    const opts = mount.split(' ')[3].split(',');
    for (const o of ['rw', 'nosuid', 'nodev', 'noexec', 'size=1024k']) expect(opts).toContain(o);
    expect(mode).toBe('1777');
    const exec = (await inside(['--tmpfs', '/scratch:exec'], 'grep " /scratch " /proc/mounts')).split(' ')[3].split(',');
    expect(exec).not.toContain('noexec');
    await refused(['--tmpfs', 'scratch'], 'invalid mount config for type "tmpfs"');
  });

  test('--device binds a host device at the path given', async () => {
    expect(await inside(['--device', '/dev/zero:/dev/myzero'], 'test -c /dev/myzero && head -c 3 /dev/myzero | od -An -tx1'))
      .toMatch(/^\s*00 00 00\s*$/);
    expect(await inside(['--device', '/dev/zero'], 'test -c /dev/zero && echo ok')).toBe('ok\n');
    await refused(['--device', '/dev/no-such-device'], 'error gathering device information while adding custom device "/dev/no-such-device": no such file or directory');
    await refused(['--device', '/dev/zero:/dev/z:rwx'], 'invalid device mode: rwx');
  });

  test('--workdir that does not exist in the image is created', async () => {
    expect(await inside(['-w', '/no/such/dir'], 'pwd; test -d /no/such/dir && echo dir')).toBe('/no/such/dir\ndir\n');
  });
});

describe('-a, --attach: the streams an attached run gives the user', () => {
  const script = 'echo to-out; echo to-err >&2';

  test('-a stdout shows stdout only, -a STDERR stderr only; both still reach the log; inspect says which', async () => {
    const name = uniqueName('attach-out');
    const out = await skiff(['run', '-a', 'stdout', '--name', name, BUSYBOX, 'sh', '-c', script]);
    started.push(name);
    expect([out.code, out.stdout, out.stderr]).toEqual([0, 'to-out\n', '']);
    const logs = await skiff(['logs', name]);
    expect([logs.stdout, logs.stderr]).toEqual(['to-out\n', 'to-err\n']);
    const attached = await skiff(['inspect', '-f', '{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}', name]);
    expect(attached.stdout).toBe('false true false\n');

    const err = await skiff(['run', '--rm', '-a', 'STDERR', BUSYBOX, 'sh', '-c', script]);
    expect([err.code, err.stdout, err.stderr]).toEqual([0, '', 'to-err\n']);
    const both = await skiff(['run', '--rm', '-a', 'stdout', '-a', 'stderr', BUSYBOX, 'sh', '-c', script]);
    expect([both.stdout, both.stderr]).toEqual(['to-out\n', 'to-err\n']);
  });

  test('-a stdin with -i passes our stdin', async () => {
    const r = await skiff(['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', BUSYBOX, 'cat'], { input: 'piped\n' });
    expect([r.code, r.stdout]).toEqual([0, 'piped\n']);
  });

  test('a bad stream name (125, usage), -a with -d and -it without a terminal (1, docker-cli\'s words): nothing created', async () => {
    const name = uniqueName('attach-bad');
    const bad = await skiff(['run', '-a', 'stdot', '--name', name, BUSYBOX, 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain('invalid argument "stdot" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR');
    const conflict = await skiff(['run', '-d', '-a', 'stdout', '--name', name, BUSYBOX, 'true']);
    expect([conflict.code, errorLines(conflict.stderr)]).toEqual([1, ['skiff: conflicting options: cannot specify both --attach and --detach']]);
    const noTty = await skiff(['run', '-it', '--name', name, BUSYBOX, 'true'], { input: '' });
    expect([noTty.code, errorLines(noTty.stderr)]).toEqual([1, ['skiff: the input device is not a TTY']]);
    expect((await skiff(['container', 'exists', name])).code).toBe(1);
    // -t alone (no stdin attached) runs without a terminal, as Docker's
    expect((await skiff(['run', '--rm', '-t', BUSYBOX, 'true'], { input: '' })).code).toBe(0);
  });
});

describe('--sig-proxy', () => {
  /** An attached run in the background that skiff is sent SIGTERM; what skiff exited with, and whether the container still runs. */
  async function termAttachedRun(flags: string[]): Promise<{ skiffExit: string; running: string; log: string }> {
    const name = uniqueName('sigproxy');
    started.push(name);
    const script = [
      `out=$(mktemp)`,
      // its output to a file: the monitor keeps what it was given open after skiff is gone
      `"$SKIFF" run ${flags.join(' ')} --name ${name} ${BUSYBOX} sh -c 'trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 1; done' >"$out" 2>&1 &`,
      `pid=$!`,
      `for i in $(seq 100); do grep -q ready "$out" && break; sleep 0.1; done`,
      `kill -TERM $pid; wait $pid; echo "skiff=$?"`,
      `sleep 1.5; "$SKIFF" inspect -f 'running={{.State.Running}}' ${name}; cat "$out"; rm -f "$out"`,
    ].join('\n');
    const r = await sh(script);
    expect(r.code, r.stderr).toBe(0);
    return {
      skiffExit: /skiff=(\d+)/.exec(r.stdout)?.[1] ?? '?',
      running: /running=(\w+)/.exec(r.stdout)?.[1] ?? '?',
      log: r.stdout,
    };
  }

  test('by default a signal to skiff reaches the container; --sig-proxy=false leaves the container running', async () => {
    const proxied = await termAttachedRun([]);
    expect([proxied.skiffExit, proxied.running], proxied.log).toEqual(['7', 'false']);
    expect(proxied.log).toContain('got-TERM');
    const notProxied = await termAttachedRun(['--sig-proxy=false']);
    expect([notProxied.skiffExit, notProxied.running], notProxied.log).toEqual(['143', 'true']);
    expect(notProxied.log).not.toContain('got-TERM');
  });
});
