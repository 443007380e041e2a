/**
 * Reading the container log the monitor writes (native/helper/logfile.c): Docker's json-file
 * lines and Podman's k8s-file (CRI) lines, into entries that point into the file's bytes (no
 * copy of the text unless it had to be unescaped), so `logs` of a large log stays cheap.
 */

export interface LogEntry {
  stream: 1 | 2;
  /** the text is src[start, end), plus a newline when `newline` (a complete line) */
  src: Buffer;
  start: number;
  end: number;
  newline: boolean;
  /** the entry's time as written (RFC 3339), in `line` at [timeStart, timeEnd) */
  line: Buffer;
  timeStart: number;
  timeEnd: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const JSON_HEAD = Buffer.from('{"log":"');
const STREAM_KEY = Buffer.from('","stream":"std');
const TIME_KEY = Buffer.from('","time":"');

/** The index of the closing quote of the JSON string starting at `from`, or -1. */
function stringEnd(buf: Buffer, from: number, limit: number): number {
  let i = buf.indexOf(QUOTE, from);
  while (i >= 0 && i < limit) {
    let bs = 0;
    while (buf[i - 1 - bs] === BACKSLASH) bs++;
    if (bs % 2 === 0) return i;
    i = buf.indexOf(QUOTE, i + 1);
  }
  return -1;
}

/** One json-file line buf[s, e) (no newline), or undefined when it is not one. */
function parseJsonLine(buf: Buffer, s: number, e: number): LogEntry | undefined {
  if (buf.compare(JSON_HEAD, 0, JSON_HEAD.length, s, s + JSON_HEAD.length) === 0) {
    const textStart = s + JSON_HEAD.length;
    const q = stringEnd(buf, textStart, e);
    if (q >= 0 && buf.compare(STREAM_KEY, 0, STREAM_KEY.length, q, q + STREAM_KEY.length) === 0) {
      const k = q + STREAM_KEY.length;
      const stream = buf[k] === 0x6f /* o(ut) */ ? 1 : 2;
      const t = k + 3 + 1; // "out" or "err", then the closing quote
      if (buf.compare(TIME_KEY, 0, TIME_KEY.length, t - 1, t - 1 + TIME_KEY.length) === 0) {
        const timeStart = t - 1 + TIME_KEY.length;
        const timeEnd = buf.indexOf(QUOTE, timeStart);
        const firstEscape = buf.indexOf(BACKSLASH, textStart);
        // The usual line: no escape but its final "\n".
        if (firstEscape === q - 2 && buf[q - 1] === 0x6e) {
          return { stream, src: buf, start: textStart, end: q - 2, newline: true, line: buf, timeStart, timeEnd };
        }
        if (firstEscape < 0 || firstEscape >= q) {
          return { stream, src: buf, start: textStart, end: q, newline: false, line: buf, timeStart, timeEnd };
        }
        const text = Buffer.from(JSON.parse(buf.toString('utf8', textStart - 1, q + 1)) as string);
        const nl = text.length > 0 && text[text.length - 1] === NEWLINE;
        return { stream, src: text, start: 0, end: nl ? text.length - 1 : text.length, newline: nl, line: buf, timeStart, timeEnd };
      }
    }
  }
  // Not the layout the monitor writes (another writer, or fields reordered): parse it properly.
  try {
    const j = JSON.parse(buf.toString('utf8', s, e)) as { log?: string; stream?: string; time?: string };
    const text = Buffer.from(j.log ?? '');
    const nl = text.length > 0 && text[text.length - 1] === NEWLINE;
    const time = Buffer.from(j.time ?? '');
    return { stream: j.stream === 'stderr' ? 2 : 1, src: text, start: 0, end: nl ? text.length - 1 : text.length, newline: nl, line: time, timeStart: 0, timeEnd: time.length };
  } catch {
    return undefined;
  }
}

/** One k8s-file line: "TIME STREAM F|P TEXT". */
function parseK8sLine(buf: Buffer, s: number, e: number): LogEntry | undefined {
  const sp1 = buf.indexOf(0x20, s);
  if (sp1 < 0 || sp1 >= e) return undefined;
  const sp2 = buf.indexOf(0x20, sp1 + 1);
  if (sp2 < 0 || sp2 >= e) return undefined;
  const stream = buf[sp1 + 4] === 0x6f ? 1 : 2; // std(o)ut
  const tag = buf[sp2 + 1];
  const textStart = Math.min(sp2 + 3, e);
  return { stream, src: buf, start: textStart, end: e, newline: tag !== 0x50 /* P */, line: buf, timeStart: s, timeEnd: sp1 };
}

export type LogFormat = 'json-file' | 'k8s-file';

/**
 * The complete lines of buf[from, end) as entries; returns the offset after the last complete
 * line (a trailing partial line is left for the next read).
 */
export function parseLogLines(format: LogFormat, buf: Buffer, from: number, end: number, out: LogEntry[]): number {
  const parse = format === 'k8s-file' ? parseK8sLine : parseJsonLine;
  let s = from;
  for (;;) {
    const nl = buf.indexOf(NEWLINE, s);
    if (nl < 0 || nl >= end) return s;
    if (nl > s) {
      const entry = parse(buf, s, nl);
      if (entry) out.push(entry);
    }
    s = nl + 1;
  }
}

/** An RFC 3339 time (with up to nanoseconds) as nanoseconds since the epoch; NaN when it is not one. */
export function timeToNanos(text: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
