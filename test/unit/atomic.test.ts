import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../src/state/atomic';

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-atomic-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const mode = (f: string) => fs.statSync(f).mode & 0o777;

describe('writeJsonAtomic / readJson', () => {
  it('writes pretty JSON with a trailing newline and reads it back', () => {
    const f = path.join(dir, 'rec.json');
    const value = { id: 'abc', n: 3, list: [1, 'two'], nested: { ok: true } };
    writeJsonAtomic(f, value);
    expect(fs.readFileSync(f, 'utf8')).toBe(JSON.stringify(value, null, 2) + '\n');
    expect(readJson(f)).toEqual(value);
  });

  it('leaves only the target file in the directory (no temp files)', () => {
    const f = path.join(dir, 'rec.json');
    writeJsonAtomic(f, { a: 1 });
    writeJsonAtomic(f, { a: 2 });
    writeJsonAtomic(path.join(dir, 'other.json'), [1]);
    expect(fs.readdirSync(dir).sort()).toEqual(['other.json', 'rec.json']);
  });

  it('replaces an existing file completely', () => {
    const f = path.join(dir, 'rec.json');
    writeJsonAtomic(f, { long: 'x'.repeat(1000) });
    writeJsonAtomic(f, { s: 1 });
    expect(fs.readFileSync(f, 'utf8')).toBe('{\n  "s": 1\n}\n');
  });

  it('replaces the file by rename (a new inode), so readers never see a torn file', () => {
    const f = path.join(dir, 'rec.json');
    writeJsonAtomic(f, { v: 1 });
    const before = fs.statSync(f).ino;
    writeJsonAtomic(f, { v: 2 });
    expect(fs.statSync(f).ino).not.toBe(before);
  });

  it('creates the file with mode 0600', () => {
    const f = path.join(dir, 'rec.json');
    writeJsonAtomic(f, {});
    expect(mode(f)).toBe(0o600);
  });

  it('an overwritten world-readable file becomes 0600', () => {
    const f = path.join(dir, 'rec.json');
    fs.writeFileSync(f, '{}', { mode: 0o644 });
    fs.chmodSync(f, 0o644);
    writeJsonAtomic(f, { x: 1 });
    expect(mode(f)).toBe(0o600);
  });

  it('readJson of a missing file is undefined', () => {
    expect(readJson(path.join(dir, 'missing.json'))).toBeUndefined();
  });

  it('readJson of a file in a missing directory is undefined', () => {
    expect(readJson(path.join(dir, 'no', 'such', 'file.json'))).toBeUndefined();
  });

  it('readJson throws on invalid JSON', () => {
    const f = path.join(dir, 'bad.json');
    fs.writeFileSync(f, '{"a": ');
    expect(() => readJson(f)).toThrow(SyntaxError);
  });

  it('readJson throws for errors other than ENOENT (a directory)', () => {
    expect(() => readJson(dir)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });

  it('writing into a missing directory throws ENOENT and leaves nothing', () => {
    const f = path.join(dir, 'sub', 'rec.json');
    expect(() => writeJsonAtomic(f, {})).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a failed rename (target is a non-empty directory) removes the temp file', () => {
    const target = path.join(dir, 'target');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), '');
    expect(() => writeJsonAtomic(target, { a: 1 })).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['target']);
    expect(fs.readdirSync(target)).toEqual(['keep']);
  });
});

describe('writeFileAtomic', () => {
  it('writes bytes exactly', () => {
    const f = path.join(dir, 'bin');
    const data = Uint8Array.from([0, 1, 2, 255, 10]);
    writeFileAtomic(f, data);
    expect([...fs.readFileSync(f)]).toEqual([0, 1, 2, 255, 10]);
  });

  it('honours an explicit mode', () => {
    const f = path.join(dir, 'script');
    writeFileAtomic(f, '#!/bin/sh\n', 0o700);
    expect(mode(f)).toBe(0o700);
    expect(fs.readFileSync(f, 'utf8')).toBe('#!/bin/sh\n');
  });
});
