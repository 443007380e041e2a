import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../util/errors';
import { humanSize } from '../util/format';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { containerRootArgs, spawnHelperStream } from './container-fs';
import { acquireLock } from '../state/lock';

export interface CpOptions {
  /** -a: keep the source's uid/gid (into a container; otherwise its root owns what is copied) */
  archive: boolean;
  /** -L: follow a symlink that SRC_PATH itself names */
  followLink: boolean;
  quiet: boolean;
}

interface Endpoint { container?: string; path: string }

/**
 * Docker's reading of a cp argument: `NAME:PATH` is a container path unless the argument is
 * absolute or starts with `.` (so `./a:b` and `/x:y` are local files).
 */
export function splitCpArg(arg: string): Endpoint {
  if (arg.startsWith('/')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** What a copy's source is, for the rules below. */
interface SourceInfo { isDir: boolean; base: string; contentsOnly: boolean }
/** What is at the destination (symlinks followed). */
interface DestInfo { path: string; exists: boolean; isDir: boolean; assertsDir: boolean }

const contentsOnly = (p: string) => p === '.' || p.endsWith('/.');
const assertsDir = (p: string) => p.endsWith('/') || contentsOnly(p);

/** The last component of P, ignoring trailing slashes and a trailing `/.`. */
function baseOf(p: string): string {
  const trimmed = p.replace(/\/\.$/, '').replace(/\/+$/, '');
  return path.posix.basename(trimmed) || '/';
}

/**
 * Docker's copy rules (its archive.PrepareArchiveCopy): into an existing directory the source
 * keeps its name (its contents only, for `SRC/.`); onto a new or existing file path the source
 * is renamed to it; a directory never replaces a file, and `DEST/` must be a directory.
 * Returns the directory to extract into and the name of the source's top entry there ("":
 * a directory's children only).
 */
export function copyPlan(src: SourceInfo, dst: DestInfo): { dir: string; name: string } {
  if (dst.exists && dst.isDir) return { dir: dst.path, name: src.isDir && src.contentsOnly ? '' : src.base };
  if (dst.exists && src.isDir) throw new SkiffError('cannot copy directory: the destination is a file', 1);
  if (!dst.exists && dst.assertsDir && !src.isDir) throw new SkiffError(`no such directory: ${dst.path}`, 1);
  const trimmed = dst.path.replace(/\/\.$/, '').replace(/\/+$/, '') || '/';
  return { dir: path.posix.dirname(trimmed), name: path.posix.basename(trimmed) };
}

/** The path inside the container: relative paths are relative to its root, as Docker's. */
const inContainer = (p: string) => (p.startsWith('/') ? p : `/${p}`);

/** A local path made absolute, keeping a trailing `/` or `/.` (they carry meaning). */
function localAbsolute(p: string): string {
  const abs = path.resolve(p);
  if (contentsOnly(p)) return `${abs}/.`;
  if (p.endsWith('/') && abs !== '/') return `${abs}/`;
  return abs;
}

async function statInContainer(engine: Engine, root: string[], p: string, follow: boolean): Promise<string> {
  const out = await spawnHelperStream(engine.userns, ['stat-path', ...(follow ? ['--follow'] : []), ...root, p], ['ignore', 'pipe'],
    'cp', { collectStdout: true }).done;
  return out.trim();
}

/** Host-side extraction: files belong to whoever runs cp, unless that is root (Docker's client as root keeps owners). */
function hostOwner(): string[] {
  return process.getuid?.() === 0 ? [] : ['--owner', `${process.getuid?.()}:${process.getgid?.()}`];
}

/** Wire A's stdout to B's stdin through Node, counting the bytes (Docker reports them). */
function pipeCounting(a: { child: import('node:child_process').ChildProcess }, b: { child: import('node:child_process').ChildProcess }): { bytes: number } {
  const count = { bytes: 0 };
  a.child.stdout!.on('data', (d: Buffer) => { count.bytes += d.length; });
  a.child.stdout!.pipe(b.child.stdin!);
  return count;
}

export async function copy(engine: Engine, srcArg: string, dstArg: string, o: CpOptions, report: (line: string) => void): Promise<void> {
  if (srcArg === '') throw new SkiffError('source can not be empty', 1);
  if (dstArg === '') throw new SkiffError('destination can not be empty', 1);
  const src = srcArg === '-' ? { path: '-' } : splitCpArg(srcArg);
  const dst = dstArg === '-' ? { path: '-' } : splitCpArg(dstArg);
  if (src.container !== undefined && dst.container !== undefined) throw new SkiffError('copying between containers is not supported', 1);
  if (src.container !== undefined) return copyFromContainer(engine, src.container, inContainer(src.path), dst.path, o, report);
  if (dst.container !== undefined) return copyToContainer(engine, src.path, dst.container, inContainer(dst.path), o, report);
  throw new SkiffError('must specify at least one container source', 1);
}

function findContainer(engine: Engine, name: string): ContainerRecord {
  const c = engine.containers.find(name);
  if (!c) throw new SkiffError(`No such container: ${name}`, 1);
  return c;
}

async function copyFromContainer(engine: Engine, name: string, srcPath: string, dstPath: string, o: CpOptions,
  report: (line: string) => void): Promise<void> {
  const c = findContainer(engine, name);
  const root = containerRootArgs(engine, c, { write: false, mounts: true });
  const kind = await statInContainer(engine, root, srcPath, o.followLink || assertsDir(srcPath));
  if (kind === 'missing') throw new SkiffError(`Could not find the file ${srcPath} in container ${name}`, 1);
  const source: SourceInfo = { isDir: kind === 'dir', base: baseOf(srcPath), contentsOnly: contentsOnly(srcPath) };
  const follow = o.followLink || assertsDir(srcPath) ? ['--follow'] : [];
  if (dstPath === '-') {
    const out = spawnHelperStream(engine.userns, ['tar-out', ...follow, '--name', source.base === '/' ? '' : source.base, ...root, srcPath],
      ['ignore', 1], 'cp');
    await out.done;
    return;
  }
  const localDst = localAbsolute(dstPath);
  let st: fs.Stats | undefined;
  try { st = fs.statSync(localDst); } catch { /* missing: the rules decide */ }
  const plan = copyPlan(source, { path: localDst, exists: !!st, isDir: !!st?.isDirectory(), assertsDir: assertsDir(dstPath) });
  if (!fs.existsSync(plan.dir)) throw new SkiffError(`no such directory: ${plan.dir}`, 1);
  const out = spawnHelperStream(engine.userns, ['tar-out', ...follow, '--name', plan.name, ...root, srcPath], ['ignore', 'pipe'], 'cp');
  const into = spawnHelperStream(undefined, ['tar-in', ...hostOwner(), '--root', plan.dir, '/'], ['pipe', 'ignore'], 'cp');
  const count = pipeCounting(out, into);
  await Promise.all([out.done, into.done]);
  if (!o.quiet && process.stderr.isTTY) report(`Successfully copied ${humanSize(count.bytes)} to ${dstPath}\n`);
}

async function copyToContainer(engine: Engine, srcPath: string, name: string, dstPath: string, o: CpOptions,
  report: (line: string) => void): Promise<void> {
  const c = findContainer(engine, name);
  // Held while a stopped container's overlay is mounted to write into (not for a running one:
  // its own root is used): a `start` of it waits instead of mounting the same upper and work
  // dirs at once, and an `rm` waits instead of removing them under the copy (start.ts, remove.ts).
  let release: () => void;
  try {
    release = await acquireLock(engine.containers.opLock(c.id), true);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SkiffError(`No such container: ${name}`, 1); // removed meanwhile
    throw e;
  }
  try {
    const now = engine.containers.get(c.id);
    if (!now) throw new SkiffError(`No such container: ${name}`, 1);
    const root = containerRootArgs(engine, now, { write: true, mounts: true });
    if (root[0] === '--pid') release();
    await copyInto(engine, srcPath, name, root, dstPath, o, report);
  } finally {
    release();
  }
}

async function copyInto(engine: Engine, srcPath: string, name: string, root: string[], dstPath: string, o: CpOptions,
  report: (line: string) => void): Promise<void> {
  const owner = o.archive ? [] : ['--owner', '0:0'];
  const kind = await statInContainer(engine, root, dstPath, true);
  if (srcPath === '-') {
    if (kind !== 'dir') throw new SkiffError(`destination "${name}:${dstPath}" must be a directory`, 1);
    await spawnHelperStream(engine.userns, ['tar-in', ...owner, ...root, dstPath], [0, 'ignore'], 'cp').done;
    return;
  }
  const localSrc = localAbsolute(srcPath);
  let st: fs.Stats;
  try {
    st = o.followLink ? fs.statSync(localSrc) : fs.lstatSync(localSrc);
  } catch (e) {
    throw new SkiffError(`${o.followLink ? 'stat' : 'lstat'} ${localSrc.replace(/\/\.?$/, '') || '/'}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`, 1);
  }
  const source: SourceInfo = { isDir: st.isDirectory(), base: baseOf(localSrc), contentsOnly: contentsOnly(srcPath) };
  const plan = copyPlan(source, { path: dstPath, exists: kind !== 'missing', isDir: kind === 'dir', assertsDir: assertsDir(dstPath) });
  if ((await statInContainer(engine, root, plan.dir, true)) !== 'dir') throw new SkiffError(`Could not find the file ${plan.dir} in container ${name}`, 1);
  const follow = o.followLink || contentsOnly(srcPath) ? ['--follow'] : [];
  const out = spawnHelperStream(undefined, ['tar-out', ...follow, '--name', plan.name, '--root', '/', localSrc], ['ignore', 'pipe'], 'cp');
  const into = spawnHelperStream(engine.userns, ['tar-in', ...owner, ...root, plan.dir], ['pipe', 'ignore'], 'cp');
  const count = pipeCounting(out, into);
  await Promise.all([out.done, into.done]);
  if (!o.quiet && process.stderr.isTTY) report(`Successfully copied ${humanSize(count.bytes)} to ${name}:${dstPath}\n`);
}
