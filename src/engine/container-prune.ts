import { humanSize } from '../util/format';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { labelsMatch, parseFilters, parseTimestamp } from './image-filters';
import { removeContainer } from './remove';
import { writableLayerSize } from './container-inspect';

/** Docker's `container prune` filters. */
export const CONTAINER_PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

/** Docker's prompt for `container prune` without -f. */
export const CONTAINER_PRUNE_WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';

/** Check the --filter values before asking anything. */
export function checkPruneFilters(filters: string[]): void {
  parseFilters(filters, CONTAINER_PRUNE_FILTERS);
}

/**
 * `container prune`: remove every container that is not running (created ones too, as Docker)
 * and that the filters select: until= (created before), label=, label!=. Each goes through
 * `rm` (its op lock), so a container started meanwhile is refused there and kept.
 */
export async function pruneContainers(engine: Engine, filterArgs: string[], now = Date.now()): Promise<{ deleted: string[]; reclaimed: number }> {
  const filters = parseFilters(filterArgs, CONTAINER_PRUNE_FILTERS);
  const labels = filters.get('label') ?? [];
  const notLabels = filters.get('label!') ?? [];
  const until = filters.get('until')?.map((v) => parseTimestamp(v, now));
  const selected = (c: ContainerRecord) => {
    if (!labelsMatch(labels, c.config.labels)) return false;
    if (notLabels.some((l) => labelsMatch([l], c.config.labels))) return false;
    return !until || until.every((t) => Date.parse(c.created) < t);
  };
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const rec of engine.containers.list()) {
    const c = refreshState(engine, rec);
    if (isLive(c) || !selected(c)) continue;
    // measured before: a stopped container's writable layer does not change until it is gone
    const size = writableLayerSize(engine.containers.dir(c.id), c);
    try {
      await removeContainer(engine, c.id, { force: false });
      deleted.push(c.id);
      reclaimed += size;
    } catch { /* started or removed meanwhile: not ours to prune */ }
  }
  return { deleted, reclaimed };
}

/** Docker's report: "Deleted Containers:", the IDs, a blank line, the total. */
export function formatContainerPruneReport(r: { deleted: string[]; reclaimed: number }): string {
  const list = r.deleted.length ? `Deleted Containers:\n${r.deleted.map((id) => `${id}\n`).join('')}\n` : '';
  return `${list}Total reclaimed space: ${humanSize(r.reclaimed, 4)}\n`;
}
