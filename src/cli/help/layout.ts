/**
 * Docker's help layout (cobra templates over pflag's flag table), written from their observed
 * output and documented rules: flags sorted by name, `  -e, --env list` or `      --name string`,
 * descriptions in one column three spaces after the longest flag, wrapped to the terminal
 * width less one (80 when stdin is not a terminal), with a little slack so that the last line
 * does not end on a lone short word.
 */

export interface FlagRow {
  short?: string;
  long: string;
  type: string;
  /** description, then " (default ...)" when there is one */
  text: string;
}

/** Width Docker wraps flag descriptions to: the terminal's columns less one, else 79. */
export function helpWidth(): number {
  const cols = process.stdin.isTTY ? (process.stdout.columns || process.stderr.columns || 80) : 80;
  return cols - 1;
}

/**
 * Split TEXT at the last blank within its first MAX characters; the whole of it when it fits
 * in MAX + SLACK (so a few characters over the column are allowed instead of an orphan line).
 * An earlier newline in range wins: descriptions may carry their own line breaks.
 */
function splitLine(max: number, slack: number, text: string): [string, string] {
  if (max + slack > text.length) return [text, ''];
  const head = text.slice(0, max);
  const blank = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (blank <= 0) return [text, ''];
  const newline = head.lastIndexOf('\n');
  if (newline > 0 && newline < blank) return [text.slice(0, newline), text.slice(newline + 1)];
  return [text.slice(0, blank), text.slice(blank + 1)];
}

/** TEXT wrapped into WIDTH columns, its continuation lines indented by INDENT (the first is not). */
export function wrapText(indent: number, width: number, text: string): string {
  let pad = ' '.repeat(indent);
  if (width <= 0) return text.replaceAll('\n', `\n${pad}`);
  let room = width - indent;
  let out = '';
  if (room < 24) {
    // Too narrow beside the flags: the text goes below them, as a block indented by 16.
    indent = 16;
    pad = ' '.repeat(indent);
    room = width - indent;
    out = `\n${pad}`;
  }
  if (room < 24) return text.replaceAll('\n', out);
  const slack = 5;
  room -= slack;
  let [line, rest] = splitLine(room, slack, text);
  out += line.replaceAll('\n', `\n${pad}`);
  while (rest !== '') {
    [line, rest] = splitLine(room, slack, rest);
    out += `\n${pad}${line.replaceAll('\n', `\n${pad}`)}`;
  }
  return out;
}

/** The flag table: one row per flag, sorted by long name, no trailing newline. */
export function formatFlags(rows: FlagRow[], width: number): string {
  const sorted = [...rows].sort((a, b) => (a.long < b.long ? -1 : a.long > b.long ? 1 : 0));
  const lefts = sorted.map((r) => `${r.short ? `  -${r.short}, --${r.long}` : `      --${r.long}`}${r.type ? ` ${r.type}` : ''}`);
  const column = Math.max(...lefts.map((l) => l.length)) + 3;
  return sorted
    .map((r, i) => `${lefts[i].padEnd(column)}${wrapText(column, width, r.text)}`.trimEnd())
    .join('\n');
}

/** A command list: `  name        description`, names padded as cobra pads them (at least 11). */
export function formatCommands(rows: { name: string; description: string }[], padding: number): string {
  return rows.map((r) => `  ${r.name.padEnd(padding)} ${r.description}`).join('\n');
}

/** cobra's name column: the longest name among the siblings, at least 11. */
export function namePadding(names: string[]): number {
  return Math.max(11, ...names.map((n) => n.length));
}
