import fs from 'node:fs';
import { goTimeString, shortId } from '../util/format';
import { goStruct } from '../util/go-template';
import type { NetworkRecord } from '../network/user-networks/network-store';
import { PREDEFINED_NETWORKS } from '../network/predefined-networks';
import type { Engine } from './context';
import { globMatch, labelsMatch, parseFilters } from './image-filters';
import { networkStore } from './network-create';

/** `network ls` filters (Docker's, less dangling/scope, which every skiff network would pass or fail alike). */
export const NETWORK_LS_FILTERS = ['name', 'id', 'label', 'driver', 'type'] as const;

/** What a row shows of a network, user-defined or predefined. */
type Listed = Pick<NetworkRecord, 'id' | 'name' | 'created' | 'internal' | 'labels'> & { driver: string; builtin: boolean };

/** A row: docker-cli's networkContext fields. */
function networkRow(n: Listed, noTrunc: boolean): object {
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

/** `network ls`: the predefined networks (bridge, host, none) and the user-defined ones, by name (Docker sorts them so). */
export function listNetworks(engine: Engine, o: { filters: string[]; noTrunc: boolean }): object[] {
  const f = parseFilters(o.filters, NETWORK_LS_FILTERS);
  const names = f.get('name') ?? [], ids = f.get('id') ?? [], drivers = f.get('driver') ?? [], types = f.get('type') ?? [];
  const selected = (n: Listed) =>
    (names.length === 0 || names.some((p) => n.name.includes(p) || globMatch(p, n.name)))
    && (ids.length === 0 || ids.some((p) => n.id.startsWith(p)))
    && (drivers.length === 0 || drivers.includes(n.driver))
    && (types.length === 0 || types.includes(n.builtin ? 'builtin' : 'custom'))
    && labelsMatch(f.get('label') ?? [], n.labels);
  const created = predefinedCreated(engine);
  const all: Listed[] = [
    ...PREDEFINED_NETWORKS.map((p) => ({ id: p.id, name: p.name, created, internal: false, labels: {}, driver: p.driver, builtin: true })),
    ...networkStore(engine).list().map((n) => ({ ...n, builtin: false })),
  ];
  return all.filter(selected)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((n) => networkRow(n, o.noTrunc));
}

/** When the predefined networks came to be: when the store did (Docker: the daemon's first start). */
export function predefinedCreated(engine: Engine): string {
  try {
    return fs.statSync(engine.paths.dataRoot).birthtime.toISOString();
  } catch {
    return new Date(0).toISOString();
  }
}

export const NETWORK_LS_HEADERS: Record<string, string> = {
  CreatedAt: 'CREATED AT', Driver: 'DRIVER', ID: 'NETWORK ID', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS',
  Name: 'NAME', Scope: 'SCOPE', Label: 'LABEL',
};

export const NETWORK_LS_DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
