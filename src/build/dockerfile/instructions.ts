/**
 * One logical line → one typed Instruction, with BuildKit's rules for each instruction's
 * arguments: JSON (exec) form or shell form, `key=value` pairs with the legacy `ENV key value`
 * form, the flags each instruction accepts, heredoc sources of COPY/ADD. Arguments stay as
 * written: expansion happens while executing (expand.ts). Errors are BuildErrors naming the
 * file and line.
 */
import { BuildError } from '../../errors';
import { parseGoDuration } from '../../util/format';
import { extractFlags, parseFlags, type FlagKind, type ParsedFlags } from './flags';
import { heredocName, splitFirstWord, type LogicalLine } from './lines';
import { parseMount } from './run-mount';
import type {
  Command, CopyInstruction, Heredoc, HealthcheckOptions, Instruction, SourceLocation,
} from './types';

/** Every instruction Docker knows, for the "did you mean" of an unknown one. */
export const INSTRUCTIONS = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
] as const;

const FLAGS: Record<string, Record<string, FlagKind>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', checksum: 'string', 'keep-git-dir': 'bool', exclude: 'strings', unpack: 'bool' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

/** `--network` values RUN accepts (BuildKit's). */
const NETWORKS = new Set(['default', 'none', 'host']);

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** An argument error: the instruction parser turns it into a BuildError at the line. */
class ArgumentError extends Error {}

function fail(message: string): never {
  throw new ArgumentError(message);
}

/** Levenshtein distance, for suggesting what a typo meant. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

export function unknownInstructionMessage(word: string): string {
  const upper = word.toUpperCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of INSTRUCTIONS) {
    const dist = editDistance(upper, name);
    if (dist < bestDistance) [best, bestDistance] = [name, dist];
  }
  const hint = best && bestDistance <= Math.max(1, Math.floor(upper.length / 3)) ? ` (did you mean ${best.toLowerCase()}?)` : '';
  return `unknown instruction: ${word}${hint}`;
}

/**
 * A JSON array of strings, or undefined when the text is not one. Docker quietly takes text
 * that only looks like JSON as shell form; text that plainly meant to be an exec form
 * (`["a", 'b']`, `["a" "b"]`, an unclosed bracket) is refused here, because as shell form it
 * would fail later, inside the container, with a far less clear message.
 */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    // a quote right after the bracket, or a quoted word and a comma: a JSON array was meant
    // (`[ "$A" = x ]` stays a shell test, `[not json` stays shell form, as in Docker)
    const meantJson = /^\[["']/.test(t) || /^\[\s*(["'])[^"']*\1\s*,/.test(t);
    if (meantJson) fail(`malformed JSON in exec form: ${t} (use double quotes and commas, as ["executable", "arg"])`);
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === 'string')) fail('when using JSON array syntax, arrays must be comprised of strings only');
  return value as string[];
}

function command(rest: string): Command {
  const args = parseJsonArray(rest);
  return args ? { form: 'exec', args } : { form: 'shell', text: rest };
}

/**
 * The words of `rest` as BuildKit's parseWords splits them: at whitespace outside quotes, the
 * quotes and escape characters KEPT (they are removed during expansion).
 */
export function splitWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  const chars = Array.from(rest);
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i];
    if (!quote && /\s/.test(ch)) {
      if (inWord && (blankOk || word.length > 0)) words.push(word);
      word = '';
      inWord = false;
      blankOk = false;
      continue;
    }
    inWord = true;
    if (!quote && (ch === '"' || ch === "'")) {
      quote = ch;
      blankOk = true;
    } else if (quote && ch === quote) {
      quote = '';
    } else if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) continue;
      word += ch;
      ch = chars[++i];
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}

/** ENV/LABEL: `k=v k2="v 2"` pairs, or the legacy `KEY the value` form (one pair, the rest as value). */
function nameValuePairs(rest: string, instruction: string, escape: string): [string, string][] {
  const words = splitWords(rest, escape);
  if (words.length === 0) fail(`${instruction} requires at least one argument`);
  if (!words[0].includes('=')) {
    const [key, value] = splitFirstWord(rest);
    if (value === '') fail(`${instruction} must have two arguments`);
    return [[key, value]];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) fail(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    if (eq === 0) fail(`${instruction} names can not be blank`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** COPY/ADD arguments: a JSON array or whitespace-separated words, the last one the destination. */
function sourcesAndDest(rest: string, kind: 'COPY' | 'ADD', heredocs: Heredoc[]): { sources: string[]; dest: string; heredocs: Heredoc[] } {
  const args = parseJsonArray(rest) ?? (rest === '' ? [] : rest.split(/[\t\v\f\r ]+/));
  if (args.length < 2) fail(`${kind} requires at least two arguments, but only one was provided. Destination could not be determined`);
  const dest = args[args.length - 1];
  if (heredocName(dest) !== undefined) fail(`${kind} cannot accept a heredoc as a destination`);
  const sources = args.slice(0, -1).map((s) => heredocName(s) ?? s);
  return { sources, dest, heredocs };
}

function duration(flags: ParsedFlags, name: string): number | undefined {
  const v = flags.strings.get(name);
  if (v === undefined) return undefined;
  const ns = parseGoDuration(v);
  if (ns === undefined) fail(`time: invalid duration "${v}"`);
  if (ns === 0) return 0;
  if (ns < 1e6) fail(`Interval "${name}" cannot be less than 1ms`);
  return ns;
}

function healthcheck(rest: string, flags: ParsedFlags): { test: string[] | null; options: HealthcheckOptions } {
  const [word, cmd] = splitFirstWord(rest);
  if (word === '') fail('HEALTHCHECK requires at least one argument');
  const type = word.toUpperCase();
  if (type === 'NONE') {
    if (cmd !== '') fail('HEALTHCHECK NONE takes no arguments');
    return { test: null, options: {} };
  }
  if (type !== 'CMD') fail(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const c = command(cmd);
  if ((c.form === 'exec' && c.args.length === 0) || (c.form === 'shell' && c.text === '')) fail('Missing command after HEALTHCHECK CMD');
  const options: HealthcheckOptions = {};
  const set = (key: keyof HealthcheckOptions, v: number | undefined) => { if (v !== undefined) options[key] = v; };
  set('interval', duration(flags, 'interval'));
  set('timeout', duration(flags, 'timeout'));
  set('startPeriod', duration(flags, 'start-period'));
  set('startInterval', duration(flags, 'start-interval'));
  const retries = flags.strings.get('retries');
  if (retries !== undefined) {
    if (!/^-?\d+$/.test(retries)) fail(`strconv.ParseInt: parsing "${retries}": invalid syntax`);
    if (Number(retries) < 0) fail(`--retries cannot be negative (${retries})`);
    options.retries = Number(retries);
  }
  return { test: c.form === 'exec' ? ['CMD', ...c.args] : ['CMD-SHELL', c.text], options };
}

function exactlyOne(rest: string, instruction: string): string {
  if (rest === '') fail(`${instruction} requires exactly one argument`);
  return rest;
}

/** The instruction of a text (`RUN echo hi`), flags checked. Throws ArgumentError. */
function parseText(text: string, heredocs: Heredoc[], loc: SourceLocation, escape: string, original: string): Instruction {
  const [word, afterWord] = splitFirstWord(text);
  const kind = word.toUpperCase();
  if (!(INSTRUCTIONS as readonly string[]).includes(kind)) fail(unknownInstructionMessage(word));
  // ONBUILD's own argument is a whole instruction: its flags belong to the trigger
  const extracted = kind === 'ONBUILD' ? { flags: [], rest: afterWord } : extractFlags(afterWord, escape);
  const flags = parseFlags(extracted.flags, FLAGS[kind] ?? {});
  const rest = extracted.rest;
  const base = { loc, text: original };
  switch (kind) {
    case 'FROM': {
      const args = rest === '' ? [] : rest.split(/[\t\v\f\r ]+/);
      let as: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        as = args[2].toLowerCase();
        if (!VALID_STAGE_NAME.test(as)) fail(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
      } else if (args.length !== 1) fail('FROM requires either one or three arguments');
      return { ...base, kind, image: args[0], as, platform: flags.strings.get('platform') };
    }
    case 'RUN': {
      const network = flags.strings.get('network');
      if (network !== undefined && !NETWORKS.has(network)) fail(`unsupported network mode "${network}" (use default, none or host)`);
      const security = flags.strings.get('security');
      if (security !== undefined && security !== 'sandbox' && security !== 'insecure') fail(`unsupported security mode "${security}"`);
      const mounts = (flags.lists.get('mount') ?? []).map((m) => {
        try {
          return parseMount(m);
        } catch (e) {
          return fail((e as Error).message);
        }
      });
      const c = command(rest);
      if (c.form === 'shell' && c.text === '' && heredocs.length === 0) fail('RUN requires at least one argument');
      return { ...base, kind, command: c, mounts, network, security, heredocs: c.form === 'shell' ? heredocs : [] };
    }
    case 'COPY':
    case 'ADD': {
      const sd = sourcesAndDest(rest, kind, heredocs);
      const instr: CopyInstruction = {
        ...base, kind, sources: sd.sources, dest: sd.dest, from: flags.strings.get('from'),
        chown: flags.strings.get('chown'), chmod: flags.strings.get('chmod'),
        link: flags.bools.get('link') ?? false, parents: flags.bools.get('parents') ?? false,
        checksum: flags.strings.get('checksum'), exclude: flags.lists.get('exclude') ?? [], heredocs: sd.heredocs,
      };
      if (instr.from === '') fail('COPY --from requires a stage name, index or image');
      return instr;
    }
    case 'ENV':
      return { ...base, kind, pairs: nameValuePairs(rest, kind, escape) };
    case 'LABEL':
      return { ...base, kind, pairs: nameValuePairs(rest, kind, escape) };
    case 'ARG': {
      const words = splitWords(rest, escape);
      if (words.length === 0) fail('ARG requires at least one argument');
      return {
        ...base, kind, args: words.map((w) => {
          const eq = w.indexOf('=');
          if (eq === 0) fail('ARG names can not be blank');
          return eq < 0 ? { name: w } : { name: w.slice(0, eq), default: w.slice(eq + 1) };
        }),
      };
    }
    case 'WORKDIR':
      return { ...base, kind, path: exactlyOne(rest, kind) };
    case 'USER':
      return { ...base, kind, user: exactlyOne(rest, kind) };
    case 'STOPSIGNAL':
      return { ...base, kind, signal: exactlyOne(rest, kind) };
    case 'MAINTAINER':
      return { ...base, kind, name: exactlyOne(rest, kind) };
    case 'CMD':
    case 'ENTRYPOINT':
      return { ...base, kind, command: command(rest) };
    case 'SHELL': {
      const args = parseJsonArray(rest);
      if (rest === '' || (args && args.length === 0)) fail('SHELL requires at least one argument');
      if (!args) fail('SHELL requires the arguments to be in JSON form');
      return { ...base, kind, shell: args };
    }
    case 'EXPOSE': {
      if (rest === '') fail('EXPOSE requires at least one argument');
      return { ...base, kind, ports: rest.split(/[\t\v\f\r ]+/) };
    }
    case 'VOLUME': {
      const paths = parseJsonArray(rest) ?? (rest === '' ? [] : rest.split(/[\t\v\f\r ]+/));
      if (paths.length === 0) fail('VOLUME requires at least one argument');
      if (paths.some((p) => p.trim() === '')) fail('VOLUME specified can not be an empty string');
      return { ...base, kind, paths: paths.map((p) => p.trim()) };
    }
    case 'HEALTHCHECK':
      return { ...base, kind, ...healthcheck(rest, flags) };
    case 'ONBUILD': {
      const [triggerWord] = splitFirstWord(rest);
      const trigger = triggerWord.toUpperCase();
      if (trigger === '') fail('ONBUILD requires at least one argument');
      if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
      // the trigger as the image config stores it: its text, then each heredoc body and end word
      const expression = rest + heredocs.map((h) => `\n${h.content}${h.name}`).join('');
      return { ...base, kind, trigger: parseText(rest, heredocs, loc, escape, expression) };
    }
  }
  return fail(unknownInstructionMessage(word));
}

/** Parses one logical line of a Dockerfile. Throws BuildError naming file and line. */
export function parseInstruction(line: LogicalLine, file: string, escape: string): Instruction {
  const loc = { file, line: line.line };
  try {
    return parseText(line.text, line.heredocs, loc, escape, line.text.trim());
  } catch (e) {
    if (e instanceof ArgumentError || (e instanceof Error && !(e instanceof BuildError) && e.constructor === Error)) {
      throw new BuildError(e.message, loc);
    }
    throw e;
  }
}
