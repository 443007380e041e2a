import { ConflictError, InvalidError } from '../errors';
import { predefinedRemoveRefusal } from '../network/predefined-networks';
import { withLock } from '../state/lock';
import type { NetworkRecord } from '../network/user-networks/network-store';
import type { Engine } from './context';
import { labelsMatch, parseFilters, parseTimestamp } from './image-filters';
import { networkStore } from './network-create';
import { findAnyNetwork, networkMembers } from './network-inspect';

/**
 * Refuse to remove a network any container still names, running or not (as Podman; Docker
 * refuses only running ones, and a stopped container then cannot start): the message is
 * Docker's for active endpoints, with what to do.
 */
function checkUnused(engine: Engine, n: NetworkRecord): void {
  const users = networkMembers(engine, n).map((m) => m.c.name);
  if (users.length) {
    throw new ConflictError(`error while removing network: network ${n.name} id ${n.id} has active endpoints (used by ${users.join(', ')}): remove those containers or disconnect them first`);
  }
}

/**
 * Remove a network nothing uses: under networks.lock and then containers.lock, the order every
 * endpoint allocation follows (network-connect.ts), so no container joins it meanwhile. Its
 * bridge goes at the holder's next look (net_holder.c).
 */
async function removeUnused(engine: Engine, n: NetworkRecord): Promise<void> {
  const store = networkStore(engine);
  await withLock(store.lockFile, () => withLock(engine.containers.lockFile, () => {
    checkUnused(engine, n);
    store.delete(n.id);
  }));
}

/** `network rm NETWORK`; a predefined network is refused as Docker does. */
export async function removeNetwork(engine: Engine, ref: string): Promise<void> {
  const n = findAnyNetwork(engine, ref);
  if ('predefined' in n) throw new InvalidError(predefinedRemoveRefusal(n.predefined.name));
  await removeUnused(engine, n.record);
}

export const NETWORK_PRUNE_FILTERS = ['label', 'label!', 'until'] as const;

export const NETWORK_PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

export function checkNetworkPruneFilters(filters: string[]): void {
  parseFilters(filters, NETWORK_PRUNE_FILTERS);
}

/** `network prune`: every network no container names (and the filters select); their names. */
export async function pruneNetworks(engine: Engine, filterArgs: string[], now = Date.now()): Promise<string[]> {
  const f = parseFilters(filterArgs, NETWORK_PRUNE_FILTERS);
  const until = f.get('until')?.map((v) => parseTimestamp(v, now));
  const selected = (n: NetworkRecord) => labelsMatch(f.get('label') ?? [], n.labels)
    && !(f.get('label!') ?? []).some((l) => labelsMatch([l], n.labels))
    && (!until || until.every((t) => Date.parse(n.created) < t));
  const store = networkStore(engine);
  const removed: string[] = [];
  for (const n of store.list()) {
    if (!selected(n)) continue;
    try {
      await removeUnused(engine, n);
      removed.push(n.name);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
    }
  }
  return removed.sort();
}

export function formatNetworkPruneReport(removed: string[]): string {
  return removed.length ? `Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}\n` : '';
}
