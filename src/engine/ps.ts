import { InvalidError, NotFoundError, UsageError } from '../errors';
import { goTimeString, humanDuration, shortId } from '../util/format';
import { goStruct } from '../util/go-template';
import { parseNetworkMode } from '../network/network-mode';
import { displayPorts } from '../network/ports';
import { boundPorts } from './container-network';
import { attachedNetworkNames } from '../network/user-networks/endpoint';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { healthSuffix } from './health-state';

export interface PsOptions {
  all: boolean;
  noTrunc: boolean;
  /** `--filter key=value` flags */
  filters?: string[];
  /** -n/--last N (-l is 1): the N newest containers, whatever their state */
  last?: number;
}

/** Docker's STATUS column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
export function statusText(c: ContainerRecord, now: number): string {
  const s = c.state;
  if (s.restarting) return `Restarting (${s.exitCode ?? 0}) ${humanDuration(now - Date.parse(s.finishedAt ?? c.created))} ago`;
  if (s.status === 'running') return `Up ${humanDuration(now - Date.parse(s.startedAt ?? c.created))}`;
  if (s.status === 'paused') return `Up ${humanDuration(now - Date.parse(s.startedAt ?? c.created))} (Paused)`;
  if (s.status === 'restarting') return `Restarting (${s.exitCode ?? 0}) ${humanDuration(now - Date.parse(s.finishedAt ?? c.created))} ago`;
  if (s.status === 'removing') return 'Removal In Progress';
  if (s.status === 'dead') return 'Dead';
  if (s.status === 'exited') return `Exited (${s.exitCode ?? 0}) ${humanDuration(now - Date.parse(s.finishedAt ?? c.created))} ago`;
  return 'Created';
}

/** Docker's COMMAND column: the quoted command line, cut to 20 characters with an ellipsis. */
export function commandText(c: ContainerRecord, noTrunc: boolean): string {
  // The daemon single-quotes arguments with spaces; the CLI prints it with strconv.Quote.
  const cmd = [c.path, ...c.args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  return JSON.stringify(noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 19)}…`);
}

/** A container's labels (the record's config.labels, absent in records made before --label). */
function labelsOf(c: ContainerRecord): Record<string, string> {
  return (c.config as { labels?: Record<string, string> }).labels ?? {};
}

export const PS_FILTERS = ['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since'] as const;
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Docker's filters.Match: the value is a regular expression found anywhere (a bad one: a substring). */
function matches(pattern: string, s: string): boolean {
  try { return new RegExp(pattern).test(s); } catch { return s.includes(pattern); }
}

type Predicate = (c: ContainerRecord) => boolean;

/**
 * `ps --filter` as the daemon's: values of one key are ORed (labels: all must match), keys
 * ANDed. status and exited filters show stopped containers without -a, as Docker.
 */
export function containerFilters(engine: Engine, args: readonly string[], list: readonly ContainerRecord[]):
  { predicates: Predicate[]; impliesAll: boolean } {
  const byKey = new Map<string, string[]>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    // docker-cli refuses it while parsing the flag (exit 125)
    if (eq < 0) throw new UsageError(`invalid argument "${arg}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const key = arg.slice(0, eq).trim().toLowerCase();
    if (!(PS_FILTERS as readonly string[]).includes(key)) throw new InvalidError(`invalid filter '${key}'`);
    byKey.set(key, [...(byKey.get(key) ?? []), arg.slice(eq + 1).trim()]);
  }
  const predicates: Predicate[] = [];
  const any = (key: string, test: (v: string, c: ContainerRecord) => boolean) => {
    const values = byKey.get(key);
    if (values) predicates.push((c) => values.some((v) => test(v, c)));
  };
  any('id', (v, c) => matches(v, c.id));
  any('name', (v, c) => matches(v, c.name) || matches(v, `/${c.name}`));
  for (const v of byKey.get('status') ?? []) {
    if (!STATUSES.includes(v)) throw new InvalidError(`invalid filter 'status=${v}': use one of ${STATUSES.join(', ')}`);
  }
  any('status', (v, c) => c.state.status === v);
  const codes = (byKey.get('exited') ?? []).map((v) => {
    if (!/^-?\d+$/.test(v)) throw new InvalidError(`invalid filter 'exited=${v}': the value must be an exit code (an integer)`);
    return Number(v);
  });
  if (codes.length) predicates.push((c) => c.state.status === 'exited' && codes.includes(c.state.exitCode ?? 0));
  const labels = byKey.get('label') ?? [];
  if (labels.length) {
    predicates.push((c) => labels.every((l) => {
      const [k, ...rest] = l.split('=');
      const have = labelsOf(c);
      return Object.prototype.hasOwnProperty.call(have, k) && (rest.length === 0 || have[k] === rest.join('='));
    }));
  }
  any('ancestor', (v, c) => {
    if (c.image === v) return true;
    let image;
    try { image = engine.images.find(v); } catch { return false; }
    return image !== undefined && image.id === c.imageId;
  });
  // before/since: relative to the creation of a named container (the most restrictive value)
  const created = (v: string) => {
    const ref = list.find((c) => c.id === v || c.name === v || c.name === v.replace(/^\//, '') || c.id.startsWith(v));
    if (!ref) throw new NotFoundError(`No such container: ${v}`);
    return Date.parse(ref.created);
  };
  for (const v of byKey.get('before') ?? []) { const t = created(v); predicates.push((c) => Date.parse(c.created) < t); }
  for (const v of byKey.get('since') ?? []) { const t = created(v); predicates.push((c) => Date.parse(c.created) > t); }
  return { predicates, impliesAll: byKey.has('status') || byKey.has('exited') };
}

/** A ps row: docker-cli's ContainerContext fields (keys sorted, as its {{json .}}). */
/** PORTS: the exposed ports, with their host addresses once published (a running container's only, as Docker). */
function portsColumn(engine: Engine, c: ContainerRecord): string {
  const net = c.config.net;
  if (!net?.exposed?.length || !isLive(c)) return '';
  return displayPorts(net.exposed, net.publish?.length || net.publishAll ? boundPorts(engine.containers.dir(c.id)) : []);
}

export function containerRow(c: ContainerRecord, noTrunc: boolean, now: number, health = '', ports = ''): object {
  const labels = labelsOf(c);
  const row = goStruct({
    Command: commandText(c, noTrunc),
    CreatedAt: '', // below: computed when read
    ID: noTrunc ? c.id : shortId(c.id),
    Image: c.image,
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','),
    LocalVolumes: '0',
    Mounts: '',
    Names: c.name,
    Networks: attachedNetworkNames(parseNetworkMode(c.config.network), c.endpoints).join(','),
    Ports: ports,
    RunningFor: `${humanDuration(now - Date.parse(c.created))} ago`,
    // skiff does not measure the writable layer: Docker's value when nothing was written
    Size: '0B',
    State: c.state.status,
    Status: statusText(c, now) + health,
  }, '*formatter.ContainerContext');
  // the first local-time conversion loads the time zone (~15 ms): only for formats that show it
  Object.defineProperty(row, 'CreatedAt', { get: () => goTimeString(new Date(Date.parse(c.created))), enumerable: true });
  // a method with an argument, as Docker's {{.Label "key"}}: not a field, so not in {{json .}}
  Object.defineProperty(row, 'Label', { value: (key: unknown) => labels[String(key)] ?? '', enumerable: false });
  return row;
}

/** `skiff ps`: the rows, newest first. */
export function listContainers(engine: Engine, o: PsOptions, now = Date.now()): object[] {
  const all = engine.containers.list().map((c) => refreshState(engine, c))
    .sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
  const { predicates, impliesAll } = containerFilters(engine, o.filters ?? [], all);
  const showAll = o.all || impliesAll || (o.last !== undefined && o.last > 0);
  let shown = all.filter((c) => (showAll || isLive(c)) && predicates.every((p) => p(c)));
  if (o.last !== undefined && o.last > 0) shown = shown.slice(0, o.last);
  return shown.map((c) => containerRow(c, o.noTrunc, now, healthSuffix(engine, c), portsColumn(engine, c)));
}

export const PS_HEADERS: Record<string, string> = {
  Command: 'COMMAND', CreatedAt: 'CREATED AT', ID: 'CONTAINER ID', Image: 'IMAGE', Labels: 'LABELS', LocalVolumes: 'LOCAL VOLUMES',
  Mounts: 'MOUNTS', Names: 'NAMES', Networks: 'NETWORKS', Ports: 'PORTS', RunningFor: 'CREATED', Size: 'SIZE', State: 'STATE',
  Status: 'STATUS', Label: 'LABEL',
};

/** ps's row with every field empty (render.ts ListSpec.probeRow): docker-cli's empty ContainerContext. */
export function emptyContainerRow(): object {
  const fields = Object.fromEntries(Object.keys(PS_HEADERS).filter((k) => k !== 'Label').map((k) => [k, '']));
  const row = goStruct(fields, '*formatter.ContainerContext');
  Object.defineProperty(row, 'Label', { value: () => '', enumerable: false });
  return row;
}

export const PS_DEFAULT_FORMAT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
