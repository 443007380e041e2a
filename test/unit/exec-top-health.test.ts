// Pure parts of top (Docker's ps output parsing) and healthchecks (flags, the merge with the image's HEALTHCHECK).
import { describe, expect, it } from 'vitest';
import { parsePsOutput } from '../../src/engine/top';
import { healthConfigFromFlags, mergeHealthConfig } from '../../src/engine/healthcheck';

describe('parsePsOutput', () => {
  const out = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 05:00 ?        00:00:01 /sbin/init',
    'user        4242    4241  0 05:01 ?        00:00:00 sleep 1000',
    'user        4243    4242  0 05:01 pts/0    00:00:00 sh -c a  b',
    '',
  ].join('\n');

  it("keeps the container's lines and merges the overhanging fields into the last column", () => {
    expect(parsePsOutput(out, new Set([4242, 4243]), false)).toEqual({
      titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
      processes: [
        ['user', '4242', '4241', '0', '05:01', '?', '00:00:00', 'sleep 1000'],
        ['user', '4243', '4242', '0', '05:01', 'pts/0', '00:00:00', 'sh -c a b'],
      ],
    });
  });

  it('thread lines ("-" for PID) follow the process line they belong to', () => {
    const threads = 'USER PID TID CMD\nu 10 - a\nu - 11 -\nu 20 - b\nu - 21 -\n';
    expect(parsePsOutput(threads, new Set([10]), false).processes).toEqual([['u', '10', '-', 'a'], ['u', '-', '11', '-']]);
  });

  it('an extra PID column put first is used to match and not shown', () => {
    expect(parsePsOutput('PID COMMAND\n7 sleep\n8 other\n', new Set([7]), true)).toEqual({ titles: ['COMMAND'], processes: [['sleep']] });
  });

  it("without a PID column: Docker's error", () => {
    expect(() => parsePsOutput('USER COMMAND\nu x\n', new Set([1]), false)).toThrow("Couldn't find PID field in ps output");
  });
});

describe('health flags', () => {
  it('durations and retries as Docker stores them (ns)', () => {
    expect(healthConfigFromFlags({ cmd: 'true', interval: '1m30s', timeout: '500ms', retries: 2, none: false }))
      .toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 90e9, Timeout: 5e8, Retries: 2 });
    expect(healthConfigFromFlags({ none: false })).toBeUndefined();
    expect(healthConfigFromFlags({ none: true })).toEqual({ Test: ['NONE'] });
  });

  it("Docker's refusals", () => {
    expect(() => healthConfigFromFlags({ interval: 'soon', none: false })).toThrow('invalid argument "soon" for "--health-interval" flag: time: invalid duration "soon"');
    expect(() => healthConfigFromFlags({ cmd: 'x', none: true })).toThrow('--no-healthcheck conflicts with --health-* options');
    expect(() => healthConfigFromFlags({ interval: '10us', none: false })).toThrow('Interval in Healthcheck cannot be less than 1ms');
  });

  it("what the flags leave unset comes from the image's HEALTHCHECK; NONE wins", () => {
    const image = { Test: ['CMD', 'check'], Interval: 5e9, Retries: 4 };
    expect(mergeHealthConfig({ Test: [], Timeout: 1e9 }, image)).toEqual({ Test: ['CMD', 'check'], Interval: 5e9, Timeout: 1e9, Retries: 4 });
    expect(mergeHealthConfig({ Test: ['CMD-SHELL', 'x'] }, image)).toEqual({ Test: ['CMD-SHELL', 'x'], Interval: 5e9, Retries: 4 });
    expect(mergeHealthConfig({ Test: ['NONE'] }, image)).toEqual({ Test: ['NONE'] });
    expect(mergeHealthConfig(undefined, image)).toBe(image);
  });
});
