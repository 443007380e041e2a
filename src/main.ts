import { extractGlobals, invalidLogLevel, setGlobals } from './cli/globals';
import { writeStdout } from './cli/output/stdout';
import { asProgram, programName } from './cli/program';
import { versionLine } from './cli/version-flag';

/**
 * The commands' stderr, saying "docker" where it says "skiff" when skiff was run as docker.
 * stdout is left alone: it carries data (save's tar stream, inspect's JSON).
 */
function programStderr(): NodeJS.WriteStream {
  if (programName() === 'skiff') return process.stderr;
  const target = process.stderr;
  return new Proxy(target, {
    get(t, key) {
      if (key === 'write') {
        return (chunk: unknown, ...rest: unknown[]) =>
          (t.write as (...a: unknown[]) => boolean)(typeof chunk === 'string' ? asProgram(chunk) : chunk, ...rest);
      }
      const v = Reflect.get(t, key, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

/**
 * clipanion's default context with skiff's stderr, all stdio left as getters: process.stdin,
 * stdout and stderr each build a stream (tty, net or fs.ReadStream, loading those modules) on
 * first access, which a command that never uses one (`run` without -i, `rm`) need not pay for.
 * Spreading the context would call the getters (see also build/lazy-clipanion.mjs).
 */
function commandContext<T extends object>(defaults: T): T & { stderr: NodeJS.WriteStream } {
  let stderr: NodeJS.WriteStream | undefined;
  return Object.defineProperties({}, {
    ...Object.getOwnPropertyDescriptors(defaults),
    stderr: { get: () => (stderr ??= programStderr()), enumerable: true, configurable: true },
  }) as T & { stderr: NodeJS.WriteStream };
}

type SkiffCommandInstance = InstanceType<typeof import('./cli/base').SkiffCommand>;

// Help, and the command line's own errors, are answered by cli/help/, loaded only then.
const asksForHelp = (a: string) => a === '--help' || a === '-h';

/**
 * The command line parsed with every command known (cli/index.ts): answers help, management
 * nouns, unknown commands and usage errors itself (exiting), else returns the command to run.
 */
async function parseWithAllCommands(rest: string[]): Promise<SkiffCommandInstance> {
  const { buildCli, resolveTarget } = await import('./cli/index');
  const { SkiffCommand } = await import('./cli/base');
  const target = resolveTarget(rest);
  if (target.kind !== 'command' || rest.some(asksForHelp)) {
    const { answerWithoutRunning } = await import('./cli/help/dispatch');
    const code = answerWithoutRunning(rest, target);
    if (code !== undefined) process.exit(code);
  }
  if (target.kind !== 'command') throw new Error('unreachable: answerWithoutRunning answers every non-command');
  const cli = buildCli(rest);
  let command;
  try {
    command = cli.process(rest);
  } catch (e) {
    const { explainParseError } = await import('./cli/help/dispatch');
    const r = explainParseError(cli, rest, target, e);
    if ('code' in r) process.exit(r.code);
    command = r.command;
  }
  if (!(command instanceof SkiffCommand)) {
    // clipanion's own help command: it saw a help flag that the scan above did not take as one.
    const { answerHelp } = await import('./cli/help/dispatch');
    process.exit(answerHelp(target));
  }
  return command;
}

async function main(): Promise<void> {
  const parsed = extractGlobals(process.argv.slice(2));
  if ('error' in parsed) {
    const { globalFlagError } = await import('./cli/help/dispatch');
    process.exit(globalFlagError(parsed.error));
  }
  const { globals, rest } = parsed;
  if (invalidLogLevel(globals.logLevel)) {
    // docker-cli's words and exit code (cli/flags SetLogLevel), before anything runs
    process.stderr.write(`Unable to parse logging level: ${globals.logLevel}\n`);
    process.exit(1);
  }
  setGlobals(globals);
  const debug = /^(debug|trace)$/i.test(globals.logLevel ?? '');
  const version = versionLine(rest);
  if (version !== undefined) {
    writeStdout(version);
    return;
  }
  const { Cli } = await import('clipanion');
  const { SkiffCommand } = await import('./cli/base');
  // The command named, with its own module only (cli/one-command.ts); help, nouns, unknown
  // commands and usage errors go the full way below.
  const named = rest.some(asksForHelp) ? undefined : await (await import('./cli/one-command')).parseNamedCommand(rest);
  const command = named instanceof SkiffCommand ? named : await parseWithAllCommands(rest);
  // clipanion's run() would print our errors with a stack trace and exit 1: run skiff's own
  // commands directly so that failures keep their one line and Docker exit code.
  command.context = commandContext(Cli.defaultContext);
  try {
    const code = await command.validateAndExecute();
    process.exit(code ?? 0);
  } catch (e) {
    // the one error path: loaded only when a command failed
    const { reportError } = await import('./cli/output/errors');
    process.exit(reportError(process.stderr, e, command.errorContext, debug));
  }
}

// The SEA's startup snapshot (build/build.mjs defines __SKIFF_SEA_SNAPSHOT__ for that bundle only;
// docs/PERFORMANCE.md, "Startup snapshot"): while it is built, only modules that read nothing of
// the process at load are evaluated (clipanion and the command classes: their evaluation and the
// bytecode compiled for it land in the snapshot); main runs after deserialisation, when argv,
// env and stdio are the real ones. Every other bundle dead-code-eliminates this branch, so it
// loads no `v8` module (streams and all, ~30 built-ins) at start-up.
declare const __SKIFF_SEA_SNAPSHOT__: boolean | undefined;
if (typeof __SKIFF_SEA_SNAPSHOT__ !== 'undefined' && __SKIFF_SEA_SNAPSHOT__) {
  const { startupSnapshot } = process.getBuiltinModule('node:v8') as typeof import('node:v8');
  startupSnapshot.setDeserializeMainFunction(() => void main());
  void (async () => {
    await import('clipanion');
    await import('./cli/index');
    await import('./cli/base');
  })();
} else {
  void main();
}
