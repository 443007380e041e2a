import fs from 'node:fs';
import { DEFAULT_CAPABILITIES } from './capabilities';
import { privilegedDeviceMounts } from './privileged-devices';
import type { RunFlags } from './run-flags';
import type { SeccompChoice } from './seccomp/program';

/**
 * OCI runtime spec (config.json) generation: the contract between engine/ and runtime/.
 * Docker's defaults: mounts, capabilities, masked and read-only paths.
 */

export interface OciMount { destination: string; type: string; source: string; options?: string[] }

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    noNewPrivileges?: boolean;
    /** --ulimit; -1 = unlimited */
    rlimits?: { type: string; hard: number; soft: number }[];
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    /** with a path: join that namespace (--ipc/--pid container:NAME) instead of a new one */
    namespaces: { type: string; path?: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    /** Docker's default profile or a custom one (compiled by runtime/seccomp); absent = unconfined */
    seccomp?: Exclude<SeccompChoice, { kind: 'unconfined' }>;
  };
}

export { DEFAULT_CAPABILITIES } from './capabilities';

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi',
  '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The host devices every container gets (bind-mounted: rootless cannot mknod). */
export const DEFAULT_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];

/** The container's network namespace: its own ('private'), or the host's. Which network it gets
 * in its own is the engine's business (src/network/); joining another's is joinPids.net. */
export type NetworkNamespace = 'private' | 'host';

export interface SpecInput {
  rootfs: string;
  hostname: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  tty: boolean;
  network: NetworkNamespace;
  rootless: boolean;
  /** gid 5 (tty) exists in the user namespace, so devpts may use gid=5 */
  ttyGroupMapped: boolean;
  /** files bind-mounted over /etc/hostname, /etc/hosts, /etc/resolv.conf */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  /** --cap-add/--cap-drop/--privileged/--security-opt; absent = Docker's defaults */
  security?: SecurityInput;
  /** namespace modes, --ulimit, --oom-score-adj, --device, --tmpfs (run-flags.ts); absent = defaults */
  run?: RunFlags;
  /** host PIDs of the running containers whose IPC / PID namespace this one joins (container:NAME) */
  joinPids?: { ipc?: number; pid?: number; net?: number };
  /** -v, --mount, --volumes-from and image VOLUMEs as mounts, parents first (engine/volume-mounts.ts) */
  userMounts?: OciMount[];
  /** --read-only */
  readonlyRootfs?: boolean;
}

export interface SecurityInput {
  caps: string[];
  privileged: boolean;
  noNewPrivileges: boolean;
  seccomp: SeccompChoice;
  /** --security-opt systempaths=unconfined: no masked or read-only /proc and /sys paths */
  unmaskSystemPaths: boolean;
}

const DEFAULT_SECURITY: SecurityInput = {
  caps: [...DEFAULT_CAPABILITIES], privileged: false, noNewPrivileges: false, seccomp: { kind: 'default' }, unmaskSystemPaths: false,
};

export function buildOciSpec(s: SpecInput): OciSpec {
  // Everything the container can write is nodev (devpts excepted: its pty nodes must open),
  // so a rootful container's root cannot mknod a node for a host disk and open it; the
  // bound host devices are mounts of their own and keep the host's flags.
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(s.ttyGroupMapped ? ['gid=5'] : [])] },
    // A user namespace may mount sysfs only together with its own network namespace.
    s.rootless && s.network === 'host'
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    ...DEFAULT_DEVICES.map((d) => ({ destination: d, type: 'bind', source: d, options: ['bind', 'nosuid'] })),
    { destination: '/etc/hostname', type: 'bind', source: s.etcFiles.hostname, options: ['rbind', 'rprivate', 'nodev'] },
    { destination: '/etc/hosts', type: 'bind', source: s.etcFiles.hosts, options: ['rbind', 'rprivate', 'nodev'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: s.etcFiles.resolvConf, options: ['rbind', 'rprivate', 'nodev'] },
  ];
  const sec = s.security ?? DEFAULT_SECURITY;
  if (sec.privileged) {
    // Docker's privileged containers get a writable /sys and the host's devices.
    for (const m of mounts) if (m.destination === '/sys') m.options = m.options?.filter((o) => o !== 'ro');
    mounts.push(...privilegedDeviceMounts(new Set(mounts.map((m) => m.destination))));
  }
  const run = s.run ?? {};
  applyNamespaceMounts(mounts, s);
  for (const d of run.devices ?? []) mounts.push({ destination: d.destination, type: 'bind', source: d.source, options: ['bind', 'nosuid'] });
  addUserMounts(mounts, [
    ...(run.tmpfs ?? []).map((t) => ({ destination: t.destination, type: 'tmpfs', source: 'tmpfs', options: t.options })),
    ...(s.userMounts ?? []),
  ]);
  const unmasked = sec.privileged || sec.unmaskSystemPaths;
  const namespaces = namespaceList(s);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: s.tty,
      // Docker lists the primary GID first among the supplementary groups (CVE-2022-36109 fix).
      user: { uid: s.user.uid, gid: s.user.gid, additionalGids: [...new Set([s.user.gid, ...s.user.additionalGids])] },
      args: s.args,
      env: s.env,
      cwd: s.cwd,
      capabilities: { bounding: sec.caps, effective: sec.caps, permitted: sec.caps },
      ...(sec.noNewPrivileges ? { noNewPrivileges: true } : {}),
      ...(run.ulimits ? { rlimits: run.ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, hard: u.hard, soft: u.soft })) } : {}),
      ...(run.oomScoreAdj !== undefined ? { oomScoreAdj: run.oomScoreAdj } : {}),
    },
    root: { path: s.rootfs, readonly: !!s.readonlyRootfs },
    // The host's UTS namespace keeps the host's name (and a user namespace may not change it).
    hostname: run.uts === 'host' ? '' : s.hostname,
    mounts,
    linux: {
      namespaces,
      maskedPaths: unmasked ? [] : DEFAULT_MASKED_PATHS,
      readonlyPaths: unmasked ? [] : DEFAULT_READONLY_PATHS,
      ...(sec.seccomp.kind === 'unconfined' ? {} : { seccomp: sec.seccomp }),
    },
  };
}

/**
 * The user's mounts (--tmpfs, -v, --mount) after the defaults, parents before what lies inside
 * them (Docker's order by path depth); one on a default's path (/dev/shm, /etc/hosts) takes its
 * place, as in Docker.
 */
function addUserMounts(mounts: OciMount[], user: OciMount[]): void {
  const depth = (m: OciMount) => m.destination.split('/').length;
  const mine = new Set(user.map((m) => m.destination));
  for (let i = mounts.length - 1; i >= 0; i--) if (mine.has(mounts[i].destination)) mounts.splice(i, 1);
  mounts.push(...[...user].sort((a, b) => depth(a) - depth(b)));
}

/** The namespaces to create, or join (with a path); a `host` mode leaves one out. */
function namespaceList(s: SpecInput): { type: string; path?: string }[] {
  const run = s.run ?? {};
  const list: { type: string; path?: string }[] = [];
  if (s.joinPids?.pid) list.push({ type: 'pid', path: `/proc/${s.joinPids.pid}/ns/pid` });
  else if (run.pid !== 'host') list.push({ type: 'pid' });
  if (s.joinPids?.ipc) list.push({ type: 'ipc', path: `/proc/${s.joinPids.ipc}/ns/ipc` });
  else if (run.ipc !== 'host') list.push({ type: 'ipc' });
  if (run.uts !== 'host') list.push({ type: 'uts' });
  list.push({ type: 'mount' });
  if (run.cgroupns !== 'host') list.push({ type: 'cgroup' });
  if (s.joinPids?.net) list.push({ type: 'network', path: `/proc/${s.joinPids.net}/ns/net` });
  else if (s.network !== 'host') list.push({ type: 'network' });
  return list;
}

/**
 * What the namespace modes change in the default mounts. In the host's PID or IPC namespace a
 * rootless container may not mount a new proc or mqueue (their namespaces belong to the host's
 * user namespace), so it gets the host's, bound, as with Podman; Docker's `--ipc host` shares
 * the host's /dev/shm, and `none` has none. A joined IPC namespace (container:NAME) shares
 * System V IPC and message queues but not the donor's /dev/shm: that is a tmpfs mount in the
 * donor's mount namespace, which the kernel does not let another namespace bind (Docker keeps
 * a shareable container's /dev/shm on the host instead, which a rootless engine cannot mount).
 */
function applyNamespaceMounts(mounts: OciMount[], s: SpecInput): void {
  const run = s.run ?? {};
  const replace = (destination: string, m: OciMount | undefined) => {
    const i = mounts.findIndex((x) => x.destination === destination);
    if (i < 0) return;
    if (m) mounts[i] = m;
    else mounts.splice(i, 1);
  };
  const bind = (destination: string, source: string): OciMount =>
    ({ destination, type: 'bind', source, options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  if (run.pid === 'host' && s.rootless) replace('/proc', bind('/proc', '/proc'));
  if (run.ipc === 'host') {
    // (a host without a mounted /dev/mqueue has none to share: the container gets none either)
    if (s.rootless) replace('/dev/mqueue', fs.existsSync('/dev/mqueue') ? bind('/dev/mqueue', '/dev/mqueue') : undefined);
    replace('/dev/shm', bind('/dev/shm', '/dev/shm'));
  } else if (run.ipc === 'none') {
    replace('/dev/shm', undefined);
  }
}
