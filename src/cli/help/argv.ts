import { findOption, type CommandSpec, type OptionSpec } from './spec';

/**
 * A command's arguments read as Docker's flag parser (pflag) reads them, used when clipanion
 * refused them or when they ask for help: to name the first bad flag in Docker's words, and to
 * rewrite what pflag accepts and clipanion does not (`-eFOO=1`, `--rm=false`, a value starting
 * with a dash) into forms clipanion takes (`-e=FOO=1`, `--no-rm`, `--entrypoint=-x`).
 */
export type Scan =
  | { kind: 'help' }
  | { kind: 'flag-error'; message: string }
  | { kind: 'ok'; positionals: string[]; normalized: string[] };

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** `-a, --all` or `--rm`, as pflag names a flag in its messages. */
function flagLabel(short: string | undefined, long: string | undefined): string {
  return short && long ? `-${short}, --${long}` : long ? `--${long}` : `-${short}`;
}

function boolWord(spec: CommandSpec, name: string, value: string): string | { error: string } {
  const o = findOption(spec, name)!;
  if (TRUE.has(value)) return name;
  if (FALSE.has(value) && o.long[0]) return `--no-${o.long[0]}`;
  return { error: `invalid argument "${value}" for "${flagLabel(o.short, o.long[0])}" flag: strconv.ParseBool: parsing "${value}": invalid syntax` };
}

/** pflag's complaint about a value its type cannot hold (only ints are checked: strings hold anything). */
function badValue(o: OptionSpec, value: string): string | undefined {
  if (o.type !== 'int') return undefined;
  const syntax = /^[+-]?\d+$/.test(value);
  // pflag's ints are 64-bit; skiff's stop at 2^53 (a JS number), which clipanion's check says
  if (syntax && BigInt(value) >= -(2n ** 63n) && BigInt(value) < 2n ** 63n) return undefined;
  return `invalid argument "${value}" for "${flagLabel(o.short, o.long[0])}" flag: strconv.ParseInt: parsing "${value}": ${syntax ? 'value out of range' : 'invalid syntax'}`;
}

/**
 * INTERSPERSED: whether flags may follow positionals (`skiff ps a -q`); false for commands that
 * pass the rest of the line to a container (run, create), as Docker's SetInterspersed(false).
 * A help flag is reported only when no flag error comes first, as pflag stops at the first error.
 */
export function scanArgs(spec: CommandSpec, args: readonly string[], interspersed: boolean): Scan {
  const ownHelp = spec.options.some((o) => o.long.includes('help'));
  const ownH = spec.options.some((o) => o.short === 'h');
  const positionals: string[] = [];
  const normalized: string[] = [];
  let help = false;
  let flagsDone = false;
  const error = (message: string): Scan => ({ kind: 'flag-error', message });
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (flagsDone || a === '-' || !a.startsWith('-')) {
      positionals.push(a);
      normalized.push(a);
      if (!interspersed) flagsDone = true;
      continue;
    }
    if (a === '--') {
      flagsDone = true;
      normalized.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a : a.slice(0, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      if (name === '--help' && !ownHelp) { help = true; continue; }
      const o = findOption(spec, name);
      if (!o) return error(`unknown flag: ${name}`);
      if (o.takesValue) {
        let value = inline;
        if (value === undefined) {
          if (i + 1 >= args.length) return error(`flag needs an argument: ${name}`);
          value = args[++i];
        }
        const bad = badValue(o, value);
        if (bad) return error(bad);
        normalized.push(`${name}=${value}`);
      } else if (o.boolean && inline !== undefined) {
        const w = boolWord(spec, name, inline);
        if (typeof w !== 'string') return error(w.error);
        normalized.push(w);
      } else {
        normalized.push(a);
      }
      continue;
    }
    // -abc: a cluster of single-letter flags; the first that takes a value ends it.
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const o = findOption(spec, `-${c}`);
      if (!o) {
        if (c === 'h' && !ownH) { help = true; continue; }
        return error(`unknown shorthand flag: '${c}' in -${a.slice(j)}`);
      }
      if (o.takesValue) {
        let value = a.slice(j + 1).replace(/^=/, '');
        if (value === '' && a[j + 1] !== '=') {
          if (i + 1 >= args.length) return error(`flag needs an argument: '${c}' in -${a.slice(j)}`);
          value = args[++i];
        }
        const bad = badValue(o, value);
        if (bad) return error(bad);
        normalized.push(`-${c}=${value}`);
        break;
      }
      if (a[j + 1] === '=') {
        const w = boolWord(spec, `-${c}`, a.slice(j + 2));
        if (typeof w !== 'string') return error(w.error);
        normalized.push(w);
        break;
      }
      normalized.push(`-${c}`);
    }
  }
  return help ? { kind: 'help' } : { kind: 'ok', positionals, normalized };
}

/** Docker's complaint about the number of arguments, or undefined when COUNT fits. */
export function arityError(spec: CommandSpec, count: number): { message: string; hint: 'See' | 'Run' } | undefined {
  const min = spec.args.required.length;
  const max = spec.args.rest ? Infinity : min + spec.args.optional.length;
  if (count >= min && count <= max) return undefined;
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === 0) return { message: 'accepts no arguments', hint: 'Run' };
  if (max === Infinity) return { message: `requires at least ${n(min)}`, hint: 'See' };
  if (min === max) return { message: `requires ${n(min)}`, hint: 'Run' };
  if (min === 0) return { message: `requires at most ${n(max)}`, hint: 'Run' };
  return { message: `requires at least ${min} and at most ${n(max)}`, hint: 'Run' };
}
