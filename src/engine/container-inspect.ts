import fs from 'node:fs';
import path from 'node:path';
import { treeSize } from '../util/tree-size';
import { MONITOR_FILES } from '../runtime/monitor-client';
import { layerDiffDir } from '../storage/layout';
import { parseNetworkMode } from '../network/network-mode';
import { attachedNetworkNames, type Endpoint } from '../network/user-networks/endpoint';
import { NIL_MAP, NIL_POINTER, NIL_SLICE, goStruct, omittedField } from '../util/go-template';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { isLive, refreshState } from './container-state';
import { networkPortsMap, portBindingsMap } from '../network/ports';
import { boundPorts } from './container-network';
import { asSkiffError, NotFoundError, type SkiffError } from '../errors';
import { healthState, type HealthState } from './health-state';
import { imageInspect, inspectConfig, storageInfo, type InspectResult } from './inspect';
import { volumeObject } from './volume-list';
import { inspectMountConfig, inspectMounts } from './volume-mounts';
import { volumeStore } from './volume-usage';

/**
 * Record fields that other parts of skiff add (labels, log driver, restart policy, health,
 * stop signal): read when present, Docker's defaults otherwise, so an older record (or one
 * written before those flags existed) still inspects.
 */
interface OptionalRecordFields {
  labels?: Record<string, string>;
  logConfig?: { type?: string; config?: Record<string, string> };
  restartPolicy?: { name?: string; maximumRetryCount?: number };
  stopSignal?: string;
  stopTimeout?: number;
  healthcheck?: unknown;
}
interface OptionalStateFields {
  paused?: boolean;
  restarting?: boolean;
  oomKilled?: boolean;
  restartCount?: number;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
const nonEmpty = <T>(v: T[] | undefined) => (v && v.length ? v : NIL_SLICE);

export interface ContainerInspectOptions {
  /** -s/--size: SizeRw (the writable layer) and SizeRootFs (that plus the image) */
  size?: boolean;
  /** image labels and config, when the image is still here (Docker merges its labels in) */
  imageConfig?: Record<string, unknown>;
  imageSize?: number;
}

/** Docker's State object (api/types/container.State), from the record's (refreshed) state. */
function inspectState(c: ContainerRecord, health: HealthState | undefined): object {
  const s = c.state as ContainerRecord['state'] & OptionalStateFields;
  const status = s.paused ? 'paused' : s.restarting ? 'restarting' : s.status;
  const out: Record<string, unknown> = {
    Status: status,
    Running: s.status === 'running',
    Paused: !!s.paused,
    Restarting: !!s.restarting,
    OOMKilled: !!s.oomKilled,
    Dead: false,
    Pid: s.status === 'running' ? s.pid ?? 0 : 0,
    ExitCode: s.status === 'exited' ? s.exitCode ?? 0 : 0,
    Error: s.error ?? '',
    StartedAt: s.startedAt ?? ZERO_TIME,
    FinishedAt: s.finishedAt ?? ZERO_TIME,
  };
  // Docker's Health: the probe log the monitor keeps (health-state.ts), for a container with a healthcheck
  if (health) {
    out.Health = goStruct({
      Status: health.Status,
      FailingStreak: health.FailingStreak,
      Log: health.Log.map((l) => goStruct({ ...l }, '*container.HealthcheckResult')),
    }, '*container.Health');
  } else {
    omittedField(out, 'Health', NIL_POINTER);
  }
  return goStruct(out, '*container.State');
}

/** HostConfig as Docker prints it, with what skiff records and Docker's zero values for the rest. */
/** Config.Volumes: the image's VOLUMEs and the targets of -v anonymous volumes, as Docker's. */
function configVolumes(c: ContainerRecord, image: unknown): unknown {
  const own = (c.config.mounts ?? []).filter((m) => m.anonymous && m.origin === 'volume-flag').map((m) => m.target);
  if (!own.length) return image;
  return { ...(image as Record<string, object> ?? {}), ...Object.fromEntries(own.map((t) => [t, {}])) };
}

function inspectHostConfig(c: ContainerRecord): object {
  const mc = inspectMountConfig(c);
  const cfg = c.config as ContainerRecord['config'] & OptionalRecordFields;
  const sec = cfg.security;
  const log = cfg.logConfig;
  const restart = cfg.restartPolicy;
  return goStruct({
    Binds: mc.binds ?? NIL_SLICE,
    ContainerIDFile: '',
    LogConfig: goStruct({ Type: log?.type ?? 'json-file', Config: log?.config ?? {} }, 'container.LogConfig'),
    NetworkMode: cfg.network,
    PortBindings: portBindingsMap(cfg.net?.publish ?? []),
    RestartPolicy: goStruct({ Name: restart?.name ?? 'no', MaximumRetryCount: restart?.maximumRetryCount ?? 0 }, 'container.RestartPolicy'),
    AutoRemove: cfg.autoRemove,
    VolumeDriver: '',
    VolumesFrom: c.config.volumesFrom ?? NIL_SLICE,
    ConsoleSize: [0, 0],
    CapAdd: nonEmpty(cfg.capAdd),
    CapDrop: nonEmpty(cfg.capDrop),
    CgroupnsMode: 'private',
    Dns: cfg.net?.dns?.servers ?? [],
    DnsOptions: cfg.net?.dns?.options ?? [],
    DnsSearch: cfg.net?.dns?.search ?? [],
    ExtraHosts: nonEmpty(cfg.net?.addHosts),
    GroupAdd: NIL_SLICE,
    IpcMode: 'private',
    Cgroup: '',
    Links: NIL_SLICE,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: !!sec?.privileged,
    PublishAllPorts: !!cfg.net?.publishAll,
    ReadonlyRootfs: !!c.config.readOnlyRootfs,
    SecurityOpt: nonEmpty(cfg.securityOpt),
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'skiff',
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    DeviceCgroupRules: NIL_SLICE,
    DeviceRequests: NIL_SLICE,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: NIL_POINTER,
    OomKillDisable: NIL_POINTER,
    PidsLimit: NIL_POINTER,
    Ulimits: [],
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    ...(mc.mounts ? { Mounts: mc.mounts } : {}),
  }, '*container.HostConfig');
}

/** Docker's overlay2 GraphDriver: the image layers (top first) below the container's upper dir. */
function inspectGraphDriver(engine: Engine, c: ContainerRecord): object {
  const dir = engine.containers.dir(c.id);
  if (c.storage.driver === 'vfs') return goStruct({ Data: NIL_MAP, Name: 'vfs' }, 'storage.DriverData');
  const lower = c.storage.layers.map((l) => layerDiffDir(engine.paths.dataRoot, l)).reverse();
  const data: Record<string, string> = {};
  if (lower.length) data.LowerDir = lower.join(':');
  Object.assign(data, { MergedDir: path.join(dir, 'merged'), UpperDir: path.join(dir, 'upper'), WorkDir: path.join(dir, 'work') });
  return goStruct({ Data: data, Name: c.storage.driver }, 'storage.DriverData');
}

/**
 * Config (container.Config): what the container was created with. Entrypoint and Cmd are kept
 * apart in records since inspect; older records only have the resolved argv, shown as Cmd.
 */
function inspectContainerConfig(c: ContainerRecord, imageConfig: Record<string, unknown>): object {
  const cfg = c.config as ContainerRecord['config'] & OptionalRecordFields;
  const imageLabels = (imageConfig.Labels ?? {}) as Record<string, string>;
  const labels = { ...imageLabels, ...(cfg.labels ?? {}) };
  // Records from before Entrypoint and Cmd were kept apart have only the resolved argv.
  const asAsked = cfg.workingDir !== undefined;
  const raw: Record<string, unknown> = {
    Hostname: cfg.hostname,
    Domainname: cfg.net?.domainname ?? '',
    User: cfg.userSpec,
    ExposedPorts: cfg.net?.exposed?.length ? Object.fromEntries(cfg.net.exposed.map((p) => [p, {}])) : imageConfig.ExposedPorts,
    Env: cfg.env,
    Cmd: asAsked ? cfg.cmd : [c.path, ...c.args],
    Healthcheck: cfg.healthcheck ?? imageConfig.Healthcheck,
    Image: c.image,
    Volumes: configVolumes(c, imageConfig.Volumes),
    WorkingDir: cfg.workingDir ?? cfg.cwd,
    Entrypoint: cfg.entrypoint,
    OnBuild: imageConfig.OnBuild,
    Labels: labels,
    StopSignal: cfg.stopSignal ?? imageConfig.StopSignal,
    StopTimeout: cfg.stopTimeout,
  };
  const out = inspectConfig(raw) as Record<string, unknown>;
  // inspectConfig is the image's view (nothing attached); a container records how it was run.
  const attach = cfg.attach ?? { stdin: false, stdout: false, stderr: false };
  Object.assign(out, {
    AttachStdin: attach.stdin, AttachStdout: attach.stdout, AttachStderr: attach.stderr,
    Tty: cfg.tty, OpenStdin: cfg.openStdin, StdinOnce: cfg.openStdin && attach.stdin,
  });
  return out;
}

/** NetworkSettings for the modes skiff has (none, host): one network entry, no addresses. */
function inspectNetworkSettings(c: ContainerRecord, dir: string): object {
  const endpoint = goStruct({
    IPAMConfig: NIL_POINTER, Links: NIL_SLICE, Aliases: NIL_SLICE, MacAddress: '', DriverOpts: NIL_MAP, GwPriority: 0,
    NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: NIL_SLICE,
  }, '*network.EndpointSettings');
  const networks: Record<string, object> = {};
  for (const name of attachedNetworkNames(parseNetworkMode(c.config.network), c.endpoints)) {
    const e = c.endpoints?.[name];
    networks[name] = e ? userEndpoint(c, e) : endpoint;
  }
  return goStruct({
    Bridge: '', SandboxID: '', SandboxKey: '', Ports: isLive(c) ? networkPortsMap(c.config.net?.exposed ?? [], boundPorts(dir)) : {}, HairpinMode: false,
    LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: NIL_SLICE, SecondaryIPv6Addresses: NIL_SLICE,
    EndpointID: '', Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0,
    IPv6Gateway: '', MacAddress: '',
    Networks: networks,
  }, '*container.NetworkSettings');
}

/** A user-defined network's endpoint as Docker shows it; DNSNames are the names its peers resolve. */
function userEndpoint(c: ContainerRecord, e: Endpoint): object {
  return goStruct({
    IPAMConfig: e.requestedIp ? goStruct({ IPv4Address: e.requestedIp }, '*network.EndpointIPAMConfig') : NIL_POINTER,
    Links: NIL_SLICE, Aliases: e.aliases.length ? e.aliases : NIL_SLICE, MacAddress: e.macAddress, DriverOpts: NIL_MAP, GwPriority: e.gwPriority ?? 0,
    NetworkID: e.networkId, EndpointID: '', Gateway: e.gateway, IPAddress: e.ipAddress, IPPrefixLen: e.prefixLen, IPv6Gateway: '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: [c.name, ...e.aliases, c.id.slice(0, 12)],
  }, '*network.EndpointSettings');
}

/** Bytes of the container's own writable layer (Docker's SizeRw), its directory being DIR. */
export function writableLayerSize(dir: string, c: ContainerRecord): number {
  return treeSize(path.join(dir, c.storage.driver === 'vfs' ? 'rootfs' : 'upper'));
}

/** One container as Docker's GET /containers/{id}/json: the object `container inspect` prints. */
export function containerInspect(engine: Engine, record: ContainerRecord, o: ContainerInspectOptions = {}): object {
  const c = refreshState(engine, record);
  const dir = engine.containers.dir(c.id);
  const rs = c.state as OptionalStateFields;
  const out: Record<string, unknown> = {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: inspectState(c, healthState(engine, c)),
    Image: c.imageId,
    ResolvConfPath: path.join(dir, 'resolv.conf'),
    HostnamePath: path.join(dir, 'hostname'),
    HostsPath: path.join(dir, 'hosts'),
    LogPath: path.join(dir, (c as { logPath?: string }).logPath ?? MONITOR_FILES.log),
    Name: `/${c.name}`,
    RestartCount: rs.restartCount ?? 0,
    Driver: c.storage.driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: NIL_SLICE,
    HostConfig: inspectHostConfig(c),
    GraphDriver: inspectGraphDriver(engine, c),
  };
  if (o.size) {
    const rw = writableLayerSize(dir, c);
    out.SizeRw = rw;
    out.SizeRootFs = c.storage.driver === 'vfs' ? rw : rw + (o.imageSize ?? 0);
  }
  Object.assign(out, {
    Mounts: inspectMounts(engine, c),
    Config: inspectContainerConfig(c, o.imageConfig ?? {}),
    NetworkSettings: inspectNetworkSettings(c, dir),
  });
  return goStruct(out, 'container.InspectResponse', { ID: 'Id' });
}

/** The inspect object for a container record, looking up its image for labels and size. */
export function inspectContainerRecord(engine: Engine, c: ContainerRecord, size: boolean): object {
  const image = engine.images.get(c.imageId);
  return containerInspect(engine, c, {
    size,
    imageConfig: (image?.config.config ?? {}) as Record<string, unknown>,
    imageSize: image?.size,
  });
}

export type InspectType = 'container' | 'image' | undefined;

/**
 * `inspect NAME...` (and `container inspect`): each name resolved as Docker's CLI does, a
 * container first and then an image unless --type picks one, the found objects in the order
 * given, and one error per name not found (Docker goes on past them and exits 1).
 */
export function inspectObjects(engine: Engine, names: string[], o: { type: InspectType; size: boolean }): InspectResult {
  const found: object[] = [];
  const errors: SkiffError[] = [];
  const notFound = o.type === undefined ? 'object' : o.type;
  for (const name of names) {
    try {
      const c = o.type === 'image' ? undefined : engine.containers.find(name);
      if (c) { found.push(inspectContainerRecord(engine, c, o.size)); continue; }
      const image = o.type === 'container' ? undefined : engine.images.find(name);
      if (image) { found.push(imageInspect(image, storageInfo(engine, image))); continue; }
      const volume = o.type === undefined ? volumeStore(engine).get(name) : undefined;
      if (volume) { found.push(volumeObject(volumeStore(engine), volume)); continue; }
      errors.push(new NotFoundError(`No such ${notFound}: ${name}`));
    } catch (e) {
      errors.push(asSkiffError(e));
    }
  }
  return { found, errors };
}
