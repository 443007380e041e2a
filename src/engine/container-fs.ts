import { spawn, type ChildProcess } from 'node:child_process';
import { exitReaderGone } from '../util/reader-gone';
import fs from 'node:fs';
import path from 'node:path';
import { helperPath } from '../native/assets';
import { helperArgv } from '../native/helper';
import type { UserNamespacePlan } from '../native/helper-namespace';
import { isSameLiveProcess } from '../runtime/process-identity';
import { layerDiffDir } from '../storage/layout';
import { overlayOptionsSuffix } from '../storage/overlay-options';
import { SkiffError } from '../util/errors';
import type { ContainerRecord } from './container-store';
import { refreshState } from './container-state';
import type { Engine } from './context';

/**
 * How skiff-helper reaches a container's files (native/PROTOCOL.md, copy_in_out.c): through a
 * running container's own root (`--pid`, so writes land where the container sees them, its
 * mounts included), or by mounting a stopped one's overlay in the helper's private mount
 * namespace (`--overlay`), read-only when nothing is written; a vfs rootfs is a directory.
 * Paths inside are resolved by the helper below that root, never by Node.
 */
export function containerRootArgs(engine: Engine, record: ContainerRecord, o: { write: boolean; mounts: boolean }): string[] {
  const c = refreshState(engine, record);
  const dir = engine.containers.dir(c.id);
  const running = c.state.status === 'running' && c.state.pid !== undefined && isSameLiveProcess(c.state.pid, c.state.pidStart);
  if (running && (o.mounts || o.write)) return ['--pid', String(c.state.pid)];
  if (c.storage.driver === 'vfs') return ['--root', path.join(dir, 'rootfs')];
  if (c.storage.driver !== 'overlay') {
    throw new SkiffError(`container ${c.name}: ${running ? 'this' : 'a stopped container\'s'} filesystem cannot be reached with the ${c.storage.driver} storage driver yet; start the container first`);
  }
  const lowers = c.storage.layers.map((l) => layerDiffDir(engine.paths.dataRoot, l)).reverse();
  if (lowers.length === 0) { // an image without layers: overlay needs a lower dir all the same
    lowers.push(path.join(dir, 'empty'));
    fs.mkdirSync(lowers[0], { recursive: true });
  }
  const upper = path.join(dir, 'upper');
  const extra = overlayOptionsSuffix(engine.userns !== undefined);
  // Read-only: the upper dir as the top lower layer. The running container's mount keeps its
  // upper and work dirs; this mount takes neither, so the two never share a work dir.
  const data = !o.write || running
    ? `lowerdir=${[upper, ...lowers].join(':')}${extra}`
    : `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${path.join(dir, 'work')}${extra}`;
  return ['--overlay', data, path.join(dir, 'merged')];
}

export interface HelperChild {
  child: ChildProcess;
  /** resolves when the helper exited 0 (with its stdout if it was piped); rejects with its last stderr line */
  done: Promise<string>;
}

/**
 * skiff-helper in MODE with the given stdio (an fd, or 'pipe' to stream through Node), in the
 * user namespace when rootless. child_process rather than the addon's spawnPiped: these modes
 * stream tars between two helpers or to a file, and run once per command.
 */
export function spawnHelperStream(userns: UserNamespacePlan | undefined, mode: string[], stdio: [number | 'pipe' | 'ignore', number | 'pipe' | 'ignore'],
  what: string, o: { collectStdout?: boolean } = {}): HelperChild {
  const child = spawn(helperPath(), helperArgv(userns, mode), { stdio: [stdio[0], stdio[1], 'pipe'], argv0: 'skiff-helper' });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  if (o.collectStdout && child.stdout) child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stdin?.on('error', () => {}); // the helper's own error says why it stopped reading
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', (e) => reject(new SkiffError(`${what}: cannot start skiff-helper: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) { resolve(stdout); return; }
      // `export C | head`, `cp C:/x - | head`: the helper writing our stdout met the closed pipe
      if (signal === 'SIGPIPE' && stdio[1] === 1) exitReaderGone();
      const last = stderr.trim().split('\n').filter(Boolean).at(-1)?.replace(/^skiff-helper: /, '');
      // Docker's daemon-side failures (a file it cannot copy, a bad tar) exit 1
      reject(new SkiffError(`${what}: ${last ?? `skiff-helper exited with ${signal ?? code}`}`, 1));
    });
  });
  done.catch(() => {});
  return { child, done };
}

/**
 * What the container's start-up puts into its writable layer as mount points (the files bound
 * over /etc/hostname, hosts and resolv.conf; the tmpfs, proc and sysfs dirs). Docker keeps
 * these in a separate init layer, so they are never a container's own change: diff and commit
 * leave them out. Relative, as the helper names archive entries.
 */
export const RUNTIME_MOUNT_POINTS = ['etc/hostname', 'etc/hosts', 'etc/resolv.conf', 'dev', 'proc', 'sys'];
