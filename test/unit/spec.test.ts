import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { capabilityNumber, encodeMonitorSpec, mountFlags, type MonitorOptions } from '../../src/runtime/monitor-spec';
import { SkiffError } from '../../src/util/errors';
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  buildOciSpec,
  type OciSpec,
  type SpecInput,
} from '../../src/runtime/oci-spec';

// linux/mount.h
const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_NOATIME = 1024, MS_NODIRATIME = 2048;
const MS_BIND = 4096, MS_REC = 16384, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-spec-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const etc = {
  hostname: path.join(tmp, 'hostname'),
  hosts: path.join(tmp, 'hosts'),
  resolvConf: path.join(tmp, 'resolv.conf'),
};
for (const f of Object.values(etc)) fs.writeFileSync(f, 'x\n');

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: '/data/containers/c1/rootfs',
    hostname: 'c1host',
    args: ['sh', '-c', 'echo hi'],
    env: ['PATH=/bin', 'HOSTNAME=c1host'],
    cwd: '/work',
    user: { uid: 1000, gid: 1000, additionalGids: [] },
    tty: false,
    network: 'private',
    rootless: true,
    ttyGroupMapped: true,
    etcFiles: etc,
    ...over,
  };
}

describe('mountFlags', () => {
  it('no options -> 0 and no data', () => {
    expect(mountFlags()).toEqual({ flags: 0, data: '' });
    expect(mountFlags([])).toEqual({ flags: 0, data: '' });
  });

  it('maps each flag option to its MS_* bit', () => {
    expect(mountFlags(['ro']).flags).toBe(MS_RDONLY);
    expect(mountFlags(['nosuid']).flags).toBe(MS_NOSUID);
    expect(mountFlags(['nodev']).flags).toBe(MS_NODEV);
    expect(mountFlags(['noexec']).flags).toBe(MS_NOEXEC);
    expect(mountFlags(['noatime']).flags).toBe(MS_NOATIME);
    expect(mountFlags(['nodiratime']).flags).toBe(MS_NODIRATIME);
    expect(mountFlags(['relatime']).flags).toBe(MS_RELATIME);
    expect(mountFlags(['strictatime']).flags).toBe(MS_STRICTATIME);
    expect(mountFlags(['bind']).flags).toBe(MS_BIND);
    expect(mountFlags(['rbind']).flags).toBe(MS_BIND | MS_REC);
  });

  it('rw, private and rprivate set no bits and are not passed as data', () => {
    expect(mountFlags(['rw', 'private', 'rprivate'])).toEqual({ flags: 0, data: '' });
  });

  it('combines flags and passes the rest as comma-separated data, in order', () => {
    expect(mountFlags(['nosuid', 'strictatime', 'mode=755', 'size=65536k']))
      .toEqual({ flags: MS_NOSUID | MS_STRICTATIME, data: 'mode=755,size=65536k' });
    expect(mountFlags(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']))
      .toEqual({ flags: 10, data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' });
    expect(mountFlags(['rbind', 'nosuid', 'noexec', 'nodev', 'ro'])).toEqual({ flags: 20495, data: '' });
  });
});

describe('capabilityNumber', () => {
  it('maps names to linux/capability.h numbers', () => {
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('CAP_KILL')).toBe(5);
    expect(capabilityNumber('CAP_NET_BIND_SERVICE')).toBe(10);
    expect(capabilityNumber('CAP_NET_RAW')).toBe(13);
    expect(capabilityNumber('CAP_SYS_CHROOT')).toBe(18);
    expect(capabilityNumber('CAP_SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('CAP_MKNOD')).toBe(27);
    expect(capabilityNumber('CAP_AUDIT_WRITE')).toBe(29);
    expect(capabilityNumber('CAP_SETFCAP')).toBe(31);
    expect(capabilityNumber('CAP_MAC_OVERRIDE')).toBe(32);
    expect(capabilityNumber('CAP_AUDIT_READ')).toBe(37);
    expect(capabilityNumber('CAP_PERFMON')).toBe(38);
    expect(capabilityNumber('CAP_BPF')).toBe(39);
    expect(capabilityNumber('CAP_CHECKPOINT_RESTORE')).toBe(40);
  });

  it('rejects unknown names (and names without the CAP_ prefix)', () => {
    expect(() => capabilityNumber('CAP_NOPE')).toThrow('unknown capability CAP_NOPE');
    expect(() => capabilityNumber('CHOWN')).toThrow('unknown capability CHOWN');
  });
});

describe('buildOciSpec', () => {
  const capMask = (names: string[]) => names.reduce((m, n) => m | (1n << BigInt(capabilityNumber(n))), 0n);

  it('Docker\'s default capability set is mask 0xa80425fb (CapBnd of a docker container)', () => {
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
    expect(capMask(DEFAULT_CAPABILITIES)).toBe(0xa80425fbn);
    const s = buildOciSpec(input());
    expect(capMask(s.process.capabilities.bounding)).toBe(0xa80425fbn);
    expect(capMask(s.process.capabilities.effective)).toBe(0xa80425fbn);
    expect(capMask(s.process.capabilities.permitted)).toBe(0xa80425fbn);
  });

  it('masks and read-only paths are Docker\'s defaults', () => {
    const s = buildOciSpec(input());
    expect(s.linux.maskedPaths).toEqual([
      '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
      '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi',
      '/sys/firmware', '/sys/devices/virtual/powercap',
    ]);
    expect(s.linux.readonlyPaths).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  });

  it('process, root and hostname come from the input', () => {
    const s = buildOciSpec(input({ tty: true }));
    expect(s.ociVersion).toBe('1.0.2');
    expect(s.process.terminal).toBe(true);
    expect(s.process.args).toEqual(['sh', '-c', 'echo hi']);
    expect(s.process.env).toEqual(['PATH=/bin', 'HOSTNAME=c1host']);
    expect(s.process.cwd).toBe('/work');
    expect(s.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000] });
    expect(s.root).toEqual({ path: '/data/containers/c1/rootfs', readonly: false });
    expect(s.hostname).toBe('c1host');
  });

  it('additionalGids start with the primary GID, as Docker', () => {
    expect(buildOciSpec(input()).process.user.additionalGids).toEqual([1000]);
    expect(buildOciSpec(input({ user: { uid: 5, gid: 6, additionalGids: [7, 6, 8] } })).process.user)
      .toEqual({ uid: 5, gid: 6, additionalGids: [6, 7, 8] });
  });

  it('mounts in Docker\'s order, with the devices and the /etc files bound', () => {
    const s = buildOciSpec(input());
    expect(s.mounts.map((m) => m.destination)).toEqual([
      '/proc', '/dev', '/dev/pts', '/sys', '/dev/mqueue', '/dev/shm',
      '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty',
      '/etc/hostname', '/etc/hosts', '/etc/resolv.conf',
    ]);
    expect(s.mounts[0]).toEqual({ destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
    expect(s.mounts[1]).toEqual({ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'strictatime', 'mode=755', 'size=65536k'] });
    expect(s.mounts[4]).toEqual({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] });
    expect(s.mounts[5]).toEqual({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] });
    for (const d of DEFAULT_DEVICES) {
      expect(s.mounts.find((m) => m.destination === d)).toEqual({ destination: d, type: 'bind', source: d, options: ['bind', 'nosuid'] });
    }
    expect(s.mounts.slice(-3)).toEqual([
      { destination: '/etc/hostname', type: 'bind', source: etc.hostname, options: ['rbind', 'rprivate', 'nodev'] },
      { destination: '/etc/hosts', type: 'bind', source: etc.hosts, options: ['rbind', 'rprivate', 'nodev'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: etc.resolvConf, options: ['rbind', 'rprivate', 'nodev'] },
    ]);
  });

  it('devpts gets gid=5 only when GID 5 is mapped', () => {
    const pts = (s: OciSpec) => s.mounts.find((m) => m.destination === '/dev/pts');
    expect(pts(buildOciSpec(input({ ttyGroupMapped: true })))).toEqual({
      destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    });
    expect(pts(buildOciSpec(input({ ttyGroupMapped: false })))?.options)
      .toEqual(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']);
  });

  it('network private: all namespaces including network', () => {
    expect(buildOciSpec(input({ network: 'private' })).linux.namespaces)
      .toEqual([{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }, { type: 'network' }]);
  });

  it('network host: no network namespace', () => {
    for (const rootless of [true, false]) {
      expect(buildOciSpec(input({ network: 'host', rootless })).linux.namespaces)
        .toEqual([{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }]);
    }
  });

  it('/sys is a read-only sysfs except rootless with the host network, where it is an rbind', () => {
    const sys = (over: Partial<SpecInput>) => buildOciSpec(input(over)).mounts.find((m) => m.destination === '/sys');
    const sysfs = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
    expect(sys({ rootless: true, network: 'private' })).toEqual(sysfs);
    expect(sys({ rootless: false, network: 'private' })).toEqual(sysfs);
    expect(sys({ rootless: false, network: 'host' })).toEqual(sysfs);
    expect(sys({ rootless: true, network: 'host' }))
      .toEqual({ destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  });

  it('exports the same arrays it puts in the spec', () => {
    const s = buildOciSpec(input());
    expect(s.linux.maskedPaths).toEqual(DEFAULT_MASKED_PATHS);
    expect(s.linux.readonlyPaths).toEqual(DEFAULT_READONLY_PATHS);
  });
});

/** Decode the monitor's flat record format (native/PROTOCOL.md): KEY \0 N \0 F1 \0 ... FN \0. */
function decode(buf: Buffer): [string, ...string[]][] {
  const text = buf.toString();
  expect(text.endsWith('\0')).toBe(true);
  const parts = text.slice(0, -1).split('\0');
  const out: [string, ...string[]][] = [];
  let i = 0;
  while (i < parts.length) {
    const key = parts[i];
    const n = parts[i + 1];
    expect(n).toMatch(/^(0|[1-9][0-9]*)$/);
    const fields = parts.slice(i + 2, i + 2 + Number(n));
    expect(fields).toHaveLength(Number(n));
    out.push([key, ...fields]);
    i += 2 + Number(n);
  }
  return out;
}

describe('encodeMonitorSpec', () => {
  const rootfsMount: MonitorOptions['rootfsMount'] = { type: 'overlay', source: 'overlay', data: 'lowerdir=/l,upperdir=/u,workdir=/w' };

  it('a hand-made spec encodes every record, in protocol order', () => {
    const spec: OciSpec = {
      ociVersion: '1.0.2',
      process: {
        terminal: true,
        user: { uid: 1000, gid: 1001, additionalGids: [10, 2000] },
        args: ['sh', '-c', 'echo "a b"'],
        env: ['PATH=/bin', 'EMPTY='],
        cwd: '/home/app',
        capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: [], permitted: [] },
      },
      root: { path: '/r', readonly: false },
      hostname: 'hn',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
        { destination: '/etc/hosts', type: 'bind', source: etc.hosts, options: ['rbind', 'rprivate'] },
        { destination: '/data', type: 'bind', source: tmp, options: ['bind', 'ro'] },
        { destination: '/gone', type: 'bind', source: path.join(tmp, 'does-not-exist'), options: ['bind'] },
        { destination: '/t', type: 'tmpfs', source: 'tmpfs' },
      ],
      linux: {
        namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'pid' }, { type: 'user' }],
        maskedPaths: ['/proc/kcore'],
        readonlyPaths: ['/proc/sys', '/proc/bus'],
      },
    };
    const records = decode(encodeMonitorSpec(spec, {
      rootfsMount, keepStdin: true, readyFd: 3, pidFile: '/s/pid', exitFile: '/s/exit', cleanup: ['/c/one', '/c/two'],
      lockFile: '/s/lock',
    }));
    expect(records).toEqual([
      ['rootfs', '/r'],
      ['rootfs-mount', 'overlay', 'overlay', 'lowerdir=/l,upperdir=/u,workdir=/w'],
      ['ns', 'net'],
      ['ns', 'pid'],
      ['hostname', 'hn'],
      ['mount', 'proc', 'proc', '/proc', '14', '', 'dir'],
      ['mount', '', etc.hosts, '/etc/hosts', String(MS_BIND | MS_REC), '', 'file'],
      ['mount', '', tmp, '/data', String(MS_BIND | MS_RDONLY), '', 'dir'],
      ['mount', '', path.join(tmp, 'does-not-exist'), '/gone', String(MS_BIND), '', 'dir'],
      ['mount', 'tmpfs', 'tmpfs', '/t', '0', '', 'dir'],
      ['symlink', '/proc/self/fd', '/dev/fd'],
      ['symlink', '/proc/self/fd/0', '/dev/stdin'],
      ['symlink', '/proc/self/fd/1', '/dev/stdout'],
      ['symlink', '/proc/self/fd/2', '/dev/stderr'],
      ['symlink', 'pts/ptmx', '/dev/ptmx'],
      ['mask', '/proc/kcore'],
      ['ro', '/proc/sys'],
      ['ro', '/proc/bus'],
      ['cwd', '/home/app'],
      ['user', '1000', '1001'],
      ['groups', '10', '2000'],
      ['env', 'PATH=/bin'],
      ['env', 'EMPTY='],
      ['arg', 'sh'],
      ['arg', '-c'],
      ['arg', 'echo "a b"'],
      ['caps', '5', '0'],
      ['tty', '1'],
      ['stdin', '1'],
      ['ready-fd', '3'],
      ['pid-file', '/s/pid'],
      ['exit-file', '/s/exit'],
      ['cleanup', '/c/one'],
      ['cleanup', '/c/two'],
      ['lock-file', '/s/lock'],
    ]);
  });

  it('optional records are left out; tty and stdin are 0', () => {
    const spec = buildOciSpec(input({ user: { uid: 0, gid: 0, additionalGids: [] } }));
    const keys = decode(encodeMonitorSpec(spec, { rootfsMount, keepStdin: false })).map((r) => r[0]);
    for (const k of ['ready-fd', 'pid-file', 'exit-file', 'cleanup', 'lock-file']) expect(keys).not.toContain(k);
    const records = decode(encodeMonitorSpec(spec, { rootfsMount, keepStdin: false }));
    expect(records.find((r) => r[0] === 'tty')).toEqual(['tty', '0']);
    expect(records.find((r) => r[0] === 'stdin')).toEqual(['stdin', '0']);
    expect(records.find((r) => r[0] === 'user')).toEqual(['user', '0', '0']);
  });

  it('readyFd 0 is still encoded', () => {
    const spec = buildOciSpec(input());
    const records = decode(encodeMonitorSpec(spec, { rootfsMount, keepStdin: false, readyFd: 0 }));
    expect(records.find((r) => r[0] === 'ready-fd')).toEqual(['ready-fd', '0']);
  });

  it('a spec from buildOciSpec: keys in order, namespaces, mount fields, caps', () => {
    const spec = buildOciSpec(input({ user: { uid: 1000, gid: 1000, additionalGids: [2000] } }));
    const records = decode(encodeMonitorSpec(spec, { rootfsMount: { type: 'bind', source: '/src', data: '' }, keepStdin: false }));
    const keys = records.map((r) => r[0]);
    const collapsed = keys.filter((k, i) => k !== keys[i - 1]);
    expect(collapsed).toEqual([
      'rootfs', 'rootfs-mount', 'ns', 'hostname', 'mount', 'symlink', 'mask', 'ro', 'cwd', 'user', 'groups',
      'env', 'arg', 'caps', 'seccomp', 'tty', 'stdin',
    ]);
    expect(records[1]).toEqual(['rootfs-mount', 'bind', '/src', '']);
    expect(records.filter((r) => r[0] === 'ns').map((r) => r[1])).toEqual(['pid', 'ipc', 'uts', 'cgroup', 'net']);
    expect(records.filter((r) => r[0] === 'mount')).toHaveLength(15);
    const mount = (dst: string) => records.find((r) => r[0] === 'mount' && r[3] === dst);
    expect(mount('/proc')).toEqual(['mount', 'proc', 'proc', '/proc', String(MS_NOSUID | MS_NOEXEC | MS_NODEV), '', 'dir']);
    expect(mount('/dev')).toEqual(['mount', 'tmpfs', 'tmpfs', '/dev', String(MS_NOSUID | MS_NODEV | MS_STRICTATIME), 'mode=755,size=65536k', 'dir']);
    expect(mount('/dev/pts')).toEqual(['mount', 'devpts', 'devpts', '/dev/pts', String(MS_NOSUID | MS_NOEXEC),
      'newinstance,ptmxmode=0666,mode=0620,gid=5', 'dir']);
    expect(mount('/sys')).toEqual(['mount', 'sysfs', 'sysfs', '/sys', String(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY), '', 'dir']);
    expect(mount('/dev/null')).toEqual(['mount', '', '/dev/null', '/dev/null', String(MS_BIND | MS_NOSUID), '', 'file']);
    expect(mount('/etc/resolv.conf')).toEqual(['mount', '', etc.resolvConf, '/etc/resolv.conf', String(MS_BIND | MS_REC | MS_NODEV), '', 'file']);
    expect(records.filter((r) => r[0] === 'mask').map((r) => r[1])).toEqual(DEFAULT_MASKED_PATHS);
    expect(records.filter((r) => r[0] === 'ro').map((r) => r[1])).toEqual(DEFAULT_READONLY_PATHS);
    expect(records.filter((r) => r[0] === 'arg').map((r) => r[1])).toEqual(['sh', '-c', 'echo hi']);
    expect(records.filter((r) => r[0] === 'env').map((r) => r[1])).toEqual(['PATH=/bin', 'HOSTNAME=c1host']);
    expect(records.find((r) => r[0] === 'groups')).toEqual(['groups', '1000', '2000']);
    const caps = records.find((r) => r[0] === 'caps')!.slice(1).map(Number);
    expect(caps).toEqual(DEFAULT_CAPABILITIES.map(capabilityNumber));
    expect(caps.reduce((m, c) => m | (1n << BigInt(c)), 0n)).toBe(0xa80425fbn);
  });

  it('the host-network rootless /sys rbind is encoded as a bind of a directory', () => {
    const spec = buildOciSpec(input({ network: 'host', rootless: true }));
    const records = decode(encodeMonitorSpec(spec, { rootfsMount, keepStdin: false }));
    expect(records.filter((r) => r[0] === 'ns').map((r) => r[1])).toEqual(['pid', 'ipc', 'uts', 'cgroup']);
    expect(records.find((r) => r[0] === 'mount' && r[3] === '/sys'))
      .toEqual(['mount', '', '/sys', '/sys', String(MS_BIND | MS_REC | MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY), '', 'dir']);
  });

  // BUG (security): fields are written as NUL-terminated strings with no check for NUL inside
  // them, and the C parser (native/helper/monitor.c parse_spec) reads records sequentially. A
  // string from an untrusted image config (Cmd, Entrypoint, Env, WorkingDir: JSON allows
  // \u0000) therefore ends its field early and the rest is parsed as new records: here an
  // image Cmd argument injects `caps 21` (CAP_SYS_ADMIN) and a `mount` binding the host's / into
  // the container. Docker/runc refuse such strings (Go's exec: "invalid argument"); the
  // encoder should throw instead of emitting them.
  it('a NUL inside a field is refused (it would inject records)', () => {
    const evil = 'x\0caps\0' + '1\0' + '21\0mount\0' + '6\0\0/\0/host\0' + '4096\0\0dir';
    for (const over of [{ args: ['sh', evil] }, { env: ['A=1\0user\0' + '2\0' + '0\0' + '0'] }]) {
      const spec = buildOciSpec(input(over));
      expect(() => encodeMonitorSpec(spec, { rootfsMount, keepStdin: false })).toThrow(SkiffError);
      expect(() => encodeMonitorSpec(spec, { rootfsMount, keepStdin: false })).toThrow(/contains a NUL byte/);
    }
  });


  it('field text is passed verbatim (UTF-8, "=", spaces)', () => {
    const spec = buildOciSpec(input({ args: ['echo', 'héllo wörld', ''], env: ['A=b=c'] }));
    const records = decode(encodeMonitorSpec(spec, { rootfsMount, keepStdin: false }));
    expect(records.filter((r) => r[0] === 'arg')).toEqual([['arg', 'echo'], ['arg', 'héllo wörld'], ['arg', '']]);
    expect(records.filter((r) => r[0] === 'env')).toEqual([['env', 'A=b=c']]);
  });
});
