import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRootlessRunRoot, ensureRunRoot, skiffPaths } from '../../src/util/paths';

const UID = 4242;
const dirStats = (uid: number, mode: number): fs.Stats => {
  const real = fs.statSync(os.tmpdir());
  return Object.assign(Object.create(Object.getPrototypeOf(real)), real, { uid, mode: fs.constants.S_IFDIR | mode });
};

describe('the rootless run root without XDG_RUNTIME_DIR (as Podman picks its runtime dir)', () => {
  it('is /run/user/UID/skiff when that directory is the user\'s and writable by no one else', () => {
    expect(defaultRootlessRunRoot({}, UID, () => dirStats(UID, 0o700))).toBe(`/run/user/${UID}/skiff`);
  });
  it('is $TMPDIR/skiff-UID (default /tmp) when /run/user/UID is missing, someone else\'s, or open to others', () => {
    expect(defaultRootlessRunRoot({ TMPDIR: '/var/tmp' }, UID, () => undefined)).toBe(`/var/tmp/skiff-${UID}`);
    expect(defaultRootlessRunRoot({}, UID, () => dirStats(UID + 1, 0o700))).toBe(`/tmp/skiff-${UID}`);
    expect(defaultRootlessRunRoot({}, UID, () => dirStats(UID, 0o777))).toBe(`/tmp/skiff-${UID}`);
    expect(defaultRootlessRunRoot({ TMPDIR: 'relative' }, UID, () => undefined)).toBe(`/tmp/skiff-${UID}`);
  });
  it('XDG_RUNTIME_DIR and explicit run roots still win', () => {
    expect(skiffPaths({}, { HOME: '/h', XDG_RUNTIME_DIR: '/run/user/7' }, 7).runRoot).toBe('/run/user/7/skiff');
    expect(skiffPaths({ runroot: '/r' }, { HOME: '/h' }, 7).runRoot).toBe('/r');
  });
});

describe('ensureRunRoot', () => {
  let tmp: string;
  const uid = process.getuid!();
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-runroot-test-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('creates a missing run root 0700 and accepts it', () => {
    const d = path.join(tmp, 'a', 'skiff-1');
    ensureRunRoot(d, uid);
    expect(fs.lstatSync(d).mode & 0o777).toBe(0o700);
    ensureRunRoot(d, uid);
  });
  it('refuses one that others can write, naming it and what to do', () => {
    const d = path.join(tmp, 'open');
    fs.mkdirSync(d);
    fs.chmodSync(d, 0o777);
    expect(() => ensureRunRoot(d, uid)).toThrow(`run root ${d} is writable by others (mode 777); remove it, or set XDG_RUNTIME_DIR (or --runroot) to a directory of your own`);
  });
  it('refuses a symlink, even to a directory of our own', () => {
    const mine = path.join(tmp, 'mine');
    fs.mkdirSync(mine, { mode: 0o700 });
    fs.symlinkSync(mine, path.join(tmp, 'link'));
    expect(() => ensureRunRoot(path.join(tmp, 'link'), uid)).toThrow(/is a symlink; remove it/);
  });
  it('refuses a directory of another user', () => {
    const d = path.join(tmp, 'theirs');
    fs.mkdirSync(d, { mode: 0o700 });
    expect(() => ensureRunRoot(d, uid + 1)).toThrow(`run root ${d} belongs to uid ${uid}, not to you (uid ${uid + 1})`);
  });
});
