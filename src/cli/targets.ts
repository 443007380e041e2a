import { asSkiffError, type SkiffError } from '../errors';
import type { SkiffCommand } from './base';
import { reportError } from './output/errors';

export interface PerTargetOptions<T> {
  /** after a target succeeded: print what it did (rm prints the name, rmi its Untagged/Deleted lines) */
  done?: (target: string, result: T) => void;
  /** a failure reported but not counted (Docker's `rm -f` on a missing container) */
  tolerate?: (e: SkiffError) => boolean;
}

/**
 * Run `act` for each target in order, as Docker's multi-target verbs (rm, rmi, stop, kill,
 * wait, pause...): a failure is reported on stderr on its own line, the way every error is
 * (output/errors.ts), and the others go on. Returns the exit code: 0, or that of the first
 * failure (Docker joins the errors and exits 1 for daemon errors).
 */
export async function forEachTarget<T>(cmd: SkiffCommand, targets: readonly string[],
  act: (target: string) => Promise<T> | T, o: PerTargetOptions<T> = {}): Promise<number> {
  let code = 0;
  for (const target of targets) {
    let result: T;
    try {
      result = await act(target);
    } catch (e) {
      const err = asSkiffError(e);
      const c = reportError(cmd.context.stderr, err, cmd.errorContext);
      if (!o.tolerate?.(err) && code === 0) code = c;
      continue;
    }
    o.done?.(target, result);
  }
  return code;
}
