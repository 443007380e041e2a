/**
 * The Dockerfile's small shell language for words: quotes, the escape character, and variable
 * substitution ($VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt}, ${VAR+alt},
 * ${VAR:?message}, ${VAR#pattern}, ${VAR%pattern}, ${VAR/pattern/replacement}), as BuildKit's
 * shell lexer reads them: a word goes in as written, the value comes out with its quotes removed
 * and its variables replaced. The same lexer, with quotes and escapes kept and unset variables
 * left alone, splits a line into words to find its here-documents.
 */
import { BuildError } from '../../errors';

/** The variables a word is expanded with: undefined for an unset one. */
export type VariableLookup = (name: string) => string | undefined;

export interface LexOptions {
  /** The escape character (`\` or a backtick, the `# escape=` directive). */
  escape: string;
  /** Keep quote characters in the result (still honouring them). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave an unset variable as written instead of expanding it to ''. */
  skipUnset?: boolean;
  /** Quotes are plain characters (heredoc bodies: only variables are replaced). */
  skipQuotes?: boolean;
}

export interface LexResult {
  /** The word, quotes removed and variables replaced. */
  word: string;
  /** The same text split into words at unquoted whitespace (EXPOSE, heredoc detection). */
  words: string[];
  /** Variables referenced but not set (Docker warns about them: UndefinedVar). */
  unset: Set<string>;
}

const EOF = '';

/** An error of the word's syntax, worded as BuildKit's; the caller adds file and line. */
export class WordSyntaxError extends Error {}

/** Words split at unquoted whitespace; expanded values split too, as the shell would. */
class WordCollector {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (/\s/.test(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }
  addRaw(text: string): void {
    this.buf += text;
    this.inWord = true;
  }
  addString(text: string): void {
    for (const ch of text) this.addChar(ch);
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private pos = 0;
  private readonly chars: string[];
  readonly unset = new Set<string>();
  private rawEscapes: boolean;

  constructor(source: string, private readonly env: VariableLookup, private readonly opts: LexOptions) {
    this.chars = Array.from(source);
    this.rawEscapes = !!opts.rawEscapes;
  }

  private peek(): string {
    return this.pos < this.chars.length ? this.chars[this.pos] : EOF;
  }
  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++] : EOF;
  }

  /** Reads up to `stop` (consumed) or the end of input when stop is EOF. */
  processUntil(stop: string, rawEscapes: boolean): { word: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new WordCollector();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { word: result, words: words.finish() };
        }
        if (ch === '$') {
          const value = this.dollar();
          result += value;
          words.addString(value);
        } else if (ch === '<') {
          const value = this.possibleHeredoc();
          result += value;
          words.addRaw(value);
        } else if (ch === "'" && !this.opts.skipQuotes) {
          const value = this.singleQuoted();
          result += value;
          words.addRaw(value);
        } else if (ch === '"' && !this.opts.skipQuotes) {
          const value = this.doubleQuoted();
          result += value;
          words.addRaw(value);
        } else {
          let c = this.next();
          if (c === this.opts.escape) {
            if (this.rawEscapes) {
              words.addRaw(c);
              result += c;
            }
            c = this.next();
            if (c === EOF) break;
            words.addRaw(c);
          } else {
            words.addChar(c);
          }
          result += c;
        }
      }
      if (stop !== EOF) throw new WordSyntaxError(`unexpected end of statement while looking for matching ${stop}`);
      return { word: result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuoted(): string {
    let result = this.opts.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const c = this.next();
      if (c === EOF) throw new WordSyntaxError('unexpected end of statement while looking for matching single-quote');
      if (c === "'") return this.opts.rawQuotes ? result + c : result;
      result += c;
    }
  }

  private doubleQuoted(): string {
    let result = this.opts.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new WordSyntaxError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const c = this.next();
        return this.opts.rawQuotes ? result + c : result;
      }
      if (p === '$') {
        result += this.dollar();
        continue;
      }
      let c = this.next();
      if (c === this.opts.escape) {
        if (this.rawEscapes) result += c;
        const after = this.peek();
        if (after === EOF) continue;
        // inside double quotes the escape only escapes ", $ and itself, as in sh
        if (after === '"' || after === '$' || after === this.opts.escape) c = this.next();
      }
      result += c;
    }
  }

  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') space += this.next();
    return '<<' + space;
  }

  private lookup(name: string): string | undefined {
    const value = this.env(name);
    if (value === undefined) this.unset.add(name);
    return value;
  }

  private name(): string {
    let name = '';
    for (;;) {
      const c = this.peek();
      if (c === EOF) return name;
      if (name === '' && /[0-9]/.test(c)) {
        while (/[0-9]/.test(this.peek()) && this.peek() !== EOF) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(c)) return this.next();
      if (!/[\p{L}\p{N}_]/u.test(c)) return name;
      name += this.next();
    }
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnset) return '$' + name;
      return value ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new WordSyntaxError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new WordSyntaxError('syntax error: bad substitution');
    const name = this.name();
    let op = this.next();
    let mods = op;
    if (op === '}') {
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnset) return `\${${name}}`;
      return value ?? '';
    }
    if (op === EOF) throw new WordSyntaxError("syntax error: missing '}'");
    if (op === '/') return this.replace(name);
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
      mods += op;
    }
    if (!'+-?#%'.includes(op) || op === EOF) throw new WordSyntaxError(`unsupported modifier (${mods}) in substitution`);
    const patternOp = op === '#' || op === '%';
    if (nullIsUnset && patternOp) throw new WordSyntaxError(`unsupported modifier (${mods}) in substitution`);
    let word = this.readUntil('}', patternOp, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}${mods}${word}}`;
    const empty = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return empty ? word : value!;
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new WordSyntaxError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (empty) throw new WordSyntaxError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        let greedy = false;
        if (word.startsWith(op)) {
          greedy = true;
          word = word.slice(1);
        }
        return op === '%' ? trimSuffix(word, value ?? '', greedy) : trimPrefix(word, value ?? '', greedy);
      }
    }
  }

  /** The text up to `stop` inside ${…}; running out of input is `missing`. */
  private readUntil(stop: string, rawEscapes: boolean, missing: string): string {
    try {
      return this.processUntil(stop, rawEscapes).word;
    } catch (e) {
      if (this.peek() === EOF) throw new WordSyntaxError(missing);
      throw e;
    }
  }

  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.readUntil('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.readUntil('}', true, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegExp(pattern, true, false, all);
    return (value ?? '').replace(re, () => replacement);
  }
}

/** A shell glob pattern (*, ?, \ escapes) as a regular expression. */
function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  let out = anchored ? '^' : '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') out += greedy ? '[\\s\\S]*' : '[\\s\\S]*?';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue;
      if (n !== '*' && n !== '?' && n !== '\\') throw new WordSyntaxError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      out += '\\' + n;
      i++;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** ${VAR%pattern}: the shortest (or, with %%, longest) suffix the pattern matches whole, removed. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const whole = new RegExp(`^(?:${shellPatternToRegExp(pattern, true, false).source})$`, 'u');
  const starts = Array.from({ length: value.length + 1 }, (_, i) => i);
  if (!greedy) starts.reverse();
  for (const i of starts) if (whole.test(value.slice(i))) return value.slice(0, i);
  return value;
}

function lex(source: string, env: VariableLookup, opts: LexOptions): LexResult {
  const lexer = new Lexer(source, env, opts);
  const { word, words } = lexer.processUntil(EOF, !!opts.rawEscapes);
  return { word, words, unset: lexer.unset };
}

/** One word as a Dockerfile argument: quotes removed, variables replaced. Throws WordSyntaxError. */
export function expandWord(word: string, env: VariableLookup, escape: string): LexResult {
  return lex(word, env, { escape });
}

/** A heredoc body: variables replaced, quotes left as they are. Throws WordSyntaxError. */
export function expandText(text: string, env: VariableLookup): LexResult {
  return lex(text, env, { escape: '\\', skipQuotes: true });
}

/** Words of a text as the Dockerfile lexer splits them, keeping quotes and escapes and $VARs. */
export function rawWords(text: string, escape: string): string[] {
  return lex(text, () => undefined, { escape, rawQuotes: true, rawEscapes: true, skipUnset: true }).words;
}

/** Expands with a BuildError at a location for syntax errors. */
export function expandWordAt(word: string, env: VariableLookup, escape: string, at: { file: string; line: number }): LexResult {
  try {
    return expandWord(word, env, escape);
  } catch (e) {
    if (e instanceof WordSyntaxError) throw new BuildError(`failed to process "${word}": ${e.message}`, at);
    throw e;
  }
}

/** Lexing without expansion: for the heredoc delimiter, quotes removed or kept. */
export function lexLiteral(text: string, escape: string, rawQuotes: boolean): string[] {
  return lex(text, () => undefined, { escape, rawQuotes, skipUnset: true }).words;
}
