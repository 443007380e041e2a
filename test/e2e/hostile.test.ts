// Hostile and broken archives: every one is refused with exit 125 and one line, writes
// nothing outside the store, and leaves the image list as it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BUSYBOX, errorLines, fixture, looksLikeStackTrace, sh, shq, skiff, store, useStore, walk } from './harness';

useStore();

const HOME = os.homedir();
/** Every place a naive extractor could have written to. */
function escapeTargets(): string[] {
  const s = store();
  return [
    '/tmp/pwned-by-skiff',
    '/tmp/evil-by-skiff',
    '/evil',
    '/abs-evil',
    path.join(HOME, 'evil'),
    path.join(path.dirname(s.dir), 'evil'),
    path.join(s.dir, 'evil'),
    path.join(process.cwd(), 'evil'),
  ];
}

function passwdLinks(): string[] {
  const p = fs.statSync('/etc/passwd');
  return walk(store().dir)
    .filter((f) => f.st.isFile() && f.st.ino === p.ino && f.st.dev === p.dev)
    .map((f) => f.path);
}

/** Names that only a hostile layer contains: none may survive a refused load. */
function hostileLeftovers(): string[] {
  return walk(store().dir)
    .filter((f) => /^(evil|evil-by-skiff|pwned-by-skiff|passwd-link2?)$/.test(path.basename(f.path)))
    .map((f) => f.path);
}

async function imageList(): Promise<string> {
  const r = await skiff(['images', '--no-trunc']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

function expectNoEscape() {
  for (const p of escapeTargets()) expect(fs.existsSync(p), `${p} must not exist`).toBe(false);
  expect(passwdLinks(), 'hard links to the host /etc/passwd').toEqual([]);
}

describe('preconditions', () => {
  test('no escape target exists before the tests (else remove it and rerun)', () => {
    for (const p of escapeTargets()) expect(fs.existsSync(p), `${p} exists before the test`).toBe(false);
  });
});

const REFUSED: [string, string][] = [
  ['dotdot.tar', 'a layer entry climbing out with ..'],
  ['hardlink-escape.tar', 'a hard link to ../../etc/passwd'],
  ['symlink-escape.tar', 'a symlink climbing out, then a file written through it'],
  ['digest-mismatch.tar', 'a layer whose diff_id does not match'],
  ['truncated.tar', 'an archive cut in the middle of a layer'],
  ['garbage.tar', 'a file that is not a tar archive'],
];

describe.each(REFUSED)('load -i hostile/%s (%s)', (file) => {
  test('exits 125 with one line, writes nothing outside the store, images unchanged', async () => {
    const before = await imageList();
    const r = await skiff(['load', '-i', fixture(`hostile/${file}`)]);
    expect(r.code, r.stderr).toBe(125);
    expect(errorLines(r.stderr), r.stderr).toHaveLength(1);
    expect(looksLikeStackTrace(r.stderr)).toBe(false);
    expect(r.stdout).not.toMatch(/Loaded image/);
    expectNoEscape();
    expect(hostileLeftovers()).toEqual([]);
    expect(await imageList()).toBe(before);
  });
});

describe('hostile archives on stdin', () => {
  test.each(['truncated.tar', 'symlink-escape.tar', 'garbage.tar'])('load < hostile/%s exits 125 too', async (file) => {
    const before = await imageList();
    const r = await sh(`"$SKIFF" load < ${shq(fixture(`hostile/${file}`))}`);
    expect(r.code, r.stderr).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expectNoEscape();
    expect(await imageList()).toBe(before);
  });
});

// Docker (pkg/archive) keeps an absolute entry name inside the rootfs (it joins the cleaned
// name below the layer dir) and loads the image. skiff's unpacker refuses such an entry as
// hostile (native/PROTOCOL.md, apply-tar policy): stricter than Docker, never less contained.
describe('load -i hostile/absolute.tar (an entry named /abs-evil)', () => {
  test('is refused with 125 and one line; nothing is written outside the store', async () => {
    const before = await imageList();
    const r = await skiff(['load', '-i', fixture('hostile/absolute.tar')]);
    expectNoEscape();
    expect(r.code, r.stderr).toBe(125);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('"/abs-evil" is an absolute path');
    expect(hostileLeftovers()).toEqual([]);
    expect(await imageList()).toBe(before);
  });
});

// An absolute symlink target resolves in the container's root, as in Docker: the image loads
// and the file written through the link is inside it, not on the host.
describe('load -i hostile/symlink-abs.tar (a file written through a link to /tmp)', () => {
  test('loads, with the file inside the image and nothing outside the store', async () => {
    const before = await imageList();
    const ref = 'skiff-test/hostile-symlink-abs:latest';
    const r = await skiff(['load', '-i', fixture('hostile/symlink-abs.tar')]);
    expectNoEscape();
    expect(r.code, r.stderr).toBe(0);
    const c = await skiff(['run', '--rm', ref, 'cat', '/tmp/pwned-by-skiff']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe('written through an absolute symlink\n');
    expectNoEscape();
    const rmi = await skiff(['rmi', ref]);
    expect(rmi.code, rmi.stderr).toBe(0);
    expect(await imageList()).toBe(before);
  });
});

describe('after all that', () => {
  test('the store still works', async () => {
    const r = await skiff(['run', '--rm', BUSYBOX, 'cat', '/etc/motd']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('skiff-test busybox\n');
    expectNoEscape();
  });
});
