import type { Cli, CommandClass } from 'clipanion';
import { CreateCommand } from './commands/container/create';
import { ExecCommand } from './commands/container/exec';
import { ContainerInspectCommand } from './commands/container/inspect';
import { CommitCommand } from './commands/container/commit';
import { CpCommand } from './commands/container/cp';
import { DiffCommand } from './commands/container/diff';
import { PortCommand } from './commands/container/port';
import { ExportCommand } from './commands/container/export';
import { PsCommand } from './commands/container/ps';
import { RmCommand } from './commands/container/rm';
import { RunCommand } from './commands/container/run';
import { StartCommand } from './commands/container/start';
import { StopCommand } from './commands/container/stop';
import { KillCommand } from './commands/container/kill';
import { RestartCommand } from './commands/container/restart';
import { WaitCommand } from './commands/container/wait';
import { PauseCommand } from './commands/container/pause';
import { UnpauseCommand } from './commands/container/unpause';
import { RenameCommand } from './commands/container/rename';
import { ContainerPruneCommand } from './commands/container/prune';
import { ContainerExistsCommand } from './commands/container/exists';
import { AttachCommand } from './commands/container/attach';
import { LogsCommand } from './commands/container/logs';
import { TopCommand } from './commands/container/top';
import { StatsCommand } from './commands/container/stats';
import { UpdateCommand } from './commands/container/update';
import { HistoryCommand } from './commands/image/history';
import { ImagesCommand } from './commands/image/images';
import { ImageInspectCommand } from './commands/image/inspect';
import { ImportCommand } from './commands/image/import';
import { BuildCommand } from './commands/image/build';
import { LoadCommand } from './commands/image/load';
import { ImagePruneCommand } from './commands/image/prune';
import { PullCommand } from './commands/image/pull';
import { PushCommand } from './commands/image/push';
import { RmiCommand } from './commands/image/rmi';
import { SaveCommand } from './commands/image/save';
import { TagCommand } from './commands/image/tag';
import { InspectCommand } from './commands/inspect';
import { GenerateSystemdCommand } from './commands/system/generate-systemd';
import { HealthcheckRunCommand } from './commands/system/healthcheck';
import { InfoCommand } from './commands/system/info';
import { LoginCommand } from './commands/system/login';
import { LogoutCommand } from './commands/system/logout';
import { VersionCommand } from './commands/system/version';
import { NetworkConnectCommand } from './commands/network/connect';
import { NetworkCreateCommand } from './commands/network/create';
import { NetworkDisconnectCommand } from './commands/network/disconnect';
import { NetworkInspectCommand } from './commands/network/inspect';
import { NetworkLsCommand } from './commands/network/ls';
import { NetworkPruneCommand } from './commands/network/prune';
import { NetworkRmCommand } from './commands/network/rm';
import { VolumeCreateCommand } from './commands/volume/create';
import { VolumeInspectCommand } from './commands/volume/inspect';
import { VolumeLsCommand } from './commands/volume/ls';
import { VolumePruneCommand } from './commands/volume/prune';
import { VolumeRmCommand } from './commands/volume/rm';
import { matchCommandPath } from './command-match';
import { cliFor, newCli } from './one-command';
import { withNounForms } from './nouns';
import { VERSION } from '../util/version';

export { VERSION };

/** Every skiff command. Help and --version are answered in main.ts (cli/help/), not by clipanion. */
export const COMMANDS: CommandClass[] = [RunCommand, CreateCommand, StartCommand, PsCommand, RmCommand, ImagesCommand,
  LoadCommand, RmiCommand, TagCommand, ImageInspectCommand, ContainerInspectCommand, InspectCommand, CpCommand, DiffCommand, ExportCommand, CommitCommand, HistoryCommand, SaveCommand, ImportCommand, BuildCommand,
  ImagePruneCommand, PullCommand, PushCommand, LoginCommand, LogoutCommand, VersionCommand, InfoCommand,
  // the container state machine's verbs
  StopCommand, KillCommand, RestartCommand, WaitCommand, PauseCommand, UnpauseCommand, RenameCommand,
  ContainerPruneCommand, ContainerExistsCommand,
  GenerateSystemdCommand,
  LogsCommand, AttachCommand,
  ExecCommand, TopCommand, HealthcheckRunCommand,
  StatsCommand, UpdateCommand, PortCommand,
  // user-defined networks
  NetworkCreateCommand, NetworkLsCommand, NetworkInspectCommand, NetworkRmCommand, NetworkPruneCommand,
  NetworkConnectCommand, NetworkDisconnectCommand,
  VolumeCreateCommand, VolumeLsCommand, VolumeInspectCommand, VolumeRmCommand, VolumePruneCommand];

// Docker's management-noun spellings (`container ls`, `image rm`, ...) for every verb that has
// one, added here once rather than listed by each command (nouns.ts).
for (const c of COMMANDS) c.paths = withNounForms(c.paths ?? []);

/** What the leading words of argv name: a command (and the path that was typed), a noun, or nothing. */
export type Target =
  | { kind: 'command'; command: CommandClass; path: string[] }
  | { kind: 'noun'; noun: string }
  | { kind: 'none' };

export function resolveTarget(argv: readonly string[]): Target {
  const found = matchCommandPath(argv, COMMANDS);
  if ('entry' in found) return { kind: 'command', command: found.entry, path: found.path };
  return found.noun ? { kind: 'noun', noun: argv[0] } : { kind: 'none' };
}

/**
 * The one definition of skiff's command line: main.ts runs it, build/gen-docs.mjs documents it.
 * Given the command line, only what it can reach is registered: clipanion compiles a state
 * machine over every registered command path on each parse, which for all of them costs tens
 * of milliseconds of start-up, and for `run` alone ~10 ms per extra path (its 20-odd options;
 * measured with --cpu-prof and process.cpuUsage, docs/PERFORMANCE.md). So a command line that
 * names a command registers that command under the one path typed (`container run` or `run`),
 * which is also the path help and usage errors print (cli/help/dispatch.ts); otherwise the
 * commands whose path starts with its first word, or all of them.
 */
export function buildCli(argv?: string[]): Cli {
  const target = argv ? resolveTarget(argv) : undefined;
  if (target?.kind === 'command') return cliFor(target.command, target.path);
  const cli = newCli();
  const first = argv?.[0];
  const matching = first && !first.startsWith('-')
    ? COMMANDS.filter((c) => (c.paths ?? []).some((p) => p[0] === first))
    : [];
  for (const c of matching.length ? matching : COMMANDS) cli.register(c);
  return cli;
}
