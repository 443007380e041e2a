import path from 'node:path';
import { InvalidError, UsageError } from '../errors';

/**
 * The container's mount flags read with Docker's syntax and messages: `-v/--volume`
 * (moby's linux ParseMountRaw), `--mount` (docker-cli's opts/mount.go, then moby's
 * validateMountConfig), `--volumes-from` (ParseVolumesFrom). Pure parsing: what a volume name
 * resolves to, and whether a bind source exists, is the engine's (engine/volume-mounts.ts).
 */

export type MountType = 'bind' | 'volume' | 'tmpfs';

export interface MountRequest {
  type: MountType;
  /** bind: an absolute host path; volume: a name, '' for a new anonymous volume; tmpfs: '' */
  source: string;
  /** absolute, cleaned */
  target: string;
  readOnly: boolean;
  /** -v (HostConfig.Binds), --mount (HostConfig.Mounts), the image's VOLUME or --volumes-from */
  origin: 'volume-flag' | 'mount-flag' | 'image' | 'volumes-from';
  /** a volume made for this container (-v /path, an image VOLUME): rm -v and --rm remove it */
  anonymous?: boolean;
  /** the -v mode as typed ('ro', 'z', 'ro,U'...), Docker's MountPoint.Mode */
  mode: string;
  /** Podman's :U: the source is chowned to the container's user before it is mounted */
  chown?: boolean;
  /** volume-nocopy / :nocopy: a new volume is not filled with the image's content */
  noCopy?: boolean;
  /** bind-propagation / the -v propagation mode */
  propagation?: string;
  /** bind-nonrecursive */
  nonRecursive?: boolean;
  /** tmpfs: mount data (size=, mode=) */
  tmpfsOptions?: string[];
  /** --mount volume-label / volume-opt: used when the volume is created by this mount */
  volumeLabels?: Record<string, string>;
  volumeOptions?: Record<string, string>;
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
const FLAG_MODES = ['exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev'];

/** What a -v mode string says; undefined when it is not a valid mode (moby's ValidMountMode, plus Podman's U and flags). */
function parseMode(mode: string): { readOnly: boolean; chown: boolean; noCopy: boolean; propagation?: string } | undefined {
  const seen = new Set<string>();
  const out = { readOnly: false, chown: false, noCopy: false, propagation: undefined as string | undefined };
  if (mode === '') return out;
  for (const m of mode.split(',')) {
    const kind = m === 'ro' || m === 'rw' ? 'rw' : m === 'z' || m === 'Z' ? 'label'
      : PROPAGATIONS.includes(m) ? 'propagation' : m === 'nocopy' ? 'copy'
      : ['consistent', 'cached', 'delegated'].includes(m) ? 'consistency'
      : m === 'U' ? 'chown' : FLAG_MODES.includes(m) ? m.replace(/^no/, '') : undefined;
    if (!kind || seen.has(kind)) return undefined;
    seen.add(kind);
    if (m === 'ro') out.readOnly = true;
    if (m === 'U') out.chown = true;
    if (m === 'nocopy') out.noCopy = true;
    if (kind === 'propagation') out.propagation = m;
  }
  return out;
}

const specError = (raw: string) => new InvalidError(`invalid volume specification: '${raw}'`);
export const mountConfigError = (type: string, why: string) => new InvalidError(`invalid mount config for type "${type}": ${why}`);

/** Docker's checks of a destination: absolute, not the root. Returns it cleaned. */
function checkTarget(type: string, target: string): string {
  if (!path.posix.isAbsolute(target)) throw mountConfigError(type, `invalid mount path: '${target}' mount path must be absolute`);
  const clean = path.posix.normalize(target).replace(/(.)\/$/, '$1');
  if (clean === '/') throw new InvalidError(`invalid specification: destination can't be '/'`);
  return clean;
}

/**
 * A source that names a host path: absolute, or (docker-cli 23+) starting with `.` or `~/`,
 * made absolute against CWD. Anything else is a volume name.
 */
function hostPath(source: string, cwd: string, home: string | undefined): string | undefined {
  if (source.startsWith('/')) return path.posix.normalize(source).replace(/(.)\/$/, '$1');
  if (source === '.' || source === '..' || source.startsWith('./') || source.startsWith('../')) return path.resolve(cwd, source);
  if (source.startsWith('~/') && home) return path.resolve(home, source.slice(2));
  return undefined;
}

/** `-v [SOURCE:]TARGET[:MODE]` (moby's linux parser). */
export function parseVolumeFlag(raw: string, cwd = process.cwd(), home = process.env.HOME): MountRequest {
  const parts = raw.split(':');
  if (raw === '' || parts.some((p) => p === '')) throw specError(raw);
  let source = '', target: string, mode = '';
  switch (parts.length) {
    case 1: [target] = parts; break;
    case 2:
      if (parseMode(parts[1])) [target, mode] = parts;
      else [source, target] = parts;
      break;
    case 3: [source, target, mode] = parts; break;
    default: throw specError(raw);
  }
  const m = parseMode(mode);
  if (!m) throw new InvalidError(`invalid mode: ${mode}`);
  const bind = source ? hostPath(source, cwd, home) : undefined;
  const type: MountType = bind ? 'bind' : 'volume';
  return {
    type, source: bind ?? source, target: checkTarget(type, target), readOnly: m.readOnly, origin: 'volume-flag', mode,
    ...(m.chown ? { chown: true } : {}), ...(m.noCopy ? { noCopy: true } : {}), ...(m.propagation ? { propagation: m.propagation } : {}),
  };
}

/** A --mount boolean field: present alone, or =true/1/false/0 (Go's ParseBool). */
function parseBool(key: string, value: string | undefined, field: string): boolean {
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new UsageError(`invalid argument "${field}" for "--mount" flag: invalid value for ${key}: ${value}`);
}

/** go-units' RAMInBytes: a size with an optional binary unit (k, m, g...). */
export function ramInBytes(text: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const pow = ' kmgtp'.indexOf(m[2].toLowerCase() || ' ');
  return Math.floor(Number(m[1]) * 1024 ** pow);
}

/** `--mount type=bind|volume|tmpfs,source=...,target=...,readonly,...` (docker-cli's MountOpt, then moby's checks). */
export function parseMountFlag(raw: string, cwd = process.cwd()): MountRequest {
  const flagError = (why: string) => new UsageError(`invalid argument "${raw}" for "--mount" flag: ${why}`);
  let type = 'volume', source = '', target = '', readOnly = false;
  const r: Partial<MountRequest> = {};
  const tmpfs: string[] = [];
  const labels: Record<string, string> = {}, opts: Record<string, string> = {};
  let volumeOnly = false, bindOnly = false, tmpfsOnly = false;
  for (const field of raw.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = () => {
      if (value === undefined) throw flagError(`invalid field '${field}' must be a key=value pair`);
      return value;
    };
    switch (key) {
      case 'type': type = need(); break;
      case 'source': case 'src': source = need(); break;
      case 'target': case 'dst': case 'destination': target = need(); break;
      case 'readonly': case 'ro': readOnly = parseBool(key, value, field); break;
      case 'volume-nocopy': r.noCopy = parseBool(key, value, field); volumeOnly = true; break;
      case 'volume-label': { const v = need(); const i = v.indexOf('='); labels[i < 0 ? v : v.slice(0, i)] = i < 0 ? '' : v.slice(i + 1); volumeOnly = true; break; }
      case 'volume-opt': { const v = need(); const i = v.indexOf('='); opts[i < 0 ? v : v.slice(0, i)] = i < 0 ? '' : v.slice(i + 1); volumeOnly = true; break; }
      case 'volume-driver': if (need() !== 'local') throw new InvalidError(`volume driver "${value}" is not supported: skiff has the local driver only`); volumeOnly = true; break;
      case 'bind-propagation':
        if (!PROPAGATIONS.includes(need())) throw flagError(`invalid value for ${key}: ${value}`);
        r.propagation = value; bindOnly = true; break;
      case 'bind-nonrecursive': r.nonRecursive = parseBool(key, value, field); bindOnly = true; break;
      case 'tmpfs-size': {
        const n = ramInBytes(need());
        if (n === undefined) throw flagError(`invalid value for ${key}: ${value}`);
        tmpfs.push(`size=${n}`); tmpfsOnly = true; break;
      }
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(need())) throw flagError(`invalid value for ${key}: ${value}`);
        tmpfs.push(`mode=${Number.parseInt(value!, 8).toString(8)}`); tmpfsOnly = true; break;
      case 'u': case 'chown': r.chown = parseBool(key, value, field); break;
      case 'consistency': need(); break;
      default: throw flagError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!target) throw flagError('target is required');
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw mountConfigError(type, 'mount type unknown');
  if (type !== 'volume' && volumeOnly) throw mountConfigError(type, 'field VolumeOptions must not be specified');
  if (type !== 'bind' && bindOnly) throw mountConfigError(type, 'field BindOptions must not be specified');
  if (type !== 'tmpfs' && tmpfsOnly) throw mountConfigError(type, 'field TmpfsOptions must not be specified');
  const t = checkTarget(type, target);
  if (type === 'tmpfs') {
    if (source) throw mountConfigError(type, 'field Source must not be specified');
    return { type, source: '', target: t, readOnly, origin: 'mount-flag', mode: '', tmpfsOptions: tmpfs, ...(r.chown ? { chown: true } : {}) };
  }
  if (type === 'bind') {
    if (!source) throw mountConfigError(type, 'field Source must not be empty');
    const abs = hostPath(source, cwd, process.env.HOME);
    if (!abs) throw mountConfigError(type, `invalid mount path: '${source}' mount path must be absolute`);
    source = abs;
  }
  return {
    type: type as MountType, source, target: t, readOnly, origin: 'mount-flag', mode: '',
    ...(r.chown ? { chown: true } : {}), ...(r.noCopy ? { noCopy: true } : {}), ...(r.propagation ? { propagation: r.propagation } : {}),
    ...(r.nonRecursive ? { nonRecursive: true } : {}),
    ...(Object.keys(labels).length ? { volumeLabels: labels } : {}), ...(Object.keys(opts).length ? { volumeOptions: opts } : {}),
  };
}

/** `--volumes-from CONTAINER[:ro|rw]`: the container and the mode its mounts get (undefined = as they are). */
export function parseVolumesFrom(raw: string): { container: string; readOnly?: boolean } {
  const parts = raw.split(':');
  if (parts.length > 2 || parts[0] === '') throw new InvalidError(`invalid volumes-from specification: '${raw}'`);
  if (parts.length === 1) return { container: parts[0] };
  const m = parseMode(parts[1]);
  if (!m || (parts[1] !== 'ro' && parts[1] !== 'rw')) throw new InvalidError(`invalid mode: ${parts[1]}`);
  return { container: parts[0], readOnly: m.readOnly };
}

/** Docker's local volume names. */
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The local driver's refusal of a name, or undefined when it is a valid one. */
export function volumeNameError(name: string): string | undefined {
  if (VOLUME_NAME.test(name)) return undefined;
  if (name.length === 1 && /^[a-zA-Z0-9]$/.test(name)) return `volume name is too short, names should be at least two alphanumeric characters`;
  return `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;
}

/** Docker's order: a mount lands after those it lies inside (fewer path components first). */
export function sortByDepth<T extends { target: string }>(mounts: readonly T[]): T[] {
  const depth = (t: string) => t.split('/').length;
  return [...mounts].sort((a, b) => depth(a.target) - depth(b.target));
}
