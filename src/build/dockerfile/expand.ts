/**
 * expandInstruction: the words of an instruction with their quotes removed and variables
 * replaced, as BuildKit does right before it executes the instruction. Which words: FROM's
 * image and platform; COPY/ADD sources, destination, --chown, --chmod, --checksum, --exclude
 * and the bodies of heredocs with an unquoted delimiter (variables only, quotes kept); ENV and
 * LABEL keys and values; ARG names and defaults; EXPOSE (each word may expand to several);
 * VOLUME, WORKDIR, USER, STOPSIGNAL; RUN --mount values. Not expanded, as in Docker: RUN,
 * CMD, ENTRYPOINT, HEALTHCHECK, SHELL commands (the shell does it), ONBUILD triggers (expanded
 * when they run in the child build), MAINTAINER, and `--from` (a literal stage or image).
 * All of one instruction is expanded against the variables as they were before it, so
 * `ENV a=1 b=$a` sees the old a, as in Docker.
 */
import { BuildError } from '../../errors';
import { checkMount } from './run-mount';
import { expandText, expandWord, WordSyntaxError, type VariableLookup } from './shell-lex';
import type { BuildWarning, Instruction, RunMount } from './types';

export interface Expanded<T extends Instruction> {
  instruction: T;
  /** Variables the instruction used that were not set: Docker warns (UndefinedVar), in order. */
  unset: string[];
}

/**
 * The instruction with its words expanded against `vars` (the stage's ENV over its ARGs in
 * scope). Throws BuildError at the instruction's line for a bad substitution (`${A:?msg}` of
 * an unset A, an unclosed `${`).
 */
export function expandInstruction<T extends Instruction>(instr: T, vars: VariableLookup, escape: '\\' | '`' = '\\'): Expanded<T> {
  const unset = new Set<string>();
  const note = (names: Set<string>) => names.forEach((n) => unset.add(n));
  const word = (w: string): string => {
    const r = expandWord(w, vars, escape);
    note(r.unset);
    return r.word;
  };
  const opt = (w: string | undefined) => (w === undefined ? undefined : word(w));
  const words = (w: string): string[] => {
    const r = expandWord(w, vars, escape);
    note(r.unset);
    return r.words;
  };
  try {
    const out = expandFields(instr, word, opt, words, (text) => {
      const r = expandText(text, vars);
      note(r.unset);
      return r.word;
    });
    return { instruction: out as T, unset: [...unset] };
  } catch (e) {
    if (e instanceof WordSyntaxError) throw new BuildError(e.message, instr.loc);
    if (e instanceof Error && e.constructor === Error) throw new BuildError(e.message, instr.loc);
    throw e;
  }
}

function expandFields(
  instr: Instruction,
  word: (w: string) => string,
  opt: (w: string | undefined) => string | undefined,
  words: (w: string) => string[],
  body: (text: string) => string,
): Instruction {
  switch (instr.kind) {
    case 'FROM':
      return { ...instr, image: word(instr.image), platform: opt(instr.platform) };
    case 'COPY':
    case 'ADD': {
      const heredocNames = new Set(instr.heredocs.map((h) => h.name));
      return {
        ...instr,
        sources: instr.sources.map((s) => (heredocNames.has(s) ? s : word(s))),
        dest: word(instr.dest),
        chown: opt(instr.chown),
        chmod: opt(instr.chmod),
        checksum: opt(instr.checksum),
        exclude: instr.exclude.map(word),
        heredocs: instr.heredocs.map((h) => (h.expand ? { ...h, content: body(h.content) } : h)),
      };
    }
    case 'ENV':
    case 'LABEL':
      return { ...instr, pairs: instr.pairs.map(([k, v]) => [word(k), word(v)] as [string, string]) };
    case 'ARG':
      return { ...instr, args: instr.args.map((a) => ({ name: word(a.name), default: opt(a.default) })) };
    case 'EXPOSE':
      return { ...instr, ports: instr.ports.flatMap(words) };
    case 'VOLUME':
      return { ...instr, paths: instr.paths.map(word) };
    case 'WORKDIR':
      return { ...instr, path: word(instr.path) };
    case 'USER':
      return { ...instr, user: word(instr.user) };
    case 'STOPSIGNAL':
      return { ...instr, signal: word(instr.signal) };
    case 'RUN':
      return { ...instr, mounts: instr.mounts.map((m) => expandMount(m, opt)) };
    default:
      return instr;
  }
}

function expandMount(m: RunMount, opt: (w: string | undefined) => string | undefined): RunMount {
  const out: RunMount = {
    ...m, target: opt(m.target), source: opt(m.source), id: opt(m.id), mode: opt(m.mode),
    uid: opt(m.uid), gid: opt(m.gid), size: opt(m.size),
    sharing: opt(m.sharing)?.toLowerCase() as RunMount['sharing'],
  };
  for (const key of Object.keys(out) as (keyof RunMount)[]) if (out[key] === undefined) delete out[key];
  checkMount(out);
  return out;
}

/**
 * Docker's UndefinedVar warning for the variables an instruction used unset. Names declared
 * by an ARG of the stage (`declared`, e.g. ArgScope.isDeclared) are not warned about even
 * when they have no value, as BuildKit.
 */
export function undefinedVariableWarnings(instr: Instruction, unset: string[], declared: (name: string) => boolean = () => false): BuildWarning[] {
  return unset.filter((name) => !declared(name)).map((name) => ({ file: instr.loc.file, line: instr.loc.line, rule: 'UndefinedVar', message: `UndefinedVar: Usage of undefined variable '$${name}'` }));
}
