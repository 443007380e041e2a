// Where the native pieces live on disk.
//
// Inside the single executable the addon (skiff_native.node), the C helper (skiff-helper) and
// the ISA-L library the helper loads (libisal.so.2) are SEA assets. None can be used from
// memory (dlopen and execve need a file), so at first use they are written to a private cache
// directory named by a content hash computed at build time:
// ${XDG_CACHE_HOME:-$HOME/.cache}/skiff/native-<hash>/, else $XDG_RUNTIME_DIR/skiff/..., else a
// fresh mkdtemp directory (never a predictable /tmp path).
//
// Extraction is atomic at the directory level: every file is written into a private temporary
// sibling directory (mkdtemp, 0700), fsynced, and the directory is then renamed to its final
// name. So if native-<hash>/ exists it is complete, and the fast path is one lstat.
//
// Outside the single executable (development, unit tests) the paths point at the build outputs
// in the repository; SKIFF_HELPER and SKIFF_ADDON override them.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sea from 'node:sea';

// Injected by build/build.mjs (esbuild `define`): hash of the addon and helper bytes.
declare const __SKIFF_NATIVE_HASH__: string;

export const ADDON_ASSET = 'skiff_native.node';
export const HELPER_ASSET = 'skiff-helper';
/** ISA-L, which the helper dlopens from its own directory for fast gzip (native/helper/gunzip.c). */
export const ISAL_ASSET = 'libisal.so.2';

export interface NativeAsset {
  name: string;
  data: Uint8Array;
  mode: number;
}

/**
 * Base directories to try, best first. Relative XDG values are ignored, as the XDG spec says.
 * The mkdtemp fallback is not listed: it is created only when all of these fail.
 */
export function cacheBaseCandidates(env: NodeJS.ProcessEnv, home: string | undefined): string[] {
  const out: string[] = [];
  const xdgCache = env.XDG_CACHE_HOME;
  if (xdgCache && path.isAbsolute(xdgCache)) out.push(path.join(xdgCache, 'skiff'));
  else if (home && path.isAbsolute(home)) out.push(path.join(home, '.cache', 'skiff'));
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime)) out.push(path.join(runtime, 'skiff'));
  return out;
}

export function nativeDirName(hash: string): string {
  if (!/^[0-9a-f]{8,64}$/.test(hash)) throw new Error(`invalid native asset hash '${hash}'`);
  return `native-${hash}`;
}

/** A directory we may execute from: a real directory, ours, not reachable by anyone else. */
export function isPrivateDir(st: fs.Stats, uid: number): boolean {
  return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write the assets into `dir` (which must exist and be private): temp name, fsync, rename. */
export function writeAssets(dir: string, assets: readonly NativeAsset[]): void {
  for (const a of assets) {
    if (a.name.includes('/') || a.name.startsWith('.')) throw new Error(`invalid asset name '${a.name}'`);
    const tmp = path.join(dir, `.${a.name}.tmp`);
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    try {
      let off = 0;
      while (off < a.data.byteLength) off += fs.writeSync(fd, a.data, off, a.data.byteLength - off);
      fs.fchmodSync(fd, a.mode); // explicit: the open mode is subject to the umask
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(dir, a.name));
  }
  fsyncPath(dir);
}

/**
 * mkdir -p with 0700 for what it creates. Not fs.mkdirSync({recursive}): under /proc (an
 * XDG_CACHE_HOME nobody should set, but people do odd things) Node 20's loops forever.
 */
export function mkdirp(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw e;
  }
  const parent = path.dirname(dir);
  if (parent === dir) throw new Error(`cannot create ${dir}`);
  mkdirp(parent);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** Stale temporary directories older than this are removed when we extract. */
const STALE_TMP_MS = 10 * 60 * 1000;

function pruneSiblings(base: string, keep: string, now: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  for (const n of names) {
    if (n === keep) continue;
    const p = path.join(base, n);
    try {
      if (n.startsWith('.native-')) {
        if (now - fs.lstatSync(p).mtimeMs > STALE_TMP_MS) fs.rmSync(p, { recursive: true, force: true });
      } else if (n.startsWith('native-')) {
        // Another build's assets. Processes already running from there are unaffected
        // (they hold their inodes); that build would simply extract again.
        fs.rmSync(p, { recursive: true, force: true });
      }
    } catch {
      /* best effort */
    }
  }
}

/**
 * Make sure `<base>/native-<hash>/` exists, is private and holds the assets. Returns its path.
 * Safe against concurrent extraction by other skiff processes: whoever renames first wins.
 */
export function ensureExtracted(
  base: string,
  hash: string,
  assets: () => readonly NativeAsset[],
  uid: number,
  now: number = Date.now(),
): string {
  const name = nativeDirName(hash);
  const final = path.join(base, name);
  const check = (): string => {
    const st = fs.lstatSync(final);
    if (!isPrivateDir(st, uid)) {
      throw new Error(`${final} is not a private directory owned by uid ${uid}; remove it`);
    }
    return final;
  };
  try {
    return check();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirp(base);
  const tmp = fs.mkdtempSync(path.join(base, `.${name}-`)); // 0700
  try {
    fs.chmodSync(tmp, 0o700);
    writeAssets(tmp, assets());
    try {
      fs.renameSync(tmp, final);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      // Lost a race with another process; use its (complete) copy.
    }
    fsyncPath(base);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  pruneSiblings(base, name, now);
  return check();
}

function seaAssets(): NativeAsset[] {
  const bytes = (key: string): Uint8Array => {
    const raw = sea.getRawAsset(key);
    return typeof raw === 'string' ? Buffer.from(raw) : new Uint8Array(raw);
  };
  return [
    { name: ADDON_ASSET, data: bytes(ADDON_ASSET), mode: 0o600 },
    { name: HELPER_ASSET, data: bytes(HELPER_ASSET), mode: 0o700 },
    { name: ISAL_ASSET, data: bytes(ISAL_ASSET), mode: 0o600 },
  ];
}

let seaDir: string | undefined;

function extractedDir(): string {
  if (seaDir !== undefined) return seaDir;
  const hash = typeof __SKIFF_NATIVE_HASH__ === 'string' ? __SKIFF_NATIVE_HASH__ : '';
  if (!hash) throw new Error('skiff was built without a native asset hash (build/build.mjs defines it)');
  const uid = process.getuid ? process.getuid() : 0;
  let home: string | undefined;
  try {
    home = os.homedir();
  } catch {
    home = undefined;
  }
  const errors: string[] = [];
  for (const base of cacheBaseCandidates(process.env, home)) {
    try {
      return (seaDir = ensureExtracted(base, hash, seaAssets, uid));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  // Last resort: a fresh, unpredictable, private directory, removed when this process exits.
  // Helpers already exec'd from it keep running (they hold their inode).
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-native-'));
  } catch (e) {
    errors.push((e as Error).message);
    throw new Error(`cannot write skiff's native helpers anywhere (${errors.join('; ')}); set XDG_CACHE_HOME to a writable directory`);
  }
  writeAssets(dir, seaAssets());
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (seaDir = dir);
}

let repoRootCache: string | undefined;

/** The repository checkout this module runs from (development and tests only). */
export function findRepoRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'native', 'PROTOCOL.md'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function repoRoot(): string {
  if (repoRootCache !== undefined) return repoRootCache;
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const root = findRepoRoot(here) ?? findRepoRoot(process.cwd());
  if (!root) throw new Error('cannot locate the skiff repository for the native build outputs; set SKIFF_HELPER and SKIFF_ADDON');
  return (repoRootCache = root);
}

function inSea(): boolean {
  try {
    return sea.isSea();
  } catch {
    return false;
  }
}

/** Absolute path of the skiff-helper executable. */
export function helperPath(): string {
  if (inSea()) return path.join(extractedDir(), HELPER_ASSET);
  if (process.env.SKIFF_HELPER) return path.resolve(process.env.SKIFF_HELPER);
  return path.join(repoRoot(), 'native', 'helper', 'build', 'skiff-helper');
}

/** Absolute path of the skiff_native.node addon. */
export function addonPath(): string {
  if (inSea()) return path.join(extractedDir(), ADDON_ASSET);
  if (process.env.SKIFF_ADDON) return path.resolve(process.env.SKIFF_ADDON);
  return path.join(repoRoot(), 'native', 'addon', 'build', 'Release', ADDON_ASSET);
}
