/**
 * COPY/ADD sources in the build context: what `COPY a/*.txt dir /dst` names, never outside
 * the context.
 *  - A source is relative to the context root (a leading `/` too); one that climbs out of it
 *    (`../x`) is an error, as is a symlink on the way that leads out (absolute, or with enough
 *    `..`); symlinks inside the context are followed, as Docker does for the source paths.
 *  - Wildcards (`*`, `?`, `[…]`, `\` escapes) match within one path component, dot files
 *    included (Go's filepath.Match, which Docker uses); several sources may each match many.
 *  - Files that .dockerignore excludes are not in the context: not found, never matched.
 *  - `--parents` keeps each source's path under the destination, from the last `/./` in it
 *    (the pivot) when there is one.
 * listTree() lists what a directory source brings, with each entry's type, mode, owner and
 * size (the cache digests them); symlinks inside are listed as links, not followed.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { BuildError } from '../../errors';
import type { SourceLocation } from '../dockerfile/types';
import type { PathMatcher } from './dockerignore';

/** What the source functions need of a BuildContext. */
export interface ContextFiles {
  root: string;
  ignore: PathMatcher;
}

export interface ContextFile {
  /** Relative to the context root, `/`-separated; `.` for the root. */
  path: string;
  abs: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits (with setuid/setgid/sticky). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  /** For a symlink: where it points, as written. */
  linkTarget?: string;
}

export interface CopySource {
  /** The source as written (after expansion). */
  source: string;
  /** What it is, symlinks followed. */
  entry: ContextFile;
  /** The path as matched, before symlinks were followed (relative to the root). */
  matched: string;
  /** --parents: the path to keep under the destination. */
  parentsPath?: string;
}

const MAX_SYMLINKS = 40;
const WILDCARD = /[*?[\\]/;

/** The error of one COPY source, at its instruction's line when known. */
function sourceError(message: string, loc?: SourceLocation): BuildError {
  return new BuildError(message, loc);
}

function typeOf(st: Stats): ContextFile['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

async function describe(root: string, path: string, st: Stats): Promise<ContextFile> {
  const abs = path === '.' ? root : join(root, path);
  const file: ContextFile = { path, abs, type: typeOf(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: st.size, mtimeMs: st.mtimeMs };
  if (file.type === 'symlink') file.linkTarget = await readlink(abs);
  return file;
}

/** A source as a path relative to the root ('.' for the root); undefined when it climbs out. */
export function contextPath(source: string): string | undefined {
  const cleaned = posix.normalize(source.replace(/^\/+/, '') || '.').replace(/\/$/, '') || '.';
  if (cleaned === '..' || cleaned.startsWith('../')) return undefined;
  return cleaned;
}

/**
 * Follows `path` inside the root, symlinks resolved (the last one too when followLast), and
 * returns the real path relative to the root, or undefined when something on the way does not
 * exist. Throws when a symlink leads outside.
 */
export async function resolveInContext(root: string, path: string, followLast: boolean, loc?: SourceLocation): Promise<string | undefined> {
  const todo = path === '.' ? [] : path.split('/');
  const resolved: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) throw sourceError(`forbidden path outside the build context: ${path}`, loc);
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    if (todo.length === 0 && !followLast) return candidate.join('/');
    const st = await lstat(join(root, ...candidate)).catch(() => undefined);
    if (!st) return undefined;
    if (!st.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++hops > MAX_SYMLINKS) throw sourceError(`too many levels of symbolic links in ${path}`, loc);
    const target = await readlink(join(root, ...candidate));
    const shown = candidate.join('/');
    if (isAbsolute(target)) throw sourceError(`the symlink ${shown} points to ${target}, outside the build context`, loc);
    // the target is relative to the link's directory: check it never climbs above the root
    let depth = resolved.length;
    for (const t of target.split('/')) {
      if (t === '..') depth--;
      else if (t !== '' && t !== '.') depth++;
      if (depth < 0) throw sourceError(`the symlink ${shown} points to ${target}, outside the build context`, loc);
    }
    todo.unshift(...target.split('/'));
  }
  return resolved.length ? resolved.join('/') : '.';
}

/** One path component with wildcards as a regular expression (Go's filepath.Match). */
export function componentPattern(component: string, loc?: SourceLocation): RegExp {
  let re = '^';
  const chars = Array.from(component);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= chars.length) throw sourceError(`syntax error in pattern ${component}`, loc);
      re += chars[++i].replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    } else if (c === '[') {
      // a class up to the first unescaped ]: [abc], [a-z], [^0-9], \ escapes inside
      let j = i + 1;
      let cls = '';
      if (chars[j] === '^') {
        cls = '^';
        j++;
      }
      const start = j;
      for (; j < chars.length && chars[j] !== ']'; j++) {
        if (chars[j] === '\\') {
          if (++j >= chars.length) break;
          cls += '\\' + chars[j];
        } else cls += chars[j] === '^' || chars[j] === '[' ? '\\' + chars[j] : chars[j];
      }
      if (j >= chars.length || j === start) throw sourceError(`syntax error in pattern ${component}`, loc);
      re += `[${cls}]`;
      i = j;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$', 's');
  } catch {
    throw sourceError(`syntax error in pattern ${component}`, loc);
  }
}

/**
 * Whether a path is in the context: not excluded by .dockerignore, or an excluded directory
 * that a `!` pattern brings something of back (`logs` with `!logs/keep.log`): Docker sends
 * that directory with what it keeps.
 */
async function inContext(ctx: ContextFiles, path: string): Promise<boolean> {
  if (!ctx.ignore.excludes(path)) return true;
  if (!ctx.ignore.hasExclusions) return false;
  const st = await lstat(join(ctx.root, path)).catch(() => undefined);
  return !!st?.isDirectory() && (await listTree(ctx, path)).length > 0;
}

/** The context paths a source with wildcards matches (logical paths, sorted). */
async function expandWildcards(ctx: ContextFiles, path: string, loc?: SourceLocation): Promise<string[]> {
  let current: string[] = ['.'];
  for (const part of path.split('/')) {
    const next: string[] = [];
    for (const base of current) {
      if (!WILDCARD.test(part)) {
        next.push(base === '.' ? part : `${base}/${part}`);
        continue;
      }
      const real = await resolveInContext(ctx.root, base, true, loc);
      if (real === undefined) continue;
      const names = await readdir(real === '.' ? ctx.root : join(ctx.root, real)).catch(() => [] as string[]);
      const re = componentPattern(part, loc);
      for (const name of names.sort()) {
        const logical = base === '.' ? name : `${base}/${name}`;
        if (re.test(name) && (await inContext(ctx, logical))) next.push(logical);
      }
    }
    current = next;
  }
  return current;
}

/** --parents: the part of a source kept under the destination (after the last `/./`). */
function parentsPath(source: string, matched: string): string {
  const pivot = source.lastIndexOf('/./');
  if (pivot < 0) return matched;
  const prefix = contextPath(source.slice(0, pivot)) ?? '.';
  return prefix === '.' ? matched : posix.relative(prefix, matched);
}

/**
 * Resolves COPY/ADD sources in the context. Throws BuildError (at `loc`) for a source outside
 * the context, a symlink leading out, or a source that matches nothing.
 */
export async function resolveCopySources(ctx: ContextFiles, sources: string[], options: { loc?: SourceLocation; parents?: boolean } = {}): Promise<CopySource[]> {
  const { loc } = options;
  const out: CopySource[] = [];
  for (const source of sources) {
    const path = contextPath(source);
    if (path === undefined) throw sourceError(`forbidden path outside the build context: ${source}`, loc);
    const wildcard = WILDCARD.test(path);
    const candidates = wildcard ? await expandWildcards(ctx, path, loc) : [path];
    let found = 0;
    for (const matched of candidates) {
      if (!(await inContext(ctx, matched))) continue;
      const real = await resolveInContext(ctx.root, matched, true, loc);
      if (real === undefined || (real !== matched && !(await inContext(ctx, real)))) continue;
      const st = await lstat(real === '.' ? ctx.root : join(ctx.root, real)).catch(() => undefined);
      if (!st) continue;
      const entry = await describe(ctx.root, real, st);
      out.push({ source, entry, matched, ...(options.parents ? { parentsPath: parentsPath(source, matched) } : {}) });
      found++;
    }
    if (found === 0) {
      throw sourceError(wildcard
        ? `no files in the build context match ${source}`
        : `file not found in build context or excluded by .dockerignore: ${source}`, loc);
    }
  }
  return out;
}

/**
 * Everything under a directory of the context (not the directory itself), depth first in
 * name order, paths relative to the root. .dockerignore applies (an excluded directory is
 * still walked when a `!` pattern could bring something back), and `exclude` (COPY
 * --exclude) applies to paths relative to the directory.
 */
export async function listTree(ctx: ContextFiles, dir: string, exclude?: PathMatcher): Promise<ContextFile[]> {
  const out: ContextFile[] = [];
  const walk = async (rel: string): Promise<boolean> => {
    const abs = rel === '.' ? ctx.root : join(ctx.root, rel);
    const names = (await readdir(abs)).sort();
    let any = false;
    for (const name of names) {
      const path = rel === '.' ? name : `${rel}/${name}`;
      const inDir = dir === '.' ? path : posix.relative(dir, path);
      if (exclude?.excludes(inDir)) continue;
      const st = await lstat(join(ctx.root, path)).catch(() => undefined);
      if (!st) continue;
      const ignored = ctx.ignore.excludes(path);
      if (st.isDirectory()) {
        if (ignored && !ctx.ignore.hasExclusions) continue;
        const at = out.length;
        const entry = await describe(ctx.root, path, st);
        const kept = await walk(path);
        if (!ignored || kept) {
          out.splice(at, 0, entry);
          any = true;
        }
      } else if (!ignored) {
        out.push(await describe(ctx.root, path, st));
        any = true;
      }
    }
    return any;
  };
  await walk(dir);
  return out;
}
