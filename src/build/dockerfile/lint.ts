/**
 * BuildKit's build checks that need only the Dockerfile (the ones that need the image or the
 * variables run in the executor: UndefinedVar through expand.ts, and in plan.ts
 * UndefinedArgInFrom). Each finding is a warning `Rule: message` at a line, shown after the
 * build as Docker does; `# check=skip=Rule1,Rule2` or `skip=all` silences rules, and
 * `# check=error=true` turns any finding into a build error ("lint violation found for
 * rules: …"), as with BuildKit.
 */
import { BuildError } from '../../errors';
import { splitFirstWord } from './lines';
import type { BuildWarning, Dockerfile, Instruction, SourceLocation, Stage } from './types';

export interface CheckConfig {
  skipAll: boolean;
  skip: Set<string>;
  error: boolean;
}

/** `# check=skip=A,B;error=true`. Throws BuildError for an option BuildKit does not know. */
export function parseCheckDirective(value: string | undefined, at?: SourceLocation): CheckConfig {
  const config: CheckConfig = { skipAll: false, skip: new Set(), error: false };
  const text = (value ?? '').trim();
  if (text === '') return config;
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new BuildError(`invalid check option "${part}"`, at);
    const key = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (key === 'skip') {
      if (v === 'all') config.skipAll = true;
      else for (const rule of v.split(',')) config.skip.add(rule.trim());
    } else if (key === 'error') {
      if (!/^(1|t|true|0|f|false)$/i.test(v)) throw new BuildError(`failed to parse check option "${part}": invalid syntax`, at);
      config.error = /^(1|t|true)$/i.test(v);
    } else if (key !== 'experimental') {
      throw new BuildError(`invalid check option "${key}"`, at);
    }
  }
  return config;
}

/** Collects the findings a check configuration lets through. */
export class Linter {
  readonly warnings: BuildWarning[] = [];
  private readonly rules = new Set<string>();

  constructor(private readonly config: CheckConfig) {}

  report(rule: string, loc: SourceLocation, message: string): void {
    if (this.config.skipAll || this.config.skip.has(rule)) return;
    this.rules.add(rule);
    this.warnings.push({ file: loc.file, line: loc.line, rule, message: `${rule}: ${message}` });
  }

  /** With `error=true`, the error that fails the build when something was found. */
  failure(): BuildError | undefined {
    if (!this.config.error || this.rules.size === 0) return undefined;
    const first = this.warnings[0];
    return new BuildError(`lint violation found for rules: ${[...this.rules].join(', ')}`, { file: first.file, line: first.line });
  }
}

const SECRET = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const NOT_SECRET = /(?:_|^)(?:public|file|version)(?:_|$)/i;
const RESERVED_STAGE_NAMES = new Set(['scratch', 'context']);

/** The instruction keyword as written (`run`, `RUN`, `Run`). */
const keyword = (instr: Instruction): string => splitFirstWord(instr.text)[0];
const isConsistent = (s: string) => s === s.toLowerCase() || s === s.toUpperCase();

function lintCasing(df: Dockerfile, lint: Linter): void {
  const all: Instruction[] = [...df.stages.flatMap((s) => [s.from, ...s.instructions])];
  let lower = 0, upper = 0;
  for (const i of all) {
    const k = keyword(i);
    if (!isConsistent(k)) continue;
    if (k === k.toLowerCase()) lower++;
    else upper++;
  }
  const majorityLower = lower > upper;
  for (const i of all) {
    const k = keyword(i);
    if (majorityLower && k !== k.toLowerCase()) lint.report('ConsistentInstructionCasing', i.loc, `Command '${k}' should match the case of the command majority (lowercase)`);
    if (!majorityLower && k !== k.toUpperCase()) lint.report('ConsistentInstructionCasing', i.loc, `Command '${k}' should match the case of the command majority (uppercase)`);
  }
}

function lintFrom(stage: Stage, lint: Linter): void {
  const words = stage.from.text.split(/\s+/).filter((w) => !w.startsWith('--'));
  if (words.length !== 4) return;
  const [from, , as, name] = words;
  if (name !== name.toLowerCase()) lint.report('StageNameCasing', stage.from.loc, `Stage name '${name}' should be lowercase`);
  const fromUpper = from === from.toUpperCase();
  if ((fromUpper && as !== as.toUpperCase()) || (!fromUpper && as !== as.toLowerCase())) {
    lint.report('FromAsCasing', stage.from.loc, `'${as}' and '${from}' keywords' casing do not match`);
  }
  if (stage.name && RESERVED_STAGE_NAMES.has(stage.name)) {
    lint.report('ReservedStageName', stage.from.loc, `Stage name should not use the same name as reserved stage "${stage.name}"`);
  }
}

function lintInstruction(instr: Instruction, lint: Linter, state: { shellSet: boolean; workdirSet: boolean; used: Map<string, Instruction> }): void {
  switch (instr.kind) {
    case 'MAINTAINER':
      lint.report('MaintainerDeprecated', instr.loc, 'Maintainer instruction is deprecated in favor of using label');
      break;
    case 'SHELL':
      state.shellSet = true;
      break;
    case 'CMD':
    case 'ENTRYPOINT':
      if (instr.command.form === 'shell' && !state.shellSet) {
        lint.report('JSONArgsRecommended', instr.loc, `JSON arguments recommended for ${instr.kind} to prevent unintended behavior related to OS signals`);
      }
      break;
    case 'WORKDIR':
      if (!state.workdirSet && !instr.path.startsWith('/') && !instr.path.startsWith('$')) {
        lint.report('WorkdirRelativePath', instr.loc, `Relative workdir "${instr.path}" can have unexpected results if the base image changes`);
      }
      state.workdirSet = true;
      break;
    case 'ENV':
    case 'LABEL': {
      const firstArg = splitFirstWord(splitFirstWord(instr.text)[1])[0];
      if (!firstArg.includes('=')) lint.report('LegacyKeyValueFormat', instr.loc, `"${instr.kind} key=value" should be used instead of legacy "${instr.kind} key value" format`);
      if (instr.kind === 'ENV') for (const [k] of instr.pairs) lintSecret('ENV', k, instr.loc, lint);
      break;
    }
    case 'ARG':
      for (const a of instr.args) lintSecret('ARG', a.name, instr.loc, lint);
      break;
    case 'EXPOSE':
      for (const p of instr.ports) {
        if (p.includes(':')) lint.report('ExposeInvalidFormat', instr.loc, `EXPOSE instruction should not define an IP address or host-port mapping, found '${p}'`);
        const proto = p.split('/')[1];
        if (proto !== undefined && proto !== proto.toLowerCase()) lint.report('ExposeProtoCasing', instr.loc, `Defined protocol '${p}' in EXPOSE instruction should be lowercase`);
      }
      break;
    default:
      break;
  }
  if (instr.kind === 'CMD' || instr.kind === 'ENTRYPOINT' || instr.kind === 'HEALTHCHECK') {
    const earlier = state.used.get(instr.kind);
    if (earlier) lint.report('MultipleInstructionsDisallowed', earlier.loc, `Multiple ${instr.kind} instructions should not be used in the same stage because only the last one will be used`);
    state.used.set(instr.kind, instr);
  }
}

function lintSecret(instruction: string, key: string, loc: SourceLocation, lint: Linter): void {
  if (SECRET.test(key) && !NOT_SECRET.test(key)) lint.report('SecretsUsedInArgOrEnv', loc, `Do not use ARG or ENV instructions for sensitive data (${instruction} "${key}")`);
}

/** A linter with the Dockerfile's own `# check=` configuration (for the executor's checks). */
export function linterFor(df: Dockerfile): Linter {
  return new Linter(parseCheckDirective(df.directives.check, { file: df.file, line: 1 }));
}

/** Runs the static checks of a parsed Dockerfile into `lint`. */
export function lintDockerfile(df: Dockerfile, lint: Linter): void {
  lintCasing(df, lint);
  for (const arg of df.globalArgs) for (const a of arg.args) lintSecret('ARG', a.name, arg.loc, lint);
  for (const stage of df.stages) {
    lintFrom(stage, lint);
    const state = { shellSet: false, workdirSet: false, used: new Map<string, Instruction>() };
    for (const instr of stage.instructions) lintInstruction(instr, lint, state);
  }
}
