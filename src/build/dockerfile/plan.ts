/**
 * Stage planning: which stages a build needs and in which order. The target (the last stage,
 * or --target) needs its base when that is another stage, and every stage its COPY --from and
 * RUN --mount from= name (by name or index); --build-context names stand in for stages and
 * images. The plan lists only the needed stages, dependencies first (a stage nothing needs is
 * never built), with each reference resolved: another stage, a named build context, an image,
 * or scratch. FROM lines are expanded with the global args here, as BuildKit does.
 */
import { BuildError } from '../../errors';
import { ArgScope, BuildArgs, globalScope } from './args';
import { editDistance } from './instructions';
import { linterFor } from './lint';
import { expandWordAt } from './shell-lex';
import type { BuildWarning, CopyInstruction, Dockerfile, Instruction, RunMount, Stage } from './types';

/** What a FROM, a COPY --from or a RUN --mount from= refers to. */
export type SourceRef =
  | { kind: 'stage'; index: number }
  | { kind: 'context'; name: string }
  | {
    kind: 'image';
    ref: string;
    /**
     * For a COPY --from / --mount from= that names no stage but could have meant one (a bare
     * name): what to add when the image cannot be found, e.g. `no build stage named "biuld"
     * (did you mean build?)`. Docker takes it as an image too, and fails on the pull.
     */
    notAStage?: string;
  }
  | { kind: 'scratch' };

export interface StagePlan {
  stage: Stage;
  /** FROM resolved: image reference expanded with the global args. */
  base: SourceRef;
  /** --platform of the FROM, expanded. */
  platform?: string;
  /** What each COPY --from and RUN --mount from= of the stage refers to. */
  refs: Map<CopyInstruction | RunMount, SourceRef>;
}

export interface BuildPlan {
  dockerfile: Dockerfile;
  /** The needed stages, each after every stage it needs; the target last. */
  stages: StagePlan[];
  /** The global scope after the ARGs before the first FROM (stages inherit from it). */
  globals: ArgScope;
  buildArgs: BuildArgs;
  /** Parser warnings, then the planner's (FROM with an undeclared arg). */
  warnings: BuildWarning[];
}

export interface PlanOptions {
  /** --target: a stage name (any case). The last stage when absent. */
  target?: string;
  /** --build-arg NAME=VALUE pairs. */
  buildArgs?: ReadonlyMap<string, string>;
  /** --build-context names (`name=dir`): they replace a stage or an image of that name. */
  contexts?: ReadonlySet<string>;
  /** The platform args (platformArgs()): set in the global scope without a declaration. */
  automaticArgs?: ReadonlyMap<string, string>;
}

/** A name or index as COPY --from / --mount from= give it, resolved against the stages. */
function resolveName(value: string, df: Dockerfile, contexts: ReadonlySet<string>, loc: Instruction['loc'], current: number): SourceRef {
  if (/^\d+$/.test(value)) {
    const index = Number(value);
    if (index >= current) {
      throw new BuildError(`invalid from flag value ${value}: refers to current or future build stage`, loc);
    }
    return { kind: 'stage', index };
  }
  const lower = value.toLowerCase();
  if (contexts.has(value)) return { kind: 'context', name: value };
  const stage = df.stages.find((s) => s.name === lower);
  if (stage) return { kind: 'stage', index: stage.index };
  if (value.includes('$')) {
    throw new BuildError('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround', loc);
  }
  if (lower === 'scratch') return { kind: 'scratch' };
  if (/^[a-z0-9][a-z0-9_.-]*$/i.test(value)) return { kind: 'image', ref: value, notAStage: notAStageHint(lower, df) };
  return { kind: 'image', ref: value };
}

/** Why a bare --from name is no stage, with the nearest stage name when one is close. */
function notAStageHint(name: string, df: Dockerfile): string {
  const names = df.stages.map((s) => s.name).filter((n): n is string => n !== undefined);
  const near = names.map((n) => [n, editDistance(name, n)] as const).filter(([, d]) => d <= 2).sort((a, b) => a[1] - b[1])[0];
  return `no build stage named "${name}"${near ? ` (did you mean ${near[0]}?)` : ''}`;
}


/** The stage instructions that name another source: COPY/ADD --from, RUN --mount from=. */
function* references(stage: Stage): Generator<{ key: CopyInstruction | RunMount; value: string; loc: Instruction['loc'] }> {
  for (const instr of stage.instructions) {
    if ((instr.kind === 'COPY' || instr.kind === 'ADD') && instr.from !== undefined) yield { key: instr, value: instr.from, loc: instr.loc };
    if (instr.kind === 'RUN') {
      for (const m of instr.mounts) if (m.from !== undefined) yield { key: m, value: m.from, loc: instr.loc };
    }
  }
}

/** Plans a build: the stages the target needs, in dependency order. Throws BuildError. */
export function planBuild(df: Dockerfile, options: PlanOptions = {}): BuildPlan {
  const contexts = options.contexts ?? new Set<string>();
  const buildArgs = new BuildArgs(options.buildArgs ?? new Map());
  const { scope: globals, lookup } = globalScope(df, buildArgs, options.automaticArgs);
  const lint = linterFor(df);

  const plans = df.stages.map((stage): StagePlan => {
    const r = expandWordAt(stage.from.image, lookup, df.directives.escape, stage.from.loc);
    for (const name of r.unset) {
      lint.report('UndefinedArgInFrom', stage.from.loc, `FROM argument '${name}' is not declared`);
    }
    const image = r.word;
    if (image === '') throw new BuildError(`base name (${stage.from.image}) should not be blank`, stage.from.loc);
    const platform = stage.from.platform === undefined ? undefined : expandWordAt(stage.from.platform, lookup, df.directives.escape, stage.from.loc).word;
    let base: SourceRef;
    const lower = image.toLowerCase();
    const earlier = df.stages.find((s) => s.name === lower && s.index < stage.index);
    if (contexts.has(image)) base = { kind: 'context', name: image };
    else if (earlier) base = { kind: 'stage', index: earlier.index };
    else if (df.stages.some((s) => s.name === lower)) {
      throw new BuildError(`circular dependency detected on stage: ${lower}`, stage.from.loc);
    } else if (lower === 'scratch') base = { kind: 'scratch' };
    else base = { kind: 'image', ref: image };
    const refs = new Map<CopyInstruction | RunMount, SourceRef>();
    for (const ref of references(stage)) refs.set(ref.key, resolveName(ref.value, df, contexts, ref.loc, stage.index));
    return { stage, base, platform, refs };
  });

  const failure = lint.failure();
  if (failure) throw failure;
  const warnings: BuildWarning[] = [...(df.warnings ?? []), ...lint.warnings];
  let target = plans[plans.length - 1];
  if (options.target !== undefined) {
    const found = plans.find((p) => p.stage.name === options.target!.toLowerCase());
    if (!found) throw new BuildError(`target stage "${options.target}" could not be found`);
    target = found;
  }

  // depth-first from the target: a stage goes after all it needs; a stage met again while
  // still open is a cycle (COPY --from a later stage that copies from this one)
  const ordered: StagePlan[] = [];
  const state = new Map<number, 'open' | 'done'>();
  const visit = (plan: StagePlan, via: StagePlan | undefined) => {
    const s = state.get(plan.stage.index);
    if (s === 'done') return;
    if (s === 'open') {
      const name = plan.stage.name ?? String(plan.stage.index);
      throw new BuildError(`circular dependency detected on stage: ${name}`, (via ?? plan).stage.from.loc);
    }
    state.set(plan.stage.index, 'open');
    const needs = [plan.base, ...plan.refs.values()];
    for (const ref of needs) if (ref.kind === 'stage') visit(plans[ref.index], plan);
    state.set(plan.stage.index, 'done');
    ordered.push(plan);
  };
  visit(target, undefined);
  return { dockerfile: df, stages: ordered, globals, buildArgs, warnings };
}

/**
 * A fresh arg scope for a stage: a bare `ARG NAME` inherits the global value, or the platform
 * arg of that name.
 */
export function stageArgScope(plan: BuildPlan, automaticArgs: ReadonlyMap<string, string> = new Map()): ArgScope {
  const outer = new Map([...automaticArgs, ...plan.globals.entries()]);
  return new ArgScope(plan.buildArgs, outer, plan.dockerfile.directives.escape);
}
