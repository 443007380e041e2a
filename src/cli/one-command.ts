import { Cli, type Command, type CommandClass } from 'clipanion';
import { matchCommandPath } from './command-match';
import { COMMAND_TABLE } from './command-table';
import { programName } from './program';
import { VERSION } from '../util/version';

/**
 * A command line parsed with the one command it names, loading that command's module alone.
 * index.ts imports every command class (help, completions and man pages need them all), and
 * evaluating those ~40 modules cost `ps -a` ~15 ms of its start-up (docs/PERFORMANCE.md). The
 * table of paths and loaders (command-table.ts) is generated from index.ts by `npm run gen-docs`
 * and checked by the docs-in-sync test, so it cannot drift from the real list.
 */

/** A clipanion Cli with skiff's settings and no commands. */
export function newCli(): Cli {
  const name = programName();
  return new Cli({ binaryLabel: name, binaryName: name, binaryVersion: VERSION, enableCapture: false, enableColors: false });
}

/**
 * A Cli with `command` registered under `path` only: clipanion compiles a state machine over
 * every registered path on each parse (index.ts, buildCli), and the path typed is the one help
 * and usage errors print.
 */
export function cliFor(command: CommandClass, path: string[]): Cli {
  const cli = newCli();
  cli.register(underPath(command, path));
  return cli;
}

/** `command` registered under `path` only: a subclass, so the class itself keeps all its paths. */
function underPath(command: CommandClass, path: string[]): CommandClass {
  const base = command as unknown as new () => object; // a concrete command class, seen as any class
  return class extends base {
    static paths = [path];
  } as unknown as CommandClass;
}

/**
 * The command that `argv` names, parsed; undefined when argv names no command or does not parse:
 * then main.ts goes the full way (index.ts), which answers help, nouns and usage errors.
 */
export async function parseNamedCommand(argv: string[]): Promise<Command | undefined> {
  const found = matchCommandPath(argv, COMMAND_TABLE);
  if (!('entry' in found)) return undefined;
  const cli = cliFor(await found.entry.load(), found.path);
  try {
    return cli.process(argv);
  } catch {
    return undefined;
  }
}
