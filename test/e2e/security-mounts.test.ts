// The container monitor's defences (native/helper/monitor.c): device nodes, read-only
// mounts all the way down, masks that the image cannot redirect, no fds and no terminal
// leaking in, and a container that does not outlive its monitor.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  BUSYBOX,
  errorLines,
  isRootless,
  runCommand,
  sh,
  skiff,
  skiffPty,
  store,
  uniqueName,
  useStore,
  waitFor,
  type RunOptions,
} from './harness';

useStore();

const run = (args: string[], opts?: RunOptions) => skiff(['run', '--rm', ...args], opts);
const inBusybox = (script: string, flags: string[] = [], opts?: RunOptions) =>
  run([...flags, BUSYBOX, 'sh', '-c', script], opts);

interface MountEntry { mountPoint: string; opts: string[]; fstype: string }

function parseMountinfo(text: string): MountEntry[] {
  return text.split('\n').filter(Boolean).map((l) => {
    const f = l.split(' ');
    return { mountPoint: f[4], opts: f[5].split(','), fstype: f[f.indexOf('-') + 1] };
  });
}

/** A host process is running: it exists and is not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

const killed: number[] = [];
afterAll(() => {
  for (const pid of killed) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
});

describe('device nodes (nodev)', () => {
  test('every writable mount is nodev, except devpts and the bound host devices', async () => {
    const r = await inBusybox('cat /proc/self/mountinfo');
    expect(r.code, r.stderr).toBe(0);
    const mounts = parseMountinfo(r.stdout);
    expect(mounts.map((m) => m.mountPoint)).toEqual(expect.arrayContaining(['/', '/dev', '/dev/shm', '/etc/hosts']));
    // devtmpfs: the single-node binds of /dev/null, /dev/zero... (and of /dev/null over masked
    // files); a file mount cannot take new nodes.
    const writable = mounts.filter((m) => m.opts.includes('rw') && m.fstype !== 'devpts' && m.fstype !== 'devtmpfs');
    expect(writable.filter((m) => !m.opts.includes('nodev')).map((m) => `${m.mountPoint} (${m.fstype})`)).toEqual([]);
    const devpts = mounts.find((m) => m.fstype === 'devpts');
    expect(devpts?.opts).not.toContain('nodev');
  });

  // /dev/kmsg (1:11) is not in Docker's device allowlist. Opening it for writing needs no
  // capability (reading may, under dmesg_restrict), and `: >` writes nothing.
  const probe = (dir: string) =>
    `mknod ${dir}/k c 1 11 2>&1 || { echo mknod-failed; exit; }; test -c ${dir}/k && echo made; { : > ${dir}/k; } 2>&1 && echo opened`;

  test.skipIf(isRootless())('rootful: a node made inside cannot be opened (rootfs, /dev, /dev/shm)', async () => {
    // The host can open it, so only the mount flags stop the container.
    fs.closeSync(fs.openSync('/dev/kmsg', fs.constants.O_WRONLY));
    for (const dir of ['/tmp', '/dev', '/dev/shm']) {
      const r = await inBusybox(probe(dir));
      expect(r.stdout, dir).toBe(`made\nsh: can't create ${dir}/k: Permission denied\n`);
    }
  });

  test.skipIf(!isRootless())('rootless: making a node is refused outright', async () => {
    const r = await inBusybox(probe('/tmp'));
    expect(r.stdout).toBe("mknod: /tmp/k: Operation not permitted\nmknod-failed\n");
  });
});

describe('read-only mounts are read-only all the way down', () => {
  // Rootless --network host binds the host's /sys with its submounts (rootful mounts a
  // fresh sysfs, which has none: nothing below it to check).
  test.skipIf(!isRootless())('--network host: every mount under /sys is ro; /sys/fs/cgroup refuses writes', async () => {
    const r = await inBusybox('cat /proc/self/mountinfo; echo ---; mkdir /sys/fs/cgroup/skiff-probe', ['--network', 'host']);
    const [mountinfo, after] = r.stdout.split('---\n');
    const sys = parseMountinfo(mountinfo).filter((m) => m.mountPoint === '/sys' || m.mountPoint.startsWith('/sys/'));
    expect(sys.map((m) => m.mountPoint)).toContain('/sys/fs/cgroup');
    expect(sys.filter((m) => !m.opts.includes('ro')).map((m) => m.mountPoint)).toEqual([]);
    expect(after).toBe('');
    expect(r.stderr).toContain("mkdir: can't create directory '/sys/fs/cgroup/skiff-probe': Read-only file system");
  });

  test('read-only paths under /proc are ro', async () => {
    const r = await inBusybox('grep -E " /proc/(sys|bus|fs|irq) " /proc/self/mountinfo');
    expect(r.code, r.stderr).toBe(0);
    const ro = parseMountinfo(r.stdout);
    expect(ro.map((m) => m.mountPoint)).toContain('/proc/sys');
    for (const m of ro) expect(m.opts, m.mountPoint).toContain('ro');
  });
});

describe('masked paths', () => {
  test('an image whose /etc/hosts points at /dev/null does not change what masked files show', async () => {
    // The image's /etc/hosts -> /dev/null makes the bind of the hosts file land on the
    // container's /dev/null; a mask that binds "/dev/null" by path after pivot_root would then
    // show the hosts file.
    const tag = `${uniqueName('evil-null')}:1`;
    const build = await sh(
      `"$SKIFF" run --rm ${BUSYBOX} sh -c 'mkdir -p /r/etc && cp -a /bin /sbin /usr /r/ && ln -s /dev/null /r/etc/hosts && tar -C /r -c .' | "$SKIFF" import - ${tag}`,
    );
    expect(build.code, build.stderr).toBe(0);
    const r = await run([tag, 'sh', '-c', 'readlink /etc/hosts; stat -c %F /dev/null; stat -c %t:%T:%F:%s /proc/keys']);
    expect(r.code, r.stderr).toBe(0);
    // The swap itself happened (the test would prove nothing otherwise)...
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['/dev/null', 'regular file']);
    // ...but the mask is the host's null device.
    expect(r.stdout.split('\n')[2]).toBe('1:3:character special file:0');
  });
});

/** The monitor's argv (helper, namespace options) for a running detached container. */
async function monitorCommand(): Promise<{ exe: string; prefix: string[]; specFile: string; cleanup: () => Promise<void> }> {
  const name = uniqueName('spec');
  const r = await skiff(['run', '-d', '--name', name, BUSYBOX, 'sleep', '1000']);
  expect(r.code, r.stderr).toBe(0);
  const id = r.stdout.trim();
  const state = containerState(id);
  const argv = fs.readFileSync(`/proc/${state.monitorPid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
  // A copy: the extracted helper may be replaced meanwhile (another build's skiff prunes it).
  const exe = path.join(store().dir, `${name}-helper`);
  fs.copyFileSync(`/proc/${state.monitorPid}/exe`, exe);
  fs.chmodSync(exe, 0o755);
  const specFile = argv.at(-1)!;
  const specCopy = path.join(store().dir, `${name}.spec`);
  fs.copyFileSync(specFile, specCopy);
  // Stop the container; its storage stays (no --rm) for the hand-written specs below.
  process.kill(state.pid, 'SIGKILL');
  await waitFor(() => !running(state.monitorPid), 20_000, 'the monitor to exit');
  return { exe, prefix: argv.slice(1, -2), specFile: specCopy, cleanup: async () => { await skiff(['rm', '-f', name]); } };
}

function containerState(id: string): { pid: number; monitorPid: number } {
  const rec = JSON.parse(fs.readFileSync(path.join(store().root, 'containers', id, 'container.json'), 'utf8'));
  return rec.state;
}

/** The monitor spec as records; `rewrite` edits them; written next to the original. */
function rewriteSpec(file: string, rewrite: (recs: string[][]) => string[][]): string {
  const parts = fs.readFileSync(file, 'utf8').split('\0');
  const recs: string[][] = [];
  for (let i = 0; i + 1 < parts.length;) {
    const n = Number(parts[i + 1]);
    recs.push([parts[i], ...parts.slice(i + 2, i + 2 + n)]);
    i += 2 + n;
  }
  const out = rewrite(recs);
  const target = `${file}.${uniqueName('x')}`;
  fs.writeFileSync(target, out.map(([k, ...f]) => [k, String(f.length), ...f].map((p) => `${p}\0`).join('')).join(''));
  return target;
}

/** The container runs `true`; no report fd, pid or exit file, no --rm cleanup. */
const plain = (recs: string[][]) =>
  recs.filter(([k]) => !['ready-fd', 'pid-file', 'exit-file', 'cleanup', 'lock-file', 'arg'].includes(k)).concat([['arg', 'true']]);

describe('the monitor refuses what it cannot apply', () => {
  let m: Awaited<ReturnType<typeof monitorCommand>>;
  afterAll(async () => { await m?.cleanup(); });

  test('setup: the hand-written spec runs as it is', async () => {
    m = await monitorCommand();
    const r = await execHelper(m, rewriteSpec(m.specFile, plain));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  for (const key of ['mask', 'ro']) {
    test(`a ${key} path that exists but cannot be looked at fails the start with 125 and one line`, async () => {
      const spec = rewriteSpec(m.specFile, (recs) => plain(recs).concat([[key, '/etc/hostname/sub']]));
      const r = await execHelper(m, spec);
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toEqual(['skiff: cannot protect /etc/hostname/sub: Not a directory']);
    });
  }

  test('a capability number above 63 is refused', async () => {
    const spec = rewriteSpec(m.specFile, (recs) => plain(recs).map((r) => (r[0] === 'caps' ? ['caps', '0', '64'] : r)));
    const r = await execHelper(m, spec);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['skiff-helper: monitor: capability number "64" is out of range 0-63']);
  });

  test('a relative destination is refused', async () => {
    const spec = rewriteSpec(m.specFile, (recs) => plain(recs).concat([['symlink', 'x', 'relative']]));
    const r = await execHelper(m, spec);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['skiff-helper: monitor: spec key symlink: path "relative" is not absolute']);
  });
});

/** Run the helper (as the monitor was run) on a hand-written spec. */
function execHelper(m: { exe: string; prefix: string[] }, spec: string) {
  return runCommand(m.exe, [...m.prefix, 'monitor', spec]);
}

describe('nothing of the caller reaches the container', () => {
  // skiff (Node) hands the monitor at least one fd of its own that is not close-on-exec (a
  // pipe, seen at fd 251), and the caller's fd 7 is opened too in case it gets through.
  const leak = (env: Record<string, string> = {}) =>
    sh(`exec 7</etc/hostname; exec "$SKIFF" run --rm ${BUSYBOX} ls /proc/self/fd`, { env });

  test('an fd leaked by the caller is not open in the container', async () => {
    const r = await leak();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['0', '1', '2', '3']); // 3: ls's own
  });

  test('... also where close_range cannot mark fds close-on-exec (the /proc/self/fd walk)', async () => {
    const r = await leak({ SKIFF_HELPER_FD_WALK: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['0', '1', '2', '3']);
  });

  test.skipIf(isRootless())('rootful: a non-root user gets no inheritable or ambient capabilities from the caller', async () => {
    const cmd = `exec setpriv --inh-caps +chown,+kill --ambient-caps +chown -- "$SKIFF" run --rm --user 1000 ${BUSYBOX} grep -E '^Cap(Inh|Amb)' /proc/self/status`;
    const r = await sh(cmd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('CapInh:\t0000000000000000\nCapAmb:\t0000000000000000\n');
  });
});

describe('the host terminal is not handed to the container', () => {
  const probe = 'test -t 0; echo in=$?; test -t 1; echo out=$?; test -t 2; echo err=$?';

  test('attached -i without -t: pipes, not the terminal; input, output and exit code still arrive', async () => {
    const r = await skiffPty(['run', '--rm', '-i', BUSYBOX, 'sh', '-c', `${probe}; read x; echo got:$x; exit 3`], { input: 'hello\n' });
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain('in=1\nout=1\nerr=1\n');
    expect(r.stdout).toContain('got:hello\n');
  });

  test('the output is all there before the exit', async () => {
    const r = await skiffPty(['run', '--rm', BUSYBOX, 'sh', '-c', 'seq 1 20000']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).at(-1)).toBe('20000');
    expect(r.stdout.split('\n').filter(Boolean).length).toBe(20000);
  });

  test('with -t the container has its own terminal', async () => {
    const r = await skiffPty(['run', '--rm', '-t', BUSYBOX, 'sh', '-c', probe]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('in=0\nout=0\nerr=0\n');
  });
});

describe('a container does not outlive its monitor', () => {
  test('kill -9 of the monitor kills the container', async () => {
    const r = await skiff(['run', '-d', BUSYBOX, 'sleep', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const state = containerState(r.stdout.trim());
    expect(running(state.pid)).toBe(true);
    killed.push(state.pid);
    process.kill(state.monitorPid, 'SIGKILL');
    await waitFor(() => !running(state.pid), 5_000, `container process ${state.pid} to die with its monitor`);
  });
});
