import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addonPath,
  cacheBaseCandidates,
  ensureExtracted,
  helperPath,
  mkdirp,
  monitorPath,
  nativeDirName,
  removeTree,
  stampName,
  verifyExtraction,
  writeAssets,
  type AssetSpec,
  type NativeAsset,
} from '../../src/native/assets';

const uid = process.getuid!();
const HASH = '0123456789abcdef';
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-assets-test-'));
});
afterEach(() => {
  removeTree(path.join(tmp, 'skiff', `native-${HASH}`)); // read-only directories
  for (const d of fs.existsSync(tmp) ? fs.readdirSync(tmp, { recursive: true }) : []) {
    try {
      if (fs.lstatSync(path.join(tmp, String(d))).isDirectory()) fs.chmodSync(path.join(tmp, String(d)), 0o700);
    } catch {
      /* gone */
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const assets = (helper = 'helper-bytes'): NativeAsset[] => [
  { name: 'skiff_native.node', data: Buffer.from('addon-bytes'), mode: 0o400 },
  { name: 'skiff-helper', data: Buffer.from(helper), mode: 0o500 },
];
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
/** What the build would say about assets(helper). */
const specs = (helper = 'helper-bytes'): AssetSpec[] => [
  { name: 'skiff_native.node', mode: 0o400, sha256: sha('addon-bytes') },
  { name: 'skiff-helper', mode: 0o500, sha256: sha(helper) },
];
const mode = (p: string): number => fs.statSync(p).mode & 0o7777;

describe('cacheBaseCandidates', () => {
  it('prefers XDG_CACHE_HOME, then XDG_RUNTIME_DIR', () => {
    expect(cacheBaseCandidates({ XDG_CACHE_HOME: '/c', XDG_RUNTIME_DIR: '/run/user/7' }, '/home/u')).toEqual([
      '/c/skiff',
      '/run/user/7/skiff',
    ]);
  });
  it('falls back to ~/.cache when XDG_CACHE_HOME is unset or relative', () => {
    expect(cacheBaseCandidates({}, '/home/u')).toEqual(['/home/u/.cache/skiff']);
    expect(cacheBaseCandidates({ XDG_CACHE_HOME: 'rel/dir' }, '/home/u')).toEqual(['/home/u/.cache/skiff']);
  });
  it('never proposes a predictable /tmp path, and nothing without an absolute home', () => {
    expect(cacheBaseCandidates({ XDG_RUNTIME_DIR: 'x' }, undefined)).toEqual([]);
    expect(cacheBaseCandidates({}, '')).toEqual([]);
    expect(cacheBaseCandidates({ XDG_CACHE_HOME: '', XDG_RUNTIME_DIR: '' }, 'relative')).toEqual([]);
  });
});

describe('nativeDirName', () => {
  it('accepts hex hashes only', () => {
    expect(nativeDirName(HASH)).toBe(`native-${HASH}`);
    expect(() => nativeDirName('../../etc')).toThrow();
    expect(() => nativeDirName('')).toThrow();
  });
});

describe('writeAssets', () => {
  it('writes the bytes with the requested modes despite the umask, leaving no temp files', () => {
    const old = process.umask(0o077);
    try {
      writeAssets(tmp, assets());
    } finally {
      process.umask(old);
    }
    expect(fs.readdirSync(tmp).sort()).toEqual(['skiff-helper', 'skiff_native.node']);
    expect(fs.readFileSync(path.join(tmp, 'skiff-helper'), 'utf8')).toBe('helper-bytes');
    expect(mode(path.join(tmp, 'skiff-helper'))).toBe(0o500);
    expect(mode(path.join(tmp, 'skiff_native.node'))).toBe(0o400);
  });
  it('refuses names that would escape the directory', () => {
    const name = `escape-${path.basename(tmp)}`;
    expect(() => writeAssets(tmp, [{ name: `../${name}`, data: Buffer.from(''), mode: 0o600 }])).toThrow();
    expect(fs.existsSync(path.join(tmp, '..', name))).toBe(false);
    expect(fs.existsSync(path.join(tmp, '..', `.${name}.tmp`))).toBe(false);
  });
});

describe('ensureExtracted', () => {
  const extract = (base: string, helper = 'helper-bytes', load = () => assets(helper)): string =>
    ensureExtracted(base, HASH, specs(helper), load, uid);
  const helperFile = (dir: string): string => path.join(dir, 'skiff-helper');
  /** Change a file's bytes as its owner could: chmod it writable first. */
  const tamper = (file: string, bytes: string): void => {
    fs.chmodSync(path.dirname(file), 0o700);
    fs.chmodSync(file, 0o700);
    fs.writeFileSync(file, bytes);
    fs.chmodSync(file, 0o500);
    fs.chmodSync(path.dirname(file), 0o500);
  };

  it('creates base/native-<hash> read-only (0500, files 0500/0400) with the assets and a stamp beside it', () => {
    const base = path.join(tmp, 'cache', 'skiff');
    const dir = extract(base);
    expect(dir).toBe(path.join(base, `native-${HASH}`));
    expect(mode(dir)).toBe(0o500);
    expect(mode(helperFile(dir))).toBe(0o500);
    expect(mode(path.join(dir, 'skiff_native.node'))).toBe(0o400);
    expect(mode(base)).toBe(0o700);
    expect(fs.readdirSync(base).sort()).toEqual([`native-${HASH}`, stampName(HASH)]); // temp dir gone
    expect(fs.readFileSync(path.join(dir, 'skiff_native.node'), 'utf8')).toBe('addon-bytes');
  });

  it('fast path: a stamped extraction is reused without reading the assets\' bytes', () => {
    const base = path.join(tmp, 'skiff');
    extract(base);
    let asked = false;
    const dir = extract(base, 'helper-bytes', () => ((asked = true), assets()));
    expect(asked).toBe(false);
    expect(fs.readFileSync(helperFile(dir), 'utf8')).toBe('helper-bytes');
  });

  it('a changed byte in the helper is noticed on the next use and extracted anew', () => {
    const base = path.join(tmp, 'skiff');
    const dir = extract(base);
    tamper(helperFile(dir), 'helper-bytEs');
    expect(extract(base)).toBe(dir);
    expect(fs.readFileSync(helperFile(dir), 'utf8')).toBe('helper-bytes');
    expect(mode(helperFile(dir))).toBe(0o500);
    expect(fs.readdirSync(base).sort()).toEqual([`native-${HASH}`, stampName(HASH)]); // the bad copy is gone
  });

  it('a changed mode is noticed and extracted anew', () => {
    const base = path.join(tmp, 'skiff');
    const dir = extract(base);
    fs.chmodSync(helperFile(dir), 0o755);
    extract(base);
    expect(mode(helperFile(dir))).toBe(0o500);
    fs.chmodSync(dir, 0o700);
    extract(base);
    expect(mode(dir)).toBe(0o500);
  });

  it('a file added to the directory is noticed and extracted anew', () => {
    const base = path.join(tmp, 'skiff');
    const dir = extract(base);
    fs.chmodSync(dir, 0o700);
    fs.writeFileSync(path.join(dir, 'libc.so.6'), 'evil');
    fs.chmodSync(dir, 0o500);
    extract(base);
    expect(fs.readdirSync(dir).sort()).toEqual(['skiff-helper', 'skiff_native.node']);
  });

  it('touching a file without changing it costs one re-hash and a new stamp, not an extraction', () => {
    const base = path.join(tmp, 'skiff');
    const dir = extract(base);
    const ino = fs.statSync(helperFile(dir)).ino;
    const before = fs.readFileSync(path.join(base, stampName(HASH)), 'utf8');
    fs.utimesSync(helperFile(dir), new Date(0), new Date(0));
    let asked = false;
    extract(base, 'helper-bytes', () => ((asked = true), assets()));
    expect(asked).toBe(false);
    expect(fs.statSync(helperFile(dir)).ino).toBe(ino);
    expect(fs.readFileSync(path.join(base, stampName(HASH)), 'utf8')).not.toBe(before);
  });

  it('an extraction without a stamp (another process is writing it) is checked, then stamped', () => {
    const base = path.join(tmp, 'skiff');
    const dir = extract(base);
    fs.rmSync(path.join(base, stampName(HASH)));
    let asked = false;
    extract(base, 'helper-bytes', () => ((asked = true), assets()));
    expect(asked).toBe(false);
    expect(fs.existsSync(path.join(base, stampName(HASH)))).toBe(true);
    expect(fs.readFileSync(helperFile(dir), 'utf8')).toBe('helper-bytes');
  });

  it('a forged stamp does not help: the stamp must describe the files as they are', () => {
    const base = path.join(tmp, 'skiff');
    const dir = extract(base);
    const stamp = fs.readFileSync(path.join(base, stampName(HASH)), 'utf8');
    tamper(helperFile(dir), 'helper-bytEs');
    fs.writeFileSync(path.join(base, stampName(HASH)), stamp); // the old stamp back
    extract(base);
    expect(fs.readFileSync(helperFile(dir), 'utf8')).toBe('helper-bytes');
  });

  it('a new hash extracts anew and prunes other builds (read-only ones too) a day after their last check, and stale temp dirs', () => {
    const base = path.join(tmp, 'skiff');
    extract(base, 'old');
    fs.mkdirSync(path.join(base, '.native-feedfacefeedface-abc123'));
    fs.mkdirSync(path.join(base, 'unrelated'));
    fs.writeFileSync(path.join(base, 'native-0badcafe0badcafe.stamp'), ''); // an orphan stamp
    const later = Date.now() + 25 * 60 * 60 * 1000;
    const dir = ensureExtracted(base, 'feedfacefeedface', specs('new'), () => assets('new'), uid, later);
    expect(fs.readFileSync(helperFile(dir), 'utf8')).toBe('new');
    expect(fs.readdirSync(base).sort()).toEqual(['native-feedfacefeedface', 'native-feedfacefeedface.stamp', 'unrelated']);
    removeTree(dir);
  });

  it('another build checked within the last day is kept: both may be in use', () => {
    const base = path.join(tmp, 'skiff');
    extract(base, 'old');
    const dir = ensureExtracted(base, 'feedfacefeedface', specs('new'), () => assets('new'), uid, Date.now() + 60 * 60 * 1000);
    expect(fs.readdirSync(base).sort()).toEqual([`native-${HASH}`, `native-${HASH}.stamp`, 'native-feedfacefeedface', 'native-feedfacefeedface.stamp']);
    removeTree(dir);
  });

  it('replaces a directory that is not private instead of executing from it', () => {
    const base = path.join(tmp, 'skiff');
    const dir = path.join(base, `native-${HASH}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(helperFile(dir), 'planted');
    fs.chmodSync(dir, 0o777);
    extract(base);
    expect(mode(dir)).toBe(0o500);
    expect(fs.readFileSync(helperFile(dir), 'utf8')).toBe('helper-bytes');
  });

  it('replaces a symlink in place of the directory, leaving its target alone', () => {
    const base = path.join(tmp, 'skiff');
    const elsewhere = path.join(tmp, 'elsewhere');
    fs.mkdirSync(base);
    fs.mkdirSync(elsewhere, { mode: 0o700 });
    fs.writeFileSync(path.join(elsewhere, 'skiff-helper'), 'planted');
    fs.symlinkSync(elsewhere, path.join(base, `native-${HASH}`));
    const dir = extract(base);
    expect(fs.lstatSync(dir).isDirectory()).toBe(true);
    expect(fs.readFileSync(helperFile(dir), 'utf8')).toBe('helper-bytes');
    expect(fs.readFileSync(path.join(elsewhere, 'skiff-helper'), 'utf8')).toBe('planted');
  });

  it('refuses a base directory that others can write', () => {
    const base = path.join(tmp, 'skiff');
    fs.mkdirSync(base, { mode: 0o700 });
    fs.chmodSync(base, 0o777);
    expect(() => extract(base)).toThrow(/no one else can write/);
  });

  it('refuses assets that do not match the build\'s digests, leaving nothing behind', () => {
    const base = path.join(tmp, 'skiff');
    expect(() => ensureExtracted(base, HASH, specs('expected'), () => assets('other'), uid)).toThrow(/does not match this build/);
    expect(fs.readdirSync(base)).toEqual([]);
  });

  it('a failed extraction leaves no partial directory behind', () => {
    const base = path.join(tmp, 'skiff');
    const bad: NativeAsset[] = [...assets(), { name: '../evil', data: Buffer.from(''), mode: 0o600 }];
    expect(() => extract(base, 'helper-bytes', () => bad)).toThrow();
    expect(fs.readdirSync(base)).toEqual([]);
  });

  it('losing a race to another process uses the winner\'s complete copy', () => {
    const base = path.join(tmp, 'skiff');
    const dir = extract(base, 'helper-bytes', () => {
      // Another process finishes first while we are writing.
      const winner = path.join(base, `native-${HASH}`);
      fs.mkdirSync(winner, { mode: 0o700 });
      writeAssets(winner, assets());
      fs.chmodSync(winner, 0o500);
      return assets();
    });
    expect(verifyExtraction(dir, specs(), uid)).toHaveProperty('stamp');
    expect(fs.readdirSync(base).sort()).toEqual([`native-${HASH}`, stampName(HASH)]);
  });
});

describe('mkdirp', () => {
  it('creates missing parents 0700 and accepts existing ones', () => {
    const d = path.join(tmp, 'a', 'b', 'c');
    mkdirp(d);
    mkdirp(d);
    expect(mode(path.join(tmp, 'a'))).toBe(0o700);
    expect(fs.statSync(d).isDirectory()).toBe(true);
  });
  it('fails (rather than spinning) where directories cannot be made', () => {
    expect(() => mkdirp('/proc/skiff-test/x')).toThrow();
  });
});

describe('paths outside the single executable', () => {
  const saved = { h: process.env.SKIFF_HELPER, m: process.env.SKIFF_MONITOR, a: process.env.SKIFF_ADDON };
  afterEach(() => {
    for (const [k, v] of [['SKIFF_HELPER', saved.h], ['SKIFF_MONITOR', saved.m], ['SKIFF_ADDON', saved.a]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  it('point at the build outputs in the repository', () => {
    delete process.env.SKIFF_HELPER;
    delete process.env.SKIFF_MONITOR;
    delete process.env.SKIFF_ADDON;
    const root = path.resolve(__dirname, '..', '..');
    expect(helperPath()).toBe(path.join(root, 'native', 'helper', 'build', 'skiff-helper'));
    expect(monitorPath()).toBe(path.join(root, 'native', 'helper', 'build', 'skiff-monitor'));
    expect(addonPath()).toBe(path.join(root, 'native', 'addon', 'build', 'Release', 'skiff_native.node'));
  });
  it('honour SKIFF_HELPER, SKIFF_MONITOR and SKIFF_ADDON', () => {
    process.env.SKIFF_HELPER = '/opt/h';
    process.env.SKIFF_MONITOR = '/opt/m';
    process.env.SKIFF_ADDON = 'rel/a.node';
    expect(helperPath()).toBe('/opt/h');
    expect(monitorPath()).toBe('/opt/m');
    expect(addonPath()).toBe(path.resolve('rel/a.node'));
  });
});
