import { extractGlobals, setGlobals } from './cli/globals';
import { VERSION } from './cli/version';

/** One line on stderr and a Docker-style exit code; a stack trace only with --log-level debug. */
function fail(message: string, code: number, err?: unknown, debug = false): never {
  process.stderr.write(`skiff: ${message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const parsed = extractGlobals(process.argv.slice(2));
  if ('error' in parsed) fail(parsed.error, 125);
  const { globals, rest } = parsed;
  setGlobals(globals);
  const debug = globals.logLevel === 'debug';
  if (rest.length === 1 && (rest[0] === '--version' || rest[0] === '-v')) {
    process.stdout.write(`skiff version ${VERSION}\n`);
    return;
  }
  const { Cli } = await import('clipanion');
  const { buildCli } = await import('./cli/index');
  const { SkiffCommand } = await import('./cli/base');
  const cli = buildCli(rest);
  let command;
  try {
    command = cli.process(rest);
  } catch (e) {
    // Flag and syntax errors: Docker exits 125 and points at the help.
    const first = String((e as Error).message).split('\n').find((l) => l.trim()) ?? 'invalid arguments';
    const cmd = rest.find((a) => !a.startsWith('-'));
    fail(`${first.replace(/^Unknown Syntax Error: /, '')}\nSee 'skiff ${cmd ? `${cmd} ` : ''}--help'.`, 125, e, debug);
  }
  // clipanion's run() would print our errors with a stack trace and exit 1: run skiff's own
  // commands directly so that failures keep their one line and Docker exit code.
  if (command.help || !(command instanceof SkiffCommand)) process.exit(await cli.run(command, {}));
  command.context = { ...Cli.defaultContext };
  try {
    const code = await command.validateAndExecute();
    process.exit(code ?? 0);
  } catch (e) {
    const exitCode = (e as { exitCode?: number }).exitCode ?? 125;
    fail((e as Error).message, exitCode, e, debug);
  }
}

void main();
