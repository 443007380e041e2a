/**
 * An instruction's own flags (`COPY --from=build --chown=1:1`, `RUN --mount=…`): split off the
 * front of its arguments as BuildKit does (quotes group, the escape character escapes, `--`
 * ends them), then checked against what the instruction accepts.
 */

/** How an instruction declares a flag: a single string, a boolean, or a repeatable string. */
export type FlagKind = 'string' | 'bool' | 'strings';

export interface ParsedFlags {
  strings: Map<string, string>;
  bools: Map<string, boolean>;
  lists: Map<string, string[]>;
}

/** Splits the leading `--flag[=value]` words off `rest`: the flags and the rest of the line. */
export function extractFlags(rest: string, escape: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let pos = 0;
  const n = rest.length;
  for (;;) {
    while (pos < n && /\s/.test(rest[pos])) pos++;
    if (pos >= n) return { flags, rest: '' };
    if (!rest.startsWith('--', pos)) return { flags, rest: rest.slice(pos).trim() };
    let word = '';
    let blankOk = false;
    let quote = '';
    for (; pos < n; pos++) {
      let ch = rest[pos];
      if (quote) {
        if (ch === quote) {
          quote = '';
          continue;
        }
        if (ch === escape) {
          if (pos + 1 === n) continue;
          ch = rest[++pos];
        }
        word += ch;
        continue;
      }
      if (/\s/.test(ch)) break;
      if (ch === '"' || ch === "'") {
        quote = ch;
        blankOk = true;
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === n) continue;
        ch = rest[++pos];
      }
      word += ch;
    }
    // `--` alone ends the flags: what follows is arguments even if it starts with --
    if (word === '--') return { flags, rest: rest.slice(pos).trim() };
    if (blankOk || word.length > 0) flags.push(word);
  }
}

/** Checks flags against the declared ones; throws an Error worded as BuildKit's. */
export function parseFlags(flags: string[], declared: Record<string, FlagKind>): ParsedFlags {
  const parsed: ParsedFlags = { strings: new Map(), bools: new Map(), lists: new Map() };
  for (const flag of flags) {
    if (!flag.startsWith('--')) throw new Error(`arg should start with -- : ${flag}`);
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag.slice(2) : flag.slice(2, eq);
    const value = eq < 0 ? undefined : flag.slice(eq + 1);
    const kind = declared[name];
    if (!kind) throw new Error(`unknown flag: ${name}`);
    if (kind === 'strings') {
      if (value === undefined) throw new Error(`missing a value on flag: ${name}`);
      parsed.lists.set(name, [...(parsed.lists.get(name) ?? []), value]);
      continue;
    }
    if (parsed.strings.has(name) || parsed.bools.has(name)) throw new Error(`duplicate flag specified: ${name}`);
    if (kind === 'bool') {
      const v = (value ?? 'true').toLowerCase();
      if (v !== 'true' && v !== 'false') throw new Error(`expecting boolean value for flag ${name}, not: ${value}`);
      parsed.bools.set(name, v === 'true');
    } else {
      if (value === undefined || value === '') throw new Error(`missing a value on flag: ${name}`);
      parsed.strings.set(name, value);
    }
  }
  return parsed;
}
