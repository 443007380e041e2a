import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from './errors';

/** Where this user's skiff keeps things. Rootless: XDG dirs; rootful: /var/lib, /run, /etc. */
export interface SkiffPaths {
  rootless: boolean;
  /** images, layers, containers (persistent) */
  dataRoot: string;
  /** pid files and other state that must not survive a reboot */
  runRoot: string;
  /** config.json, auth.json, certs.d/ */
  configRoot: string;
}

export interface PathOverrides {
  root?: string;
  runroot?: string;
}

/** Owned by `uid` and writable by no one else (Podman's test for a runtime directory). */
function isOwnPrivateDir(st: fs.Stats, uid: number): boolean {
  return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
}

/**
 * The rootless run root when XDG_RUNTIME_DIR is unset, chosen as Podman chooses its runtime
 * directory: /run/user/UID when it exists and is the user's own (a login without pam_systemd's
 * variable, e.g. su or cron), else $TMPDIR/skiff-UID (/tmp by default). The latter is a
 * predictable name in a shared directory, so ensureRunRoot checks who made it before any use.
 */
export function defaultRootlessRunRoot(env: NodeJS.ProcessEnv, uid: number,
  lstat: (p: string) => fs.Stats | undefined = (p) => fs.lstatSync(p, { throwIfNoEntry: false })): string {
  const userRun = `/run/user/${uid}`;
  const st = lstat(userRun);
  if (st && isOwnPrivateDir(st, uid)) return path.join(userRun, 'skiff');
  const tmp = env.TMPDIR && path.isAbsolute(env.TMPDIR) ? env.TMPDIR : '/tmp';
  return path.join(tmp, `skiff-${uid}`);
}

export function skiffPaths(over: PathOverrides = {}, env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid!()): SkiffPaths {
  const rootless = uid !== 0;
  const home = env.HOME || os.homedir();
  const dataRoot = over.root || env.SKIFF_ROOT ||
    (rootless ? path.join(env.XDG_DATA_HOME || path.join(home, '.local/share'), 'skiff') : '/var/lib/skiff');
  const runRoot = over.runroot || env.SKIFF_RUNROOT ||
    (rootless ? (env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'skiff') : defaultRootlessRunRoot(env, uid)) : '/run/skiff');
  // SKIFF_CONFIG points a store at its own config.json, auth.json and certs.d (tests, several setups).
  const configRoot = env.SKIFF_CONFIG ||
    (rootless ? path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'skiff') : '/etc/skiff');
  return { rootless, dataRoot, runRoot, configRoot };
}

/**
 * Create the run root if needed and make sure it is ours: a real directory (not a symlink),
 * owned by `uid`, writable by no one else. The helper keeps the pause process's pid file and
 * lock there and trusts what it reads; a directory another user made (say /tmp/skiff-UID,
 * before we did) would let them point those at files of ours, or at their own process.
 */
export function ensureRunRoot(runRoot: string, uid = process.getuid!()): void {
  fs.mkdirSync(runRoot, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(runRoot);
  if (isOwnPrivateDir(st, uid)) return;
  const what = st.isSymbolicLink() ? 'is a symlink'
    : !st.isDirectory() ? 'is not a directory'
      : st.uid !== uid ? `belongs to uid ${st.uid}, not to you (uid ${uid})`
        : `is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  throw new SkiffError(`run root ${runRoot} ${what}; remove it, or set XDG_RUNTIME_DIR (or --runroot) to a directory of your own`);
}
