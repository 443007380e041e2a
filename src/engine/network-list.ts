import { goTimeString, shortId } from '../util/format';
import { goStruct } from '../util/go-template';
import type { NetworkRecord } from '../network/user-networks/network-store';
import type { Engine } from './context';
import { globMatch, labelsMatch, parseFilters } from './image-filters';
import { networkStore } from './network-create';

/** `network ls` filters (Docker's, less dangling/scope, which every skiff network would pass or fail alike). */
export const NETWORK_LS_FILTERS = ['name', 'id', 'label', 'driver', 'type'] as const;

/** A row: docker-cli's networkContext fields. */
function networkRow(n: NetworkRecord, noTrunc: boolean): object {
  const row = goStruct({
    CreatedAt: goTimeString(new Date(Date.parse(n.created))),
    Driver: n.driver,
    ID: noTrunc ? n.id : shortId(n.id),
    IPv6: 'false',
    Internal: String(n.internal),
    Labels: Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(','),
    Name: n.name,
    Scope: 'local',
  }, '*formatter.networkContext');
  Object.defineProperty(row, 'Label', { value: (key: unknown) => n.labels[String(key)] ?? '', enumerable: false });
  return row;
}

/** `network ls`: the user-defined networks, by name (Docker sorts them so). */
export function listNetworks(engine: Engine, o: { filters: string[]; noTrunc: boolean }): object[] {
  const f = parseFilters(o.filters, NETWORK_LS_FILTERS);
  const names = f.get('name') ?? [], ids = f.get('id') ?? [], drivers = f.get('driver') ?? [], types = f.get('type') ?? [];
  const selected = (n: NetworkRecord) =>
    (names.length === 0 || names.some((p) => n.name.includes(p) || globMatch(p, n.name)))
    && (ids.length === 0 || ids.some((p) => n.id.startsWith(p)))
    && (drivers.length === 0 || drivers.includes(n.driver))
    && (types.length === 0 || types.includes('custom'))
    && labelsMatch(f.get('label') ?? [], n.labels);
  return networkStore(engine).list().filter(selected)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((n) => networkRow(n, o.noTrunc));
}

export const NETWORK_LS_HEADERS: Record<string, string> = {
  CreatedAt: 'CREATED AT', Driver: 'DRIVER', ID: 'NETWORK ID', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS',
  Name: 'NAME', Scope: 'SCOPE', Label: 'LABEL',
};

export const NETWORK_LS_DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
