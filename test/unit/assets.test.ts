import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addonPath,
  cacheBaseCandidates,
  ensureExtracted,
  helperPath,
  isPrivateDir,
  mkdirp,
  nativeDirName,
  writeAssets,
  type NativeAsset,
} from '../../src/native/assets';

const uid = process.getuid!();
const HASH = '0123456789abcdef';
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-assets-test-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const assets = (helper = 'helper-bytes'): NativeAsset[] => [
  { name: 'skiff_native.node', data: Buffer.from('addon-bytes'), mode: 0o600 },
  { name: 'skiff-helper', data: Buffer.from(helper), mode: 0o700 },
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

describe('isPrivateDir', () => {
  it('requires a directory owned by us with no group/other bits', () => {
    const d = path.join(tmp, 'd');
    fs.mkdirSync(d, { mode: 0o700 });
    fs.chmodSync(d, 0o700);
    expect(isPrivateDir(fs.statSync(d), uid)).toBe(true);
    expect(isPrivateDir(fs.statSync(d), uid + 1)).toBe(false);
    fs.chmodSync(d, 0o755);
    expect(isPrivateDir(fs.statSync(d), uid)).toBe(false);
    fs.writeFileSync(path.join(tmp, 'f'), '');
    fs.chmodSync(path.join(tmp, 'f'), 0o600);
    expect(isPrivateDir(fs.statSync(path.join(tmp, 'f')), uid)).toBe(false);
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
    expect(mode(path.join(tmp, 'skiff-helper'))).toBe(0o700);
    expect(mode(path.join(tmp, 'skiff_native.node'))).toBe(0o600);
  });
  it('refuses names that would escape the directory', () => {
    const name = `escape-${path.basename(tmp)}`;
    expect(() => writeAssets(tmp, [{ name: `../${name}`, data: Buffer.from(''), mode: 0o600 }])).toThrow();
    expect(fs.existsSync(path.join(tmp, '..', name))).toBe(false);
    expect(fs.existsSync(path.join(tmp, '..', `.${name}.tmp`))).toBe(false);
  });
});

describe('ensureExtracted', () => {
  it('creates base/native-<hash> 0700 with the assets, and nothing else', () => {
    const base = path.join(tmp, 'cache', 'skiff');
    const dir = ensureExtracted(base, HASH, () => assets(), uid);
    expect(dir).toBe(path.join(base, `native-${HASH}`));
    expect(mode(dir)).toBe(0o700);
    expect(mode(base)).toBe(0o700);
    expect(fs.readdirSync(base)).toEqual([`native-${HASH}`]); // temp dir gone
    expect(fs.readFileSync(path.join(dir, 'skiff_native.node'), 'utf8')).toBe('addon-bytes');
  });

  it('fast path: an existing extraction is reused without asking for the bytes', () => {
    const base = path.join(tmp, 'skiff');
    ensureExtracted(base, HASH, () => assets('first'), uid);
    let asked = false;
    const dir = ensureExtracted(base, HASH, () => ((asked = true), assets('second')), uid);
    expect(asked).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'skiff-helper'), 'utf8')).toBe('first');
  });

  it('a new hash extracts anew and prunes other builds and stale temp dirs', () => {
    const base = path.join(tmp, 'skiff');
    ensureExtracted(base, HASH, () => assets('old'), uid);
    fs.mkdirSync(path.join(base, '.native-feedfacefeedface-abc123'));
    fs.mkdirSync(path.join(base, 'unrelated'));
    const later = Date.now() + 60 * 60 * 1000;
    const dir = ensureExtracted(base, 'feedfacefeedface', () => assets('new'), uid, later);
    expect(fs.readFileSync(path.join(dir, 'skiff-helper'), 'utf8')).toBe('new');
    expect(fs.readdirSync(base).sort()).toEqual(['native-feedfacefeedface', 'unrelated']);
  });

  it('refuses a directory that is not private instead of executing from it', () => {
    const base = path.join(tmp, 'skiff');
    fs.mkdirSync(path.join(base, `native-${HASH}`), { recursive: true });
    fs.chmodSync(path.join(base, `native-${HASH}`), 0o777);
    expect(() => ensureExtracted(base, HASH, () => assets(), uid)).toThrow(/not a private directory/);
  });

  it('refuses a symlink in place of the directory', () => {
    const base = path.join(tmp, 'skiff');
    const elsewhere = path.join(tmp, 'elsewhere');
    fs.mkdirSync(base);
    fs.mkdirSync(elsewhere, { mode: 0o700 });
    fs.symlinkSync(elsewhere, path.join(base, `native-${HASH}`));
    expect(() => ensureExtracted(base, HASH, () => assets(), uid)).toThrow();
  });

  it('a failed extraction leaves no partial directory behind', () => {
    const base = path.join(tmp, 'skiff');
    const bad: NativeAsset[] = [...assets(), { name: '../evil', data: Buffer.from(''), mode: 0o600 }];
    expect(() => ensureExtracted(base, HASH, () => bad, uid)).toThrow();
    expect(fs.readdirSync(base)).toEqual([]);
  });

  it('losing a race to another process uses the winner\'s complete copy', () => {
    const base = path.join(tmp, 'skiff');
    const dir = ensureExtracted(base, HASH, () => {
      // Another process finishes first while we are writing.
      const winner = path.join(base, `native-${HASH}`);
      fs.mkdirSync(winner, { mode: 0o700 });
      writeAssets(winner, assets('winner'));
      return assets('loser');
    }, uid);
    expect(fs.readFileSync(path.join(dir, 'skiff-helper'), 'utf8')).toBe('winner');
    expect(fs.readdirSync(base)).toEqual([`native-${HASH}`]);
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
  const saved = { h: process.env.SKIFF_HELPER, a: process.env.SKIFF_ADDON };
  afterEach(() => {
    for (const [k, v] of [['SKIFF_HELPER', saved.h], ['SKIFF_ADDON', saved.a]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  it('point at the build outputs in the repository', () => {
    delete process.env.SKIFF_HELPER;
    delete process.env.SKIFF_ADDON;
    const root = path.resolve(__dirname, '..', '..');
    expect(helperPath()).toBe(path.join(root, 'native', 'helper', 'build', 'skiff-helper'));
    expect(addonPath()).toBe(path.join(root, 'native', 'addon', 'build', 'Release', 'skiff_native.node'));
  });
  it('honour SKIFF_HELPER and SKIFF_ADDON', () => {
    process.env.SKIFF_HELPER = '/opt/h';
    process.env.SKIFF_ADDON = 'rel/a.node';
    expect(helperPath()).toBe('/opt/h');
    expect(addonPath()).toBe(path.resolve('rel/a.node'));
  });
});
