/**
 * The Dockerfile front end, for the executor: parse, plan, expand. See docs/ARCHITECTURE.md
 * ("Build: the front end").
 */
export { parseDockerfile } from './parser';
export { planBuild, stageArgScope, type BuildPlan, type PlanOptions, type SourceRef, type StagePlan } from './plan';
export { expandInstruction, undefinedVariableWarnings, type Expanded } from './expand';
export { ArgScope, BuildArgs, PROXY_ARGS, platformArgs, type Platform } from './args';
export { Linter, linterFor, parseCheckDirective, type CheckConfig } from './lint';
export { runScript, summarizeHeredoc, type RunScript } from './heredoc';
export type { VariableLookup } from './shell-lex';
export type * from './types';
