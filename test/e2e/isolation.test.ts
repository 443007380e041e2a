// What a container can see of the host: namespaces, IDs, capabilities, /proc, /sys, /dev,
// and where its writes land on the host.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import {
  BUSYBOX,
  isRootless,
  skiff,
  store,
  subRange,
  uniqueName,
  useStore,
  walk,
  type RunOptions,
} from './harness';

useStore();

const run = (args: string[], opts?: RunOptions) => skiff(['run', '--rm', ...args], opts);
const inBusybox = (script: string, flags: string[] = []) => run([...flags, BUSYBOX, 'sh', '-c', script]);

/** Fields of the /proc/self/mountinfo line whose mount point is `mp` (the last one wins). */
function mountLine(mountinfo: string, mp: string): { opts: string[]; fstype: string } | undefined {
  let found: { opts: string[]; fstype: string } | undefined;
  for (const l of mountinfo.split('\n')) {
    const f = l.split(' ');
    if (f[4] !== mp) continue;
    const sep = f.indexOf('-');
    found = { opts: f[5].split(','), fstype: f[sep + 1] };
  }
  return found;
}

function ifaceNames(procNetDev: string): string[] {
  return procNetDev
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean)
    .sort();
}

const hostSleepers: ChildProcess[] = [];
afterAll(() => {
  for (const p of hostSleepers) p.kill('SIGKILL');
});

describe('PID namespace', () => {
  test('the command is PID 1', async () => {
    const r = await inBusybox('echo $$');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('1\n');
  });

  test('host processes are invisible', async () => {
    const marker = '4242.4242';
    const sleeper = spawn('sleep', [marker], { stdio: 'ignore' });
    hostSleepers.push(sleeper);
    const r = await inBusybox('ps -o pid,args; echo ---; ls -d /proc/[0-9]*');
    sleeper.kill('SIGKILL');
    expect(r.code, r.stderr).toBe(0);
    const [ps, procs] = r.stdout.split('---\n');
    expect(ps).not.toContain(marker);
    expect(ps).not.toMatch(/skiff|vitest|node/);
    const pids = procs.split('\n').filter(Boolean);
    expect(pids).toContain('/proc/1');
    expect(pids.length).toBeLessThanOrEqual(3);
    expect(pids).not.toContain(`/proc/${sleeper.pid}`);
  });
});

describe('UTS namespace', () => {
  test('--hostname sets the hostname', async () => {
    const r = await run(['--hostname', 'myhost', BUSYBOX, 'hostname']);
    expect(r.stdout).toBe('myhost\n');
  });

  test('the default hostname is the 12-character container ID prefix', async () => {
    const c = await skiff(['create', BUSYBOX, 'hostname']);
    expect(c.code, c.stderr).toBe(0);
    const id = c.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const r = await skiff(['start', '-a', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${id.slice(0, 12)}\n`);
    await skiff(['rm', id]);
  });

  test('/etc/hostname holds the hostname (docker creates it)', async () => {
    const r = await run(['--hostname', 'filehost', BUSYBOX, 'cat', '/etc/hostname']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('filehost\n');
  });

  test('changing the hostname inside does not touch the host', async () => {
    const before = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
    await inBusybox('hostname changed-inside 2>/dev/null; true');
    expect(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(before);
  });
});

describe('network', () => {
  test('--network none: only lo', async () => {
    const r = await run(['--network', 'none', BUSYBOX, 'cat', '/proc/net/dev']);
    expect(r.code, r.stderr).toBe(0);
    expect(ifaceNames(r.stdout)).toEqual(['lo']);
  });

  const hostNetNs = () => fs.readlinkSync('/proc/self/ns/net');

  test('--network host: the host interfaces and network namespace', async () => {
    const r = await inBusybox('cat /proc/net/dev; readlink /proc/self/ns/net', ['--network', 'host']);
    expect(r.code, r.stderr).toBe(0);
    const ns = r.stdout.trim().split('\n').pop();
    expect(ifaceNames(r.stdout.slice(0, r.stdout.lastIndexOf('net:['))) ).toEqual(ifaceNames(fs.readFileSync('/proc/net/dev', 'utf8')));
    expect(ns).toBe(hostNetNs());
  });

  test('the default network is a network namespace of its own, with lo', async () => {
    const r = await inBusybox('cat /proc/net/dev; readlink /proc/self/ns/net');
    expect(r.code, r.stderr).toBe(0);
    const ns = r.stdout.trim().split('\n').pop();
    expect(ns).toMatch(/^net:\[\d+\]$/);
    expect(ns).not.toBe(hostNetNs());
    expect(ifaceNames(r.stdout.slice(0, r.stdout.lastIndexOf('net:[')))).toContain('lo');
  });
});

describe('user namespace', () => {
  const parseMap = (s: string) => s.split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).map(Number));

  test('/proc/self/uid_map and gid_map', async () => {
    const r = await inBusybox('cat /proc/self/uid_map; echo ---; cat /proc/self/gid_map');
    expect(r.code, r.stderr).toBe(0);
    const [uidMap, gidMap] = r.stdout.split('---\n').map(parseMap);
    if (!isRootless()) {
      expect(uidMap).toEqual([[0, 0, 4294967295]]);
      expect(gidMap).toEqual([[0, 0, 4294967295]]);
      return;
    }
    expect(uidMap).toContainEqual([0, process.getuid!(), 1]);
    expect(gidMap).toContainEqual([0, process.getgid!(), 1]);
    const su = subRange('/etc/subuid');
    const sg = subRange('/etc/subgid');
    if (su) expect(uidMap).toContainEqual([1, su.start, su.count]);
    if (sg) expect(gidMap).toContainEqual([1, sg.start, sg.count]);
  });

  test("files written in the container land in its upper dir, owned by the caller's IDs", async () => {
    const marker = `skiff-upper-marker-${process.pid}`;
    const appMarker = `${marker}-app`;
    const name = uniqueName('upper');
    const r = await skiff([
      'run', '--name', name, BUSYBOX, 'sh', '-c',
      `echo hi > /root/${marker}; echo x > /tmp/${appMarker}; chown 1000:1000 /tmp/${appMarker}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const files = walk(store().root);
    const mine = files.filter((f) => f.path.endsWith(`/${marker}`) && f.st.isFile());
    const apps = files.filter((f) => f.path.endsWith(`/${appMarker}`) && f.st.isFile());
    expect(mine.length, 'the file written by container root is somewhere under SKIFF_ROOT').toBeGreaterThan(0);
    expect(apps.length).toBeGreaterThan(0);
    const su = subRange('/etc/subuid');
    for (const f of mine) expect(f.st.uid).toBe(isRootless() ? process.getuid!() : 0);
    for (const f of apps) {
      if (!isRootless()) expect(f.st.uid).toBe(1000);
      else if (su) expect(f.st.uid).toBe(su.start + 999);
    }
    // Nothing leaked outside the store.
    expect(fs.existsSync(`/root/${marker}`)).toBe(false);
    expect(fs.existsSync(`/tmp/${appMarker}`)).toBe(false);
    expect((await skiff(['rm', name])).code).toBe(0);
  });
});

describe('capabilities and security', () => {
  const status = async (flags: string[] = []) => {
    const r = await run([...flags, BUSYBOX, 'cat', '/proc/self/status']);
    expect(r.code, r.stderr).toBe(0);
    const out: Record<string, string> = {};
    for (const l of r.stdout.split('\n')) {
      const m = /^(\w+):\s*(.*)$/.exec(l);
      if (m) out[m[1]] = m[2];
    }
    return out;
  };

  test('no signal is ignored or blocked when the command starts (as in Docker)', async () => {
    const st = await status();
    // glibc's posix_spawn leaves signals 32 and 33 ignored across exec unless reset by hand.
    expect(st.SigIgn).toBe('0000000000000000');
    expect(st.SigBlk).toBe('0000000000000000');
  });

  test("root gets Docker's default capability set", async () => {
    const s = await status();
    expect(s.CapEff).toBe('00000000a80425fb');
    expect(s.CapPrm).toBe('00000000a80425fb');
    expect(s.CapBnd).toBe('00000000a80425fb');
    expect(s.CapInh).toBe('0000000000000000');
    expect(s.CapAmb).toBe('0000000000000000');
  });

  test('a non-root user has no effective capabilities', async () => {
    const s = await status(['-u', '1000']);
    expect(s.CapEff).toBe('0000000000000000');
    expect(s.CapPrm).toBe('0000000000000000');
    expect(s.CapBnd).toBe('00000000a80425fb');
  });

  test('the default seccomp filter is on', async () => {
    const s = await status();
    expect(s.Seccomp).toBe('2');
  });

  test('no file descriptors leak into the container', async () => {
    const r = await run([BUSYBOX, 'ls', '/proc/self/fd']);
    expect(r.code, r.stderr).toBe(0);
    const fds = r.stdout.split('\n').filter(Boolean).map(Number);
    // 0-2 and the directory ls is reading
    expect(fds.filter((fd) => fd > 3)).toEqual([]);
  });

  test('PID 1 is the command itself, not a skiff process', async () => {
    const r = await inBusybox('tr "\\0" " " < /proc/1/cmdline; echo; readlink /proc/1/exe');
    expect(r.code, r.stderr).toBe(0);
    const [cmdline, exe] = r.stdout.split('\n');
    expect(cmdline).toMatch(/^sh -c tr /);
    expect(exe).toBe('/bin/busybox');
  });
});

describe('/proc and /sys', () => {
  test('masked paths are empty', async () => {
    // Docker masks these when they exist (runc skips the missing ones).
    const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/latency_stats'].filter((p) =>
      fs.existsSync(p),
    );
    const r = await inBusybox(
      `for f in ${masked.join(' ')}; do printf "%s %s\\n" $f $(cat $f 2>/dev/null | wc -c); done; ls -A /sys/firmware 2>/dev/null | wc -l`,
    );
    expect(r.code, r.stderr).toBe(0);
    const ls = r.stdout.split('\n').filter(Boolean);
    expect(ls.slice(0, -1)).toEqual(masked.map((p) => `${p} 0`));
    expect(ls[ls.length - 1]).toBe('0');
  });

  test('/proc/sys, /proc/sysrq-trigger and friends are read-only', async () => {
    const r = await run([BUSYBOX, 'cat', '/proc/self/mountinfo']);
    expect(r.code, r.stderr).toBe(0);
    for (const p of ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus', '/proc/fs']) {
      const m = mountLine(r.stdout, p);
      // The container's procfs shows what the host kernel has: kernels built without
      // CONFIG_MAGIC_SYSRQ have no /proc/sysrq-trigger, and a missing path is not mounted.
      if (!fs.existsSync(p)) {
        expect(m, `${p} is absent from this kernel, yet mounted`).toBeUndefined();
        continue;
      }
      expect(m, `${p} is a mount`).toBeDefined();
      expect(m!.opts, p).toContain('ro');
    }
    const w = await inBusybox('echo x > /proc/sys/kernel/domainname 2>/dev/null && echo wrote || echo refused');
    expect(w.stdout).toBe('refused\n');
  });

  test('/sys is read-only', async () => {
    const r = await inBusybox('touch /sys/skiff-test 2>/dev/null && echo wrote || echo refused; grep " /sys " /proc/self/mountinfo');
    expect(r.code, r.stderr).toBe(0);
    const [result, ...mounts] = r.stdout.split('\n').filter(Boolean);
    expect(result).toBe('refused');
    const m = mountLine(mounts.join('\n'), '/sys');
    expect(m).toBeDefined();
    expect(m!.opts).toContain('ro');
  });

  test('/proc is a fresh procfs for the container', async () => {
    const r = await inBusybox('grep " /proc " /proc/self/mountinfo');
    expect(mountLine(r.stdout, '/proc')?.fstype).toBe('proc');
  });
});

describe('/dev', () => {
  const DOCKER_DEV = ['console', 'core', 'fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'];

  test('the standard devices are there, and nothing else of the host', async () => {
    const r = await inBusybox('ls -A /dev');
    expect(r.code, r.stderr).toBe(0);
    const names = r.stdout.split('\n').filter(Boolean);
    for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts', 'shm', 'mqueue', 'fd', 'stdin', 'stdout', 'stderr']) {
      expect(names, d).toContain(d);
    }
    expect(names.filter((n) => !DOCKER_DEV.includes(n))).toEqual([]);
  });

  test('devices are character devices that work', async () => {
    const r = await inBusybox(
      'for d in null zero full random urandom tty; do [ -c /dev/$d ] || echo "not a char device: $d"; done; ' +
        'echo x > /dev/null && echo null-ok; head -c 8 /dev/zero | wc -c; head -c 16 /dev/urandom | wc -c; ' +
        'echo x > /dev/full 2>/dev/null || echo full-refused',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('null-ok\n8\n16\nfull-refused\n');
  });

  test('/dev/fd and the std links point into /proc/self/fd', async () => {
    // busybox readlink takes one file at a time
    const r = await inBusybox('for f in /dev/fd /dev/stdin /dev/stdout /dev/stderr; do readlink $f; done');
    expect(r.stdout).toBe('/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\n');
  });

  test('/dev/pts, /dev/shm and /dev/mqueue are their own mounts', async () => {
    const r = await run([BUSYBOX, 'cat', '/proc/self/mountinfo']);
    expect(mountLine(r.stdout, '/dev/pts')?.fstype).toBe('devpts');
    expect(mountLine(r.stdout, '/dev/shm')?.fstype).toBe('tmpfs');
    expect(mountLine(r.stdout, '/dev/mqueue')?.fstype).toBe('mqueue');
  });

  test('/dev/shm is writable', async () => {
    const r = await inBusybox('echo x > /dev/shm/f && cat /dev/shm/f');
    expect(r.stdout).toBe('x\n');
  });
});
