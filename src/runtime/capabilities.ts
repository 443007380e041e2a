import fs from 'node:fs';

/**
 * Linux capabilities by name (linux/capability.h), and Docker's rules for --cap-add/--cap-drop
 * (moby daemon/pkg/oci/caps): names with or without CAP_, any case, and ALL.
 */

const CAP_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4,
  CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35, CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

/** Docker's default capability set (moby daemon/pkg/oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export function capabilityNumber(name: string): number {
  const n = CAP_NUMBERS[name];
  if (n === undefined) throw new Error(`unknown capability ${name}`);
  return n;
}

/**
 * The capabilities this process may hand on: its bounding set (/proc/self/status CapBnd), which
 * leaves out what the kernel lacks and what the environment withholds (as Docker's caps list).
 */
function availableMask(): bigint {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return BigInt(`0x${m[1]}`);
  } catch { /* no /proc: assume every known capability */ }
  return (1n << 41n) - 1n;
}

const available = (name: string, mask: bigint) => ((mask >> BigInt(CAP_NUMBERS[name])) & 1n) === 1n;

/** Every capability available here: what --privileged and --cap-add ALL give. */
export function allCapabilities(): string[] {
  const mask = availableMask();
  return Object.keys(CAP_NUMBERS).filter((c) => available(c, mask));
}

/** "net_admin" -> "CAP_NET_ADMIN"; "all" -> "ALL"; an unknown name is an error, as in Docker. */
function normalize(names: readonly string[]): string[] {
  const mask = availableMask();
  return names.map((raw) => {
    const up = raw.toUpperCase();
    if (up === 'ALL') return up;
    const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
    if (!(name in CAP_NUMBERS)) throw new Error(`unknown capability: "${name}"`);
    if (!available(name, mask)) throw new Error(`capability not supported by your kernel or not available in the current environment: "${name}"`);
    return name;
  });
}

/**
 * The container's capability set, as Docker computes it: privileged gets all; `--cap-add ALL`
 * gets all but the dropped; `--cap-drop ALL` keeps only the added; otherwise the default set
 * minus the dropped, plus the added.
 */
export function resolveCapabilities(add: readonly string[], drop: readonly string[], privileged: boolean): string[] {
  if (privileged) return allCapabilities();
  if (add.length === 0 && drop.length === 0) return [...DEFAULT_CAPABILITIES];
  const dropped = normalize(drop);
  const added = normalize(add);
  let caps: string[];
  if (added.includes('ALL')) caps = allCapabilities().filter((c) => !dropped.includes(c));
  else if (dropped.includes('ALL')) caps = added;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !dropped.includes(c)), ...added];
  return [...new Set(caps)];
}
