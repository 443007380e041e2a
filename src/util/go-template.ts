/**
 * Go's text/template, as Docker's `--format` flags use it (docker-cli templates.Parse: the Go
 * built-ins plus json, split, join, title, lower, upper, pad, truncate).
 *
 * No npm package was adequate: @ctrl/golang-template has no pipelines, variables, comparison
 * or custom functions ({{json .Config}} is the most common Docker format), and the WASM build of
 * Go's engine takes no custom functions and is an ES module of 5 MB.
 *
 * Supported: text and actions with trim markers ({{- -}}) and comments; fields (.A.B), $ and
 * $variables (:= and =), chained fields on variables and parenthesised pipelines; pipelines with
 * |; constants (strings, raw strings, numbers, true/false, nil); if / else if / else, range (over
 * lists, maps in key order, integers; with $i, $v := and else; break, continue), with / else
 * with / else. Not supported: define, template, block (an error says so).
 *
 * Values are plain JS data. Go distinguishes structs from maps and nil slices from empty ones
 * when printing ({a b} vs map[k:v], [] for a nil slice): goStruct() marks an object as a struct,
 * and NIL_SLICE / NIL_MAP / NIL_POINTER stand for typed nils (they encode as JSON null).
 */
import { SkiffError } from './errors';

// ---------------------------------------------------------------------------------------------
// values

const STRUCT = Symbol('go.struct');
interface StructInfo { type: string; aliases: Record<string, string> }

/**
 * Mark `value` as a Go struct of type `type`: printed as {v1 v2}, JSON in field order, a missing
 * field is an error. `aliases` maps other field names to keys (Docker's `.ID` for JSON's `Id`).
 */
export function goStruct<T extends object>(value: T, type: string, aliases: Record<string, string> = {}): T {
  Object.defineProperty(value, STRUCT, { value: { type, aliases } satisfies StructInfo, enumerable: false });
  return value;
}

/**
 * A struct field tagged `json:",omitempty"` at its zero value (a nil *Health): templates still
 * find the field (hasOwnProperty), {{json .}} and inspect's JSON leave it out (Object.keys).
 */
export function omittedField(struct: object, key: string, zero: unknown): void {
  Object.defineProperty(struct, key, { value: zero, enumerable: false, writable: true, configurable: true });
}

function structInfo(v: unknown): StructInfo | undefined {
  return typeof v === 'object' && v !== null ? (v as { [STRUCT]?: StructInfo })[STRUCT] : undefined;
}

/** A typed Go nil: prints as [] (slice), map[] (map) or <nil> (pointer); JSON null. */
export class GoNil {
  constructor(readonly kind: 'slice' | 'map' | 'pointer') {}
  toJSON(): null { return null; }
}
export const NIL_SLICE = new GoNil('slice');
export const NIL_MAP = new GoNil('map');
export const NIL_POINTER = new GoNil('pointer');

type GoMap = Record<string, unknown>;
const isMap = (v: unknown): v is GoMap =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoNil) && !structInfo(v);

/** Go's template truth: false, 0, "", nil and empty lists and maps are false; structs are true. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null || v instanceof GoNil) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** fmt's %v: what {{.X}} prints. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (v instanceof GoNil) return v.kind === 'slice' ? '[]' : v.kind === 'map' ? 'map[]' : '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return '<func>';
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(' ')}]`;
  const info = structInfo(v);
  const o = v as GoMap;
  if (info) return `{${Object.keys(o).map((k) => formatValue(o[k])).join(' ')}}`;
  const body = Object.keys(o).sort().map((k) => `${k}:${formatValue(o[k])}`).join(' ');
  return `map[${body}]`;
}

/**
 * encoding/json: structs keep their field order, maps are sorted by key; `indent` as
 * json.MarshalIndent; `escapeHtml` as Go's default encoder (the Docker API's), which writes
 * <, > and & as \u003c, \u003e, \u0026.
 */
export function goJson(v: unknown, opts: { indent?: string; escapeHtml?: boolean } = {}): string {
  const indent = opts.indent ?? '';
  const str = (s: string) => {
    let q = JSON.stringify(s).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
    if (opts.escapeHtml) q = q.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    return q;
  };
  const enc = (x: unknown, pad: string): string => {
    if (x === undefined || x === null || x instanceof GoNil || typeof x === 'function') return 'null';
    if (typeof x === 'string') return str(x);
    if (typeof x === 'number') return Number.isFinite(x) ? String(x) : 'null';
    if (typeof x === 'boolean') return String(x);
    const inner = pad + indent;
    const nl = indent ? `\n${inner}` : '';
    const end = indent ? `\n${pad}` : '';
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return `[${x.map((e) => nl + enc(e, inner)).join(',')}${end}]`;
    }
    const o = x as GoMap;
    const keys = structInfo(o) ? Object.keys(o) : Object.keys(o).sort();
    const present = keys.filter((k) => o[k] !== undefined);
    if (present.length === 0) return '{}';
    const sep = indent ? ': ' : ':';
    return `{${present.map((k) => `${nl}${str(k)}${sep}${enc(o[k], inner)}`).join(',')}${end}}`;
  };
  return enc(v, '');
}

// ---------------------------------------------------------------------------------------------
// errors

/** Template errors exit 1, as Docker's CLI (they are not flag errors). */
function templateError(message: string): SkiffError {
  return new SkiffError(`template: ${message}`, 1);
}

// ---------------------------------------------------------------------------------------------
// lexer

type TokType =
  | 'text' | 'open' | 'close' | 'space' | 'pipe' | 'lparen' | 'rparen' | 'comma' | 'declare' | 'assign'
  | 'string' | 'number' | 'bool' | 'nil' | 'dot' | 'field' | 'variable' | 'identifier' | 'keyword' | 'eof';

interface Token { type: TokType; value: string; line: number }

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function lex(src: string): Token[] {
  const toks: Token[] = [];
  let pos = 0;
  let line = 1;
  const push = (type: TokType, value: string, raw = value) => {
    toks.push({ type, value, line });
    line += raw.split('\n').length - 1;
    pos += raw.length;
  };
  const skipSpace = () => {
    const ws = /^[ \t\r\n]*/.exec(src.slice(pos))![0];
    line += ws.split('\n').length - 1;
    pos += ws.length;
  };
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    const textEnd = open < 0 ? src.length : open;
    // "{{- " trims the white space before the action (the marker needs a space after it)
    const trimLeft = open >= 0 && /^\{\{-[ \t\r\n]/.test(src.slice(open, open + 4));
    let text = src.slice(pos, textEnd);
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) toks.push({ type: 'text', value: text, line });
    line += src.slice(pos, textEnd).split('\n').length - 1;
    if (open < 0) break;
    pos = open + (trimLeft ? 3 : 2);
    if (trimLeft) skipSpace();
    if (src.startsWith('/*', pos)) {
      // a comment is a whole action: {{/* ... */}}
      const end = src.indexOf('*/', pos + 2);
      if (end < 0) throw templateError(`:${line}: unclosed comment`);
      line += src.slice(pos, end).split('\n').length - 1;
      pos = end + 2;
      const m = /^([ \t\r\n]+-)?\}\}/.exec(src.slice(pos));
      if (!m) throw templateError(`:${line}: comment ends before closing delimiter`);
      pos += m[0].length;
      if (m[1]) skipSpace();
      continue;
    }
    toks.push({ type: 'open', value: '{{', line });
    for (;;) {
      if (pos >= src.length) throw templateError(`:${line}: unclosed action`);
      const rest = src.slice(pos);
      let m: RegExpExecArray | null;
      if ((m = /^[ \t\r\n]+-\}\}/.exec(rest))) {
        // " -}}" trims the white space after the action
        push('close', '}}', m[0]);
        skipSpace();
        break;
      }
      if (rest.startsWith('}}')) { push('close', '}}'); break; }
      if ((m = /^[ \t\r\n]+/.exec(rest))) {
        if (m[0].includes('\n')) throw templateError(`:${line}: unclosed action`);
        push('space', m[0]);
      } else if (rest.startsWith(':=')) push('declare', ':=');
      else if (rest[0] === '|') push('pipe', '|');
      else if (rest[0] === '(') push('lparen', '(');
      else if (rest[0] === ')') push('rparen', ')');
      else if (rest[0] === ',') push('comma', ',');
      else if (rest[0] === '=') push('assign', '=');
      else if ((m = /^"(?:[^"\\\n]|\\.)*"/.exec(rest))) push('string', unquote(m[0], line), m[0]);
      else if ((m = /^`[^`]*`/.exec(rest))) push('string', m[0].slice(1, -1), m[0]);
      else if ((m = /^'(?:[^'\\\n]|\\.)+'/.exec(rest))) push('number', String(unquote(`"${m[0].slice(1, -1)}"`, line).codePointAt(0)), m[0]);
      else if ((m = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(rest))) push('number', m[0]);
      else if ((m = /^\$[A-Za-z0-9_]*/.exec(rest))) push('variable', m[0]);
      else if ((m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) push('field', m[0]);
      else if (rest[0] === '.') push('dot', '.');
      else if ((m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) {
        const w = m[0];
        push(w === 'true' || w === 'false' ? 'bool' : w === 'nil' ? 'nil' : KEYWORDS.has(w) ? 'keyword' : 'identifier', w);
      } else if (rest[0] === '"' || rest[0] === '`') throw templateError(`:${line}: unterminated quoted string`);
      else throw templateError(`:${line}: unexpected ${JSON.stringify(rest[0])} in command`);
    }
  }
  toks.push({ type: 'eof', value: '', line });
  return toks;
}

function unquote(q: string, line: number): string {
  try {
    return JSON.parse(q.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b')
      .replace(/\\'/g, "'").replace(/\\U([0-9a-fA-F]{8})/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))) as string;
  } catch {
    throw templateError(`:${line}: invalid syntax in quoted string ${q}`);
  }
}

// ---------------------------------------------------------------------------------------------
// parser

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe; line: number }
  | ControlNode
  | { kind: 'break' | 'continue'; line: number };

interface ControlNode { kind: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList?: Node[]; line: number }

interface Pipe { decl: string[]; assign: boolean; cmds: Arg[][]; line: number }

type Arg =
  | { kind: 'field'; names: string[] }
  | { kind: 'variable'; name: string; names: string[] }
  | { kind: 'chain'; node: Arg; names: string[] }
  | { kind: 'function'; name: string }
  | { kind: 'dot' }
  | { kind: 'nil' }
  | { kind: 'const'; value: unknown }
  | { kind: 'pipe'; pipe: Pipe };

class Parser {
  private i = 0;
  private vars: string[][] = [['$']];
  private rangeDepth = 0;
  constructor(private readonly toks: Token[], private readonly funcs: FuncMap) {}

  private peek(): Token { return this.toks[Math.min(this.i, this.toks.length - 1)]; }
  /** The last token (eof) is never passed. */
  private next(): Token { return this.toks[Math.min(this.i++, this.toks.length - 1)]; }
  private nextNonSpace(): Token {
    let t = this.next();
    while (t.type === 'space') t = this.next();
    return t;
  }
  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }
  private fail(t: Token, msg: string): never { throw templateError(`:${t.line}: ${msg}`); }
  private expect(type: TokType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.fail(t, `unexpected ${describe(t)} in ${context}`);
    return t;
  }

  parse(): Node[] {
    const { list, end } = this.itemList();
    if (end) this.fail(end.token, `unexpected {{${end.word}}}`);
    return list;
  }

  /** Nodes up to {{end}}, {{else}} or EOF; tells which ended it. */
  private itemList(): { list: Node[]; end?: { word: 'end' | 'else'; chained?: string; token: Token } } {
    const list: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.type === 'eof') return { list };
      if (t.type === 'space') continue;
      if (t.type === 'text') { list.push({ kind: 'text', text: t.value }); continue; }
      const r = this.action();
      if ('word' in r) return { list, end: r };
      list.push(r);
    }
  }

  private action(): Node | { word: 'end' | 'else'; chained?: string; token: Token } {
    const t = this.nextNonSpace();
    if (t.type === 'keyword') {
      switch (t.value) {
        case 'end': this.expect('close', 'end'); return { word: 'end', token: t };
        case 'else': {
          const n = this.peekNonSpace();
          if (n.type === 'keyword' && (n.value === 'if' || n.value === 'with')) {
            this.nextNonSpace();
            return { word: 'else', chained: n.value, token: t };
          }
          this.expect('close', 'else');
          return { word: 'else', token: t };
        }
        case 'if': case 'with': return this.control(t.value, t.line);
        case 'range': {
          this.rangeDepth++;
          try { return this.control('range', t.line); } finally { this.rangeDepth--; }
        }
        case 'break': case 'continue':
          if (this.rangeDepth === 0) this.fail(t, `{{${t.value}}} outside {{range}}`);
          this.expect('close', t.value);
          return { kind: t.value, line: t.line };
        default: this.fail(t, `{{${t.value}}} is not supported by skiff's templates`);
      }
    }
    this.i--;
    return { kind: 'action', pipe: this.pipeline('command'), line: t.line };
  }

  private control(kind: 'if' | 'with' | 'range', line: number): Node {
    this.vars.push([]);
    try {
      const pipe = this.pipeline(kind);
      const { list, end } = this.itemList();
      if (!end) this.fail(this.peek(), `unexpected EOF`);
      let elseList: Node[] | undefined;
      if (end.word === 'else') {
        if (end.chained) {
          if (end.chained !== kind) this.fail(end.token, `unexpected {{else ${end.chained}}} in {{${kind}}}`);
          // {{else if x}} is {{else}}{{if x}}...{{end}}{{end}} with one shared end
          elseList = [this.control(end.chained as 'if' | 'with', end.token.line)];
        } else {
          const r = this.itemList();
          if (!r.end || r.end.word !== 'end') this.fail(r.end?.token ?? this.peek(), r.end ? 'expected end; found {{else}}' : 'unexpected EOF');
          elseList = r.list;
        }
      }
      return { kind, pipe, list, elseList, line };
    } finally {
      this.vars.pop();
    }
  }

  private pipeline(context: string): Pipe {
    const pipe: Pipe = { decl: [], assign: false, cmds: [], line: this.peek().line };
    // declarations: $x := / $x = / (range) $i, $v :=
    const save = this.i;
    const first = this.nextNonSpace();
    if (first.type === 'variable') {
      const after = this.nextNonSpace();
      if (after.type === 'declare' || after.type === 'assign') {
        pipe.decl.push(first.value);
        pipe.assign = after.type === 'assign';
      } else if (after.type === 'comma' && context === 'range') {
        const second = this.nextNonSpace();
        const op = this.nextNonSpace();
        if (second.type !== 'variable' || (op.type !== 'declare' && op.type !== 'assign')) this.fail(second, 'range can only initialize variables');
        pipe.decl.push(first.value, second.value);
        pipe.assign = op.type === 'assign';
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    for (const v of pipe.decl) {
      if (pipe.assign) this.useVariable(first, v);
      else this.vars.at(-1)!.push(v);
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === 'close' || t.type === 'rparen') {
        if ((t.type === 'rparen') !== (context === 'parenthesized pipeline')) this.fail(t, `unexpected ${describe(t)} in ${context}`);
        if (pipe.cmds.length === 0) this.fail(t, `missing value for ${context}`);
        return pipe;
      }
      if (t.type === 'eof') this.fail(t, `unclosed action`);
      this.i--;
      pipe.cmds.push(this.command(context));
    }
  }

  private command(context: string): Arg[] {
    const args: Arg[] = [];
    for (;;) {
      const t = this.peekNonSpace();
      if (t.type === 'close' || t.type === 'rparen' || t.type === 'eof') break;
      if (t.type === 'pipe') {
        this.nextNonSpace();
        if (args.length === 0) this.fail(t, 'missing command');
        return args;
      }
      this.nextNonSpace();
      args.push(this.operand(t, context));
      const n = this.peek();
      if (n.type !== 'space' && n.type !== 'close' && n.type !== 'rparen' && n.type !== 'pipe') this.fail(n, `unexpected ${describe(n)} in operand`);
    }
    if (args.length === 0) this.fail(this.peek(), `missing value for ${context}`);
    return args;
  }

  private operand(t: Token, context: string): Arg {
    let node = this.term(t, context);
    if (this.peek().type === 'field') {
      const names: string[] = [];
      while (this.peek().type === 'field') names.push(this.next().value.slice(1));
      if (node.kind === 'field' || node.kind === 'variable') node = { ...node, names: [...node.names, ...names] };
      else if (node.kind === 'const' || node.kind === 'nil') this.fail(t, `unexpected . after term ${JSON.stringify(t.value)}`);
      else node = { kind: 'chain', node, names };
    }
    return node;
  }

  private term(t: Token, context: string): Arg {
    switch (t.type) {
      case 'identifier':
        if (!this.funcs[t.value]) this.fail(t, `function ${JSON.stringify(t.value)} not defined`);
        return { kind: 'function', name: t.value };
      case 'dot': return { kind: 'dot' };
      case 'nil': return { kind: 'nil' };
      case 'variable': this.useVariable(t, t.value); return { kind: 'variable', name: t.value, names: [] };
      case 'field': return { kind: 'field', names: [t.value.slice(1)] };
      case 'bool': return { kind: 'const', value: t.value === 'true' };
      case 'string': return { kind: 'const', value: t.value };
      case 'number': return { kind: 'const', value: parseNumber(t) };
      case 'lparen': return { kind: 'pipe', pipe: this.pipeline('parenthesized pipeline') };
      default: this.fail(t, `unexpected ${describe(t)} in ${context}`);
    }
  }

  private useVariable(t: Token, name: string): void {
    if (!this.vars.some((scope) => scope.includes(name))) this.fail(t, `undefined variable ${JSON.stringify(name)}`);
  }
}

function parseNumber(t: Token): number {
  const s = t.value.replace(/_/g, '');
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '');
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2);
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8);
  else n = Number(body);
  if (Number.isNaN(n)) throw templateError(`:${t.line}: bad number syntax: ${JSON.stringify(t.value)}`);
  return neg ? -n : n;
}

function describe(t: Token): string {
  if (t.type === 'close') return '"}}"';
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'rparen') return '")"';
  return `${JSON.stringify(t.value)}`;
}

// ---------------------------------------------------------------------------------------------
// functions

/** A template function: gets its evaluated arguments (lazy ones get thunks). */
export interface TemplateFunc { (...args: unknown[]): unknown; lazy?: boolean }
export type FuncMap = Record<string, TemplateFunc>;

const lazy = (f: (...thunks: (() => unknown)[]) => unknown): TemplateFunc => Object.assign(f as TemplateFunc, { lazy: true });

function need(n: number, args: unknown[], name: string): void {
  if (args.length !== n) throw new Error(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

function asString(v: unknown, fn: string): string {
  if (typeof v === 'string') return v;
  throw new Error(`error calling ${fn}: expected a string, got ${formatValue(v)}`);
}

function compare(a: unknown, b: unknown, op: string): number {
  const basic = (x: unknown) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  if (!basic(a) || !basic(b)) {
    if (op === 'eq' && (a === undefined || a === null || a instanceof GoNil) && (b === undefined || b === null || b instanceof GoNil)) return 0;
    throw new Error(`error calling ${op}: invalid type for comparison`);
  }
  if (typeof a !== typeof b) throw new Error(`error calling ${op}: incompatible types for comparison`);
  if (op !== 'eq' && op !== 'ne' && typeof a === 'boolean') throw new Error(`error calling ${op}: invalid type for comparison`);
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}

function indexOf(container: unknown, keys: unknown[]): unknown {
  let v = container;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'number' || !Number.isInteger(k)) throw new Error(`error calling index: cannot index slice/array with type ${typeof k}`);
      if (k < 0 || k >= v.length) throw new Error(`error calling index: index out of range: ${k}`);
      v = typeof v === 'string' ? v.charCodeAt(k) : v[k];
    } else if (v instanceof GoNil) {
      if (v.kind === 'map') { v = ''; continue; }
      throw new Error(`error calling index: index of untyped nil`);
    } else if (isMap(v)) {
      const m: GoMap = v;
      const key = String(k);
      // a missing key gives the element's zero value: "" for Docker's map[string]string
      v = Object.prototype.hasOwnProperty.call(m, key) ? m[key]
        : Object.values(m).every((x) => typeof x === 'string') ? '' : undefined;
    } else if (v === undefined || v === null) {
      throw new Error('error calling index: index of untyped nil');
    } else {
      throw new Error(`error calling index: can't index item of type ${structInfo(v)?.type ?? typeof v}`);
    }
  }
  return v;
}

function goLen(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (v instanceof GoNil && v.kind !== 'pointer') return 0;
  if (isMap(v)) return Object.keys(v).length;
  throw new Error(`error calling len: len of type ${v === null || v === undefined ? 'nil' : structInfo(v)?.type ?? typeof v}`);
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintf for the verbs templates use: %v %s %q %d %f %g %e %x %X %t %c %%, flags, width, precision. */
export function sprintf(format: string, args: unknown[]): string {
  let argi = 0;
  const out = format.replace(/%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/g, (whole, flags: string, w?: string, p?: string, verb?: string) => {
    if (verb === '%') return '%';
    const width = w === '*' ? Number(args[argi++]) : w !== undefined ? Number(w) : undefined;
    const precStr = p === '*' ? String(args[argi++]) : p;
    const prec = whole.includes('.') ? Number(precStr ?? 0) : undefined;
    if (argi >= args.length) return `%!${verb}(MISSING)`;
    const a = args[argi++];
    let s: string;
    const bad = () => `%!${verb}(${typeName(a)}=${formatValue(a)})`;
    switch (verb) {
      case 'v': s = flags.includes('#') && typeof a === 'string' ? JSON.stringify(a) : formatValue(a); break;
      case 's': s = typeof a === 'string' || Array.isArray(a) || isMap(a) ? formatValue(a) : typeof a === 'number' || typeof a === 'boolean' ? bad() : formatValue(a); if (prec !== undefined && typeof a === 'string') s = [...s].slice(0, prec).join(''); break;
      case 'q': s = typeof a === 'string' ? JSON.stringify(a) : typeof a === 'number' ? `'${String.fromCodePoint(a)}'` : bad(); break;
      case 'd': s = typeof a === 'number' && Number.isInteger(a) ? String(Math.abs(a)) : bad(); if (typeof a === 'number' && Number.isInteger(a)) s = sign(a, flags) + s; break;
      case 'f': case 'F': s = typeof a === 'number' ? sign(a, flags) + Math.abs(a).toFixed(prec ?? 6) : bad(); break;
      case 'e': s = typeof a === 'number' ? sign(a, flags) + Math.abs(a).toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : bad(); break;
      case 'g': s = typeof a === 'number' ? sign(a, flags) + String(prec !== undefined ? Number(Math.abs(a).toPrecision(prec || 1)) : Math.abs(a)) : bad(); break;
      case 'x': case 'X': {
        if (typeof a === 'number' && Number.isInteger(a)) s = sign(a, flags) + Math.abs(a).toString(16);
        else if (typeof a === 'string') s = Buffer.from(a).toString('hex');
        else { s = bad(); break; }
        if (verb === 'X') s = s.toUpperCase();
        break;
      }
      case 't': s = typeof a === 'boolean' ? String(a) : bad(); break;
      case 'c': s = typeof a === 'number' ? String.fromCodePoint(a) : bad(); break;
      default: s = `%!${verb}(${typeName(a)}=${formatValue(a)})`;
    }
    if (width !== undefined && s.length < width) {
      const padChar = flags.includes('0') && !flags.includes('-') && /[dfeEgxX]/.test(verb!) ? '0' : ' ';
      if (flags.includes('-')) s = s.padEnd(width);
      else if (padChar === '0' && /^[+-]/.test(s)) s = s[0] + s.slice(1).padStart(width - 1, '0');
      else s = s.padStart(width, padChar);
    }
    return s;
  });
  if (argi < args.length) {
    return `${out}%!(EXTRA ${args.slice(argi).map((a) => `${typeName(a)}=${formatValue(a)}`).join(', ')})`;
  }
  return out;
}

function sign(n: number, flags: string): string {
  return n < 0 || Object.is(n, -0) ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
}

function typeName(a: unknown): string {
  if (typeof a === 'number') return Number.isInteger(a) ? 'int' : 'float64';
  if (typeof a === 'boolean') return 'bool';
  if (typeof a === 'string') return 'string';
  if (Array.isArray(a)) return '[]interface {}';
  return structInfo(a)?.type ?? (a === null || a === undefined ? '<nil>' : 'map[string]interface {}');
}

/** strings.Title: upper-case the first letter of each word. */
function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, sep: string, c: string) => sep + c.toUpperCase());
}

/** Go's text/template built-ins. */
export const GO_BUILTINS: FuncMap = {
  and: lazy((...a) => { let v: unknown = undefined; for (const t of a) { v = t(); if (!truth(v)) return v; } return v; }),
  or: lazy((...a) => { let v: unknown = undefined; for (const t of a) { v = t(); if (truth(v)) return v; } return v; }),
  not: (...a) => { need(1, a, 'not'); return !truth(a[0]); },
  len: (...a) => { need(1, a, 'len'); return goLen(a[0]); },
  index: (...a) => { if (a.length < 1) throw new Error('wrong number of args for index: want at least 1 got 0'); return indexOf(a[0], a.slice(1)); },
  slice: (...a) => {
    const [x, ...idx] = a as [unknown, ...number[]];
    if (typeof x !== 'string' && !Array.isArray(x)) throw new Error(`error calling slice: can't slice item of type ${typeName(x)}`);
    const from = idx[0] ?? 0;
    const to = idx[1] ?? x.length;
    if (from < 0 || to > x.length || from > to) throw new Error(`error calling slice: index out of range`);
    return x.slice(from, to);
  },
  print: (...a) => sprint(a),
  println: (...a) => `${a.map((x) => formatValue(x)).join(' ')}\n`,
  printf: (...a) => sprintf(asString(a[0], 'printf'), a.slice(1)),
  eq: (...a) => {
    if (a.length < 2) throw new Error('missing argument for comparison');
    return a.slice(1).some((b) => compare(a[0], b, 'eq') === 0);
  },
  ne: (...a) => { need(2, a, 'ne'); return compare(a[0], a[1], 'ne') !== 0; },
  lt: (...a) => { need(2, a, 'lt'); return compare(a[0], a[1], 'lt') < 0; },
  le: (...a) => { need(2, a, 'le'); return compare(a[0], a[1], 'le') <= 0; },
  gt: (...a) => { need(2, a, 'gt'); return compare(a[0], a[1], 'gt') > 0; },
  ge: (...a) => { need(2, a, 'ge'); return compare(a[0], a[1], 'ge') >= 0; },
  html: (...a) => sprint(a).replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!),
  js: (...a) => sprint(a).replace(/[\\'"<>&=\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!),
  urlquery: (...a) => encodeURIComponent(sprint(a)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
};

/** docker-cli templates.basicFunctions. */
export const DOCKER_FUNCS: FuncMap = {
  json: (...a) => { need(1, a, 'json'); return goJson(a[0]); },
  split: (...a) => { need(2, a, 'split'); return asString(a[0], 'split').split(asString(a[1], 'split')); },
  join: (...a) => {
    need(2, a, 'join');
    const list = a[0] instanceof GoNil ? [] : a[0];
    if (!Array.isArray(list)) throw new Error(`error calling join: expected a list, got ${formatValue(a[0])}`);
    return list.map((x) => formatValue(x)).join(asString(a[1], 'join'));
  },
  title: (...a) => { need(1, a, 'title'); return title(asString(a[0], 'title')); },
  lower: (...a) => { need(1, a, 'lower'); return asString(a[0], 'lower').toLowerCase(); },
  upper: (...a) => { need(1, a, 'upper'); return asString(a[0], 'upper').toUpperCase(); },
  pad: (...a) => {
    need(3, a, 'pad');
    const s = asString(a[0], 'pad');
    return s === '' ? s : ' '.repeat(Number(a[1])) + s + ' '.repeat(Number(a[2]));
  },
  truncate: (...a) => {
    need(2, a, 'truncate');
    const s = asString(a[0], 'truncate');
    return Buffer.byteLength(s) < Number(a[1]) ? s : Buffer.from(s).subarray(0, Number(a[1])).toString();
  },
};

// ---------------------------------------------------------------------------------------------
// execution

class Break { constructor(readonly cont: boolean) {} }

class Exec {
  private out: string[] = [];
  private vars: { name: string; value: unknown }[] = [];
  constructor(private readonly funcs: FuncMap, private readonly root: unknown) {
    this.vars.push({ name: '$', value: root });
  }

  run(nodes: Node[]): string {
    this.walkList(this.root, nodes);
    return this.out.join('');
  }

  private fail(line: number, where: string, msg: string): never {
    throw templateError(`:${line}: executing "" at <${where}>: ${msg}`);
  }

  private walkList(dot: unknown, nodes: Node[]): void {
    for (const n of nodes) this.walk(dot, n);
  }

  private walk(dot: unknown, n: Node): void {
    switch (n.kind) {
      case 'text': this.out.push(n.text); return;
      case 'action': {
        const v = this.evalPipe(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.out.push(formatValue(v));
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipe(dot, n.pipe);
        if (truth(v)) this.walkList(n.kind === 'with' ? v : dot, n.list);
        else if (n.elseList) this.walkList(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range': return this.walkRange(dot, n);
      case 'break': throw new Break(false);
      case 'continue': throw new Break(true);
    }
  }

  private walkRange(dot: unknown, n: ControlNode): void {
    const mark = this.vars.length;
    const pipe = { ...n.pipe, decl: [] };
    const v = this.evalPipe(dot, pipe);
    let items: [unknown, unknown][];
    if (Array.isArray(v)) items = v.map((x, i) => [i, x]);
    else if (v instanceof GoNil || v === undefined || v === null) items = [];
    else if (isMap(v)) items = Object.keys(v).sort().map((k) => [k, v[k]]);
    else if (typeof v === 'number' && Number.isInteger(v)) items = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else this.fail(n.line, 'range', `range can't iterate over ${formatValue(v)}`);
    if (items.length === 0) {
      if (n.elseList) this.walkList(dot, n.elseList);
      this.vars.length = mark;
      return;
    }
    for (const [k, x] of items) {
      const inner = this.vars.length;
      if (n.pipe.decl.length === 1) this.setVar(n.pipe.decl[0], x, n.pipe.assign);
      else if (n.pipe.decl.length === 2) {
        this.setVar(n.pipe.decl[0], k, n.pipe.assign);
        this.setVar(n.pipe.decl[1], x, n.pipe.assign);
      }
      try {
        this.walkList(x, n.list);
      } catch (e) {
        if (!(e instanceof Break)) throw e;
        if (!e.cont) { this.vars.length = inner; break; }
      }
      this.vars.length = inner;
    }
    this.vars.length = mark;
  }

  private setVar(name: string, value: unknown, assign: boolean): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) {
        if (this.vars[i].name === name) { this.vars[i].value = value; return; }
      }
    }
    this.vars.push({ name, value });
  }

  private getVar(name: string, line: number): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    this.fail(line, name, `undefined variable: ${name}`);
  }

  private evalPipe(dot: unknown, pipe: Pipe): unknown {
    let value: unknown;
    let first = true;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, first ? NO_FINAL : value, pipe.line);
      first = false;
    }
    for (const name of pipe.decl) this.setVar(name, value, pipe.assign);
    return value;
  }

  private evalCommand(dot: unknown, cmd: Arg[], final: unknown, line: number): unknown {
    const [head, ...rest] = cmd;
    const args: Arg[] = rest;
    if (head.kind === 'function') return this.call(dot, head.name, args, final, line);
    if (args.length > 0 || final !== NO_FINAL) {
      if (head.kind !== 'field' && head.kind !== 'chain' && head.kind !== 'variable') {
        this.fail(line, argText(head), `can't give argument to non-function ${argText(head)}`);
      }
    }
    const v = this.evalArg(dot, head, line);
    if (typeof v === 'function') {
      const callArgs = args.map((a) => this.evalArg(dot, a, line));
      if (final !== NO_FINAL) callArgs.push(final);
      return (v as TemplateFunc)(...callArgs);
    }
    if (args.length > 0 || final !== NO_FINAL) this.fail(line, argText(head), `${argText(head)} is not a method but has arguments`);
    return v;
  }

  private call(dot: unknown, name: string, args: Arg[], final: unknown, line: number): unknown {
    const fn = this.funcs[name];
    try {
      if (fn.lazy) {
        const thunks = args.map((a) => () => this.evalArg(dot, a, line));
        if (final !== NO_FINAL) thunks.push(() => final);
        return fn(...thunks);
      }
      const values = args.map((a) => this.evalArg(dot, a, line));
      if (final !== NO_FINAL) values.push(final);
      return fn(...values);
    } catch (e) {
      if (e instanceof SkiffError) throw e;
      this.fail(line, name, (e as Error).message.startsWith('error calling') || (e as Error).message.startsWith('wrong number')
        ? (e as Error).message : `error calling ${name}: ${(e as Error).message}`);
    }
  }

  private evalArg(dot: unknown, a: Arg, line: number): unknown {
    switch (a.kind) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'const': return a.value;
      case 'field': return this.fields(dot, a.names, line, '');
      case 'variable': return this.fields(this.getVar(a.name, line), a.names, line, a.name);
      case 'chain': return this.fields(this.evalArg(dot, a.node, line), a.names, line, '');
      case 'pipe': return this.evalPipe(dot, a.pipe);
      case 'function': return this.call(dot, a.name, [], NO_FINAL, line);
    }
  }

  private fields(receiver: unknown, names: string[], line: number, prefix: string): unknown {
    let v = receiver;
    let path = prefix;
    for (const name of names) {
      path += `.${name}`;
      if (v instanceof GoNil || v === null) this.fail(line, path, `nil pointer evaluating ${v instanceof GoNil && v.kind === 'map' ? 'map[string]string' : 'interface {}'}.${name}`);
      if (v === undefined) this.fail(line, path, `nil pointer evaluating interface {}.${name}`);
      const info = structInfo(v);
      if (info) {
        const key = Object.prototype.hasOwnProperty.call(v, name) ? name : info.aliases[name];
        if (key === undefined || !Object.prototype.hasOwnProperty.call(v, key)) {
          this.fail(line, path, `can't evaluate field ${name} in type ${info.type}`);
        }
        v = (v as GoMap)[key];
      } else if (isMap(v)) {
        v = Object.prototype.hasOwnProperty.call(v, name) ? v[name] : undefined;
      } else {
        this.fail(line, path, `can't evaluate field ${name} in type ${typeName(v)}`);
      }
    }
    return v;
  }
}

const NO_FINAL = Symbol('no final value');

function argText(a: Arg): string {
  switch (a.kind) {
    case 'field': return `.${a.names.join('.')}`;
    case 'variable': return [a.name, ...a.names].join('.');
    case 'const': return typeof a.value === 'string' ? JSON.stringify(a.value) : String(a.value);
    case 'nil': return 'nil';
    case 'dot': return '.';
    case 'function': return a.name;
    default: return '(...)';
  }
}

// ---------------------------------------------------------------------------------------------

export interface GoTemplate { execute(data: unknown): string }

/**
 * Parse a template once (throws SkiffError exit 1 with Go's message on a syntax error);
 * execute() runs it on one value. `funcs` replaces Docker's functions (header rendering).
 */
export function parseTemplate(text: string, funcs: FuncMap = DOCKER_FUNCS): GoTemplate {
  return fieldsOnlyTemplate(text, () => parseFully(text, funcs)) ?? parseFully(text, funcs);
}

/** The lexer, parser and executor: every template that fieldsOnlyTemplate does not take. */
export function parseFully(text: string, funcs: FuncMap = DOCKER_FUNCS): GoTemplate {
  const all = { ...GO_BUILTINS, ...funcs };
  const nodes = new Parser(lex(text), all).parse();
  return { execute: (data: unknown) => new Exec(all, data).run(nodes) };
}

// Text (no `{{`) and `{{.Field}}` actions, nothing else: ps's, images' and history's tables.
const FIELDS_ONLY = /^(?:[^{]|\{(?!\{))*(?:\{\{\.[A-Za-z_]\w*\}\}(?:[^{]|\{(?!\{))*)*$/;
const FIELD_ACTION = /\{\{\.([A-Za-z_]\w*)\}\}/g;

/**
 * A template of text and `{{.Field}}` actions only, run without the lexer, parser and executor:
 * each field of a struct (or key of a map) that is there is printed as the executor prints it
 * (formatValue); anything else (a missing field, a value that is not a struct or map) goes to
 * the full template, parsed then (`full`), which gives Go's output or error. Why: the commands
 * that list (ps above all) use only such templates by default, and compiling the parser and
 * executor, or deserialising them from the code cache, was part of every `ps` start-up
 * (docs/PERFORMANCE.md). test/unit/go-template.test.ts checks both ways agree.
 */
function fieldsOnlyTemplate(text: string, full: () => GoTemplate): GoTemplate | undefined {
  if (!FIELDS_ONLY.test(text)) return undefined;
  const texts = text.split(FIELD_ACTION); // text, field, text, field, ..., text
  let fallback: GoTemplate | undefined;
  return {
    execute(data: unknown): string {
      const info = structInfo(data);
      if (!info && !isMap(data)) return (fallback ??= full()).execute(data);
      let out = texts[0];
      for (let i = 1; i < texts.length; i += 2) {
        const name = texts[i];
        const key = Object.prototype.hasOwnProperty.call(data, name) ? name : info?.aliases[name];
        if (key === undefined || !Object.prototype.hasOwnProperty.call(data, key)) return (fallback ??= full()).execute(data);
        out += formatValue((data as GoMap)[key]) + texts[i + 1];
      }
      return out;
    },
  };
}
