import path from 'node:path';
import { treeSize } from '../util/tree-size';
import { withLock } from '../state/lock';
import { ConflictError, NotFoundError } from '../errors';
import { humanSize } from '../util/format';
import { isAnonymous, type VolumeRecord } from '../volume/volume-store';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { labelsMatch, parseFilters } from './image-filters';
import { boolFilter, VOLUME_PRUNE_FILTERS } from './volume-list';
import { volumeStore, volumeUsers, volumesOf } from './volume-usage';

/**
 * Take volumes out of the store (under containers.lock, then volumes.lock, so that no container
 * starts using one meanwhile), then remove their data outside the locks with the helper (the
 * files may belong to sub-IDs). `keep` says why a volume must stay (in use), or undefined.
 */
async function removeVolumes(engine: Engine, names: string[], keep: (v: VolumeRecord, users: string[]) => Error | undefined): Promise<{ removed: string[]; errors: Map<string, Error>; reclaimed: number }> {
  const store = volumeStore(engine);
  if (!store.list().length) return { removed: [], reclaimed: 0, errors: new Map(names.map((n) => [n, new NotFoundError(`get ${n}: no such volume`)])) };
  const layers = await engine.layers();
  const staging = layers.tempDir('volumes');
  const errors = new Map<string, Error>();
  const removed: string[] = [];
  await withLock(engine.containers.lockFile, () => withLock(store.lockFile, () => {
    const users = volumeUsers(engine.containers.list());
    for (const name of names) {
      const v = store.get(name);
      if (!v) { errors.set(name, new NotFoundError(`get ${name}: no such volume`)); continue; }
      const why = keep(v, users.get(name) ?? []);
      if (why) { errors.set(name, why); continue; }
      store.detach(name, path.join(staging, String(removed.length)));
      removed.push(name);
    }
  }));
  // what the detached volumes held (rootless, files the user cannot read in them are not counted)
  const reclaimed = removed.length ? treeSize(staging) : 0;
  await layers.removeTree(staging);
  return { removed, errors, reclaimed };
}

const inUse = (v: VolumeRecord, users: string[]) =>
  users.length ? new ConflictError(`remove ${v.name}: volume is in use - [${users.join(', ')}]`) : undefined;

/** `volume rm NAME`: a volume any container (running or not) uses stays, -f or not (Docker's); -f makes a missing one no error. */
export async function removeVolume(engine: Engine, name: string, force = false): Promise<void> {
  const { errors } = await removeVolumes(engine, [name], inUse);
  const e = errors.get(name);
  if (e && !(force && e instanceof NotFoundError)) throw e;
}

/** Docker 28's prompts for `volume prune`. */
export function volumePruneWarning(all: boolean): string {
  return `WARNING! This will remove ${all ? 'all' : 'anonymous'} local volumes not used by at least one container.\nAre you sure you want to continue?`;
}

export function checkVolumePruneFilters(filters: string[]): void {
  const f = parseFilters(filters, VOLUME_PRUNE_FILTERS);
  boolFilter('all', f.get('all'));
}

/** `volume prune [-a]`: unused volumes, anonymous ones only unless -a (or --filter all=true), as Docker 28. */
export async function pruneVolumes(engine: Engine, o: { all: boolean; filters: string[] }): Promise<{ removed: string[]; reclaimed: number }> {
  const f = parseFilters(o.filters, VOLUME_PRUNE_FILTERS);
  const all = o.all || boolFilter('all', f.get('all')) === true;
  const labels = f.get('label') ?? [], notLabels = f.get('label!') ?? [];
  const store = volumeStore(engine);
  const candidates = store.list().filter((v) => (all || isAnonymous(v)) && labelsMatch(labels, v.labels)
    && !notLabels.some((l) => labelsMatch([l], v.labels)));
  const { removed, reclaimed } = await removeVolumes(engine, candidates.map((v) => v.name), inUse);
  return { removed, reclaimed };
}

export function volumePruneReport(r: { removed: string[]; reclaimed: number }): string {
  const list = r.removed.length ? `Deleted Volumes:\n${r.removed.map((n) => `${n}\n`).join('')}\n` : '';
  return `${list}Total reclaimed space: ${humanSize(r.reclaimed, 4)}\n`;
}

/**
 * `rm -v` and `run --rm`: the container's anonymous volumes go with it, unless another container
 * uses one too (--volumes-from); named volumes always stay. Called once the record is gone.
 */
export async function removeAnonymousVolumes(engine: Engine, c: ContainerRecord): Promise<void> {
  const anonymous = (c.config.mounts ?? []).filter((m) => m.type === 'volume' && m.anonymous).map((m) => m.source);
  if (!anonymous.length) return;
  await removeVolumes(engine, anonymous, (v, users) => (users.length || !isAnonymous(v) ? new Error('kept') : undefined));
}

export { volumesOf };
