import { asSkiffError, exitCodeOf, type ErrorContext } from '../../errors';
import { asProgram, programName } from '../program';

/**
 * How every failure reaches the user, from main (the command failed) and from verbs that go on
 * past a failed target (targets.ts): one line, `skiff: MESSAGE` (where Docker says
 * "Error response from daemon: MESSAGE"; "docker: ..." when run as docker), a stack trace only
 * with --log-level debug. Returns the exit code, from the table in src/errors.ts.
 */
export function reportError(stderr: { write(s: string): unknown }, e: unknown, context: ErrorContext, debug = false): number {
  const err = asSkiffError(e);
  stderr.write(`${programName()}: ${asProgram(err.message)}\n`);
  if (debug && e instanceof Error && e.stack) stderr.write(`${e.stack}\n`);
  return exitCodeOf(err, context);
}
