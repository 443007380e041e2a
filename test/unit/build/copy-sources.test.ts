import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BuildError } from '../../../src/errors';
import { PathMatcher } from '../../../src/build/context/dockerignore';
import { componentPattern, contextPath, listTree, resolveCopySources, type ContextFiles } from '../../../src/build/context/sources';

let root: string;
let outside: string;
let ctx: ContextFiles;
const loc = { file: 'Dockerfile', line: 7 };

beforeAll(() => {
  const base = mkdtempSync(join(tmpdir(), 'skiff-sources-test-'));
  root = join(base, 'ctx');
  outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host secret');
  const files: Record<string, string> = {
    'a.txt': 'a', 'b.txt': 'b', '.hidden.txt': 'h', 'c.md': 'c', 'ignored.txt': 'i',
    'src/main.go': 'm', 'src/util/u.go': 'u', 'src/util/u_test.go': 't', 'src/notes.md': 'n',
    'weird[1].txt': 'w', 'logs/keep.log': 'k', 'logs/drop.log': 'd',
  };
  for (const [p, body] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), body);
  }
  chmodSync(join(root, 'src/main.go'), 0o751);
  symlinkSync('src', join(root, 'srclink'));
  symlinkSync('../a.txt', join(root, 'src/up.txt'));
  symlinkSync('../../outside/secret', join(root, 'escape'));
  symlinkSync('/etc/passwd', join(root, 'absolute'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  ctx = { root, ignore: new PathMatcher(['ignored.txt', 'logs', '!logs/keep.log', 'escape-dir']) };
});
afterAll(() => rmSync(join(root, '..'), { recursive: true, force: true }));

const paths = async (sources: string[], parents = false) =>
  (await resolveCopySources(ctx, sources, { loc, parents })).map((s) => [s.matched, s.entry.path, s.entry.type, ...(parents ? [s.parentsPath] : [])]);

async function sourceError(sources: string[]): Promise<string> {
  try {
    await resolveCopySources(ctx, sources, { loc });
  } catch (e) {
    expect(e).toBeInstanceOf(BuildError);
    return (e as Error).message;
  }
  throw new Error('expected a BuildError');
}

describe('COPY sources', () => {
  test('plain files and directories, relative to the root, a leading / too', async () => {
    expect(await paths(['a.txt', '/src', '.', './src/../b.txt'])).toEqual([
      ['a.txt', 'a.txt', 'file'], ['src', 'src', 'dir'], ['.', '.', 'dir'], ['b.txt', 'b.txt', 'file'],
    ]);
  });

  test('wildcards per component, dot files included, sorted; escapes and classes', async () => {
    expect(await paths(['*.txt'])).toEqual([
      ['.hidden.txt', '.hidden.txt', 'file'], ['a.txt', 'a.txt', 'file'], ['b.txt', 'b.txt', 'file'], ['weird[1].txt', 'weird[1].txt', 'file'],
    ]);
    expect(await paths(['src/*/u.g?'])).toEqual([['src/util/u.go', 'src/util/u.go', 'file']]);
    expect(await paths(['[ab].txt'])).toEqual([['a.txt', 'a.txt', 'file'], ['b.txt', 'b.txt', 'file']]);
    expect(await paths(['weird\\[1\\].txt'])).toEqual([['weird[1].txt', 'weird[1].txt', 'file']]);
    expect(await paths(['srclink/*.go'])).toEqual([['srclink/main.go', 'src/main.go', 'file']]);
  });

  test('symlinks inside the context are followed', async () => {
    expect(await paths(['srclink', 'src/up.txt'])).toEqual([['srclink', 'src', 'dir'], ['src/up.txt', 'a.txt', 'file']]);
  });

  test('.dockerignore: excluded files are not found and never matched; ! brings one back', async () => {
    expect(await sourceError(['ignored.txt'])).toBe('Dockerfile:7: file not found in build context or excluded by .dockerignore: ignored.txt');
    expect((await paths(['*.txt'])).map((p) => p[0])).not.toContain('ignored.txt');
    expect(await paths(['logs/*'])).toEqual([['logs/keep.log', 'logs/keep.log', 'file']]);
    // the excluded directory is still there for what a ! pattern keeps of it
    expect(await paths(['logs', 'log*'])).toEqual([['logs', 'logs', 'dir'], ['logs', 'logs', 'dir']]);
    const keepNothing = { root, ignore: new PathMatcher(['logs', '!logs/none']) };
    await expect(resolveCopySources(keepNothing, ['logs'])).rejects.toThrow('file not found in build context or excluded by .dockerignore: logs');
  });

  test('outside the context: ../, symlinks leading out (relative or absolute), loops', async () => {
    expect(await sourceError(['../outside/secret'])).toBe('Dockerfile:7: forbidden path outside the build context: ../outside/secret');
    expect(await sourceError(['src/../../x'])).toBe('Dockerfile:7: forbidden path outside the build context: src/../../x');
    expect(await sourceError(['escape'])).toBe('Dockerfile:7: the symlink escape points to ../../outside/secret, outside the build context');
    expect(await sourceError(['absolute'])).toBe('Dockerfile:7: the symlink absolute points to /etc/passwd, outside the build context');
    expect(await sourceError(['loop1'])).toBe('Dockerfile:7: too many levels of symbolic links in loop1');
  });

  test('no match', async () => {
    expect(await sourceError(['nope'])).toBe('Dockerfile:7: file not found in build context or excluded by .dockerignore: nope');
    expect(await sourceError(['a.txt', '*.nope'])).toBe('Dockerfile:7: no files in the build context match *.nope');
    expect(await sourceError(['a.txt/x'])).toMatch(/file not found/);
  });

  test('--parents keeps the path, from the /./ pivot when there is one', async () => {
    expect(await paths(['src/util/u.go', 'src/./util/*_test.go'], true)).toEqual([
      ['src/util/u.go', 'src/util/u.go', 'file', 'src/util/u.go'],
      ['src/util/u_test.go', 'src/util/u_test.go', 'file', 'util/u_test.go'],
    ]);
  });

  test('entries carry mode, owner and size', async () => {
    const [s] = await resolveCopySources(ctx, ['src/main.go']);
    expect(s.entry).toMatchObject({ path: 'src/main.go', abs: join(root, 'src/main.go'), type: 'file', mode: 0o751, size: 1, uid: process.getuid!() });
  });

  test('bad patterns', async () => {
    expect(await sourceError(['[a.txt'])).toBe('Dockerfile:7: syntax error in pattern [a.txt');
    expect(() => componentPattern('x\\')).toThrow('syntax error in pattern x\\');
    expect(() => componentPattern('[]')).toThrow(BuildError);
    expect(componentPattern('[^a]').test('b')).toBe(true);
  });

  test('contextPath', () => {
    expect(contextPath('/')).toBe('.');
    expect(contextPath('./a/')).toBe('a');
    expect(contextPath('a/../..')).toBeUndefined();
  });
});

describe('listTree', () => {
  test('everything under a directory, depth first, links not followed, ignore applied', async () => {
    const all = await listTree(ctx, '.');
    const names = all.map((f) => f.path);
    expect(names).toContain('src/util/u_test.go');
    expect(names).not.toContain('ignored.txt');
    expect(names).toContain('logs');
    expect(names).toContain('logs/keep.log');
    expect(names).not.toContain('logs/drop.log');
    expect(all.find((f) => f.path === 'srclink')).toMatchObject({ type: 'symlink', linkTarget: 'src' });
    expect(names.indexOf('src')).toBeLessThan(names.indexOf('src/main.go'));
    expect(names.filter((n) => n.startsWith('srclink/'))).toEqual([]);
  });

  test('COPY --exclude patterns, relative to the copied directory', async () => {
    const names = (await listTree(ctx, 'src', new PathMatcher(['**/*_test.go', '*.md']))).map((f) => f.path);
    expect(names).toEqual(['src/main.go', 'src/up.txt', 'src/util', 'src/util/u.go']);
  });
});
