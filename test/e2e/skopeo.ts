// skopeo, run with a private environment: the registry tests put images into their registries
// with it (never with skiff, whose push is what other tests check). Its policy, auth file,
// registries.conf, temporary files and blob-info cache live in one directory per test process,
// never in the user's home (the rootless suite runs as the test user, the rootful one as root).
// Exception: as root, containers/image keeps its blob-info cache in /var/lib/containers/cache
// whatever the environment says; it only records where blobs were seen and is checked by HEAD.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand, type RunResult } from './harness';

let home: string | undefined;

/**
 * The private directory, created on first use. Vitest may end its workers without an 'exit'
 * event, so the registry harness also removes it (removeSkopeoHome) when its last registry stops.
 */
function skopeoHome(): string {
  if (home) return home;
  const dir = fs.mkdtempSync(path.join(process.env.SKIFF_E2E_TMP || os.tmpdir(), 'skopeo-'));
  fs.chmodSync(dir, 0o700);
  for (const d of ['run', 'config', 'data', 'cache', 'tmp', 'registries.d']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
  // skopeo refuses to copy without a signature policy; these images are our own fixtures.
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  fs.writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ auths: {} }));
  fs.writeFileSync(path.join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  fs.writeFileSync(path.join(dir, 'containers.conf'), '');
  process.once('exit', removeSkopeoHome);
  home = dir;
  return dir;
}

/** Remove the private directory (the next skopeo call makes a new one). */
export function removeSkopeoHome(): void {
  if (!home) return;
  fs.rmSync(home, { recursive: true, force: true });
  home = undefined;
}

function skopeoEnv(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_RUNTIME_DIR: path.join(dir, 'run'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    TMPDIR: path.join(dir, 'tmp'),
    REGISTRY_AUTH_FILE: path.join(dir, 'auth.json'),
    CONTAINERS_REGISTRIES_CONF: path.join(dir, 'registries.conf'),
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
  };
}

/**
 * Run `skopeo COMMAND ARGS...` privately (global flags --policy, --registries.d and --tmpdir are
 * added before the command). Resolves with the result whatever the exit code.
 */
export function skopeo(command: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  const dir = skopeoHome();
  const global = [
    '--policy', path.join(dir, 'policy.json'),
    '--registries.d', path.join(dir, 'registries.d'),
    '--tmpdir', path.join(dir, 'tmp'),
  ];
  return runCommand('skopeo', [...global, command, ...args], {
    envOverride: skopeoEnv(dir),
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

/** Like skopeo(), but throws with skopeo's stderr unless it exits 0. */
export async function skopeoOk(command: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await skopeo(command, args, opts);
  if (r.code !== 0) throw new Error(`skopeo ${command} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r;
}
