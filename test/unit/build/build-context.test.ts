import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { pack } from 'tar-stream';
import { BuildError } from '../../../src/errors';
import { openBuildContext, type BuildContext } from '../../../src/build/context/build-context';
import { openNamedDirectory, parseBuildContextFlag, parseBuildContextFlags } from '../../../src/build/context/named-contexts';

let work: string;
let tmp: string;
const opened: BuildContext[] = [];

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'skiff-ctx-test-'));
  tmp = join(work, 'tmp');
  mkdirSync(tmp);
});
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
  rmSync(work, { recursive: true, force: true });
});

async function open(options: Parameters<typeof openBuildContext>[0]): Promise<BuildContext> {
  const c = await openBuildContext({ cwd: work, tmpDir: tmp, ...options });
  opened.push(c);
  return c;
}

async function openError(options: Parameters<typeof openBuildContext>[0]): Promise<string> {
  try {
    await open(options);
  } catch (e) {
    expect(e).toBeInstanceOf(BuildError);
    return (e as Error).message;
  }
  throw new Error('expected a BuildError');
}

type TarEntry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; mode?: number; linkname?: string };

/** A tar archive of entries, as bytes. */
async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = { name: e.name, type, mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644), linkname: e.linkname };
    if (type === 'file') p.entry(header, e.body ?? '');
    else p.entry(header);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const stdinOf = (bytes: Buffer | string) => Readable.from([Buffer.from(bytes)]);

describe('a directory context', () => {
  test('the Dockerfile at the root, .dockerignore read, nothing removed on close', async () => {
    writeFileSync(join(work, 'Dockerfile'), 'FROM busybox\n');
    writeFileSync(join(work, '.dockerignore'), 'secret\n');
    const c = await open({ context: '.' });
    expect(c.root).toBe(work);
    expect(c.dockerfile).toEqual({ name: 'Dockerfile', text: 'FROM busybox\n' });
    expect(c.ignore.excludes('secret')).toBe(true);
    await c.close();
    expect(existsSync(join(work, 'Dockerfile'))).toBe(true);
  });

  test('Containerfile when there is no Dockerfile; -f relative to the current directory', async () => {
    mkdirSync(join(work, 'ctx'));
    writeFileSync(join(work, 'ctx', 'Containerfile'), 'FROM a\n');
    expect((await open({ context: 'ctx' })).dockerfile).toEqual({ name: 'Containerfile', text: 'FROM a\n' });
    writeFileSync(join(work, 'other.Dockerfile'), 'FROM b\n');
    writeFileSync(join(work, 'other.Dockerfile.dockerignore'), '*.log\n');
    const c = await open({ context: 'ctx', file: 'other.Dockerfile' });
    expect(c.dockerfile).toEqual({ name: 'other.Dockerfile', text: 'FROM b\n' });
    // the Dockerfile's own ignore file wins over the context's
    expect(c.ignore.excludes('x.log')).toBe(true);
  });

  test('-f - reads the Dockerfile from stdin', async () => {
    const c = await open({ context: '.', file: '-', stdin: stdinOf('FROM c\n') });
    expect(c.dockerfile).toEqual({ name: 'Dockerfile', text: 'FROM c\n' });
    expect(c.root).toBe(work);
  });

  test('missing context, missing Dockerfile, empty path, stdin twice', async () => {
    expect(await openError({ context: 'nope' })).toBe('unable to prepare context: path "nope" not found');
    mkdirSync(join(work, 'empty'));
    expect(await openError({ context: 'empty' })).toBe('failed to read dockerfile: open empty/Dockerfile: no such file or directory');
    expect(await openError({ context: 'empty', file: 'missing.Dockerfile' })).toBe('failed to read dockerfile: open missing.Dockerfile: no such file or directory');
    expect(await openError({ context: '' })).toMatch(/^unable to prepare context: path "" not found/);
    expect(await openError({ context: '-', file: '-', stdin: stdinOf('') })).toBe("invalid argument: can't use stdin for both build context and dockerfile");
  });
});

describe('stdin and tar contexts', () => {
  test('- with a Dockerfile: an empty temporary context, removed on close', async () => {
    const c = await open({ context: '-', stdin: stdinOf('FROM busybox\nRUN true\n') });
    expect(c.dockerfile).toEqual({ name: 'Dockerfile', text: 'FROM busybox\nRUN true\n' });
    expect(c.root.startsWith(tmp)).toBe(true);
    expect(readdirSync(c.root)).toEqual([]);
    await c.close();
    expect(existsSync(c.root)).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('- with an empty stdin: an empty Dockerfile (the parser refuses it)', async () => {
    const c = await open({ context: '-', stdin: stdinOf('') });
    expect(c.dockerfile.text).toBe('');
  });

  test('- with a tar (plain and gzip): unpacked with modes, symlinks and hard links', async () => {
    const tar = await tarOf([
      { name: 'Dockerfile', body: 'FROM busybox\nCOPY . /\n' },
      { name: './dir/', type: 'directory', mode: 0o750 },
      { name: 'dir/run.sh', body: '#!/bin/sh\n', mode: 0o755 },
      { name: 'dir/link', type: 'symlink', linkname: 'run.sh' },
      { name: 'hard', type: 'link', linkname: 'dir/run.sh' },
      { name: '.dockerignore', body: '*.tmp\n' },
    ]);
    for (const bytes of [tar, gzipSync(tar)]) {
      const c = await open({ context: '-', stdin: stdinOf(bytes) });
      expect(c.dockerfile.text).toBe('FROM busybox\nCOPY . /\n');
      expect(statSync(join(c.root, 'dir')).mode & 0o777).toBe(0o750);
      expect(statSync(join(c.root, 'dir/run.sh')).mode & 0o777).toBe(0o755);
      expect(readFileSync(join(c.root, 'dir/link'), 'utf8')).toBe('#!/bin/sh\n');
      expect(readFileSync(join(c.root, 'hard'), 'utf8')).toBe('#!/bin/sh\n');
      expect(c.ignore.excludes('x.tmp')).toBe(true);
      await c.close();
      expect(existsSync(c.root)).toBe(false);
    }
  });

  test('a tarball path as the context, -f inside it', async () => {
    writeFileSync(join(work, 'ctx.tar.gz'), gzipSync(await tarOf([{ name: 'build/Dockerfile.dev', body: 'FROM dev\n' }])));
    const c = await open({ context: 'ctx.tar.gz', file: 'build/Dockerfile.dev' });
    expect(c.dockerfile).toEqual({ name: 'build/Dockerfile.dev', text: 'FROM dev\n' });
    expect(await openError({ context: 'ctx.tar.gz', file: '../../etc/passwd' })).toBe('the Dockerfile ../../etc/passwd is outside the build context');
    expect(readdirSync(tmp)).toEqual([c.root.slice(tmp.length + 1)]);
  });

  test('hostile tars: climbing names, writing through a symlink, hard link out: refused, nothing left', async () => {
    const cases: TarEntry[][] = [
      [{ name: '../evil', body: 'x' }],
      [{ name: 'a/../../evil', body: 'x' }],
      [{ name: 'out', type: 'symlink', linkname: work }, { name: 'out/evil', body: 'x' }],
      [{ name: 'out', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 'out/passwd' }],
    ];
    for (const entries of cases) {
      const message = await openError({ context: '-', stdin: stdinOf(await tarOf(entries)) });
      expect(message, JSON.stringify(entries)).toMatch(/^build context \(stdin\): /);
      expect(existsSync(join(work, 'evil'))).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
    }
  });

  test('a tar without a Dockerfile; a file that is no tar; unsupported compression', async () => {
    expect(await openError({ context: '-', stdin: stdinOf(await tarOf([{ name: 'x', body: '' }])) })).toBe('failed to read dockerfile: open Dockerfile: no such file or directory');
    writeFileSync(join(work, 'notes.txt'), 'hello');
    expect(await openError({ context: 'notes.txt' })).toBe('unable to prepare context: notes.txt is neither a directory nor a tar archive');
    const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600)]);
    writeFileSync(join(work, 'ctx.tar.xz'), xz);
    expect(await openError({ context: 'ctx.tar.xz' })).toBe('build context (ctx.tar.xz): xz-compressed build contexts are not supported; use a plain or gzip-compressed tar');
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('a stdin that fails midway is a BuildError', async () => {
    const s = new PassThrough();
    setImmediate(() => s.destroy(new Error('broken pipe')));
    expect(await openError({ context: '-', stdin: s })).toBe('unable to read the build context: broken pipe');
  });
});

describe('--build-context', () => {
  test('directories and docker-image://', async () => {
    expect(parseBuildContextFlag('src=../code', '/w/x')).toEqual({ name: 'src', kind: 'dir', path: '/w/code' });
    expect(parseBuildContextFlag('alpine=docker-image://alpine:3.20')).toEqual({ name: 'alpine', kind: 'image', ref: 'alpine:3.20' });
    mkdirSync(join(work, 'lib'));
    writeFileSync(join(work, 'lib', '.dockerignore'), 'tests\n');
    const files = await openNamedDirectory({ name: 'lib', kind: 'dir', path: join(work, 'lib') });
    expect(files.root).toBe(join(work, 'lib'));
    expect(files.ignore.excludes('tests/a')).toBe(true);
  });

  test('bad values', async () => {
    expect(() => parseBuildContextFlag('novalue')).toThrow('invalid --build-context value "novalue": use NAME=PATH or NAME=docker-image://IMAGE');
    expect(() => parseBuildContextFlag('=x')).toThrow(BuildError);
    expect(() => parseBuildContextFlag('a=https://example.com/x.git')).toThrow('--build-context a: https://example.com/x.git is not supported; give a local directory or docker-image://IMAGE');
    expect(() => parseBuildContextFlags(['a=x', 'a=y'], work)).toThrow('--build-context a is given twice');
    await expect(openNamedDirectory({ name: 'n', kind: 'dir', path: join(work, 'missing') })).rejects.toThrow(`--build-context n: ${join(work, 'missing')} is not a directory`);
  });
});

test('an unreadable Dockerfile says why', async () => {
  if (process.getuid?.() === 0) return; // root reads anything
  writeFileSync(join(work, 'Dockerfile'), 'FROM a\n');
  chmodSync(join(work, 'Dockerfile'), 0);
  expect(await openError({ context: '.' })).toBe('failed to read dockerfile: open Dockerfile: permission denied');
});
