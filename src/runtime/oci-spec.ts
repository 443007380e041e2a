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
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    /** the runtime's default profile (skiff-helper's seccomp.c); absent = unconfined */
    seccomp?: { defaultAction: string; profile: 'default' };
  };
}

/** Docker's default capability set (moby/oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

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
}

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
      capabilities: { bounding: DEFAULT_CAPABILITIES, effective: DEFAULT_CAPABILITIES, permitted: DEFAULT_CAPABILITIES },
    },
    root: { path: s.rootfs, readonly: false },
    hostname: s.hostname,
    mounts,
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      maskedPaths: DEFAULT_MASKED_PATHS,
      readonlyPaths: DEFAULT_READONLY_PATHS,
      seccomp: { defaultAction: 'SCMP_ACT_ALLOW', profile: 'default' },
    },
  };
}
