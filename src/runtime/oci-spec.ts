import { DEFAULT_CAPABILITIES } from './capabilities';
import { privilegedDeviceMounts } from './privileged-devices';
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
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string }[];
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

export type NetworkMode = 'none' | 'host';

export interface SpecInput {
  rootfs: string;
  hostname: string;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  tty: boolean;
  network: NetworkMode;
  rootless: boolean;
  /** gid 5 (tty) exists in the user namespace, so devpts may use gid=5 */
  ttyGroupMapped: boolean;
  /** files bind-mounted over /etc/hostname, /etc/hosts, /etc/resolv.conf */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  /** --cap-add/--cap-drop/--privileged/--security-opt; absent = Docker's defaults */
  security?: SecurityInput;
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
  const unmasked = sec.privileged || sec.unmaskSystemPaths;
  const namespaces = ['pid', 'ipc', 'uts', 'mount', 'cgroup', ...(s.network === 'host' ? [] : ['network'])];
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
    },
    root: { path: s.rootfs, readonly: false },
    hostname: s.hostname,
    mounts,
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: unmasked ? [] : DEFAULT_MASKED_PATHS,
      readonlyPaths: unmasked ? [] : DEFAULT_READONLY_PATHS,
      ...(sec.seccomp.kind === 'unconfined' ? {} : { seccomp: sec.seccomp }),
    },
  };
}
