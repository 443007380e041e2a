import fs from 'node:fs';
import path from 'node:path';

/**
 * A container's own cgroup v2, where it has one: a cgroup named `skiff-<ID>` that holds its
 * init (under a subtree delegated to the user, as systemd gives each user). `stats` reads its
 * figures and `update` writes its limits there. skiff does not make such cgroups on cgroup v1
 * (only root may, and the v1 controllers would each need one), so there both say so instead.
 */

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Is the unified hierarchy (cgroup v2) mounted at /sys/fs/cgroup? */
export function isCgroupV2(): boolean {
  return fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'));
}

/** The directory of the container's own cgroup, when its init is in one; else undefined. */
export function ownCgroup(initPid: number, containerId: string): string | undefined {
  if (!isCgroupV2()) return undefined;
  let text: string;
  try { text = fs.readFileSync(`/proc/${initPid}/cgroup`, 'utf8'); } catch { return undefined; }
  const rel = /^0::(\/.*)$/m.exec(text)?.[1];
  if (!rel || path.basename(rel) !== `skiff-${containerId}`) return undefined;
  return path.join(CGROUP_ROOT, rel);
}

function read(dir: string, file: string): string | undefined {
  try { return fs.readFileSync(path.join(dir, file), 'utf8'); } catch { return undefined; }
}

function keyed(text: string | undefined, key: string): number | undefined {
  const m = text && new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The figures Docker shows for a cgroup v2 container: CPU time (cpu.stat usage_usec), memory
 * in use without the inactive page cache (memory.current - inactive_file, as docker-cli), the
 * limit (memory.max; undefined for "max"), tasks (pids.current).
 */
export function cgroupFigures(dir: string): { cpuNs?: number; memory?: number; memLimit?: number; pids?: number } {
  const usec = keyed(read(dir, 'cpu.stat'), 'usage_usec');
  const current = Number(read(dir, 'memory.current') ?? NaN);
  const inactive = keyed(read(dir, 'memory.stat'), 'inactive_file') ?? 0;
  const max = read(dir, 'memory.max')?.trim();
  const pids = Number(read(dir, 'pids.current') ?? NaN);
  return {
    cpuNs: usec === undefined ? undefined : usec * 1000,
    memory: Number.isFinite(current) ? Math.max(0, current - inactive) : undefined,
    memLimit: max && max !== 'max' ? Number(max) : undefined,
    pids: Number.isFinite(pids) ? pids : undefined,
  };
}

/** One limit to write: the cgroup v2 file and its value. */
export interface CgroupWrite { file: string; value: string }

/** Write limits into the container's cgroup; the first refusal is thrown with the file it was for. */
export function writeLimits(dir: string, writes: readonly CgroupWrite[]): void {
  for (const w of writes) {
    try {
      fs.writeFileSync(path.join(dir, w.file), w.value);
    } catch (e) {
      throw new Error(`cannot write ${w.value} to ${path.join(dir, w.file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}
