// Where the native pieces live on disk.
//
// Inside the single executable the addon (skiff_native.node), the C helper (skiff-helper), the
// monitor (skiff-monitor: the same C sources with only the modes that run a container's
// processes, native/helper/main.c) and the ISA-L library the helper loads (libisal.so.2) are SEA
// assets. None can be used from
// memory (dlopen and execve need a file), so at first use they are written to a private cache
// directory named by a content hash computed at build time:
// ${XDG_CACHE_HOME:-$HOME/.cache}/skiff/native-<hash>/, else $XDG_RUNTIME_DIR/skiff/..., else a
// fresh mkdtemp directory (never a predictable /tmp path).
//
// Extraction is atomic at the directory level: every file is written into a private temporary
// sibling directory (mkdtemp), fsynced, made read-only (files 0500/0400, directory 0500) and
// the directory is then renamed to its final name.
//
// The extracted files are checked before every use, because what runs from there runs as the
// user, and as root for rootful skiff. Hashing ~0.8 MB on every command would cost
// milliseconds of start-up, so the full check (each file's sha256 against this build's
// digests, owner, modes, nothing else in the directory) runs only when the directory is new or
// has changed, and records a stamp of what it verified: device, inode, size, mode, owner, mtime
// and ctime of the directory and of each file, in native-<hash>.stamp beside it. Every other
// use compares a few lstat()s with that stamp. That is enough because ctime cannot be set by an
// unprivileged process: any write, chmod, chown, rename or link of a file (and any entry added
// to or removed from the directory) moves it to the current time, and replacing a file changes
// its inode. Where they differ the files are hashed again; where the hash or a mode is wrong the
// directory is extracted anew. The stamp lives in the base directory, which must be ours and
// writable by nobody else, so only this user could forge it, and this user could as well
// replace skiff itself.
//
// Outside the single executable (development, unit tests) the paths point at the build outputs
// in the repository; SKIFF_HELPER, SKIFF_MONITOR and SKIFF_ADDON override them.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sea from 'node:sea';
import { randomHex } from '../util/random';

// crypto is needed only when assets are extracted or verified, not by every command that
// imports this module (ps, images): loaded then, for start-up time (docs/PERFORMANCE.md).
const crypto = () => process.getBuiltinModule('node:crypto');

// Injected by build/build.mjs (esbuild `define`): a hash of all the assets' bytes (names the
// directory), and the sha256 (hex) of each asset by name (checks the extracted files).
declare const __SKIFF_NATIVE_HASH__: string;
declare const __SKIFF_NATIVE_DIGESTS__: Record<string, string>;

export const ADDON_ASSET = 'skiff_native.node';
export const HELPER_ASSET = 'skiff-helper';
/** The monitor and exec: small, because every running container keeps a sealed copy of it resident. */
export const MONITOR_ASSET = 'skiff-monitor';
/** ISA-L, which the helper dlopens from its own directory for fast gzip (native/helper/gunzip.c). */
export const ISAL_ASSET = 'libisal.so.2';

/** Read-only for the owner too: changing an extracted file needs a chmod first, which shows in its ctime. */
export const ASSET_MODES: Readonly<Record<string, number>> = { [ADDON_ASSET]: 0o400, [HELPER_ASSET]: 0o500, [MONITOR_ASSET]: 0o500, [ISAL_ASSET]: 0o400 };
const ASSET_NAMES = [ADDON_ASSET, HELPER_ASSET, MONITOR_ASSET, ISAL_ASSET];
/** The extracted directory: no entry can be added, removed or renamed without a chmod first. */
export const ASSET_DIR_MODE = 0o500;

/** What is known of an asset without reading its bytes. */
export interface AssetSpec {
  name: string;
  mode: number;
  /** hex sha256 of its bytes */
  sha256: string;
}

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

/** The stamp of a verified native-<hash>/ directory, kept beside it in the base directory. */
export function stampName(hash: string): string {
  return `${nativeDirName(hash)}.stamp`;
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

/** rm -rf that also removes our read-only directories (unlinking needs a writable directory). */
export function removeTree(p: string): void {
  try {
    if (fs.lstatSync(p).isDirectory()) fs.chmodSync(p, 0o700);
  } catch {
    /* gone already, or rmSync reports what matters */
  }
  fs.rmSync(p, { recursive: true, force: true });
}

/** The base directory holds the stamps, so nobody but us may write there. */
function checkBase(base: string, uid: number): void {
  const st = fs.lstatSync(base);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${base} must be a directory owned by uid ${uid} that no one else can write; fix or remove it`);
  }
}

/**
 * One line per inode (the directory as '.', then each asset) of what the stamp records, read
 * with lstat (never through a symlink). Throws ENOENT when something is missing.
 */
function statLines(dir: string, specs: readonly AssetSpec[]): { text: string; stats: Map<string, fs.BigIntStats> } {
  const stats = new Map<string, fs.BigIntStats>();
  const lines = ['skiff-native-stamp 1'];
  for (const name of ['.', ...specs.map((s) => s.name)]) {
    const st = fs.lstatSync(path.join(dir, name), { bigint: true });
    stats.set(name, st);
    lines.push([name, st.dev, st.ino, st.size, st.mode, st.uid, st.mtimeNs, st.ctimeNs].join(' '));
  }
  return { text: `${lines.join('\n')}\n`, stats };
}

function sha256File(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const hash = crypto().createHash('sha256');
    const buf = Buffer.allocUnsafe(256 * 1024);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
    return hash.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The full check of an extracted directory: ours, read-only, exactly the assets, each with its
 * mode and sha256. Returns the stamp to record, or why it failed. The stat lines are taken
 * before and after hashing, so a change made meanwhile fails the check instead of being stamped.
 */
export function verifyExtraction(dir: string, specs: readonly AssetSpec[], uid: number): { stamp: string } | { problem: string } {
  let before;
  try {
    before = statLines(dir, specs);
  } catch (e) {
    return { problem: (e as Error).message };
  }
  const d = before.stats.get('.')!;
  if (!d.isDirectory() || d.uid !== BigInt(uid) || (d.mode & 0o7777n) !== BigInt(ASSET_DIR_MODE)) {
    return { problem: `${dir} is not a directory of uid ${uid} with mode ${ASSET_DIR_MODE.toString(8)}` };
  }
  const names = fs.readdirSync(dir).sort();
  const want = specs.map((s) => s.name).sort();
  if (names.join('/') !== want.join('/')) return { problem: `${dir} holds ${names.join(', ')} instead of ${want.join(', ')}` };
  for (const spec of specs) {
    const file = path.join(dir, spec.name);
    const st = before.stats.get(spec.name)!;
    if (!st.isFile() || st.uid !== BigInt(uid) || (st.mode & 0o7777n) !== BigInt(spec.mode)) {
      return { problem: `${file} is not a file of uid ${uid} with mode ${spec.mode.toString(8)}` };
    }
    if (sha256File(file) !== spec.sha256) return { problem: `${file} does not match this build` };
  }
  const after = statLines(dir, specs);
  if (after.text !== before.text) return { problem: `${dir} changed while it was being checked` };
  return { stamp: before.text };
}

function readStamp(file: string): string | undefined {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function writeStamp(base: string, hash: string, stamp: string): void {
  const tmp = path.join(base, `.${stampName(hash)}-${randomHex(6)}`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, stamp);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(base, stampName(hash)));
}

/** Stale temporary directories older than this are removed when we extract. */
const STALE_TMP_MS = 10 * 60 * 1000;
/**
 * Another build's directory is removed when we extract only once its stamp is this old (or
 * missing): two skiff builds in use on one machine (an upgrade, two checkouts) would otherwise
 * delete each other's helpers between a command's check and its spawn, at every turn.
 */
const OTHER_BUILD_GRACE_MS = 24 * 60 * 60 * 1000;

function pruneSiblings(base: string, hash: string, now: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(base);
  } catch {
    return;
  }
  const keep = new Set([nativeDirName(hash), stampName(hash)]);
  const age = (p: string): number => now - fs.lstatSync(p).mtimeMs;
  for (const n of names) {
    if (keep.has(n)) continue;
    const p = path.join(base, n);
    try {
      if (n.startsWith('.native-')) {
        if (age(p) > STALE_TMP_MS) removeTree(p);
      } else if (/^native-[0-9a-f]+$/.test(n)) {
        // Another build's assets. Processes already running from there are unaffected (they
        // hold their inodes); that build would simply extract again.
        const stamp = `${p}.stamp`;
        if (!fs.existsSync(stamp) || age(stamp) > OTHER_BUILD_GRACE_MS) {
          removeTree(p);
          fs.rmSync(stamp, { force: true });
        }
      } else if (/^native-[0-9a-f]+\.stamp$/.test(n) && !names.includes(n.slice(0, -'.stamp'.length))) {
        fs.rmSync(p, { force: true }); // its directory is gone
      }
    } catch {
      /* best effort */
    }
  }
}

/**
 * Put the complete, read-only directory `tmp` at `final`, replacing whatever failed the check
 * there (moved aside, then removed). When another process placed a good copy first, that one
 * stays and `tmp` is left for the caller to remove.
 */
function placeDir(tmp: string, final: string, specs: readonly AssetSpec[], uid: number): void {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(tmp, final);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR') throw e;
    }
    if ('stamp' in verifyExtraction(final, specs, uid)) return; // lost a race to a good copy
    if (attempt === 2) throw new Error(`cannot replace ${final}; remove it`);
    const aside = `${path.dirname(final)}/.${path.basename(final)}-bad-${randomHex(6)}`;
    try {
      fs.renameSync(final, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    removeTree(aside);
  }
}

/**
 * Make sure `<base>/native-<hash>/` holds this build's assets, checked as the header says, and
 * return its path. `load` is called only when the assets must be written. Safe against
 * concurrent skiff processes: whoever renames first wins, the others check and use that copy.
 */
export function ensureExtracted(
  base: string,
  hash: string,
  specs: readonly AssetSpec[],
  load: () => readonly NativeAsset[],
  uid: number,
  now: number = Date.now(),
): string {
  const final = path.join(base, nativeDirName(hash));
  let current: string | undefined;
  try {
    checkBase(base, uid);
    current = statLines(final, specs).text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (current !== undefined) {
    if (current === readStamp(path.join(base, stampName(hash)))) return final;
    const check = verifyExtraction(final, specs, uid);
    if ('stamp' in check) {
      writeStamp(base, hash, check.stamp);
      return final;
    }
    // Not a normal state (extraction is atomic): say so, as it may be someone's doing.
    process.stderr.write(`WARN: skiff's cached native helpers failed their check (${check.problem}); extracting them again\n`);
  }
  mkdirp(base);
  checkBase(base, uid);
  const tmp = fs.mkdtempSync(path.join(base, `.${nativeDirName(hash)}-`)); // 0700
  try {
    writeAssets(tmp, load());
    fs.chmodSync(tmp, ASSET_DIR_MODE);
    placeDir(tmp, final, specs, uid);
    fsyncPath(base);
  } finally {
    removeTree(tmp);
  }
  const check = verifyExtraction(final, specs, uid);
  if (!('stamp' in check)) {
    removeTree(final);
    throw new Error(`freshly extracted native helpers failed their check: ${check.problem}`);
  }
  writeStamp(base, hash, check.stamp);
  pruneSiblings(base, hash, now);
  return final;
}

function seaAssetSpecs(): AssetSpec[] {
  const digests = typeof __SKIFF_NATIVE_DIGESTS__ === 'object' ? __SKIFF_NATIVE_DIGESTS__ : {};
  return ASSET_NAMES.map((name) => {
    const sha256 = digests[name];
    if (!sha256) throw new Error(`skiff was built without a digest for ${name} (build/build.mjs defines them)`);
    return { name, mode: ASSET_MODES[name]!, sha256 };
  });
}

function seaAssets(): NativeAsset[] {
  return ASSET_NAMES.map((name) => {
    const raw = sea.getRawAsset(name);
    return { name, data: typeof raw === 'string' ? Buffer.from(raw) : new Uint8Array(raw), mode: ASSET_MODES[name]! };
  });
}

let seaDir: string | undefined;

function extractedDir(): string {
  if (seaDir !== undefined) return seaDir;
  const hash = typeof __SKIFF_NATIVE_HASH__ === 'string' ? __SKIFF_NATIVE_HASH__ : '';
  if (!hash) throw new Error('skiff was built without a native asset hash (build/build.mjs defines it)');
  const specs = seaAssetSpecs();
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
      return (seaDir = ensureExtracted(base, hash, specs, seaAssets, uid));
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
  process.on('exit', () => removeTree(dir));
  writeAssets(dir, seaAssets());
  fs.chmodSync(dir, ASSET_DIR_MODE);
  const check = verifyExtraction(dir, specs, uid);
  if (!('stamp' in check)) throw new Error(`freshly extracted native helpers failed their check: ${check.problem}`);
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
  if (!root) throw new Error('cannot locate the skiff repository for the native build outputs; set SKIFF_HELPER, SKIFF_MONITOR and SKIFF_ADDON');
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
  return path.join(repoRoot(), 'native', 'helper', 'build', HELPER_ASSET);
}

/** Absolute path of the skiff-monitor executable (the modes monitor and exec). */
export function monitorPath(): string {
  if (inSea()) return path.join(extractedDir(), MONITOR_ASSET);
  if (process.env.SKIFF_MONITOR) return path.resolve(process.env.SKIFF_MONITOR);
  return path.join(repoRoot(), 'native', 'helper', 'build', MONITOR_ASSET);
}

/** Absolute path of the skiff_native.node addon. */
export function addonPath(): string {
  if (inSea()) return path.join(extractedDir(), ADDON_ASSET);
  if (process.env.SKIFF_ADDON) return path.resolve(process.env.SKIFF_ADDON);
  return path.join(repoRoot(), 'native', 'addon', 'build', 'Release', ADDON_ASSET);
}
