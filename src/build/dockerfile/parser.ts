/**
 * parseDockerfile: a Dockerfile's text → the Dockerfile of types.ts (directives, the ARGs
 * before the first FROM, the stages), or one BuildError naming the file and line. Nothing is
 * expanded here (expand.ts does it while executing); stage references are resolved by plan.ts.
 */
import { BuildError } from '../../errors';
import { parseInstruction } from './instructions';
import { logicalLines } from './lines';
import { lintDockerfile, Linter, parseCheckDirective } from './lint';
import type { ArgInstruction, Dockerfile, Stage } from './types';

/**
 * Parses a Dockerfile. `file` is the name to show in errors and warnings (as the user named
 * it: `Dockerfile`, `build/Containerfile`, `-` for stdin).
 */
export function parseDockerfile(text: string, file: string): Dockerfile {
  if (text.includes('\0')) throw new BuildError(`${file} is not a text file (it contains NUL bytes)`);
  const { directives, lines, warnings } = logicalLines(text, file);
  const lint = new Linter(parseCheckDirective(directives.check, { file, line: 1 }));
  for (const w of warnings) lint.report(w.rule!, w, w.message);
  if (lines.length === 0) throw new BuildError(`the Dockerfile (${file}) cannot be empty`);
  const globalArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  for (const line of lines) {
    const instr = parseInstruction(line, file, directives.escape);
    if (instr.kind === 'FROM') {
      if (instr.as !== undefined) {
        const earlier = names.get(instr.as);
        if (earlier !== undefined) {
          throw new BuildError(`duplicate stage name "${instr.as}" (first defined on line ${stages[earlier].from.loc.line})`, instr.loc);
        }
        names.set(instr.as, stages.length);
      }
      stages.push({ index: stages.length, name: instr.as, from: instr, instructions: [] });
    } else if (stages.length === 0) {
      if (instr.kind !== 'ARG') {
        throw new BuildError(`no build stage in current context: ${instr.kind} comes before the first FROM (only ARG may)`, instr.loc);
      }
      globalArgs.push(instr);
    } else {
      stages[stages.length - 1].instructions.push(instr);
    }
  }
  if (stages.length === 0) {
    throw new BuildError('no build stage in current context: the Dockerfile has no FROM', { file, line: lines[0].line });
  }
  const df: Dockerfile = { file, directives, globalArgs, stages };
  lintDockerfile(df, lint);
  const failure = lint.failure();
  if (failure) throw failure;
  df.warnings = lint.warnings.sort((a, b) => a.line - b.line);
  return df;
}
