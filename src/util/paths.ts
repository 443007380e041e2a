import os from 'node:os';
import path from 'node:path';

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

export function skiffPaths(over: PathOverrides = {}, env: NodeJS.ProcessEnv = process.env,
  uid = process.getuid!()): SkiffPaths {
  const rootless = uid !== 0;
  const home = env.HOME || os.homedir();
  const dataRoot = over.root || env.SKIFF_ROOT ||
    (rootless ? path.join(env.XDG_DATA_HOME || path.join(home, '.local/share'), 'skiff') : '/var/lib/skiff');
  const runRoot = over.runroot || env.SKIFF_RUNROOT ||
    (rootless ? (env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'skiff') : `/tmp/skiff-${uid}`) : '/run/skiff');
  // SKIFF_CONFIG points a store at its own config.json, auth.json and certs.d (tests, several setups).
  const configRoot = env.SKIFF_CONFIG ||
    (rootless ? path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'skiff') : '/etc/skiff');
  return { rootless, dataRoot, runRoot, configRoot };
}
