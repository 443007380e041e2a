import { Builtins, Cli } from 'clipanion';
import { CreateCommand, PsCommand, RmCommand, RunCommand, StartCommand } from './commands/containers';
import { ImagesCommand, LoadCommand, RmiCommand } from './commands/images';
import { InfoCommand, VERSION, VersionCommand } from './commands/system';

export { VERSION };

/** The one definition of skiff's command line: main.ts runs it, build/gen-docs.mjs documents it. */
export function buildCli(): Cli {
  const cli = new Cli({ binaryLabel: 'skiff', binaryName: 'skiff', binaryVersion: VERSION, enableCapture: false });
  for (const c of [RunCommand, CreateCommand, StartCommand, PsCommand, RmCommand, ImagesCommand, LoadCommand,
    RmiCommand, VersionCommand, InfoCommand, Builtins.HelpCommand, Builtins.VersionCommand]) {
    cli.register(c);
  }
  return cli;
}
