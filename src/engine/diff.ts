import path from 'node:path';
import { layerDiffDir } from '../storage/layout';
import { SkiffError } from '../util/errors';
import type { Engine } from './context';
import { RUNTIME_MOUNT_POINTS, spawnHelperStream } from './container-fs';

/** The directories above the runtime mount points (/etc). */
export const RUNTIME_MOUNT_PARENTS = new Set(RUNTIME_MOUNT_POINTS.flatMap((m) => {
  const parts = m.split('/');
  return parts.slice(1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}));

export interface Change { kind: 'A' | 'C' | 'D'; path: string }

/**
 * `diff CONTAINER`: the container's writable layer read as Docker reads overlay's upper dir
 * (its OverlayChanges): a whiteout is a deletion, an entry that is also in the image a change,
 * anything else an addition; sorted by path. Runtime mount points are not changes (see
 * RUNTIME_MOUNT_POINTS), nor is a directory that is in the upper dir only because of them.
 */
export async function containerChanges(engine: Engine, name: string): Promise<Change[]> {
  const c = engine.containers.mustFind(name);
  if (c.storage.driver === 'vfs') throw new SkiffError(`diff: container ${c.name} uses the vfs storage driver, which keeps no separate writable layer to compare`, 1);
  const upper = path.join(engine.containers.dir(c.id), 'upper');
  const lowers = c.storage.layers.map((l) => layerDiffDir(engine.paths.dataRoot, l)).reverse();
  const out = await spawnHelperStream(engine.userns, ['changes', upper, ...lowers], ['ignore', 'pipe'], 'diff', { collectStdout: true }).done;
  return ownChanges(parseChanges(out));
}

/** The helper's `changes` output: `K PATH` records, NUL-terminated. */
export function parseChanges(out: string): Change[] {
  return out.split('\0').filter(Boolean).map((l) => ({ kind: l[0] as Change['kind'], path: l.slice(2) }));
}

/**
 * The changes that are the container's own, sorted by path: not the runtime mount points
 * (RUNTIME_MOUNT_POINTS), nor a directory that is in the upper dir only because of them.
 */
export function ownChanges(all: Change[]): Change[] {
  const hidden = (p: string) => RUNTIME_MOUNT_POINTS.some((m) => p === `/${m}` || p.startsWith(`/${m}/`));
  const kept = all.filter((ch) => !hidden(ch.path));
  const result = kept.filter((ch) => !(ch.kind === 'C' && RUNTIME_MOUNT_PARENTS.has(ch.path)
    && !kept.some((o) => o.path.startsWith(`${ch.path}/`))));
  return result.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
