import fs from 'node:fs';
import path from 'node:path';

/**
 * rm -rf for trees that may hold directories without permissions, as kernel overlayfs leaves its
 * workdir's `work/` (mode 000). Node 20's fs.rmSync removed an empty one (rmdir needs only the
 * parent's permissions); Node >= 24's native rmSync opens every directory first and fails with
 * EACCES. So on EACCES/EPERM, give our own directories back u+rwx and try once more. Missing
 * `dir` is fine.
 */
export function removeTree(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
  }
  openUp(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** chmod u+rwx every directory under `dir` that we can reach (ours; others' are left as they are). */
function openUp(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  try {
    if ((st.mode & 0o700) !== 0o700) fs.chmodSync(dir, (st.mode & 0o7777) | 0o700);
  } catch {
    return; // not ours: the second rmSync reports it
  }
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) openUp(path.join(dir, n));
}
