import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { SkiffError } from '../util/errors';
import { tabwrite } from '../util/format';
import type { Engine } from './context';
import { runningContainer } from './exec';

/**
 * The host PIDs of every process in the PID namespace of `initPid` (the container's init): there
 * is no cgroup to list them from, so each /proc entry's pid namespace is compared. Processes of
 * other users are not readable rootless, and cannot be in a rootless container anyway.
 */
export function containerPids(initPid: number): number[] {
  const ns = fs.statSync(`/proc/${initPid}/ns/pid`);
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const st = fs.statSync(`/proc/${name}/ns/pid`);
      if (st.ino === ns.ino && st.dev === ns.dev) pids.push(Number(name));
    } catch { /* gone, or not ours */ }
  }
  return pids;
}

/**
 * Does ps get its own columns (o / -o / --format)? Then, as Docker does, a PID column is put
 * first so that the container's lines can be told apart, and left out of what is shown.
 */
function customFields(args: string[]): boolean {
  return args.some((a) => a.startsWith('-o') || a.startsWith('o') || a.startsWith('--format'));
}

function runPs(args: string[]): string {
  const r = spawnSync('ps', args, { encoding: 'utf8' });
  if (r.error) throw new SkiffError(`ps: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.stderr.split('\n')[0];
    throw new SkiffError(`ps: ${why || `exit status ${r.status}`}`);
  }
  return r.stdout;
}

/** Docker's parsing of ps output: the header's words are the titles, the last one takes the rest of each line. */
export function parsePsOutput(output: string, pids: Set<number>, extraPidColumn: boolean): { titles: string[]; processes: string[][] } {
  const lines = output.split('\n');
  const titles = lines[0].trim().split(/\s+/);
  const pidIndex = extraPidColumn ? 0 : titles.indexOf('PID');
  if (pidIndex < 0) throw new SkiffError("Couldn't find PID field in ps output");
  const first = extraPidColumn ? 1 : 0;
  const shown = titles.slice(first);
  const processes: string[][] = [];
  // A thread line (ps -L, m) has "-" for PID: it belongs to the process line above it.
  let lastWasOurs = false;
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const pidField = fields[pidIndex];
    if (pidField === '-') {
      if (lastWasOurs) processes.push(mergeOverhang(fields.slice(first), shown.length));
      continue;
    }
    const pid = Number(pidField);
    if (!/^[0-9]+$/.test(pidField ?? '')) throw new SkiffError(`Unexpected pid '${pidField}': not a number`);
    lastWasOurs = pids.has(pid);
    if (lastWasOurs) processes.push(mergeOverhang(fields.slice(first), shown.length));
  }
  return { titles: shown, processes };
}

function mergeOverhang(fields: string[], n: number): string[] {
  return [...fields.slice(0, n - 1), fields.slice(n - 1).join(' ')];
}

/** `skiff top CONTAINER [ps OPTIONS]`: ps on the host, the container's lines only, as `docker top`. */
export function containerTop(engine: Engine, name: string, psArgs: string[]): string {
  const custom = psArgs.length > 0;
  let args = custom ? psArgs : ['-ef'];
  const c = runningContainer(engine, name);
  const pids = containerPids(c.state.pid);
  const extraPidColumn = custom && customFields(args);
  if (extraPidColumn) args = ['-opid', ...args];
  let output: string;
  try {
    output = runPs([...args, `-q${pids.join(',')}`]);
  } catch {
    // some ps options (f, -C) do not combine with -q: list everything and filter
    output = runPs(args);
  }
  const { titles, processes } = parsePsOutput(output, new Set(pids), extraPidColumn);
  return tabwrite([titles, ...processes].map((r) => r.join('\t')).join('\n'), 20) + '\n';
}
