import type { CommandClass } from 'clipanion';
import { GLOBAL_OPTIONS } from '../globals';
import { COMMANDS } from '../index';
import { COMMON_COMMANDS, NOUN_DESCRIPTIONS } from '../nouns';
import { asProgram, type ProgramName } from '../program';
import { formatCommands, formatFlags, namePadding, type FlagRow } from './layout';
import { commandSpec, usageTail } from './spec';

/**
 * The help texts, in the shape of Docker 28's (cobra usage template): plain text, never colour,
 * so that a pipe, a file or NO_COLOR get the same bytes as a terminal.
 */

export const TAGLINE = 'A rootless, daemonless, Docker-compatible container engine';

/** `skiff run`, or `skiff container ls` when typed so: Docker names the path that was used. */
export function commandPath(name: ProgramName, path: readonly string[]): string {
  return [name, ...path].join(' ');
}

/** Docker's usage line: `skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]`. */
export function usageLine(name: ProgramName, path: readonly string[], cls: CommandClass): string {
  return [commandPath(name, path), usageTail(commandSpec(cls))].filter(Boolean).join(' ');
}

/** Docker lists the noun spellings first and the short verb last: `docker container rm, docker container remove, docker rm`. */
function aliases(name: ProgramName, cls: CommandClass): string {
  const paths = cls.paths ?? [];
  if (paths.length < 2) return '';
  const ordered = paths[0].length === 1 ? [...paths.slice(1), paths[0]] : paths;
  return ordered.map((p) => commandPath(name, p)).join(', ');
}

function flagRows(cls: CommandClass, name: ProgramName): FlagRow[] {
  const spec = commandSpec(cls);
  const rows: FlagRow[] = spec.options
    .filter((o) => !o.hidden)
    .map((o) => ({ short: o.short, long: o.long[0] ?? o.short ?? '', type: o.type, text: asProgram(o.description, name) + o.defaultText }));
  // Docker hides its --help flag, except where the command took -h for itself (run -h HOSTNAME).
  if (spec.options.some((o) => o.short === 'h') && !spec.options.some((o) => o.long.includes('help'))) {
    rows.push({ long: 'help', type: '', text: 'Print usage' });
  }
  return rows;
}

/** `skiff VERB --help`. */
export function commandHelp(name: ProgramName, path: readonly string[], cls: CommandClass, width: number): string {
  const parts = [`Usage:  ${usageLine(name, path, cls)}`, asProgram(commandSpec(cls).description, name)];
  const also = aliases(name, cls);
  if (also) parts.push(`Aliases:\n  ${also}`);
  const rows = flagRows(cls, name);
  if (rows.length) parts.push(`Options:\n${formatFlags(rows, width)}`);
  return `${parts.join('\n\n')}\n`;
}

interface Entry { name: string; description: string }

/** The words that follow PREFIX (`[]` = top level, `['image']`), one per command, with its description. */
function children(prefix: readonly string[], name: ProgramName): Entry[] {
  const seen = new Map<string, Entry>();
  for (const cls of COMMANDS) {
    const p = (cls.paths ?? []).find((q) => q.length === prefix.length + 1 && prefix.every((w, i) => q[i] === w));
    const word = p?.[prefix.length];
    if (word && !seen.has(word)) seen.set(word, { name: word, description: asProgram(commandSpec(cls).description, name) });
  }
  return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The management nouns: first words of two-word paths. */
export function nouns(): string[] {
  const found = new Set<string>();
  for (const cls of COMMANDS) for (const p of cls.paths ?? []) if (p.length === 2) found.add(p[0]);
  return [...found].sort();
}

/** `skiff container`, `skiff image --help`. */
export function nounHelp(name: ProgramName, noun: string): string {
  const verbs = children([noun], name);
  const description = asProgram(NOUN_DESCRIPTIONS[noun] ?? `Manage ${noun}s`, name);
  return [
    `Usage:  ${name} ${noun} COMMAND`,
    description,
    `Commands:\n${formatCommands(verbs, namePadding(verbs.map((v) => v.name)))}`,
    `Run '${name} ${noun} COMMAND --help' for more information on a command.`,
  ].join('\n\n') + '\n';
}

function globalFlagRows(name: ProgramName): FlagRow[] {
  return [
    ...GLOBAL_OPTIONS.map((g) => ({ long: g.flag.slice(2), type: 'string', text: asProgram(g.description, name) })),
    { short: 'v', long: 'version', type: '', text: 'Print version information and quit' },
  ];
}

/** `skiff --help`: Docker's sections, with the commands skiff has. */
export function topHelp(name: ProgramName, width: number): string {
  const top = children([], name);
  const nounEntries = nouns().map((n) => ({ name: n, description: asProgram(NOUN_DESCRIPTIONS[n] ?? `Manage ${n}s`, name) }));
  const common = COMMON_COMMANDS.map((c) => top.find((e) => e.name === c)).filter((e): e is Entry => e !== undefined);
  const others = top.filter((e) => !COMMON_COMMANDS.includes(e.name));
  const pad = namePadding([...top, ...nounEntries].map((e) => e.name));
  const parts = [`Usage:  ${name} [OPTIONS] COMMAND`, TAGLINE];
  if (common.length) parts.push(`Common Commands:\n${formatCommands(common, pad)}`);
  if (nounEntries.length) parts.push(`Management Commands:\n${formatCommands(nounEntries, pad)}`);
  if (others.length) parts.push(`Commands:\n${formatCommands(others, pad)}`);
  parts.push(`Global Options:\n${formatFlags(globalFlagRows(name), width)}`);
  parts.push(`Run '${name} COMMAND --help' for more information on a command.`);
  return `${parts.join('\n\n')}\n`;
}

/** The usage line of the top level in flag errors (Docker's root `Use`). */
export function topUsageLine(name: ProgramName): string {
  return `${name} [OPTIONS] COMMAND [ARG...]`;
}
