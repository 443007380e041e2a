/**
 * From the Dockerfile's text to its logical lines, as BuildKit's parser reads them: the parser
 * directives at the top (`# syntax=`, `# escape=`, `# check=`), comments and blank lines
 * dropped, continuation lines (the escape character at the end) joined, comment lines inside a
 * continuation skipped, and the bodies of the here-documents a RUN/COPY/ADD line opens read
 * from the lines that follow it.
 */
import { BuildError } from '../../errors';
import type { BuildWarning, Dockerfile, Heredoc } from './types';
import { lexLiteral, rawWords, WordSyntaxError } from './shell-lex';

export type Directives = Dockerfile['directives'];

/** One instruction's text: continuations joined, first and last physical line (1-based). */
export interface LogicalLine {
  line: number;
  endLine: number;
  text: string;
  heredocs: Heredoc[];
}


const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
/** The instructions whose line may open here-documents (also as an ONBUILD trigger). */
const HEREDOC_INSTRUCTIONS = new Set(['RUN', 'COPY', 'ADD']);
/** `<<EOF`, `<<-EOF`, `3<<EOF`, `<< "EOF"`: one word of the line. */
const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;

/** Parser directives: comment lines at the very top; the first other line ends them. */
class DirectiveReader {
  private done = false;
  private seen = new Set<string>();
  readonly directives: Directives = { escape: '\\' };

  /** Reads a line; true when it was a directive (and so is not a comment to keep). */
  read(line: string, at: { file: string; line: number }): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = DIRECTIVE.exec(line.slice(1).replace(/^\s+/, ''));
    const key = m?.[1].toLowerCase();
    if (!m || !KNOWN_DIRECTIVES.has(key!)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key!)) throw new BuildError(`only one ${key} parser directive can be used`, at);
    this.seen.add(key!);
    const value = m[2];
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') throw new BuildError(`invalid escape token '${value}' does not match \` or \\`, at);
      this.directives.escape = value;
    } else if (key === 'syntax') this.directives.syntax = value;
    else this.directives.check = value;
    return true;
  }
}

function isComment(line: string): boolean {
  return /^\s*#/.test(line);
}

/** The physical lines, each without its line ending (\n or \r\n). */
function physicalLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.replace(/\r$/, ''));
}

/**
 * The words of a line that open here-documents, in order. Only for RUN/COPY/ADD (directly or as
 * an ONBUILD trigger) in shell form; `<<"EOF"` or `<<'EOF'` leaves the body unexpanded.
 */
export function heredocOpeners(text: string): { name: string; chomp: boolean; expand: boolean }[] {
  let [keyword, rest] = splitFirstWord(text);
  if (keyword.toUpperCase() === 'ONBUILD') [keyword, rest] = splitFirstWord(rest);
  if (!HEREDOC_INSTRUCTIONS.has(keyword.toUpperCase()) || !rest.includes('<<')) return [];
  const withoutFlags = rest.replace(/^(--\S+\s*)*/, '');
  if (withoutFlags.startsWith('[')) {
    // exec form: no heredocs (only when it really is a JSON array)
    try {
      if (Array.isArray(JSON.parse(withoutFlags))) return [];
    } catch { /* shell form after all */ }
  }
  const openers: { name: string; chomp: boolean; expand: boolean }[] = [];
  for (const word of rawWords(text, '\\')) {
    const m = HEREDOC_WORD.exec(word);
    if (!m || m[3] === '') continue;
    const plain = lexLiteral(m[3], '\\', false);
    if (plain.length !== 1) continue;
    const raw = lexLiteral(m[3], '\\', true);
    const quotes = (s: string) => (s.match(/["']/g) ?? []).length;
    openers.push({ name: plain[0], chomp: m[2] === '-', expand: quotes(plain[0]) === quotes(raw[0]) });
  }
  return openers;
}

/** The first word of a text and the rest, both trimmed. */
export function splitFirstWord(text: string): [string, string] {
  const m = /^\s*(\S*)\s*([\s\S]*?)\s*$/.exec(text)!;
  return [m[1], m[2]];
}

/** Whether a word of a RUN/COPY line opens a here-document, and its name. */
export function heredocName(word: string): string | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3] === '') return undefined;
  try {
    const plain = lexLiteral(m[3], '\\', false);
    return plain.length === 1 ? plain[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a Dockerfile into its directives and logical lines. Throws BuildError. */
export function logicalLines(text: string, file: string): { directives: Directives; lines: LogicalLine[]; warnings: BuildWarning[] } {
  const physical = physicalLines(text);
  const reader = new DirectiveReader();
  const lines: LogicalLine[] = [];
  const warnings: BuildWarning[] = [];
  let i = 0;
  const continuation = () => {
    const e = reader.directives.escape === '\\' ? '\\\\' : '`';
    return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  };
  while (i < physical.length) {
    const startLine = i + 1;
    const first = physical[i++].replace(/^\s+/, '');
    reader.read(first, { file, line: startLine });
    if (isComment(first) || first === '') continue;
    const cont = continuation();
    let joined = first;
    let ended = !cont.test(joined);
    if (!ended) joined = joined.replace(cont, '$1');
    let emptyContinuation = false;
    while (!ended && i < physical.length) {
      const next = physical[i++];
      reader.read(next, { file, line: i });
      if (isComment(next)) continue;
      if (next.trim() === '') {
        emptyContinuation = true;
        continue;
      }
      ended = !cont.test(next);
      joined += ended ? next : next.replace(cont, '$1');
    }
    const endOfInstruction = i;
    if (emptyContinuation) {
      warnings.push({ file, line: endOfInstruction, rule: 'NoEmptyContinuation', message: 'Empty continuation line' });
    }
    if (joined.trim() === '') continue;
    let openers: ReturnType<typeof heredocOpeners>;
    try {
      openers = heredocOpeners(joined);
    } catch (e) {
      if (e instanceof WordSyntaxError) throw new BuildError(e.message, { file, line: startLine });
      throw e;
    }
    const heredocs: Heredoc[] = [];
    for (const opener of openers) {
      let content = '';
      let terminated = false;
      while (i < physical.length) {
        const body = physical[i++];
        const candidate = opener.chomp ? body.replace(/^\t+/, '') : body;
        if (candidate === opener.name) {
          terminated = true;
          break;
        }
        content += (opener.chomp ? body.replace(/^\t+/, '') : body) + '\n';
      }
      if (!terminated) throw new BuildError(`unterminated heredoc ${opener.name}`, { file, line: startLine });
      heredocs.push({ name: opener.name, content, chomp: opener.chomp, expand: opener.expand });
    }
    lines.push({ line: startLine, endLine: i, text: joined, heredocs });
  }
  return { directives: reader.directives, lines, warnings };
}
