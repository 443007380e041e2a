import type { Cli, Command, CommandClass } from 'clipanion';
import { resolveTarget, type Target } from '../index';
import { programName, type ProgramName } from '../program';
import { arityError, scanArgs } from './argv';
import { helpWidth } from './layout';
import { commandHelp, commandPath, nounHelp, topHelp, topUsageLine, usageLine } from './render';
import { commandSpec } from './spec';
import { VERSION } from '../../util/version';

/**
 * Everything main.ts does not run as a command: help, and the command line's own errors, in
 * Docker 28's words, streams and exit codes (help on stdout and 0; usage errors on stderr,
 * 125 for flags, 1 for unknown commands and argument counts). Loaded only when needed, so
 * that an ordinary command never pays for it.
 */

type Out = (text: string) => void;
const stdout: Out = (t) => { process.stdout.write(t); };
const stderr: Out = (t) => { process.stderr.write(t); };

/** A flag error: the message, the usage line, and where to read more (exit 125). */
function flagError(message: string, usage: string, helpPath: string): number {
  stderr(`${message}\n\nUsage:  ${usage}\n\nRun '${helpPath} --help' for more information\n`);
  return 125;
}

function unknownFlagMessage(arg: string): string {
  return arg.startsWith('--') ? `unknown flag: ${arg.split('=')[0]}` : `unknown shorthand flag: '${arg[1]}' in ${arg}`;
}

const isHelpFlag = (a: string) => a === '--help' || a === '-h';

/** Before the top-level flags were fully read: `skiff --root` (no value). */
export function globalFlagError(message: string): number {
  const name = programName();
  return flagError(message, topUsageLine(name), name);
}

/**
 * The answer for a command line that names no runnable command, or asks for help; undefined
 * when the command should run after all (`skiff run -h myhost IMAGE`: -h is run's own flag).
 */
export function answerWithoutRunning(rest: readonly string[], target: Target): number | undefined {
  const name = programName();
  const width = helpWidth();
  if (rest.length === 0) { stderr(topHelp(name, width)); return 0; }
  const first = rest[0];
  if (first === 'help') return helpTopic(name, rest.slice(1), width);
  if (first.startsWith('-')) {
    if (isHelpFlag(first)) { stdout(topHelp(name, width)); return 0; }
    // `skiff --version ps`: the flag means "print version information and quit" (docker would
    // run ps; printing the version is what the flag's own description promises)
    if (first === '--version' || first === '-v') { stdout(`${name} version ${VERSION}\n`); return 0; }
    return flagError(unknownFlagMessage(first), topUsageLine(name), name);
  }
  if (target.kind === 'none') {
    stderr(`${name}: unknown command: ${name} ${first}\n\nRun '${name} --help' for more information\n`);
    return 1;
  }
  if (target.kind === 'noun') return nounAnswer(name, target.noun, rest.slice(1), width);
  const scan = scanArgs(commandSpec(target.command), rest.slice(target.path.length), !isProxy(target.command));
  if (scan.kind === 'help') return answerHelp(target);
  if (scan.kind === 'flag-error') return flagError(scan.message, usageLine(name, target.path, target.command), commandPath(name, target.path));
  return undefined;
}

/** `skiff VERB --help` for TARGET, on stdout. */
export function answerHelp(target: Extract<Target, { kind: 'command' }>): number {
  stdout(commandHelp(programName(), target.path, target.command, helpWidth()));
  return 0;
}

function isProxy(cls: CommandClass): boolean {
  return commandSpec(cls).args.rest?.proxy ?? false;
}

function nounAnswer(name: ProgramName, noun: string, rest: readonly string[], width: number): number {
  // Docker prints a bare noun's help on stderr (it is also a usage error), --help's on stdout.
  if (rest.length === 0) { stderr(nounHelp(name, noun)); return 0; }
  if (isHelpFlag(rest[0])) { stdout(nounHelp(name, noun)); return 0; }
  if (rest[0].startsWith('-')) return flagError(unknownFlagMessage(rest[0]), `${name} ${noun}`, `${name} ${noun}`);
  stderr(`${name}: unknown command: ${name} ${noun} ${rest[0]}\n\nUsage:  ${name} ${noun}\n\nRun '${name} ${noun} --help' for more information\n`);
  return 1;
}

/** `skiff help [COMMAND...]`. */
function helpTopic(name: ProgramName, words: readonly string[], width: number): number {
  if (words.length === 0) { stdout(topHelp(name, width)); return 0; }
  const t = resolveTarget(words);
  if (t.kind === 'command' && t.path.length === words.length) { stdout(commandHelp(name, t.path, t.command, width)); return 0; }
  if (t.kind === 'noun' && words.length === 1) { stdout(nounHelp(name, t.noun)); return 0; }
  const known = t.kind === 'command' ? t.path.length : t.kind === 'noun' ? 1 : 0;
  stderr(`unknown help topic: ${words.slice(known).join(' ')}\n`);
  return 1;
}

/**
 * Clipanion refused the arguments of a command. Read them as pflag does: a bad flag or a wrong
 * number of arguments is reported as Docker does; arguments pflag accepts are rewritten into
 * clipanion's spelling and parsed again. Returns the command to run, or the exit code.
 */
export function explainParseError(cli: Cli, rest: readonly string[], target: Extract<Target, { kind: 'command' }>, err: unknown):
  { command: Command } | { code: number } {
  const name = programName();
  const spec = commandSpec(target.command);
  const usage = usageLine(name, target.path, target.command);
  const where = commandPath(name, target.path);
  const scan = scanArgs(spec, rest.slice(target.path.length), !isProxy(target.command));
  if (scan.kind === 'flag-error') return { code: flagError(scan.message, usage, where) };
  if (scan.kind === 'ok') {
    const arity = arityError(spec, scan.positionals.length);
    if (arity) {
      stderr(`${name}: '${where}' ${arity.message}\n\nUsage:  ${usage}\n\n${arity.hint} '${where} --help' for more information\n`);
      return { code: 1 };
    }
    try {
      return { command: cli.process([...target.path, ...scan.normalized]) };
    } catch (again) {
      err = again;
    }
  }
  // What pflag would accept but clipanion still refuses (a value its validator rejects).
  const first = String((err as Error)?.message ?? err).split('\n').find((l) => l.trim()) ?? 'invalid arguments';
  return { code: flagError(first.replace(/^Unknown Syntax Error: /, '').replace(/^Usage Error: /, ''), usage, where) };
}

/**
 * Docker's "requires at least 1 argument" for a command whose positionals are optional only
 * because a flag can stand in for them (Podman's --all on rm, stop, kill, ...): exit 1.
 */
export function missingArgument(path: readonly string[], cls: CommandClass): number {
  const name = programName();
  const where = commandPath(name, path);
  stderr(`${name}: '${where}' requires at least 1 argument\n\nUsage:  ${usageLine(name, path, cls)}\n\nSee '${where} --help' for more information\n`);
  return 1;
}
