import { SkiffCommand } from '../base';

/** Print what inspect found, then its errors as Docker does ("Error: ..." lines, exit 1). */
export function reportInspect(cmd: SkiffCommand, r: { stdout: string; errors: string[] }): number {
  cmd.context.stdout.write(r.stdout);
  for (const e of r.errors) cmd.context.stderr.write(`Error: ${e}\n`);
  return r.errors.length ? 1 : 0;
}
