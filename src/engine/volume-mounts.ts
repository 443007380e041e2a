import fs from 'node:fs';
import path from 'node:path';
import { InvalidError, NotFoundError } from '../errors';
import { mountConfigError, parseMountFlag, parseVolumeFlag, parseVolumesFrom, sortByDepth, volumeNameError, type MountRequest } from '../runtime/mount-spec';
import type { TmpfsMount } from '../runtime/run-flags';
import type { OciMount } from '../runtime/oci-spec';
import type { VolumePreparation } from '../runtime/monitor-spec';
import { goStruct } from '../util/go-template';
import { ANONYMOUS_LABEL } from '../volume/volume-store';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { anonymousVolumeName, checkLocalOptions, ensureVolume } from './volume-create';
import { volumeStore, volumeUsers } from './volume-usage';

/**
 * A container's mounts from create to start: the flags parsed before the image is pulled,
 * completed with the image's VOLUMEs and --volumes-from, their volumes made when the record is
 * written, and at start turned into the OCI mounts and the helper's preparations (copy-up, :U).
 */

/** The flags as the CLI passes them. */
export interface MountFlags {
  volumes?: string[];
  mounts?: string[];
  volumesFrom?: string[];
}

/** Parse -v and --mount, and refuse two mounts on one path (moby's "Duplicate mount point"), --tmpfs included. */
export function parseMountFlags(f: MountFlags, tmpfs: readonly TmpfsMount[] = []): MountRequest[] {
  const requests = [...(f.volumes ?? []).map((v) => parseVolumeFlag(v)), ...(f.mounts ?? []).map((m) => parseMountFlag(m))];
  const seen = new Set<string>(tmpfs.map((t) => t.destination));
  for (const r of requests) {
    if (seen.has(r.target)) throw new InvalidError(`Duplicate mount point: ${r.target}`);
    seen.add(r.target);
    if (r.type === 'volume' && r.source) {
      const why = volumeNameError(r.source);
      if (why) throw new InvalidError(`create ${r.source}: ${why}`);
    }
    if (r.volumeOptions) checkLocalOptions(r.volumeOptions);
  }
  for (const v of f.volumesFrom ?? []) parseVolumesFrom(v);
  return requests;
}

/**
 * A bind source must exist (Docker's --mount message, for -v too: a rootless engine cannot make
 * host directories where Docker's daemon would) and be reachable by this user: a symlink into a
 * directory the user cannot read would only fail later, inside the container, without a word.
 */
function checkBindSource(source: string): void {
  let real: string;
  try {
    real = fs.realpathSync(source);
    fs.statSync(real);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      let target = '';
      try { if (fs.lstatSync(source).isSymbolicLink()) target = ` (a symlink to ${fs.readlinkSync(source)}, which does not exist)`; } catch { /* not there at all */ }
      throw mountConfigError('bind', `bind source path does not exist: ${source}${target}`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw mountConfigError('bind', `bind source path ${source} cannot be reached: permission denied (a directory on the way, or a symlink's target, is not accessible to this user)`);
    }
    throw mountConfigError('bind', `bind source path ${source}: ${(e as Error).message}`);
  }
  try { fs.accessSync(real, fs.constants.R_OK); } catch {
    const via = real !== source ? ` (it resolves to ${real})` : '';
    throw mountConfigError('bind', `bind source path ${source}${via} is not readable by this user: permission denied`);
  }
}

/**
 * The container's mounts once the image is known: the user's, then those of --volumes-from
 * containers and the image's VOLUMEs on the paths the user left free, anonymous volumes named.
 */
export function planMounts(engine: Engine, requests: readonly MountRequest[], f: MountFlags, imageVolumes: readonly string[], tmpfs: readonly TmpfsMount[]): MountRequest[] {
  const out = requests.map((r) => ({ ...r }));
  const taken = new Set([...out.map((r) => r.target), ...tmpfs.map((t) => t.destination)]);
  for (const spec of f.volumesFrom ?? []) {
    const { container, readOnly } = parseVolumesFrom(spec);
    const donor = engine.containers.find(container);
    if (!donor) throw new NotFoundError(`No such container: ${container}`);
    for (const m of donor.config.mounts ?? []) {
      if (m.type === 'tmpfs' || taken.has(m.target)) continue;
      taken.add(m.target);
      out.push({ ...m, origin: 'volumes-from', anonymous: false, ...(readOnly !== undefined ? { readOnly } : {}), chown: false });
    }
  }
  for (const v of imageVolumes) {
    const target = path.posix.normalize(v).replace(/(.)\/$/, '$1');
    if (!target.startsWith('/') || target === '/' || taken.has(target)) continue;
    taken.add(target);
    out.push({ type: 'volume', source: '', target, readOnly: false, origin: 'image', mode: '' });
  }
  for (const m of out) {
    if (m.type === 'volume' && !m.source) {
      m.source = anonymousVolumeName();
      m.anonymous = true;
    }
    if (m.type === 'bind') checkBindSource(m.source);
  }
  return out;
}

/** Make the volumes the record names that do not exist yet (under containers.lock, with the record's write). */
export async function ensureContainerVolumes(engine: Engine, mounts: readonly MountRequest[]): Promise<void> {
  for (const m of mounts) {
    if (m.type !== 'volume') continue;
    const labels = m.anonymous ? { [ANONYMOUS_LABEL]: '' } : { ...(m.volumeLabels ?? {}) };
    await ensureVolume(engine, m.source, labels, m.volumeOptions ?? {});
  }
}


/** A volume's local driver options as a mount of its own (tmpfs, a bind of `device`, or a filesystem). */
function drivenMount(o: Record<string, string>, destination: string, readOnly: boolean): OciMount {
  const flags = (o.o ?? '').split(',').filter(Boolean);
  if (o.type === 'none' || flags.includes('bind') || flags.includes('rbind')) {
    if (!fs.existsSync(o.device)) throw mountConfigError('volume', `volume device ${o.device} does not exist`);
    return { destination, type: 'bind', source: o.device, options: ['rbind', 'nodev', ...(readOnly ? ['ro'] : [])] };
  }
  return { destination, type: o.type, source: o.device ?? o.type, options: [...flags.filter((x) => x !== 'bind'), 'nodev', ...(readOnly ? ['ro'] : [])] };
}

/**
 * The OCI mounts of a container's -v/--mount/--volumes-from/VOLUME entries, parents first, and
 * what the helper prepares before mounting them. A named volume's data dir is looked up now, so a
 * volume removed since create is said clearly.
 */
export function containerMounts(engine: Engine, c: ContainerRecord): { mounts: OciMount[]; prep: VolumePreparation } {
  const store = volumeStore(engine);
  const prep: VolumePreparation = { copyUp: [], chown: [] };
  const mounts: OciMount[] = [];
  for (const m of sortByDepth(c.config.mounts ?? [])) {
    const ro = m.readOnly ? ['ro'] : [];
    if (m.type === 'tmpfs') {
      const given = m.tmpfsOptions ?? [];
      mounts.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...ro, ...given] });
      continue;
    }
    let source = m.source;
    if (m.type === 'volume') {
      const v = store.get(m.source);
      if (!v) throw new NotFoundError(`volume ${m.source} of container ${c.name} no longer exists: create it again (skiff volume create ${m.source}) or recreate the container`);
      if (Object.keys(v.options).length) {
        mounts.push(drivenMount(v.options, m.target, m.readOnly));
        continue;
      }
      source = store.dataDir(v.name);
      if (!m.noCopy) prep.copyUp.push({ source, destination: m.target });
    } else if (!fs.existsSync(source)) {
      throw mountConfigError('bind', `bind source path does not exist: ${source}`);
    }
    if (m.chown) prep.chown.push({ path: source, uid: c.config.user.uid, gid: c.config.user.gid });
    const propagation = m.propagation ? [m.propagation] : [];
    mounts.push({ destination: m.target, type: 'bind', source, options: [m.nonRecursive ? 'bind' : 'rbind', 'nodev', ...ro, ...propagation] });
  }
  return { mounts, prep };
}

/** The dirs of the container's anonymous volumes no other container uses: what a detached --rm monitor removes with it. */
export function anonymousVolumeDirs(engine: Engine, c: ContainerRecord): string[] {
  const store = volumeStore(engine);
  const users = volumeUsers(engine.containers.list());
  return (c.config.mounts ?? []).filter((m) => m.type === 'volume' && m.anonymous && (users.get(m.source) ?? []).every((id) => id === c.id))
    .map((m) => store.dir(m.source));
}

/** Docker's HostConfig.Binds (the -v flags) and Mounts, and Config.Volumes of the container. */
export function inspectMountConfig(c: ContainerRecord): { binds?: string[]; mounts?: object[] } {
  const list = c.config.mounts ?? [];
  const binds = list.filter((m) => m.origin === 'volume-flag')
    .map((m) => [m.anonymous ? '' : m.source, m.target, m.mode].filter(Boolean).join(':'));
  const mounts = list.filter((m) => m.origin === 'mount-flag').map((m) => goStruct({
    Type: m.type, ...(m.source && !m.anonymous ? { Source: m.source } : {}), Target: m.target, ...(m.readOnly ? { ReadOnly: true } : {}),
  }, 'mount.Mount'));
  return { ...(binds.length ? { binds } : {}), ...(mounts.length ? { mounts } : {}) };
}

/**
 * A volume's MountPoint.Mode as Docker shows it: the -v mode as typed, "z" (Docker's default
 * relabel mode) for a volume the user named in -v/--mount, and "" for the anonymous volumes of
 * the image's VOLUME entries, which no flag gave a mode.
 */
function volumeMode(m: MountRequest): string {
  if (m.mode) return m.mode;
  return m.origin === 'image' ? '' : 'z';
}

/** Docker's container inspect `Mounts`: one MountPoint per bind, volume and --mount tmpfs. */
export function inspectMounts(engine: Engine, c: ContainerRecord): object[] {
  const store = volumeStore(engine);
  return sortByDepth(c.config.mounts ?? []).map((m) => {
    if (m.type === 'volume') {
      return goStruct({ Type: 'volume', Name: m.source, Source: store.dataDir(m.source), Destination: m.target, Driver: 'local', Mode: volumeMode(m), RW: !m.readOnly, Propagation: '' }, 'container.MountPoint');
    }
    return goStruct({ Type: m.type, Source: m.type === 'bind' ? m.source : '', Destination: m.target, Mode: m.mode, RW: !m.readOnly, Propagation: m.type === 'bind' ? (m.propagation ?? 'rprivate') : '' }, 'container.MountPoint');
  });
}
