import type { SkiffError } from '../../errors';
import type { SkiffCommand } from '../base';
import { reportError } from './errors';
import { renderInspect } from './render';
import { writeStdout } from './stdout';

/**
 * Print what inspect found (a JSON array, or each object through --format), then one line per
 * target that failed, the way every error is reported; exit 1 when any did, as Docker.
 */
export function reportInspect(cmd: SkiffCommand, r: { found: readonly object[]; errors: readonly SkiffError[] }, format?: string): number {
  const { text, errors } = renderInspect(r.found, format);
  writeStdout(text);
  let code = 0;
  for (const e of [...r.errors, ...errors]) {
    const c = reportError(cmd.context.stderr, e, cmd.errorContext);
    if (code === 0) code = c;
  }
  return code;
}
