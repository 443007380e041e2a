import fs from 'node:fs';
import { cgroupFigures, ownCgroup } from '../runtime/cgroup-v2';
import { hostMemory, networkTotals, processFigures } from '../runtime/proc-stats';
import { processTree } from '../runtime/freezer';
import { binarySize, humanSize, shortId } from '../util/format';
import { goStruct } from '../util/go-template';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { containerPids } from './top';

/**
 * `stats`: docker stats' columns for each container. With no daemon and, on cgroup v1, no
 * cgroup per container, the figures come from /proc of the container's processes (CPU time,
 * proportional memory, storage I/O, threads) and of its network namespace; a container that
 * has its own cgroup v2 (a delegated one named skiff-ID) is read there instead, as Docker's
 * figures are. What cannot be read shows Docker's "--".
 */

export interface StatsSample {
  /** monotonic time of the sample, ns */
  at: number;
  cpuNs?: number;
  memory?: number;
  memLimit?: number;
  net?: { rx: number; tx: number };
  block?: { read: number; write: number };
  pids?: number;
}

/** The processes of a running container: its PID namespace, or (sharing the host's) the init's tree. */
function processesOf(initPid: number): number[] {
  try {
    const own = fs.statSync('/proc/self/ns/pid');
    const its = fs.statSync(`/proc/${initPid}/ns/pid`);
    if (own.ino !== its.ino || own.dev !== its.dev) return containerPids(initPid);
  } catch { /* gone: the tree below says so */ }
  return processTree(initPid).filter((p) => fs.existsSync(`/proc/${p}`));
}

function sum<T>(items: T[], pick: (t: T) => number | undefined): number | undefined {
  let total = 0;
  for (const t of items) {
    const v = pick(t);
    if (v === undefined) return undefined;
    total += v;
  }
  return total;
}

/** One reading of a container's figures; an empty sample (zeros) when it does not run. */
export function sampleContainer(c: ContainerRecord): StatsSample {
  const at = Number(process.hrtime.bigint());
  const pid = c.state.pid;
  if (!isLive(c) || !pid) return { at, cpuNs: 0, memory: 0, memLimit: 0, net: { rx: 0, tx: 0 }, block: { read: 0, write: 0 }, pids: 0 };
  const figures = processesOf(pid).map(processFigures).filter((f) => f !== undefined);
  const net = c.config.network === 'host' ? { rx: 0, tx: 0 } : networkTotals(pid);
  const reads = figures.length ? figures : undefined;
  const sample: StatsSample = {
    at, net,
    cpuNs: reads && sum(reads, (f) => f.cpuNs),
    memory: reads && sum(reads, (f) => f.memory),
    memLimit: hostMemory(),
    block: reads && figures.every((f) => f.io) ? { read: sum(reads, (f) => f.io!.read)!, write: sum(reads, (f) => f.io!.write)! } : undefined,
    pids: reads && sum(reads, (f) => f.threads),
  };
  const cg = ownCgroup(pid, c.id);
  if (cg) Object.assign(sample, definedOnly(cgroupFigures(cg)));
  return sample;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** docker-cli's stats columns (its {{json .}} keys, sorted) and their headers. */
export const STATS_DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
export const STATS_HEADERS = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

const percent = (v: number) => `${v.toFixed(2)}%`;

/**
 * The row of docker stats' formatter. CPU % is the CPU time used between the two samples over
 * the wall time between them (Docker's cpu delta / system delta × CPUs is the same ratio).
 */
export function statsRow(c: ContainerRecord, typed: string, prev: StatsSample | undefined, cur: StatsSample, noTrunc: boolean): object {
  const cpu = prev?.cpuNs !== undefined && cur.cpuNs !== undefined && cur.at > prev.at
    ? percent(Math.max(0, cur.cpuNs - prev.cpuNs) / (cur.at - prev.at) * 100)
    : cur.cpuNs !== undefined ? percent(0) : '--';
  const limit = cur.memLimit ?? 0;
  return goStruct({
    BlockIO: cur.block ? `${humanSize(cur.block.read)} / ${humanSize(cur.block.write)}` : '--',
    CPUPerc: cpu,
    Container: typed,
    ID: noTrunc ? c.id : shortId(c.id),
    MemPerc: cur.memory === undefined ? '--' : percent(limit > 0 ? cur.memory / limit * 100 : 0),
    MemUsage: cur.memory === undefined ? '-- / --' : `${binarySize(cur.memory)} / ${binarySize(limit)}`,
    Name: c.name || '--',
    NetIO: cur.net ? `${humanSize(cur.net.rx)} / ${humanSize(cur.net.tx)}` : '--',
    PIDs: cur.pids === undefined ? '--' : String(cur.pids),
  }, 'formatter.statsContext');
}

export interface StatsTarget { typed: string; c: ContainerRecord }

/**
 * The containers to show: those named (each looked up, a missing one is an error of its own),
 * or every running one (every one with -a), newest first as Docker lists them.
 */
export function statsTargets(engine: Engine, names: readonly string[], all: boolean): { targets: StatsTarget[]; errors: Error[] } {
  if (names.length === 0) {
    const list = engine.containers.list().map((c) => refreshState(engine, c))
      .filter((c) => all || isLive(c))
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    return { targets: list.map((c) => ({ typed: c.id, c })), errors: [] };
  }
  const targets: StatsTarget[] = [];
  const errors: Error[] = [];
  for (const typed of names) {
    try {
      targets.push({ typed, c: refreshState(engine, engine.containers.mustFind(typed)) });
    } catch (e) {
      errors.push(e as Error);
    }
  }
  return { targets, errors };
}
