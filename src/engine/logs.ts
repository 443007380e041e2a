import fs from 'node:fs';
import { exitReaderGone, isReaderGone } from '../util/reader-gone';
import { parseLogLines, timeToNanos, type LogEntry, type LogFormat } from '../runtime/log-reader';
import { isSameLiveProcess } from '../runtime/process-identity';
import { SkiffError } from '../util/errors';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';
import { logConfigOf, logPathOf } from './logs-location';

/** `logs`: the container log as the monitor wrote it, stdout to stdout and stderr to stderr. */

export interface LogsOptions {
  follow: boolean;
  /** "all" or a number of lines from the end */
  tail: string;
  since?: string;
  until?: string;
  timestamps: boolean;
  details: boolean;
}

const FOLLOW_POLL_MS = 50;

/**
 * Docker's time arguments (timetypes.GetTimestamp): RFC 3339 (date only, without zone = UTC),
 * Unix seconds with an optional fraction, or a Go duration back from now ("10m", "1h30m").
 */
export function parseLogTime(value: string, flag: string, now = Date.now()): bigint {
  const fail = () => new SkiffError(`invalid value for "${flag}": failed to parse value as time or duration: "${value}"`, 1);
  if (/^\d+(\.\d{1,9})?$/.test(value)) {
    const [sec, frac = ''] = value.split('.');
    return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
  }
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
    let ms = 0;
    for (const [, n, , u] of value.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * unit[u];
    return BigInt(Math.round((now - ms) * 1000)) * 1000n;
  }
  const exact = timeToNanos(value);
  if (exact !== undefined) return exact;
  const ms = Date.parse(/^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw fail();
  return BigInt(ms) * 1_000_000n;
}

function parseTail(tail: string): number {
  if (tail === 'all' || tail === '') return -1;
  const n = Number(tail);
  return Number.isInteger(n) && n >= 0 ? n : -1; // Docker: anything else means all
}

/** Batches output per stream; switching stream flushes, so the two keep their order. */
class Output {
  private buf = Buffer.allocUnsafe(1 << 20);
  private len = 0;
  private stream: 1 | 2 = 1;
  constructor(private readonly timestamps: boolean, private readonly details: boolean) {}

  entry(e: LogEntry): void {
    if (e.stream !== this.stream) { this.flush(); this.stream = e.stream; }
    if (this.timestamps) this.put(Buffer.from(`${fixedNanoTime(e.line.toString('latin1', e.timeStart, e.timeEnd))} `), 0, -1);
    if (this.details) this.put(SPACE, 0, 1);
    this.put(e.src, e.start, e.end);
    if (e.newline) this.put(NL, 0, 1);
  }

  private put(src: Buffer, start: number, end: number): void {
    if (end < 0) end = src.length;
    const n = end - start;
    if (this.len + n > this.buf.length) this.flush();
    if (n > this.buf.length) { this.write(src.subarray(start, end)); return; }
    src.copy(this.buf, this.len, start, end);
    this.len += n;
  }

  flush(): void {
    if (this.len === 0) return;
    this.write(this.buf.subarray(0, this.len));
    this.len = 0;
  }

  private write(b: Buffer): void {
    const fd = this.stream;
    for (let off = 0; off < b.length;) {
      try {
        off += fs.writeSync(fd, b, off, b.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); continue; }
        if (isReaderGone(e)) exitReaderGone();
        throw e;
      }
    }
  }
}

const SPACE = Buffer.from(' ');
const NL = Buffer.from('\n');

/** Docker prints times with all nine fractional digits (RFC3339NanoFixed), in UTC. */
function fixedNanoTime(t: string): string {
  const ns = timeToNanos(t);
  if (ns === undefined) return t;
  const sec = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac}Z`;
}

/** The log's files, oldest first: FILE.N ... FILE.1, FILE. */
function logFiles(file: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; fs.existsSync(`${file}.${i}`); i++) rotated.unshift(`${file}.${i}`);
  return [...rotated, file];
}

export async function showLogs(engine: Engine, c: ContainerRecord, o: LogsOptions): Promise<void> {
  const cfg = logConfigOf(c);
  const file = logPathOf(engine, c);
  if (cfg.Type === 'none' || !file) throw new SkiffError('configured logging driver does not support reading', 1);
  const format = cfg.Type as LogFormat;
  const since = o.since ? parseLogTime(o.since, 'since') : undefined;
  const until = o.until ? parseLogTime(o.until, 'until') : undefined;
  const tail = parseTail(o.tail);
  const out = new Output(o.timestamps, o.details);
  const inRange = (e: LogEntry) => {
    if (since === undefined && until === undefined) return true;
    const t = timeToNanos(e.line.toString('latin1', e.timeStart, e.timeEnd));
    if (t === undefined) return true;
    return (since === undefined || t >= since) && (until === undefined || t <= until);
  };

  // What is there now.
  const entries: LogEntry[] = [];
  let fd: number | undefined;
  let offset = 0;
  for (const f of logFiles(file)) {
    let buf: Buffer;
    try { buf = fs.readFileSync(f); } catch { continue; }
    const used = parseLogLines(format, buf, 0, buf.length, entries);
    if (f === file) offset = used;
  }
  const shown = tail < 0 ? entries : tail === 0 ? [] : entries.slice(-tail);
  for (const e of shown) if (inRange(e)) out.entry(e);
  out.flush();
  if (!o.follow || (until !== undefined && until <= BigInt(Date.now()) * 1_000_000n)) return;

  // Follow: read what is appended (and across rotation) until the container's monitor is gone.
  c = refreshState(engine, c);
  try { fd = fs.openSync(file, 'r'); } catch { fd = undefined; }
  let pending: Buffer = Buffer.alloc(0);
  const readMore = (): void => {
    if (fd === undefined) return;
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, offset);
      if (n <= 0) break;
      offset += n;
      const buf: Buffer = pending.length ? Buffer.concat([pending, chunk.subarray(0, n)]) : Buffer.from(chunk.subarray(0, n));
      const got: LogEntry[] = [];
      const used = parseLogLines(format, buf, 0, buf.length, got);
      pending = buf.subarray(used);
      for (const e of got) if (inRange(e)) out.entry(e);
      out.flush();
    }
  };
  const reopenIfRotated = (): void => {
    let st: fs.Stats;
    try { st = fs.statSync(file); } catch { return; }
    const cur = fd === undefined ? undefined : fs.fstatSync(fd);
    if (cur && cur.ino === st.ino && st.size >= offset) return;
    readMore(); // the rest of the file that was rotated away
    if (fd !== undefined) fs.closeSync(fd);
    fd = fs.openSync(file, 'r');
    offset = 0;
    pending = Buffer.alloc(0);
  };
  const running = () => c.state.status === 'running' && isSameLiveProcess(c.state.monitorPid, c.state.monitorStart);
  try {
    while (running()) {
      reopenIfRotated();
      readMore();
      if (until !== undefined && until <= BigInt(Date.now()) * 1_000_000n) return;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
    // The monitor drained the output and closed the log before it exited.
    reopenIfRotated();
    readMore();
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
