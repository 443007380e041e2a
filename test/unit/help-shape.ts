// The shape rules of Docker 28's help output (cobra's usage template over pflag's flag table),
// checked on Docker's own output (golden/docker/, captured from the real docker binary) and on
// skiff's (golden/skiff/), so that "looks like Docker's" is a rule that can fail.

/** The problems found in TEXT; empty when it has Docker's shape. WIDTH: the wrap column. */
export function helpShapeProblems(text: string, width = 79): string[] {
  const problems: string[] = [];
  const bad = (msg: string) => problems.push(msg);
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) bad('control characters (colour or cursor escapes)');
  if (!text.endsWith('\n') || text.endsWith('\n\n')) bad('must end with exactly one newline');
  const lines = text.replace(/\n$/, '').split('\n');
  if (!/^Usage:  \S+( \S+)*$/.test(lines[0])) bad(`first line is not "Usage:  ...": ${JSON.stringify(lines[0])}`);
  if (lines[1] !== '' || !/^\S/.test(lines[2] ?? '')) bad('usage, blank line, description');
  // The description (one paragraph), then blocks separated by exactly one blank line.
  const end = lines.indexOf('', 2);
  const blocks = end === -1 ? [] : lines.slice(end + 1).join('\n').split('\n\n');
  if (blocks.some((b) => b === '' || b.startsWith('\n'))) bad('two blank lines in a row');
  for (const block of blocks) {
    const [head, ...body] = block.split('\n');
    if (/^Run '.+ --help' for more information on a command\.$/.test(head) || /^For more help/.test(head)) continue;
    if (!/^[A-Z][A-Za-z ]*:$/.test(head)) { bad(`not a section header: ${JSON.stringify(head)}`); continue; }
    if (body.length === 0) bad(`empty section ${head}`);
    if (head === 'Aliases:') {
      if (body.length !== 1 || !/^  \S.*(, \S.*)*$/.test(body[0])) bad('Aliases: one indented line, comma-separated');
    } else if (/Options:$/.test(head)) {
      problems.push(...flagTableProblems(head, body, width));
    } else if (/Commands:$/.test(head)) {
      const cols = body.map((l) => /^  (\S+) +\S/.exec(l));
      if (cols.some((m) => !m)) bad(`${head} rows are "  name  description"`);
      const starts = new Set(body.map((l) => l.search(/(?<=^  \S+ +)\S/)));
      if (starts.size !== 1 || [...starts][0] < 14) bad(`${head} descriptions not in one column (>= 14)`);
    }
  }
  return problems;
}

const FLAG = /^(?:  -[a-zA-Z], |      )--([a-z0-9-]+)(?: ([a-z0-9-]+))?( +)(\S.*)$/;

function flagTableProblems(head: string, body: string[], width: number): string[] {
  const problems: string[] = [];
  let column = -1;
  const names: string[] = [];
  for (const line of body) {
    const m = FLAG.exec(line);
    if (m) {
      names.push(m[1]);
      const start = line.length - m[4].length;
      if (column === -1) column = start;
      else if (start !== column) problems.push(`${head} description column moves: ${JSON.stringify(line)}`);
    } else if (column === -1 || !line.startsWith(' '.repeat(column)) || line[column] === ' ' && line.trim() === '') {
      problems.push(`${head} neither a flag nor a continuation: ${JSON.stringify(line)}`);
    }
    if (line.length > width + 5 && line.trimStart().includes(' ')) problems.push(`${head} line longer than ${width} + slack: ${JSON.stringify(line)}`);
    if (line !== line.trimEnd()) problems.push(`${head} trailing blanks: ${JSON.stringify(line)}`);
  }
  const widest = Math.max(...body.filter((l) => FLAG.test(l)).map((l) => l.length - FLAG.exec(l)![4].length - FLAG.exec(l)![3].length));
  if (column !== widest + 3) problems.push(`${head} descriptions start ${column - widest} after the longest flag, not 3`);
  const sorted = [...names].sort();
  if (names.join() !== sorted.join()) problems.push(`${head} flags not sorted by name: ${names.join(' ')}`);
  return problems;
}
