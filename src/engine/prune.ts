import type { ImageRecord } from '../image/store';
import { withLock } from '../state/lock';
import type { Engine } from './context';
import { PRUNE_FILTERS, filterImages, isDangling, parseFilters } from './image-filters';
import { mustFindImage, pruneLayers } from './images';
import { familiarRef } from './tag';

export interface PruneOptions { all: boolean; filters: string[] }

export interface PruneReport { deleted: { untagged: string[]; id: string }[]; reclaimed: number }

/** Docker's prompt for `image prune` without -f. */
export function pruneWarning(all: boolean): string {
  return all
    ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?'
    : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
}

/**
 * `skiff image prune`: remove the dangling images (with `all`, every image) that no container,
 * running or stopped, was created from, then the layers and blobs nothing needs any more.
 */
export async function pruneImages(engine: Engine, o: PruneOptions): Promise<PruneReport> {
  const filters = parseFilters(o.filters, PRUNE_FILTERS);
  const removed: ImageRecord[] = [];
  const deleted: PruneReport['deleted'] = [];
  await withLock(engine.images.lockFile, () => {
    const used = new Set(engine.containers.list().map((c) => c.imageId));
    const candidates = engine.images.list().filter((i) => !used.has(i.id) && (o.all || isDangling(i)));
    for (const image of filterImages(candidates, filters, { find: (r) => mustFindImage(engine, r) })) {
      const full = engine.images.get(image.id) ?? image;
      engine.images.remove(image.id);
      removed.push(full);
      deleted.push({ untagged: [...full.repoTags, ...full.repoDigests].map(familiarRef), id: full.id });
    }
  });
  const reclaimed = await pruneLayers(engine, removed);
  return { deleted, reclaimed };
}
