// Signal names as stop -s, kill -s, --stop-signal and an image's STOPSIGNAL give them.
import { describe, expect, test } from 'vitest';
import { parseSignal, signalName } from '../../src/util/signals';

describe('parseSignal', () => {
  test('names with and without SIG, any case, and numbers', () => {
    expect(parseSignal('TERM')).toBe(15);
    expect(parseSignal('SIGTERM')).toBe(15);
    expect(parseSignal('sigkill')).toBe(9);
    expect(parseSignal('usr1')).toBe(10);
    expect(parseSignal('2')).toBe(2);
  });
  test('real-time signals count from glibc\'s SIGRTMIN (34)', () => {
    expect(parseSignal('SIGRTMIN')).toBe(34);
    expect(parseSignal('RTMIN+3')).toBe(37);
    expect(parseSignal('SIGRTMAX-1')).toBe(63);
  });
  test('unknown names and numbers out of range are one error', () => {
    for (const bad of ['NOPE', 'SIGNOPE', '0', '65', 'RTMIN+40', '', '-9']) {
      expect(() => parseSignal(bad), bad).toThrow(`Invalid signal: ${bad}`);
    }
  });
  test('signalName', () => {
    expect(signalName(15)).toBe('SIGTERM');
    expect(signalName(99)).toBe('99');
  });
});
