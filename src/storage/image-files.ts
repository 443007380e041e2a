import fs from 'node:fs';
import path from 'node:path';

/** An overlay whiteout: a 0:0 character device hides the same path in lower layers. */
function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Linux gives up after 40 links in one lookup (ELOOP); so do we. */
const MAX_LINKS = 40;

/** A directory of the merged view as it is in one layer (a real directory there). */
interface Dir { layer: number; host: string }
/** One layer's entry for a name of the merged view. */
interface Entry extends Dir { st: fs.Stats }

/**
 * Read a small text file (like /etc/passwd) from an image without mounting it. `layerDirs` is
 * bottom-to-top. The path is resolved in the merged view, one component at a time, the way
 * openat2(RESOLVE_IN_ROOT) resolves in a container root: a symlink's target is read and walked
 * again inside the image (an absolute target and any `..` stop at the image root), so a link
 * such as `etc -> /home/user/secret` can never make skiff read a host file. A name is taken
 * from the topmost layer that has it; a whiteout or a non-directory hides it in lower layers.
 * Opaque directories are not read (their xattrs are not visible from Node).
 */
export function readImageFile(layerDirs: string[], file: string): string | undefined {
  const entry = resolveInImage(layerDirs, file);
  if (!entry?.st.isFile()) return undefined;
  let fd: number;
  try {
    // O_NOFOLLOW: every directory above was checked to be a real one; so is the file itself.
    fd = fs.openSync(entry.host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch { return undefined; }
  try { return fs.readFileSync(fd, 'utf8'); } catch { return undefined; } finally { fs.closeSync(fd); }
}

/** The final entry of `file` in the merged view, symlinks followed inside the image; or undefined. */
export function resolveInImage(layerDirs: string[], file: string): Entry | undefined {
  return resolveLayers(layerDirs, file)?.[0];
}

/**
 * `file` in the merged view, symlinks followed inside the image, as the layers hold it: the
 * topmost entry and, when it is a directory, the lower layers' directories that merge with it
 * (top first: an overlay lowerdir list of that directory alone). Opaque directories are not
 * seen (their xattrs are not visible from Node). Undefined when it is not there.
 */
export function resolveLayers(layerDirs: string[], file: string): Entry[] | undefined {
  // Per depth: the resolved directory's host paths, in each layer where it is a real directory
  // (top first). Only these are searched for the next name, so the host kernel never follows
  // a symlink of the image while we look things up.
  const root = layerDirs.map((host, layer) => ({ layer, host })).reverse();
  const stack: Dir[][] = [root];
  const todo = file.split('/').filter(Boolean).reverse();
  let links = 0;
  while (todo.length) {
    const name = todo.pop()!;
    if (name === '.') continue;
    if (name === '..') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const found = lookup(stack.at(-1)!, name);
    if (!found) return undefined;
    const top = found[0];
    if (top.st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      let target: string;
      try { target = fs.readlinkSync(top.host); } catch { return undefined; }
      if (target.startsWith('/')) stack.length = 1;
      todo.push(...target.split('/').filter(Boolean).reverse());
      continue;
    }
    if (!todo.length) return found;
    if (!top.st.isDirectory()) return undefined;
    stack.push(found);
  }
  // The path named the root itself (or resolved to it).
  return undefined;
}

/**
 * `name` in a directory present in `dirs` (top layer first): the topmost entry, followed, when
 * it is a directory, by the lower layers' directories of the same name that merge with it.
 */
function lookup(dirs: Dir[], name: string): Entry[] | undefined {
  const out: Entry[] = [];
  for (const d of dirs) {
    const host = path.join(d.host, name);
    let st: fs.Stats;
    try { st = fs.lstatSync(host); } catch { continue; }
    if (isWhiteout(st) || (out.length > 0 && !st.isDirectory())) break;
    out.push({ layer: d.layer, host, st });
    if (!st.isDirectory()) break;
  }
  return out.length ? out : undefined;
}
