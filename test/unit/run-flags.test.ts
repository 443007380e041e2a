import { describe, expect, it } from 'vitest';
import { encodeMonitorSpec } from '../../src/runtime/monitor-spec';
import { buildOciSpec, type SpecInput } from '../../src/runtime/oci-spec';
import { parseDevice, parseRestartPolicy, parseRunFlags, parseTmpfs, parseUlimit, resolveGroupAdd } from '../../src/runtime/run-flags';

describe('parseRestartPolicy (docker/cli + moby rules)', () => {
  it('reads the four policies and on-failure\'s count', () => {
    expect(parseRestartPolicy(undefined)).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(parseRestartPolicy('no')).toEqual({ name: 'no', maximumRetryCount: 0 });
    expect(parseRestartPolicy('always')).toEqual({ name: 'always', maximumRetryCount: 0 });
    expect(parseRestartPolicy('unless-stopped')).toEqual({ name: 'unless-stopped', maximumRetryCount: 0 });
    expect(parseRestartPolicy('on-failure')).toEqual({ name: 'on-failure', maximumRetryCount: 0 });
    expect(parseRestartPolicy('on-failure:5')).toEqual({ name: 'on-failure', maximumRetryCount: 5 });
  });

  it('refuses what Docker refuses', () => {
    expect(() => parseRestartPolicy('on-failure:-1')).toThrow('maximum retry count cannot be negative');
    expect(() => parseRestartPolicy('always:2')).toThrow("maximum retry count can only be used with 'on-failure'");
    expect(() => parseRestartPolicy('never')).toThrow("unknown policy 'never'");
    expect(() => parseRestartPolicy('on-failure:1.5')).toThrow('maximum retry count must be an integer');
  });
});

describe('parseUlimit (go-units)', () => {
  it('soft[:hard], hard defaulting to soft, -1 unlimited', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
    expect(parseUlimit('nproc=10')).toEqual({ name: 'nproc', soft: 10, hard: 10 });
    expect(parseUlimit('core=-1')).toEqual({ name: 'core', soft: -1, hard: -1 });
    expect(parseUlimit('core=0:-1')).toEqual({ name: 'core', soft: 0, hard: -1 });
  });
  it('refuses an unlimited soft limit under a finite hard one', () => {
    expect(() => parseUlimit('core=-1:5')).toThrow('soft limit must be less than or equal to hard limit: -1 > 5');
  });
});

describe('parseDevice (docker/cli)', () => {
  it('SRC, SRC:DST, SRC:PERMS, SRC:DST:PERMS', () => {
    expect(parseDevice('/dev/fuse')).toEqual({ source: '/dev/fuse', destination: '/dev/fuse', permissions: 'rwm' });
    expect(parseDevice('/dev/fuse:/dev/f')).toEqual({ source: '/dev/fuse', destination: '/dev/f', permissions: 'rwm' });
    expect(parseDevice('/dev/fuse:r')).toEqual({ source: '/dev/fuse', destination: '/dev/fuse', permissions: 'r' });
    expect(parseDevice('/dev/fuse:/dev/f:rw')).toEqual({ source: '/dev/fuse', destination: '/dev/f', permissions: 'rw' });
  });
  it('refuses a bad mode, a relative destination, too many parts', () => {
    expect(() => parseDevice('/dev/fuse:/dev/f:rr')).toThrow('invalid device mode: rr');
    expect(() => parseDevice('/dev/fuse:f')).toThrow('bad format for path: f');
    expect(() => parseDevice('/a:/b:r:x')).toThrow('invalid device specification: /a:/b:r:x');
  });
});

describe('parseTmpfs', () => {
  it('Docker\'s defaults, each overridden by its opposite; data options kept', () => {
    expect(parseTmpfs('/t')).toEqual({ destination: '/t', options: ['noexec', 'nosuid', 'nodev'] });
    expect(parseTmpfs('/t:exec,size=1m,ro,size=2m')).toEqual({ destination: '/t', options: ['nosuid', 'nodev', 'ro', 'size=2m'] });
  });
  it('refuses unknown options and relative paths', () => {
    expect(() => parseTmpfs('/t:bogus')).toThrow('invalid tmpfs option ["bogus"] for /t');
    expect(() => parseTmpfs('t')).toThrow('mount path must be absolute');
  });
});

describe('parseRunFlags', () => {
  it('--restart with --rm and --uts host with a hostname conflict', () => {
    expect(() => parseRunFlags({ restart: 'always' }, { autoRemove: true })).toThrow('Conflicting options: --restart and --rm');
    expect(() => parseRunFlags({ uts: 'host' }, { hostname: 'h', autoRemove: false })).toThrow('conflicting options: hostname and the UTS mode');
  });
  it('a later --ulimit for the same limit replaces the earlier one', () => {
    expect(parseRunFlags({ ulimit: ['nofile=1:2', 'nofile=3:4'] }, { autoRemove: false }).run.ulimits).toEqual([{ name: 'nofile', soft: 3, hard: 4 }]);
  });
  it('--group-add resolves names in the image\'s group file', () => {
    expect(resolveGroupAdd(['7', 'audio'], 'audio:x:29:\n')).toEqual([7, 29]);
    expect(() => resolveGroupAdd(['video'], 'audio:x:29:\n')).toThrow('unable to find group video');
  });
});

function specInput(over: Partial<SpecInput> = {}): SpecInput {
  return {
    rootfs: '/r', hostname: 'h', args: ['sh'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] },
    tty: false, network: 'private', rootless: true, ttyGroupMapped: true,
    etcFiles: { hostname: '/nonexistent/h', hosts: '/nonexistent/hs', resolvConf: '/nonexistent/r' }, ...over,
  };
}

function records(buf: Buffer): string[][] {
  const parts = buf.toString().slice(0, -1).split('\0');
  const out: string[][] = [];
  for (let i = 0; i < parts.length;) {
    const n = Number(parts[i + 1]);
    out.push([parts[i], ...parts.slice(i + 2, i + 2 + n)]);
    i += 2 + n;
  }
  return out;
}

describe('the run flags in the OCI and monitor specs', () => {
  const rootfsMount = { type: 'bind' as const, source: '/s', data: '' };

  it('host modes leave namespaces out, container modes join by path, and uts host sends no hostname', () => {
    const spec = buildOciSpec(specInput({ run: { uts: 'host', pid: 'container:abc', ipc: 'host', cgroupns: 'host' }, joinPids: { pid: 42 } }));
    expect(spec.linux.namespaces).toEqual([{ type: 'pid', path: '/proc/42/ns/pid' }, { type: 'mount' }, { type: 'network' }]);
    const r = records(encodeMonitorSpec(spec, { rootfsMount, keepStdin: false }));
    expect(r.filter((x) => x[0] === 'ns')).toEqual([['ns', 'net']]);
    expect(r.filter((x) => x[0] === 'join-ns')).toEqual([['join-ns', 'pid', '/proc/42/ns/pid']]);
    expect(r.find((x) => x[0] === 'hostname')).toBeUndefined();
  });

  it('rootless --pid host binds the host\'s /proc; --ipc none has no /dev/shm', () => {
    const spec = buildOciSpec(specInput({ run: { pid: 'host', ipc: 'none' } }));
    expect(spec.mounts.find((m) => m.destination === '/proc')).toMatchObject({ type: 'bind', source: '/proc' });
    expect(spec.mounts.find((m) => m.destination === '/dev/shm')).toBeUndefined();
  });

  it('rlimits, OOM score, init and restart records', () => {
    const spec = buildOciSpec(specInput({ run: { ulimits: [{ name: 'nofile', soft: 10, hard: -1 }], oomScoreAdj: -5 } }));
    const r = records(encodeMonitorSpec(spec, {
      rootfsMount, keepStdin: false, init: true, restart: { name: 'on-failure', maximumRetryCount: 3 }, stopFile: '/c/stop', restartFile: '/c/restart',
    }));
    expect(r).toContainEqual(['rlimit', 'nofile', '10', 'unlimited']);
    expect(r).toContainEqual(['oom-score-adj', '-5']);
    expect(r).toContainEqual(['init', '1']);
    expect(r).toContainEqual(['restart', 'on-failure', '3']);
    expect(r).toContainEqual(['stop-file', '/c/stop']);
    expect(r).toContainEqual(['restart-file', '/c/restart']);
    const none = records(encodeMonitorSpec(spec, { rootfsMount, keepStdin: false, restart: { name: 'no', maximumRetryCount: 0 } }));
    expect(none.find((x) => x[0] === 'restart' || x[0] === 'init')).toBeUndefined();
  });
});
