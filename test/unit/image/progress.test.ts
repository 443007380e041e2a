import { describe, expect, test } from 'vitest';
import { progressMode } from '../../../src/image/progress';

describe('progress output mode', () => {
  test('bars redraw (control sequences) only on a terminal without NO_COLOR', () => {
    expect(progressMode(true, {})).toBe('tty');
    expect(progressMode(true, { NO_COLOR: '' })).toBe('tty'); // no-color.org: an empty value does not count
    expect(progressMode(true, { NO_COLOR: '1' })).toBe('plain');
    expect(progressMode(false, {})).toBe('plain');
    expect(progressMode(undefined, {})).toBe('plain');
  });
});
