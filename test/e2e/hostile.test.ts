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

// Docker (pkg/archive) keeps these inside the rootfs: a leading '/' is dropped, and an absolute
// symlink is relative to the container's root. A loader may also refuse them. Either way the
// host is untouched, and if the image loads, the file is inside it.
describe.each([
  ['absolute.tar', 'skiff-test/hostile-absolute:latest', '/abs-evil', 'absolute path entry\n'],
  ['symlink-abs.tar', 'skiff-test/hostile-symlink-abs:latest', '/tmp/pwned-by-skiff', 'written through an absolute symlink\n'],
])('load -i hostile/%s', (file, ref, inside, content) => {
  test('is contained: refused with 125, or loaded with the file inside the image', async () => {
    const before = await imageList();
    const r = await skiff(['load', '-i', fixture(`hostile/${file}`)]);
    expectNoEscape();
    if (r.code !== 0) {
      expect(r.code).toBe(125);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(await imageList()).toBe(before);
      return;
    }
    const c = await skiff(['run', '--rm', ref, 'cat', inside]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(content);
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
