import { Command, type CommandClass } from 'clipanion';

/**
 * What a command accepts, read from its clipanion definitions so that help, usage errors, man
 * pages and completions describe the one definition. Clipanion keeps no value types, so each
 * option's are found by calling its transformer on sample values: an array back is a `list`, a
 * number an `int` (Docker's numeric flags are ints but for --cpus), a string a `string`; options that
 * take no value (Option.Boolean, or a String with tolerateBoolean) have no type, as Docker's
 * boolean flags.
 */
export type ValueType = '' | 'list' | 'string' | 'int';

export interface OptionSpec {
  /** single-letter name without the dash, if any */
  short?: string;
  /** long names without dashes; the first is the one help shows (the others are aliases, as --net) */
  long: string[];
  /** every name as typed: -e, --env */
  names: string[];
  type: ValueType;
  /** whether the option consumes the next argument (`--name x`); false for booleans */
  takesValue: boolean;
  /** a plain on/off flag (Option.Boolean): `--rm`, `--rm=false` (written --no-rm for clipanion) */
  boolean: boolean;
  /** Docker's " (default ...)" text, empty when the default is the zero value */
  defaultText: string;
  description: string;
  hidden: boolean;
}

export interface ArgsSpec {
  /** required positionals, in order */
  required: string[];
  /** optional positionals after them */
  optional: string[];
  /** a variadic tail: `CONTAINER [CONTAINER...]` (rest) or `[COMMAND] [ARG...]` (proxy) */
  rest?: { name: string; proxy: boolean };
}

export interface CommandSpec {
  options: OptionSpec[];
  args: ArgsSpec;
  description: string;
}

interface Recorded { names: string[]; arity?: number; hidden?: boolean; description?: string; allowBinding?: boolean }
interface OptionObject {
  definition(builder: unknown, key: string): void;
  transformer(builder: unknown, key: string, state: unknown, context: unknown): unknown;
}

/** Stands in for clipanion's CommandBuilder: records what a command's options declare. */
class Recorder {
  options: Recorded[] = [];
  args: ArgsSpec = { required: [], optional: [] };
  arity = { leading: [] as string[] }; // read by Option.Rest's transformer, never by us
  addOption(o: Recorded): void { this.options.push(o); }
  addPositional({ name = 'arg', required = true }: { name?: string; required?: boolean }): void {
    (required ? this.args.required : this.args.optional).push(name);
  }
  addRest({ name = 'arg', required = 0 }: { name?: string; required?: number }): void {
    for (let i = 0; i < required; i++) this.args.required.push(name);
    this.args.rest = { name, proxy: false };
  }
  addProxy({ name = 'arg', required = 0 }: { name?: string; required?: number }): void {
    for (let i = 0; i < required; i++) this.args.required.push(name);
    this.args.rest = { name, proxy: true };
  }
}

function transform(opt: OptionObject, recorder: Recorder, name: string, values: string[]): { value?: unknown; failed: boolean } {
  try {
    const state = { options: values.map((value) => ({ name, value })), positionals: [] };
    return { value: opt.transformer(recorder, name, state, { env: {} }), failed: false };
  } catch {
    return { failed: true };
  }
}

function valueType(opt: OptionObject, recorder: Recorder, name: string): ValueType {
  if (Array.isArray(transform(opt, recorder, name, ['1', '2']).value)) return 'list';
  return typeof transform(opt, recorder, name, ['7']).value === 'number' ? 'int' : 'string';
}

function defaultText(type: ValueType, value: unknown): string {
  if (value === undefined || value === null || value === false || value === '' || value === 0) return '';
  if (Array.isArray(value)) return value.length ? ` (default [${value.join(',')}])` : '';
  if (type === 'string') return ` (default ${JSON.stringify(String(value))})`;
  return ` (default ${String(value)})`;
}

const cache = new WeakMap<CommandClass, CommandSpec>();

export function commandSpec(cls: CommandClass): CommandSpec {
  const known = cache.get(cls);
  if (known) return known;
  const instance = new (cls as unknown as new () => Record<string, unknown>)();
  const recorder = new Recorder();
  const options: OptionSpec[] = [];
  for (const key of Object.keys(instance)) {
    const value = instance[key] as (OptionObject & Record<symbol, unknown>) | undefined;
    if (typeof value !== 'object' || value === null || !value[Command.isOption]) continue;
    const before = recorder.options.length;
    value.definition(recorder, key);
    for (const o of recorder.options.slice(before)) {
      const takesValue = (o.arity ?? 0) > 0;
      const type = takesValue ? valueType(value, recorder, o.names[0]) : '';
      options.push({
        short: o.names.find((n) => /^-[^-]$/.test(n))?.slice(1),
        long: o.names.filter((n) => n.startsWith('--')).map((n) => n.slice(2)),
        names: o.names,
        type,
        takesValue,
        boolean: !takesValue && o.allowBinding === false,
        defaultText: defaultText(type, transform(value, recorder, o.names[0], []).value),
        description: (o.description ?? '').replace(/\s*\n\s*/g, ' ').trim(),
        hidden: o.hidden ?? false,
      });
    }
  }
  // Positionals a flag can stand in for (Podman's --all: `stop --all`) are optional to the
  // parser, but help shows them as Docker does (`CONTAINER [CONTAINER...]`); the command itself
  // says when neither is given (options/container-targets.ts).
  const shown = (cls as { requiredInUsage?: number }).requiredInUsage ?? 0;
  while (recorder.args.required.length < shown && recorder.args.rest) recorder.args.required.push(recorder.args.rest.name);
  const usage = (cls as { usage?: { description?: string } }).usage;
  const spec = { options, args: recorder.args, description: usage?.description ?? '' };
  cache.set(cls, spec);
  return spec;
}

/** The option ARG names: `-e`, `--env`, or `--env=x` (the part before "="). */
export function findOption(spec: CommandSpec, name: string): OptionSpec | undefined {
  return spec.options.find((o) => o.names.includes(name));
}

/** Docker's argument synopsis: `IMAGE [COMMAND] [ARG...]`, `CONTAINER [CONTAINER...]`, `[SERVER]`. */
export function argsSynopsis(args: ArgsSpec): string {
  const words = [...args.required, ...args.optional.map((n) => `[${n}]`)];
  // A required proxy (`exec CONTAINER COMMAND [ARG...]`) already named its first word; a proxy
  // named by a phrase (`top CONTAINER [ps OPTIONS]`) is the whole tail.
  if (args.rest?.proxy && args.required.includes(args.rest.name)) words.push('[ARG...]');
  else if (args.rest?.proxy && args.rest.name.includes(' ')) words.push(`[${args.rest.name}]`);
  else if (args.rest?.proxy) words.push(`[${args.rest.name}]`, '[ARG...]');
  else if (args.rest) words.push(`[${args.rest.name}...]`);
  return words.join(' ');
}

/** `[OPTIONS] IMAGE [COMMAND] [ARG...]`: what follows the command path on Docker's usage line. */
export function usageTail(spec: CommandSpec): string {
  const visible = spec.options.some((o) => !o.hidden);
  return [visible ? '[OPTIONS]' : '', argsSynopsis(spec.args)].filter(Boolean).join(' ');
}
