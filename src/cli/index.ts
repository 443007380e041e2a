import { Builtins, Cli, type CommandClass } from 'clipanion';
import { CreateCommand, PsCommand, RmCommand, RunCommand, StartCommand } from './commands/containers';
import { HistoryCommand, ImageInspectCommand, ImagePruneCommand, ImportCommand, InspectCommand, SaveCommand, TagCommand } from './commands/image-verbs';
import { ImagesCommand, LoadCommand, RmiCommand } from './commands/images';
import { LoginCommand, LogoutCommand } from './commands/login';
import { PullCommand, PushCommand } from './commands/registry';
import { InfoCommand, VersionCommand } from './commands/system';
import { VERSION } from './version';

export { VERSION };

const COMMANDS: CommandClass[] = [RunCommand, CreateCommand, StartCommand, PsCommand, RmCommand, ImagesCommand,
  LoadCommand, RmiCommand, TagCommand, ImageInspectCommand, InspectCommand, HistoryCommand, SaveCommand, ImportCommand,
  ImagePruneCommand, PullCommand, PushCommand, LoginCommand, LogoutCommand, VersionCommand, InfoCommand, Builtins.HelpCommand, Builtins.VersionCommand];

/**
 * The one definition of skiff's command line: main.ts runs it, build/gen-docs.mjs documents it.
 * Given the command line, only the commands whose path starts with its first word are
 * registered: clipanion compiles a state machine over every registered command on each parse,
 * which for all of them costs tens of milliseconds of start-up (measured with --cpu-prof).
 */
export function buildCli(argv?: string[]): Cli {
  const cli = new Cli({ binaryLabel: 'skiff', binaryName: 'skiff', binaryVersion: VERSION, enableCapture: false });
  const first = argv?.[0];
  const matching = first && !first.startsWith('-')
    ? COMMANDS.filter((c) => (c.paths ?? []).some((p) => p[0] === first))
    : [];
  for (const c of matching.length ? matching : COMMANDS) cli.register(c);
  return cli;
}
