import { describe, expect, it } from 'vitest';
import { logLimits, parseHumanSize, parseLogConfig } from '../../src/runtime/log-config';
import { parseLogLines, timeToNanos, type LogEntry } from '../../src/runtime/log-reader';
import { detachKeyScanner } from '../../src/engine/attach';
import { parseDetachKeys } from '../../src/engine/detach-keys';
import { parseLogTime } from '../../src/engine/logs';

const text = (e: LogEntry) => e.src.toString('utf8', e.start, e.end) + (e.newline ? '\n' : '');

describe('log config', () => {
  it('max-size is decimal as Go units.FromHumanSize; max-file defaults to 1', () => {
    expect(parseHumanSize('10m')).toBe(10_000_000);
    expect(parseHumanSize('1k')).toBe(1000);
    expect(parseHumanSize('512')).toBe(512);
    expect(logLimits(parseLogConfig(undefined, ['max-size=2k', 'max-file=3']))).toEqual({ maxSize: 2000, maxFiles: 3 });
    expect(logLimits(parseLogConfig('k8s-file', []))).toEqual({ maxSize: 0, maxFiles: 1 });
  });
  it('refuses what Docker refuses, with its words', () => {
    expect(() => parseLogConfig('journald', [])).toThrow("logger: no log driver named 'journald' is registered");
    expect(() => parseLogConfig(undefined, ['mode=non-blocking'])).toThrow("unknown log opt 'mode' for json-file log driver");
    expect(() => parseLogConfig(undefined, ['max-file=0'])).toThrow('max-file cannot be less than 1');
    expect(() => parseLogConfig(undefined, ['max-size=ten'])).toThrow("invalid size: 'ten'");
  });
});

describe('log reader', () => {
  it('json-file: the common line, escaped text, partial entries, a trailing incomplete line left over', () => {
    const lines = [
      '{"log":"plain\\n","stream":"stdout","time":"2024-01-02T03:04:05.1Z"}',
      '{"log":"q\\"\\\\ \\u003c\\n","stream":"stderr","time":"2024-01-02T03:04:05.2Z"}',
      '{"log":"part","stream":"stdout","time":"2024-01-02T03:04:05.3Z"}',
      '{"stream":"stdout","log":"reordered\\n","time":"2024-01-02T03:04:05.4Z"}',
      '{"log":"incomple',
    ].join('\n');
    const buf = Buffer.from(lines);
    const out: LogEntry[] = [];
    const used = parseLogLines('json-file', buf, 0, buf.length, out);
    expect(out.map((e) => [e.stream, text(e)])).toEqual([[1, 'plain\n'], [2, 'q"\\ <\n'], [1, 'part'], [1, 'reordered\n']]);
    expect(buf.toString('utf8', used)).toBe('{"log":"incomple');
    expect(out[2].line.toString('latin1', out[2].timeStart, out[2].timeEnd)).toBe('2024-01-02T03:04:05.3Z');
  });
  it('k8s-file: F and P tags', () => {
    const buf = Buffer.from('2024-01-02T03:04:05.000000001+00:00 stdout F full line\n2024-01-02T03:04:05.000000002+00:00 stderr P half\n');
    const out: LogEntry[] = [];
    parseLogLines('k8s-file', buf, 0, buf.length, out);
    expect(out.map((e) => [e.stream, text(e)])).toEqual([[1, 'full line\n'], [2, 'half']]);
  });
  it('times to nanoseconds, with zones', () => {
    expect(timeToNanos('1970-01-01T00:00:01.5Z')).toBe(1_500_000_000n);
    expect(timeToNanos('1970-01-01T01:00:01.000000001+01:00')).toBe(1_000_000_001n);
    expect(timeToNanos('nope')).toBeUndefined();
  });
  it('--since/--until values: RFC 3339, Unix seconds, durations', () => {
    const now = Date.parse('2024-01-01T00:10:00Z');
    expect(parseLogTime('2024-01-01T00:00:00Z', 'since', now)).toBe(BigInt(Date.parse('2024-01-01T00:00:00Z')) * 1_000_000n);
    expect(parseLogTime('1700000000.25', 'since', now)).toBe(1_700_000_000_250_000_000n);
    expect(parseLogTime('10m', 'since', now)).toBe(BigInt(Date.parse('2024-01-01T00:00:00Z')) * 1_000_000n);
    expect(parseLogTime('1h30m', 'until', now)).toBe(BigInt(now - 5_400_000) * 1_000_000n);
    expect(() => parseLogTime('soon', 'since', now)).toThrow('invalid value for "since": failed to parse value as time or duration: "soon"');
  });
});

describe('detach keys', () => {
  it('parses Docker\'s syntax', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17]);
    expect([...parseDetachKeys('ctrl-@,a,ctrl-[')]).toEqual([0, 97, 27]);
    expect(() => parseDetachKeys('ctrl-1')).toThrow("invalid detach keys (ctrl-1): Unknown character: 'ctrl-1'");
    // as moby/term: lower case only, no spaces trimmed, DEL, and empty is the default
    expect(() => parseDetachKeys('ctrl-P')).toThrow("Unknown character: 'ctrl-P'");
    expect(() => parseDetachKeys('a, b')).toThrow("Unknown character: ' b'");
    expect(() => parseDetachKeys('a,,b')).toThrow("Unknown character: ''");
    expect([...parseDetachKeys('DEL,ctrl-\\,ctrl-_')]).toEqual([127, 28, 31]);
    expect([...parseDetachKeys('')]).toEqual([16, 17]);
    expect([...parseDetachKeys(undefined)]).toEqual([16, 17]);
  });
  it('holds back a possible start of the sequence and passes it on when it is not one', () => {
    const scan = detachKeyScanner(Buffer.from([16, 17]));
    expect(scan(Buffer.from([97, 16]))).toEqual({ pass: Buffer.from([97]), detach: false });
    expect(scan(Buffer.from([98]))).toEqual({ pass: Buffer.from([16, 98]), detach: false });
    expect(scan(Buffer.from([16]))).toEqual({ pass: Buffer.from([]), detach: false });
    expect(scan(Buffer.from([17, 99]))).toEqual({ pass: Buffer.from([]), detach: true });
    const again = detachKeyScanner(Buffer.from([16, 17]));
    expect(again(Buffer.from([16, 16, 17]))).toEqual({ pass: Buffer.from([16]), detach: true });
  });
});
