import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PATH, expandEnvArg, mergeEnv, parseEnvFile, readEnvFile } from '../../src/engine/env';
import { SkiffError } from '../../src/util/errors';

function thrown(fn: () => unknown): SkiffError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    return e as SkiffError;
  }
  throw new Error('expected a SkiffError');
}

describe('DEFAULT_PATH', () => {
  it('is Docker\'s default PATH', () => {
    expect(DEFAULT_PATH).toBe('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});

describe('mergeEnv', () => {
  it('replaces a key in place and appends new keys in order', () => {
    expect(mergeEnv(['A=1', 'B=2', 'C=3'], ['B=20', 'D=4', 'A=10', 'E=5']))
      .toEqual(['A=10', 'B=20', 'C=3', 'D=4', 'E=5']);
  });

  it('a later override of the same key wins, keeping the first position', () => {
    expect(mergeEnv(['X=0', 'A=1'], ['A=2', 'N=1', 'A=3', 'N=2'])).toEqual(['X=0', 'A=3', 'N=2']);
  });

  it('compares the whole key, not a prefix', () => {
    expect(mergeEnv(['PATH=/bin', 'PATHX=1'], ['PATH=/usr/bin', 'PAT=2']))
      .toEqual(['PATH=/usr/bin', 'PATHX=1', 'PAT=2']);
  });

  it('keeps values containing "=" intact and allows empty values', () => {
    expect(mergeEnv(['A=x=y'], ['A=', 'B=k=v=w'])).toEqual(['A=', 'B=k=v=w']);
  });

  it('does not modify its inputs', () => {
    const base = ['A=1'];
    const over = ['A=2', 'B=3'];
    const out = mergeEnv(base, over);
    expect(base).toEqual(['A=1']);
    expect(over).toEqual(['A=2', 'B=3']);
    expect(out).not.toBe(base);
  });

  it('with no overrides returns a copy of the base', () => {
    expect(mergeEnv(['A=1', 'B=2'], [])).toEqual(['A=1', 'B=2']);
    expect(mergeEnv([], ['A=1'])).toEqual(['A=1']);
  });
});

describe('expandEnvArg', () => {
  const host = { HOSTVAR: 'from-host', EMPTY: '' } as NodeJS.ProcessEnv;

  it('passes KEY=VALUE through unchanged', () => {
    expect(expandEnvArg('A=1', host)).toBe('A=1');
    expect(expandEnvArg('A=', host)).toBe('A=');
    expect(expandEnvArg('A=b=c', host)).toBe('A=b=c');
    expect(expandEnvArg('HOSTVAR=mine', host)).toBe('HOSTVAR=mine');
  });

  it('takes a bare KEY from the host environment', () => {
    expect(expandEnvArg('HOSTVAR', host)).toBe('HOSTVAR=from-host');
    expect(expandEnvArg('EMPTY', host)).toBe('EMPTY=');
  });

  it('drops a bare KEY that the host does not have', () => {
    // stays bare: the merge then removes MISSING from the container's env, as Docker does
    expect(expandEnvArg('MISSING', host)).toBe('MISSING');
  });

  it('rejects an empty name', () => {
    const e = thrown(() => expandEnvArg('=x', host));
    expect(e.message).toBe('invalid environment variable: =x');
    expect(e.exitCode).toBe(125);
    expect(thrown(() => expandEnvArg('=', host)).message).toBe('invalid environment variable: =');
  });
});

describe('parseEnvFile', () => {
  const host = { FROMHOST: 'hv' } as NodeJS.ProcessEnv;

  it('reads KEY=VALUE lines, skipping comments and blank lines', () => {
    const text = '# a comment\nA=1\n\n   \n  # indented comment\nB=two words\nC=\n';
    expect(parseEnvFile(text, 'f', host)).toEqual(['A=1', 'B=two words', 'C=']);
  });

  it('takes bare keys from the host and keeps unknown bare keys bare (they unset the key)', () => {
    expect(parseEnvFile('FROMHOST\nNOTSET\nX=1\n', 'f', host)).toEqual(['FROMHOST=hv', 'NOTSET', 'X=1']);
  });

  it('strips leading whitespace but keeps trailing whitespace of values (Docker)', () => {
    expect(parseEnvFile('   A=1  \n\tB= 2\n', 'f', host)).toEqual(['A=1  ', 'B= 2']);
  });

  it('handles CRLF line endings', () => {
    expect(parseEnvFile('A=1\r\n# c\r\n\r\nFROMHOST\r\nB=2\r\n', 'f', host)).toEqual(['A=1', 'FROMHOST=hv', 'B=2']);
  });

  it('keeps "#" inside values', () => {
    expect(parseEnvFile('A=1#not-a-comment\n', 'f', host)).toEqual(['A=1#not-a-comment']);
  });

  it('a file without a trailing newline still yields its last line', () => {
    expect(parseEnvFile('A=1\nB=2', 'f', host)).toEqual(['A=1', 'B=2']);
  });

  it('rejects whitespace in a key, naming the file and the 1-based line', () => {
    const e = thrown(() => parseEnvFile('A=1\n# c\nMY VAR=2\n', '/tmp/x.env', host));
    expect(e.message).toBe('invalid env file /tmp/x.env: line 3: variable "MY VAR" contains whitespaces');
    expect(thrown(() => parseEnvFile('KEY =1', 'e', host)).message).toBe('invalid env file e: line 1: variable "KEY " contains whitespaces');
    expect(thrown(() => parseEnvFile('BARE KEY', 'e', host)).message).toBe('invalid env file e: line 1: variable "BARE KEY" contains whitespaces');
  });

  it('rejects an empty key', () => {
    const e = thrown(() => parseEnvFile('A=1\n=value\n', 'e', host));
    expect(e.message).toBe("invalid env file e: no variable name on line '=value'");
  });

  // BUG (diagnostic): a line with no name ("=value") is reported as
  // 'variable "" contains whitespaces', which is false; Docker's parseKeyValueFile says
  // "no variable name on line '=value'".
  it('reports a missing variable name as such, not as whitespace', () => {
    const e = thrown(() => parseEnvFile('=value\n', 'e', host));
    expect(e.message).not.toContain('whitespaces');
    expect(e.message).toContain('no variable name');
  });

  it('strips a UTF-8 byte order mark before the first key (Docker trims it)', () => {
    expect(parseEnvFile('\uFEFFA=1\nB=2\n', 'f', host)).toEqual(['A=1', 'B=2']);
  });

  it('returns nothing for an empty file', () => {
    expect(parseEnvFile('', 'f', host)).toEqual([]);
  });
});

describe('readEnvFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-env-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads and parses a file', () => {
    const f = path.join(dir, 'a.env');
    fs.writeFileSync(f, 'A=1\nB\n');
    expect(readEnvFile(f, { B: 'b' })).toEqual(['A=1', 'B=b']);
  });

  it('reports a missing file with its errno code', () => {
    const f = path.join(dir, 'missing.env');
    const e = thrown(() => readEnvFile(f, {}));
    expect(e.message).toBe(`cannot read env file ${f}: ENOENT`);
  });
});
