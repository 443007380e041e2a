/**
 * `--format` for list commands (images, history, and later ps...), as docker-cli's formatter
 * package: `table TEMPLATE` prints a header and aligns columns at tabs, `json` prints one JSON
 * object per line, any other template is printed once per row. `\t` and `\n` typed literally in
 * a format become a tab and a newline, as Docker does.
 */
import { SkiffError } from './errors';
import { tabwrite } from './format';
import { parseTemplate, type FuncMap } from './go-template';

/** docker-cli templates.HeaderFunctions: functions render the header text unchanged. */
const HEADER_FUNCS: FuncMap = {
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  pad: (v) => v,
  truncate: (v) => v,
};

export interface ListFormatSpec {
  /** the format when none is given (a `table ...` template) */
  defaultFormat: string;
  /** field name -> column header (Docker's FullHeader) */
  headers: Record<string, string>;
}

/**
 * Render `rows` (one Go-template value each: make them goStruct() objects, keys in alphabetical
 * order so that `{{json .}}` matches Docker's sorted output) with the user's format.
 */
export function renderList(format: string | undefined, rows: unknown[], spec: ListFormatSpec): string {
  let f = format === undefined || format === '' || format === 'table' ? spec.defaultFormat : format;
  const isTable = f.startsWith('table');
  if (isTable) f = f.slice('table'.length);
  else if (f === 'json') f = '{{json .}}';
  f = f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const tmpl = withParseContext(() => parseTemplate(f));
  const body = rows.map((r) => `${tmpl.execute(r)}\n`).join('');
  if (!isTable) return body;
  const header = parseTemplate(f, HEADER_FUNCS).execute(spec.headers);
  return tabwrite(`${header}\n${body}`);
}

function withParseContext<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SkiffError) throw new SkiffError(`template parsing error: ${e.message}`, e.exitCode);
    throw e;
  }
}

/** Go's time.Time.String() in local time: "2024-01-01 00:00:00 +0000 UTC". */
export function goTimeString(d: Date): string {
  const off = -d.getTimezoneOffset();
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const local = new Date(d.getTime() + off * 60000);
  const zone = `${off < 0 ? '-' : '+'}${pad(Math.trunc(off / 60))}${pad(off % 60)}`;
  const date = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  return `${date} ${time} ${zone} ${off === 0 ? 'UTC' : zone}`;
}
