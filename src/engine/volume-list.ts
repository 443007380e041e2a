import { InvalidError, NotFoundError, type SkiffError } from '../errors';
import { goStruct, NIL_MAP } from '../util/go-template';
import { isAnonymous, type VolumeRecord, type VolumeStore } from '../volume/volume-store';
import type { Engine } from './context';
import { labelsMatch, parseFilters } from './image-filters';
import { volumeStore, volumeUsers } from './volume-usage';

/** docker-cli's volume formatter: field -> column header. */
export const VOLUME_HEADERS = {
  Availability: 'AVAILABILITY', Driver: 'DRIVER', Group: 'GROUP', Labels: 'LABELS', Links: 'LINKS',
  Mountpoint: 'MOUNTPOINT', Name: 'VOLUME NAME', Scope: 'SCOPE', Size: 'SIZE', Status: 'STATUS',
};
export const VOLUME_DEFAULT_FORMAT = 'table {{.Driver}}\t{{.Name}}';

export const VOLUME_LS_FILTERS = ['dangling', 'driver', 'label', 'name'] as const;
export const VOLUME_PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

/** dangling=true|false (also 1/0), as moby's volume filters. */
export function boolFilter(key: string, values: string[] | undefined): boolean | undefined {
  if (!values?.length) return undefined;
  return values.map((v) => {
    if (['true', '1'].includes(v.toLowerCase())) return true;
    if (['false', '0'].includes(v.toLowerCase())) return false;
    throw new InvalidError(`invalid filter '${key}=${v}'`);
  }).some(Boolean);
}

/** A name filter value is a regular expression (moby's filters.Match). */
function nameMatches(patterns: string[], name: string): boolean {
  return patterns.every((p) => {
    try { return new RegExp(p).test(name); } catch { return name.includes(p); }
  });
}

/** `volume ls`: one goStruct row per volume the filters select (AND across keys). */
export function listVolumes(engine: Engine, filterArgs: string[]): object[] {
  const filters = parseFilters(filterArgs, VOLUME_LS_FILTERS);
  const dangling = boolFilter('dangling', filters.get('dangling'));
  const store = volumeStore(engine);
  const users = dangling === undefined ? undefined : volumeUsers(engine.containers.list());
  return store.list().filter((v) => {
    if (dangling !== undefined && dangling === (users!.get(v.name) ?? []).length > 0) return false;
    if (!(filters.get('driver') ?? []).every((d) => d === v.driver)) return false;
    if (!nameMatches(filters.get('name') ?? [], v.name)) return false;
    return labelsMatch(filters.get('label') ?? [], v.labels);
  }).map((v) => volumeRow(store, v));
}

function volumeRow(store: VolumeStore, v: VolumeRecord): object {
  return goStruct({
    Availability: 'N/A', Driver: v.driver, Group: 'N/A',
    Labels: Object.entries(v.labels).map(([k, val]) => `${k}=${val}`).join(','),
    Links: 'N/A', Mountpoint: store.dataDir(v.name), Name: v.name, Scope: 'local', Size: 'N/A', Status: 'N/A',
  }, 'volumeContext');
}

/** Docker's inspect object of a volume (api/types/volume.Volume, field order kept). */
export function volumeObject(store: VolumeStore, v: VolumeRecord): object {
  return goStruct({
    CreatedAt: v.createdAt.replace(/\.[0-9]+Z$/, 'Z'),
    Driver: v.driver,
    Labels: Object.keys(v.labels).length || isAnonymous(v) ? v.labels : {},
    Mountpoint: store.dataDir(v.name),
    Name: v.name,
    Options: Object.keys(v.options).length ? v.options : NIL_MAP,
    Scope: 'local',
  }, 'Volume');
}

/** `volume inspect`: the volumes found, and an error for each that is not. */
export function inspectVolumes(engine: Engine, names: string[]): { found: object[]; errors: SkiffError[] } {
  const store = volumeStore(engine);
  const found: object[] = [];
  const errors: SkiffError[] = [];
  for (const n of names) {
    const v = store.get(n);
    if (v) found.push(volumeObject(store, v));
    else errors.push(new NotFoundError(`get ${n}: no such volume`));
  }
  return { found, errors };
}
