import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { helperPath, ISAL_ASSET } from '../native/assets';
import { recordedDriver } from '../storage/layout';
import { goStruct } from '../util/go-template';
import { VERSION } from '../util/version';
import { findOnPath } from '../util/which';
import { refreshState } from './container-state';
import type { Engine } from './context';
import { formatIdMap } from '../native/helper-namespace';

/** What skiff has beyond Docker's fields: the rootless set-up a user debugs. */
export interface SkiffDetails {
  Rootless: boolean;
  User: string;
  /** "container:host:size,..."; empty when rootful */
  UIDMap: string;
  GIDMap: string;
  /** a subuid range is used (else a single-ID map); false when rootful */
  SubordinateIDs: boolean;
  /** why the maps could not be computed, when they could not */
  UserNamespaceError: string;
  RunRoot: string;
  Config: string;
  GzipDecoder: string;
  /** program -> path, "" when not found */
  Helpers: Record<string, string>;
}

/**
 * `skiff info` as data: Docker's field names where skiff has the thing (so `{{.Driver}}`,
 * `{{.Containers}}`, `{{.KernelVersion}}`, `{{json .}}` read as for Docker), and skiff's own
 * under `.Skiff`. Read without entering any namespace.
 */
export interface SystemInfo {
  Containers: number; ContainersRunning: number; ContainersPaused: number; ContainersStopped: number;
  Images: number;
  Driver: string;
  KernelVersion: string;
  OperatingSystem: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  DockerRootDir: string;
  Name: string;
  ServerVersion: string;
  CgroupVersion: string;
  SecurityOptions: string[];
  Skiff: SkiffDetails;
}

const HELPERS = ['newuidmap', 'newgidmap', 'fuse-overlayfs', 'slirp4netns', 'pasta'];

export function systemInfo(engine: Engine): SystemInfo {
  const p = engine.paths;
  const containers = engine.containers.list().map((c) => refreshState(engine, c).state.status);
  const count = (s: string) => containers.filter((x) => x === s).length;
  let maps = { UIDMap: '', GIDMap: '', SubordinateIDs: false, UserNamespaceError: '' };
  if (p.rootless) {
    try {
      const plan = engine.userns!;
      maps = { UIDMap: formatIdMap(plan.uidMap), GIDMap: formatIdMap(plan.gidMap), SubordinateIDs: plan.subordinate, UserNamespaceError: '' };
    } catch (e) {
      maps = { ...maps, UserNamespaceError: (e as Error).message };
    }
  }
  const cgroupV2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
  const skiff = goStruct<SkiffDetails>({
    Rootless: p.rootless,
    User: `${os.userInfo().username} (uid ${process.getuid!()}, gid ${process.getgid!()})`,
    ...maps,
    RunRoot: p.runRoot,
    Config: `${p.configRoot}/config.json`,
    GzipDecoder: gzipDecoder(),
    Helpers: Object.fromEntries(HELPERS.map((h) => [h, findOnPath(h) ?? ''])),
  }, 'skiff.Details');
  return goStruct<SystemInfo>({
    Containers: containers.length,
    ContainersRunning: count('running'),
    ContainersPaused: count('paused'),
    ContainersStopped: containers.length - count('running') - count('paused'),
    Images: engine.images.list().length,
    Driver: recordedDriver(p.dataRoot) ?? '',
    KernelVersion: os.release(),
    OperatingSystem: operatingSystem(),
    OSType: 'linux',
    Architecture: os.machine(),
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    DockerRootDir: p.dataRoot,
    Name: os.hostname(),
    ServerVersion: VERSION,
    CgroupVersion: cgroupV2 ? '2' : '1',
    SecurityOptions: ['name=seccomp,profile=builtin', ...(p.rootless ? ['name=rootless'] : [])],
    Skiff: skiff,
  }, 'system.Info');
}

/** /etc/os-release's PRETTY_NAME, as Docker's OperatingSystem. */
function operatingSystem(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    return m ? m[1] : '';
  } catch {
    return '';
  }
}

/** The helper inflates gzip layers with ISA-L when the library sits beside it, else with zlib. */
function gzipDecoder(): string {
  const isal = path.join(path.dirname(helperPath()), ISAL_ASSET);
  return fs.existsSync(isal) ? `isa-l (${isal})` : `zlib (no ${ISAL_ASSET} beside the helper: slower pulls)`;
}
