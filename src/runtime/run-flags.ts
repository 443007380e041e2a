import fs from 'node:fs';
import { SkiffError } from '../util/errors';
import { parseGroup } from './user';

/**
 * The run/create flags that shape the container's process and namespaces (--restart, --init,
 * --uts, --ipc, --pid, --cgroupns, --ulimit, --oom-score-adj, --group-add, --device, --tmpfs),
 * read with Docker's syntax and messages (docker/cli opts, go-units' ulimit parser, moby's
 * restart policy and namespace mode checks). Pure parsing: what a `container:NAME` mode points
 * at is resolved by the engine, and what the values do is in oci-spec.ts and the C monitor.
 */

export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';
export interface RestartPolicy { name: RestartPolicyName; maximumRetryCount: number }

export interface Ulimit { name: string; soft: number; hard: number }
export interface DeviceMapping { source: string; destination: string; permissions: string }
export interface TmpfsMount { destination: string; options: string[] }

/** What the record keeps (config.run); every field absent = Docker's default. */
export interface RunFlags {
  init?: boolean;
  uts?: 'host';
  ipc?: 'host' | 'private' | 'shareable' | 'none' | `container:${string}`;
  pid?: 'host' | `container:${string}`;
  cgroupns?: 'host' | 'private';
  ulimits?: Ulimit[];
  oomScoreAdj?: number;
  /** as given (names are resolved in the image's /etc/group into config.user.additionalGids) */
  groupAdd?: string[];
  devices?: DeviceMapping[];
  tmpfs?: TmpfsMount[];
}

/** The flags as the CLI passes them (strings as typed). */
export interface RunFlagsInput {
  restart?: string;
  init?: boolean;
  uts?: string;
  ipc?: string;
  pid?: string;
  cgroupns?: string;
  ulimit?: string[];
  oomScoreAdj?: string;
  groupAdd?: string[];
  device?: string[];
  tmpfs?: string[];
}

const flagError = (value: string, flag: string, why: string) =>
  new SkiffError(`invalid argument "${value}" for "${flag}" flag: ${why}`);

/** docker/cli's ParseRestartPolicy, then moby's ValidateRestartPolicy. */
export function parseRestartPolicy(text: string | undefined): RestartPolicy {
  if (text === undefined || text === '' || text === 'no') return { name: 'no', maximumRetryCount: 0 };
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const count = colon < 0 ? '' : text.slice(colon + 1);
  if (colon === 0) throw new SkiffError('invalid restart policy format: no policy provided before colon');
  if (count !== '' && !/^[+-]?[0-9]+$/.test(count)) throw new SkiffError('invalid restart policy format: maximum retry count must be an integer');
  const max = count === '' ? 0 : Number(count);
  if (!['no', 'on-failure', 'always', 'unless-stopped'].includes(name)) {
    throw new SkiffError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (name !== 'on-failure' && max !== 0) throw new SkiffError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  if (max < 0) throw new SkiffError('invalid restart policy: maximum retry count cannot be negative');
  return { name: name as RestartPolicyName, maximumRetryCount: max };
}

/** The limits `--ulimit` knows (go-units), as the C monitor names them too. */
const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile',
  'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** go-units' ParseUlimit: `name=soft[:hard]`, -1 for unlimited. */
export function parseUlimit(text: string): Ulimit {
  const bad = (why: string) => flagError(text, '--ulimit', why);
  const eq = text.indexOf('=');
  if (eq < 0) throw bad(`invalid ulimit argument: ${text}`);
  const name = text.slice(0, eq);
  if (!ULIMIT_NAMES.includes(name)) throw bad(`invalid ulimit type: ${name}`);
  const parts = text.slice(eq + 1).split(':');
  if (parts.length > 2) throw bad(`too many limit value arguments - ${text.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const values = parts.map((p) => {
    if (!/^-?[0-9]+$/.test(p)) throw bad(`invalid ulimit value "${p}": use a number, or -1 for unlimited`);
    return Number(p);
  });
  const [soft, hard = soft] = values;
  // -1 is unlimited, which is above every number.
  if (hard !== -1 && (soft === -1 || soft > hard)) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}

const DEVICE_MODE = /^[rwm]{1,3}$/;
const validDeviceMode = (m: string) => DEVICE_MODE.test(m) && new Set(m).size === m.length;

/** docker/cli's parseDevice: `SRC[:DST][:PERMISSIONS]`; the source must be a device node here. */
export function parseDevice(text: string): DeviceMapping {
  const parts = text.split(':');
  let destination = '', permissions = 'rwm';
  if (parts.length === 3) {
    if (!validDeviceMode(parts[2])) throw flagError(text, '--device', `invalid device mode: ${parts[2]}`);
    [, destination, permissions] = parts;
  } else if (parts.length === 2) {
    if (validDeviceMode(parts[1])) permissions = parts[1];
    else destination = parts[1];
  } else if (parts.length !== 1) {
    throw flagError(text, '--device', `invalid device specification: ${text}`);
  }
  const source = parts[0];
  destination ||= source;
  if (!destination.startsWith('/')) throw flagError(text, '--device', `bad format for path: ${destination}`);
  return { source, destination, permissions };
}

/** The device must exist and be one (the container gets a bind of it, as rootless Podman does). */
export function checkDevice(d: DeviceMapping): void {
  let st: fs.Stats;
  try { st = fs.statSync(d.source); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new SkiffError(`error gathering device information while adding custom device "${d.source}": ${why}`);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) {
    throw new SkiffError(`error gathering device information while adding custom device "${d.source}": not a device node`);
  }
}

/** Docker's tmpfs defaults (noexec, nosuid, nodev), each overridden by the user's opposite. */
const TMPFS_OPPOSITES: Record<string, string> = { exec: 'noexec', suid: 'nosuid', dev: 'nodev', rw: 'ro' };

/** `--tmpfs PATH[:OPTIONS]` (moby's MergeTmpfsOptions: a later option wins over its opposite). */
export function parseTmpfs(text: string): TmpfsMount {
  const colon = text.indexOf(':');
  const destination = colon < 0 ? text : text.slice(0, colon);
  if (!destination.startsWith('/')) throw new SkiffError(`invalid mount config for type "tmpfs": invalid mount path: '${destination}' mount path must be absolute`);
  if (destination === '/') throw new SkiffError(`invalid mount config for type "tmpfs": invalid specification: destination can't be '/'`);
  const flags = new Map<string, boolean>([['noexec', true], ['nosuid', true], ['nodev', true], ['ro', false]]);
  const data = new Map<string, string>();
  for (const o of colon < 0 ? [] : text.slice(colon + 1).split(',').filter(Boolean)) {
    const negated = Object.entries(TMPFS_OPPOSITES).find(([pos]) => pos === o);
    if (negated) flags.set(negated[1], false);
    else if (flags.has(o)) flags.set(o, true);
    else if (/^(size|mode|uid|gid|nr_inodes|nr_blocks)=/.test(o)) data.set(o.slice(0, o.indexOf('=')), o);
    else throw new SkiffError(`invalid tmpfs option ["${o}"] for ${destination}: use size=, mode=, uid=, gid=, nr_inodes=, ro/rw, exec/noexec, suid/nosuid, dev/nodev`);
  }
  return { destination, options: [...[...flags].filter(([, on]) => on).map(([f]) => f), ...data.values()] };
}

/** A namespace mode that names another container: its name or ID, else undefined. */
export function joinedContainer(mode: string | undefined): string | undefined {
  return mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/**
 * Parse and check everything that needs neither the image nor other containers. A
 * `container:NAME` mode is kept as typed; the engine resolves NAME to an ID.
 */
export function parseRunFlags(i: RunFlagsInput, opts: { hostname?: string; autoRemove: boolean }): { run: RunFlags; restart: RestartPolicy } {
  const restart = parseRestartPolicy(i.restart);
  if (opts.autoRemove && restart.name !== 'no') throw new SkiffError('Conflicting options: --restart and --rm');
  const run: RunFlags = {};
  if (i.init) run.init = true;
  if (i.uts !== undefined && i.uts !== '') {
    if (i.uts !== 'host') throw new SkiffError('--uts: invalid UTS mode');
    if (opts.hostname) throw new SkiffError('conflicting options: hostname and the UTS mode');
    run.uts = 'host';
  }
  if (i.pid !== undefined && i.pid !== '') {
    const c = joinedContainer(i.pid);
    if (i.pid !== 'host' && !c) throw new SkiffError('--pid: invalid PID mode');
    run.pid = i.pid as RunFlags['pid'];
  }
  if (i.ipc !== undefined && i.ipc !== '') {
    const c = joinedContainer(i.ipc);
    if (!['host', 'private', 'shareable', 'none'].includes(i.ipc) && !c) throw new SkiffError(`invalid IPC mode: ${i.ipc}`);
    if (c === '') throw new SkiffError(`invalid IPC mode: ${i.ipc}`);
    run.ipc = i.ipc as RunFlags['ipc'];
  }
  if (i.cgroupns !== undefined && i.cgroupns !== '') {
    if (i.cgroupns !== 'host' && i.cgroupns !== 'private') throw new SkiffError('--cgroupns: invalid CGROUP mode');
    run.cgroupns = i.cgroupns;
  }
  if (i.ulimit?.length) {
    // One value per limit: a later --ulimit for the same name replaces the earlier (Docker's map).
    const byName = new Map(i.ulimit.map(parseUlimit).map((u) => [u.name, u]));
    run.ulimits = [...byName.values()];
  }
  if (i.oomScoreAdj !== undefined) {
    if (!/^-?[0-9]+$/.test(i.oomScoreAdj)) throw flagError(i.oomScoreAdj, '--oom-score-adj', 'strconv.ParseInt: parsing "' + i.oomScoreAdj + '": invalid syntax');
    const v = Number(i.oomScoreAdj);
    if (v < -1000 || v > 1000) throw new SkiffError(`Invalid value ${v}, range for oom score adj is [-1000, 1000]`);
    run.oomScoreAdj = v;
  }
  if (i.groupAdd?.length) run.groupAdd = [...i.groupAdd];
  if (i.device?.length) {
    run.devices = i.device.map(parseDevice);
    run.devices.forEach(checkDevice);
  }
  if (i.tmpfs?.length) run.tmpfs = i.tmpfs.map(parseTmpfs);
  return { run, restart };
}

/** --group-add: numbers as they are, names looked up in the image's /etc/group (as runc). */
export function resolveGroupAdd(groups: string[], groupText: string | undefined): number[] {
  const entries = parseGroup(groupText ?? '');
  return groups.map((g) => {
    if (/^[0-9]+$/.test(g)) return Number(g);
    const e = entries.find((x) => x.name === g);
    if (!e) throw new SkiffError(`unable to find group ${g}: no matching entries in group file`);
    return e.gid;
  });
}
