/**
 * The one output engine: verbs return rows (lists: ps, images, history) or objects (inspect,
 * version, info), and this renders them as docker-cli's formatter does, by the user's --format:
 *  - `table` or `table TEMPLATE`: a header and columns aligned at tabs (tabwriter);
 *  - `json`: one JSON object per row (lists), the object as JSON (version, info), an indented
 *    JSON array (inspect);
 *  - any other Go template (src/util/go-template.ts), once per row or object;
 *  - -q (lists, with no format or `table`): the quiet template, `{{.ID}}`.
 * `\t` and `\n` typed literally in a format are a tab and a newline, as in Docker.
 * Rows and objects are goStruct() values, keys in Go's field order (alphabetical for docker-cli's
 * formatter contexts, which {{json .}} prints sorted).
 */
import { TemplateError, UsageError } from '../../errors';
import { SkiffError } from '../../util/errors';
import { tabwrite } from '../../util/format';
import { goJson, parseTemplate, type FuncMap, type GoTemplate } from '../../util/go-template';

/** docker-cli templates.HeaderFunctions: functions render the header text unchanged. */
const HEADER_FUNCS: FuncMap = {
  json: (v) => v, split: (v) => v, join: (v) => v, title: (v) => v,
  lower: (v) => v, upper: (v) => v, pad: (v) => v, truncate: (v) => v,
};

export interface ListSpec {
  /** the format when none is given (a `table ...` template) */
  defaultFormat: string;
  /** field name -> column header (Docker's FullHeader) */
  headers: Record<string, string>;
  /** the template of -q (default `{{.ID}}`) */
  quietFormat?: string;
  /** -q prints each line once (images: an image with several tags is one ID) */
  quietUnique?: boolean;
  /**
   * A row with every field empty: docker-cli's ps runs the user's --format once on such a row
   * before it lists anything, so a misspelt field fails ("failed to execute template: ...") even
   * when there is nothing to list.
   */
  probeRow?: object;
}

export interface ListOptions {
  format?: string;
  quiet?: boolean;
  /** Podman's --noheading: a table without its header line (columns still aligned as with it) */
  noHeading?: boolean;
}

/**
 * Docker reads `--format --quiet` as the template "--quiet"; skiff refuses a format that looks
 * like a flag, which is always a mistake (a missing value), rather than print it once per row.
 */
export function checkFormat(format: string | undefined): void {
  if (format !== undefined && format.startsWith('--')) {
    throw new UsageError(`invalid argument "${format}" for "--format" flag: it looks like a flag; give a template, "table" or "json" before it`);
  }
}

const unescape = (f: string) => f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');

/** Parse, or say "template parsing error" with Go's words (exit 1 for lists, as docker-cli's formatter). */
function parseListTemplate(text: string): GoTemplate {
  try {
    return parseTemplate(text);
  } catch (e) {
    if (e instanceof SkiffError) throw new SkiffError(`template parsing error: ${e.message}`, e.exitCode);
    throw e;
  }
}

/** The format as given (a `table` prefix is text to it), run on an empty row: Go's error, wrapped as docker-cli's. */
function probeTemplate(format: string, row: object): void {
  const tmpl = parseListTemplate(unescape(format));
  try {
    tmpl.execute(row);
  } catch (e) {
    if (e instanceof SkiffError) throw new SkiffError(`failed to execute template: ${e.message}`, e.exitCode);
    throw e;
  }
}

/** Render rows as a list (ps, images, history). */
export function renderList(rows: readonly object[], o: ListOptions, spec: ListSpec): string {
  checkFormat(o.format);
  if (spec.probeRow && o.format) probeTemplate(o.format, spec.probeRow);
  let f = o.format === undefined || o.format === '' || o.format === 'table' ? undefined : o.format;
  if (f === undefined && o.quiet) {
    const lines = rows.map((r) => `${parseListTemplate(spec.quietFormat ?? '{{.ID}}').execute(r)}\n`);
    return (spec.quietUnique ? [...new Set(lines)] : lines).join('');
  }
  f ??= spec.defaultFormat;
  const isTable = f.startsWith('table');
  if (isTable) f = f.slice('table'.length);
  else if (f === 'json') f = '{{json .}}';
  f = unescape(f.replace(/^ +| +$/g, ''));
  const tmpl = parseListTemplate(f);
  const body = rows.map((r) => `${tmpl.execute(r)}\n`).join('');
  if (!isTable) return body;
  const header = parseTemplate(f, HEADER_FUNCS).execute(spec.headers);
  const table = tabwrite(`${header}\n${body}`);
  return o.noHeading ? table.slice(table.indexOf('\n') + 1) : table;
}

/** Parse an object template: a syntax error is Docker's "template parsing error" (exit 64). */
function parseObjectTemplate(format: string): GoTemplate {
  try {
    return parseTemplate(unescape(format));
  } catch (e) {
    throw new TemplateError(`template parsing error: ${(e as Error).message}`);
  }
}

/**
 * Render one object (version, info): `human()` without a format, `json` as one JSON line, or a
 * template; a template that fails on the object says Go's words (exit 1).
 */
export function renderObject(obj: object, format: string | undefined, human: () => string): string {
  checkFormat(format);
  if (format === undefined || format === '') return human();
  if (format === 'json') return `${goJson(obj)}\n`;
  return `${parseObjectTemplate(format).execute(obj)}\n`;
}

/**
 * Render objects as inspect does: an indented JSON array, or the template once per object.
 * An object the template fails on is an error of its own (returned), the others still print.
 */
export function renderInspect(objects: readonly object[], format: string | undefined): { text: string; errors: SkiffError[] } {
  checkFormat(format);
  if (format === undefined || format === '' || format === 'json') {
    return { text: `${goJson(objects, { indent: '    ', escapeHtml: true })}\n`, errors: [] };
  }
  const tmpl = parseObjectTemplate(format);
  let text = '';
  const errors: SkiffError[] = [];
  for (const o of objects) {
    try {
      text += `${tmpl.execute(o)}\n`;
    } catch (e) {
      errors.push(new SkiffError(`template parsing error: ${(e as Error).message}`, 1));
    }
  }
  return { text, errors };
}
