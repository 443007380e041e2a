import { humanDuration, table } from '../util/format';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';
import { healthSuffix } from './health-state';

export interface PsOptions { all: boolean; quiet: boolean; noTrunc: boolean }

/** Docker's STATUS column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Created". */
export function statusText(c: ContainerRecord, now: number): string {
  const s = c.state;
  if (s.status === 'running') return `Up ${humanDuration(now - Date.parse(s.startedAt ?? c.created))}`;
  if (s.status === 'exited') return `Exited (${s.exitCode ?? 0}) ${humanDuration(now - Date.parse(s.finishedAt ?? c.created))} ago`;
  return 'Created';
}

/** Docker's COMMAND column: the quoted command line, cut to 20 characters with an ellipsis. */
export function commandText(c: ContainerRecord, noTrunc: boolean): string {
  // The daemon single-quotes arguments with spaces; the CLI prints it with strconv.Quote.
  const cmd = [c.path, ...c.args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  return JSON.stringify(noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 19)}…`);
}

export function listContainers(engine: Engine, o: PsOptions, now = Date.now()): string {
  const all = engine.containers.list().map((c) => refreshState(engine, c))
    .filter((c) => o.all || c.state.status === 'running')
    .sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
  const id = (c: ContainerRecord) => (o.noTrunc ? c.id : c.id.slice(0, 12));
  if (o.quiet) return all.map((c) => `${id(c)}\n`).join('');
  return table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    all.map((c) => [id(c), c.image, commandText(c, o.noTrunc), `${humanDuration(now - Date.parse(c.created))} ago`, statusText(c, now) + healthSuffix(engine, c), '', c.name]));
}
