import fs from 'node:fs';

/**
 * Resource figures of processes read from /proc, for `stats` where a container has no cgroup of
 * its own (cgroup v1, rootless or not: skiff makes no cgroups at start). Each reader returns
 * undefined for what it cannot read (a process of another user, one that exited meanwhile), so
 * the caller can print Docker's "--" rather than a made-up zero.
 */

/** USER_HZ: the unit of /proc/PID/stat's times, 100 on every Linux architecture skiff builds for. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcessFigures {
  /** user + system CPU time, in nanoseconds */
  cpuNs: number;
  /** threads (Docker's PIDS column counts tasks, as pids.current does) */
  threads: number;
  /** proportional set size (shared pages split between their users); RSS where smaps_rollup is unreadable */
  memory?: number;
  /** bytes this process made the storage layer read and write (/proc/PID/io) */
  io?: { read: number; write: number };
}

function readText(file: string): string | undefined {
  try { return fs.readFileSync(file, 'utf8'); } catch { return undefined; }
}

/** The kB value of `Key:   N kB` in a /proc status-style file. */
function kbField(text: string | undefined, key: string): number | undefined {
  const m = text && new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** One process's figures; undefined when it is gone or not ours to read. */
export function processFigures(pid: number): ProcessFigures | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // the command name may hold spaces and parentheses: fields are counted after its last ')'
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): utime is field 14, stime 15, num_threads 20
  const ticks = Number(f[11]) + Number(f[12]);
  const memory = kbField(readText(`/proc/${pid}/smaps_rollup`), 'Pss') ?? kbField(readText(`/proc/${pid}/status`), 'VmRSS');
  const ioText = readText(`/proc/${pid}/io`);
  const io = ioText ? {
    read: Number(/^read_bytes: (\d+)/m.exec(ioText)?.[1] ?? 0),
    write: Number(/^write_bytes: (\d+)/m.exec(ioText)?.[1] ?? 0),
  } : undefined;
  return { cpuNs: (ticks * 1e9) / CLOCK_TICKS_PER_SECOND, threads: Number(f[17]), memory, io };
}

/** Bytes received and sent on the interfaces of PID's network namespace, loopback left out (as Docker). */
export function networkTotals(pid: number): { rx: number; tx: number } | undefined {
  const text = readText(`/proc/${pid}/net/dev`);
  if (!text) return undefined;
  let rx = 0, tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const n = m[2].trim().split(/\s+/).map(Number);
    rx += n[0];
    tx += n[8];
  }
  return { rx, tx };
}

/** The host's memory, Docker's limit for a container without one. */
export function hostMemory(): number {
  return kbField(readText('/proc/meminfo'), 'MemTotal') ?? 0;
}
