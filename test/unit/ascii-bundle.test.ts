// build/ascii-bundle.mjs: the bundle is made pure ASCII (Node then loads the single executable's
// main script without a UTF-8 conversion) without changing what any of it means.
import { describe, expect, it } from 'vitest';
import { asciiOnly } from '../../build/ascii-bundle.mjs';

describe('asciiOnly', () => {
  it('escapes non-ASCII characters in regular expressions, strings, templates and astral pairs, meaning the same', () => {
    const code = [
      'const re = /^(\\d+)(ns|us|µs|ms)$/;',
      "const u = /[é😀]/u;",
      "const s = 'naïve µ 😀';",
      'const t = `${1}µ`;',
      'module.exports = { a: re.exec("5µs")[2], b: u.test("😀"), c: u.test("é"), s, t, escaped: "a\\\\µ" };',
    ].join('\n');
    const out = asciiOnly(code);
    expect(/^[\x00-\x7f]*$/.test(out)).toBe(true);
    const run = (src: string) => {
      const m = { exports: {} as unknown };
      new Function('module', src)(m);
      return m.exports;
    };
    expect(run(out)).toEqual(run(code));
    expect(run(out)).toEqual({ a: 'µs', b: true, c: true, s: 'naïve µ 😀', t: '1µ', escaped: 'a\\µ' });
  });

  it('leaves pure ASCII alone', () => {
    expect(asciiOnly('const a = "x\\\\n";')).toBe('const a = "x\\\\n";');
  });

  it('refuses a non-ASCII character escaped by a backslash, whose \\u form would mean something else', () => {
    expect(() => asciiOnly('const re = /\\µ/;')).toThrow(/escaped non-ASCII character/);
  });
});
