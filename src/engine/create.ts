import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { familiarString, parseReference } from '../image/reference';
import type { ImageRecord } from '../image/store';
import { withLock } from '../state/lock';
import { readImageFile } from '../storage/image-files';
import { resolveUser } from '../runtime/user';
import { assertUserMapped } from '../runtime/userns';
import { parseSecurityFlags, type SecurityFlags } from '../runtime/security-options';
import { joinedContainer, parseRunFlags, resolveGroupAdd, type RestartPolicy, type RunFlags, type RunFlagsInput } from '../runtime/run-flags';
import { logPathFor, parseLogConfig, type LogConfig } from '../runtime/log-config';
import type { SecurityInput } from '../runtime/oci-spec';
import { networkSettings, writeEtcFiles, type NetworkAddresses, type NetworkFlags } from './container-network';
import { allocateEndpoint, checkEndpointRequest, mustFindNetwork, type EndpointRequest } from './network-connect';
import { networkModeText, parseNetworkMode, type NetworkMode } from '../network/network-mode';
import { SkiffError } from '../util/errors';
import { InvalidError } from '../errors';
import { parseSignal } from '../util/signals';
import { removeTree } from '../util/remove-tree';
import type { ContainerRecord, HealthConfig } from './container-store';
import { mergeHealthConfig } from './healthcheck';
import { usingLayers } from './layers-in-use';
import type { Engine } from './context';
import { DEFAULT_PATH, expandEnvArg, mergeEnv, readEnvFile, userThenImageEnv } from './env';
import { generateName, newContainerId, VALID_NAME } from './names';
import { prepareRootfs } from './rootfs';
import { planKeepId, writeKeepIdFiles } from './keep-id-user';
import { ensureContainerVolumes, parseMountFlags, planMounts, type MountFlags } from './volume-mounts';

export interface CreateOptions {
  image: string;
  command: string[];
  name?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  hostname?: string;
  network?: string;
  /** --network-alias, --ip, --mac-address: the endpoint on a user-defined network */
  endpoint?: EndpointRequest;
  tty: boolean;
  interactive: boolean;
  autoRemove: boolean;
  pull?: string;
  /** `--platform`, used when the image is pulled */
  platform?: string;
  /** --security-opt, --cap-add, --cap-drop, --privileged */
  security?: SecurityFlags;
  /** --label KEY[=VALUE] */
  labels?: string[];
  /** --label-file FILE: KEY[=VALUE] lines */
  labelFiles?: string[];
  /** --cidfile FILE: the new container's ID is written there */
  cidfile?: string;
  /** --stop-signal */
  stopSignal?: string;
  /** --stop-timeout, seconds */
  stopTimeout?: number;
  /** Podman's --replace: a container holding --name is removed (forced) first */
  replace?: boolean;
  /** --restart, --init, namespace modes, --ulimit, --oom-score-adj, --group-add, --device, --tmpfs */
  runFlags?: RunFlagsInput;
  /** -v, --mount, --volumes-from (engine/volume-mounts.ts) */
  mountFlags?: MountFlags;
  /** --read-only */
  readOnly?: boolean;
  /** --userns: host (Docker's default) or Podman's keep-id[:uid=N,gid=N] */
  userns?: string;
  /** --log-driver, --log-opt */
  logDriver?: string;
  logOpts?: string[];
  /** --health-* flags as a HealthConfig (healthcheck.ts), merged over the image's HEALTHCHECK */
  healthcheck?: HealthConfig;
  /** run -d: nothing attached (inspect's Config.AttachStd*) */
  detach?: boolean;
  /** -q/--quiet: no pull output */
  quiet?: boolean;
  /** the streams an attached run gives the user (-a, -i); default stdout and stderr, stdin with -i */
  attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** -p, -P, --expose, --dns, --dns-search, --dns-option, --add-host, --domainname */
  networkFlags?: NetworkFlags;
}

/**
 * `--network`, parsed (network/network-mode.ts) and resolved against other containers: a
 * `container:NAME` is kept as the donor's ID (as --ipc/--pid), which must exist now.
 */
function resolveNetwork(engine: Engine, text: string | undefined): NetworkMode {
  const mode = parseNetworkMode(text);
  if (mode.kind === 'container') {
    const donor = engine.containers.find(mode.container);
    if (!donor) throw new SkiffError(`No such container: ${mode.container}`);
    return { kind: 'container', container: donor.id };
  }
  if (mode.kind === 'user') userNetworkMustExist(engine, mode.name);
  return mode;
}

/** A user-defined network (`network create`) must exist (Docker: `network NAME not found`). */
function userNetworkMustExist(engine: Engine, name: string): void {
  mustFindNetwork(engine, name);
}

/** --ip, --network-alias and --mac-address are for user-defined networks (Docker's messages). */
function checkEndpointFlags(network: NetworkMode, req: EndpointRequest | undefined): void {
  if (!req) return;
  if (network.kind !== 'user') {
    if (req.ip) throw new InvalidError('user specified IP address is supported on user defined networks only');
    if (req.aliases?.length) throw new InvalidError('network-scoped alias is supported only for containers in user defined networks');
    if (req.mac) throw new InvalidError('--mac-address is supported on user-defined networks only here: the other modes\' interfaces are the user-mode helper\'s or the host\'s');
  }
  checkEndpointRequest(req);
}

/**
 * Everything about the flags that can be checked without the image, checked before any pull:
 * a bad flag must not cost a download (or a pull error that hides the real mistake).
 */
function validateBeforeImage(engine: Engine, o: CreateOptions): {
  security?: SecurityInput; network: NetworkMode; userEnvFiles: string[]; labels: Record<string, string>; run: RunFlags; restart: RestartPolicy; logConfig: LogConfig;
} {
  const security = o.security ? parseSecurityFlags(o.security) : undefined;
  const { run, restart } = parseRunFlags(o.runFlags ?? {}, { hostname: o.hostname, autoRemove: o.autoRemove });
  resolveJoinedContainers(engine, run);
  const pull = o.pull ?? 'missing';
  if (!['always', 'missing', 'never'].includes(pull)) {
    throw new SkiffError(`invalid pull policy "${pull}": use always, missing or never`);
  }
  if (o.name !== undefined) {
    if (!VALID_NAME.test(o.name)) {
      throw new SkiffError(`Invalid container name (${o.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    // Early and lock-free, for the message; the check under the lock at the end decides.
    nameConflict(engine, o.name);
  }
  if (o.workdir && !o.workdir.startsWith('/')) {
    throw new SkiffError(`the working directory '${o.workdir}' is invalid, it needs to be an absolute path`);
  }
  const network = resolveNetwork(engine, o.network);
  // the flags' syntax and conflicts before any pull (the image's EXPOSE is added afterwards)
  networkSettings(network, { ...o.networkFlags, hostname: o.hostname }, undefined);
  checkEndpointFlags(network, o.endpoint);
  const userEnvFiles = o.envFiles.flatMap((f) => readEnvFile(f, process.env));
  if (o.stopSignal !== undefined) parseSignal(o.stopSignal);
  const labels = parseLabels(o.labelFiles ?? [], o.labels ?? []);
  const logConfig = parseLogConfig(o.logDriver, o.logOpts ?? []);
  return { security, network, userEnvFiles, labels, run, restart, logConfig };
}

/** --label-file lines, then --label flags over them (Docker's order): KEY=VALUE, or KEY for "". */
function parseLabels(files: string[], flags: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (kv: string) => {
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv : kv.slice(0, eq);
    if (!key.trim()) throw new SkiffError(`invalid label '${kv}': empty name`);
    out[key] = eq < 0 ? '' : kv.slice(eq + 1);
  };
  for (const f of files) {
    let text: string;
    try { text = fs.readFileSync(f, 'utf8'); } catch (e) {
      throw new SkiffError(`cannot read label file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    for (const line of text.split(/\r?\n/)) {
      const l = line.trimStart();
      if (l && !l.startsWith('#')) add(l);
    }
  }
  for (const kv of flags) add(kv);
  return out;
}

/**
 * --cidfile: Docker refuses a file that exists (another container may own it), and creates it
 * before the container so that a bad path fails early; it is removed again if create fails.
 */
function claimCidfile(file: string): number {
  try {
    return fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SkiffError(`Container ID file found, make sure the other container isn't running or delete ${file}`);
    }
    throw new SkiffError(`failed to create the container ID file: ${(e as Error).message}`);
  }
}

/** `--ipc/--pid container:NAME` record the other container's ID (Docker's), which must exist now. */
function resolveJoinedContainers(engine: Engine, run: RunFlags): void {
  const find = (name: string) => {
    const c = engine.containers.find(name);
    if (!c) throw new SkiffError(`No such container: ${name}`); // 125 in run/create, as Docker's daemon error
    return c.id;
  };
  const ipc = joinedContainer(run.ipc), pid = joinedContainer(run.pid);
  if (ipc !== undefined) run.ipc = `container:${find(ipc)}`;
  if (pid !== undefined) run.pid = `container:${find(pid)}`;
}

/** Throws Docker's conflict error when NAME belongs to a container already (no lock: for an early message). */
export function nameConflict(engine: Engine, name: string): void {
  const bare = name.replace(/^\//, '');
  const owner = engine.containers.findByName(bare);
  if (owner) throw nameInUse(bare, owner);
}

export function nameInUse(bare: string, owner: ContainerRecord): SkiffError {
  return new SkiffError(`Conflict. The container name "/${bare}" is already in use by container "${owner.id}". You have to remove (or rename) that container to be able to reuse that name.`);
}

/**
 * Give container `id` the name asked (Docker's conflict error when it is taken), or a generated
 * one that is free: Docker's way, a digit added after the first try, and the short ID when ten
 * tries found none. Callers hold containers.lock and write the record next.
 */
export function claimContainerName(engine: Engine, id: string, asked: string | undefined): string {
  if (asked !== undefined) {
    const bare = asked.replace(/^\//, '');
    const owner = engine.containers.claimName(bare, id);
    if (owner) throw nameInUse(bare, owner);
    return bare;
  }
  for (let retry = 0; retry < 10; retry++) {
    const name = generateName(retry);
    if (!engine.containers.claimName(name, id)) return name;
  }
  const short = id.slice(0, 12);
  if (engine.containers.claimName(short, id)) throw new SkiffError(`no free name for container ${id}: give one with --name`);
  return short;
}

/** Entrypoint/Cmd as Docker combines them: --entrypoint resets the image's Cmd. */
export function resolveArgs(image: { Entrypoint?: string[]; Cmd?: string[] }, entrypoint: string | undefined, command: string[]): string[] {
  const ep = entrypoint !== undefined ? (entrypoint === '' ? [] : [entrypoint]) : image.Entrypoint ?? [];
  const cmd = command.length ? command : entrypoint !== undefined ? [] : image.Cmd ?? [];
  return [...ep, ...cmd];
}

/** What create was asked, kept apart for inspect (the argv above is Entrypoint and Cmd resolved). */
function asAsked(o: CreateOptions, image: { Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string }): Partial<ContainerRecord['config']> {
  const entrypoint = o.entrypoint !== undefined ? (o.entrypoint === '' ? [] : [o.entrypoint]) : image.Entrypoint;
  const cmd = o.command.length ? o.command : o.entrypoint !== undefined ? undefined : image.Cmd;
  const streams = o.attach ?? { stdin: o.interactive, stdout: true, stderr: true };
  return {
    ...(entrypoint?.length ? { entrypoint } : {}),
    ...(cmd?.length ? { cmd } : {}),
    workingDir: o.workdir || image.WorkingDir || '',
    ...(o.security?.capAdd.length ? { capAdd: o.security.capAdd } : {}),
    ...(o.security?.capDrop.length ? { capDrop: o.security.capDrop } : {}),
    ...(o.security?.securityOpt.length ? { securityOpt: o.security.securityOpt } : {}),
    attach: o.detach ? { stdin: false, stdout: false, stderr: false } : streams,
  };
}

/** A user outside the namespace's map cannot exist in the container: say why, up front. */
function assertMapped(engine: Engine, uid: number, gid: number, spec: string): void {
  assertUserMapped(engine.userns, uid, gid, spec);
}

/**
 * The image to run, pulled first when the policy says so (Docker: `missing` pulls an image that
 * is not here, `always` pulls every time, `never` only looks locally). Pull progress goes to
 * stderr, as with `docker run`; -q/--quiet says nothing of it.
 */
async function findOrPullImage(engine: Engine, name: string, policy: string, platform?: string, quiet = false): Promise<ImageRecord> {
  const local = policy === 'always' ? undefined : engine.images.find(name);
  if (local) return local;
  if (policy === 'never') throw new SkiffError(`No such image: ${name}; pull it first or use --pull missing`);
  if (policy === 'missing' && !quiet) process.stderr.write(`Unable to find image '${familiarString(parseReference(name))}' locally\n`);
  const { pullImage } = await import('./pull');
  const out = quiet ? new (process.getBuiltinModule('node:stream')).Writable({ write: (_chunk, _enc, done) => done() }) : process.stderr;
  try {
    return (await pullImage(engine, name, { out, platform, printReference: false })).image;
  } catch (e) {
    // `run` and `create` fail with 125 whatever the pull's own code (Docker's convention).
    if (e instanceof SkiffError) e.exitCode = 125;
    throw e;
  }
}

/** The record's labels (the image's, then the user's over them) and how `stop` stops it. */
function stopAndLabels(cfg: { Labels?: Record<string, string>; StopSignal?: string }, labels: Record<string, string>, o: CreateOptions):
  Pick<ContainerRecord['config'], 'labels' | 'stopSignal' | 'stopTimeout'> {
  const all = { ...(cfg.Labels ?? {}), ...labels };
  const stopSignal = o.stopSignal ?? cfg.StopSignal;
  return {
    ...(Object.keys(all).length ? { labels: all } : {}),
    ...(stopSignal ? { stopSignal } : {}),
    ...(o.stopTimeout !== undefined ? { stopTimeout: o.stopTimeout } : {}),
  };
}

export async function createContainer(engine: Engine, o: CreateOptions): Promise<ContainerRecord> {
  if (o.replace) await replaceNamed(engine, o.name);
  const cid = o.cidfile !== undefined ? claimCidfile(o.cidfile) : undefined;
  try {
    // Held throughout: the image's layers are only referenced by the record at the end (layers-in-use.ts).
    const rec = await usingLayers(engine, () => createContainerNow(engine, o));
    if (cid !== undefined) fs.writeSync(cid, rec.id);
    return rec;
  } catch (e) {
    if (o.cidfile !== undefined) fs.rmSync(o.cidfile, { force: true });
    throw e;
  } finally {
    if (cid !== undefined) fs.closeSync(cid);
  }
}

/** --replace: the container holding NAME goes first, running or not (Podman's rm -f). */
async function replaceNamed(engine: Engine, name: string | undefined): Promise<void> {
  if (name === undefined) throw new SkiffError('cannot replace a container without --name: give the name of the container to replace');
  const holder = engine.containers.find(name.replace(/^\//, ''));
  if (!holder || holder.name !== name.replace(/^\//, '')) return;
  const { removeContainer } = await import('./remove');
  try {
    await removeContainer(engine, holder.id, { force: true });
  } catch (e) {
    if (engine.containers.get(holder.id)) throw e; // gone meanwhile is what we wanted
  }
}

async function createContainerNow(engine: Engine, o: CreateOptions): Promise<ContainerRecord> {
  const { security, network, userEnvFiles, labels, run, restart, logConfig } = validateBeforeImage(engine, o);
  const mountRequests = parseMountFlags(o.mountFlags ?? {}, run.tmpfs);
  const keepId = planKeepId(engine, o.userns, network, run);
  if (security?.privileged && engine.paths.rootless) {
    process.stderr.write('WARNING: rootless --privileged: capabilities hold only inside the user namespace, and host devices are bind-mounted with your own access (no device the host denies you)\n');
  }
  const image = await findOrPullImage(engine, o.image, o.pull ?? 'missing', o.platform, o.quiet);
  const cfg = image.config.config ?? {};
  const args = resolveArgs(cfg, o.entrypoint, o.command);
  if (args.length === 0) throw new SkiffError(`no command specified for image ${o.image}: give one after the image name`);
  const cwd = o.workdir || cfg.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new SkiffError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);

  const mounts = planMounts(engine, mountRequests, o.mountFlags ?? {}, Object.keys(cfg.Volumes ?? {}), run.tmpfs ?? []);
  const layers = await engine.layers();
  const layerDirs = image.chainIds.map((c) => layers.diffDir(c));
  // keep-id: the host user's IDs, whatever the image's USER says (Podman's)
  const userSpec = o.user ?? (keepId ? `${keepId.uid}:${keepId.gid}` : cfg.User ?? '');
  const groupText = readImageFile(layerDirs, 'etc/group');
  const user = resolveUser(userSpec, readImageFile(layerDirs, 'etc/passwd'), groupText);
  if (run.groupAdd) user.additionalGids = [...new Set([...user.additionalGids, ...resolveGroupAdd(run.groupAdd, groupText)])];

  assertMapped(engine, user.uid, user.gid, userSpec);
  if (keepId && o.user === undefined) user.home = keepId.home;

  const id = newContainerId();
  const hostname = o.hostname || (network.kind === 'host' || run.uts === 'host' ? os.hostname()
    : network.kind === 'container' ? engine.containers.mustFind(network.container).config.hostname : id.slice(0, 12));
  const userEnv = [...userEnvFiles, ...o.env.map((e) => expandEnvArg(e, process.env))];
  const defaults = [DEFAULT_PATH, `HOSTNAME=${hostname}`, ...(o.tty ? ['TERM=xterm'] : [])];
  let env = mergeEnv(defaults, userThenImageEnv(userEnv, cfg.Env ?? []));
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];

  const net = networkSettings(network, { ...o.networkFlags, hostname: o.hostname }, cfg.ExposedPorts);
  const dir = engine.containers.dir(id);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    if (network.kind !== 'container') writeEtcFiles(dir, { hostname, network, net }, await networkAddresses(engine, network));
    if (keepId) writeKeepIdFiles(dir, layerDirs, keepId);
    await prepareRootfs(engine, layers, dir, image.chainIds.at(-1));
    const rec: ContainerRecord = {
      id, name: '', created: new Date().toISOString(), image: o.image, imageId: image.id,
      path: args[0], args: args.slice(1),
      config: { env, cwd, user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids }, userSpec,
        hostname, tty: o.tty, openStdin: o.interactive, network: networkModeText(network), ...(Object.keys(net).length ? { net } : {}), autoRemove: o.autoRemove, ...(security ? { security } : {}), logConfig,
        ...asAsked(o, cfg),
        ...withHealthcheck(mergeHealthConfig(o.healthcheck, cfg.Healthcheck)),
        ...stopAndLabels(cfg, labels, o),
        ...(restart.name !== 'no' ? { restartPolicy: restart } : {}), ...(Object.keys(run).length ? { run } : {}),
        ...(mounts.length ? { mounts } : {}), ...(o.readOnly ? { readOnlyRootfs: true } : {}), ...(keepId ? { keepId } : {}),
        ...(o.mountFlags?.volumesFrom?.length ? { volumesFrom: o.mountFlags.volumesFrom } : {}) },
      logPath: logPathFor(dir, id, logConfig),
      storage: { driver: await engine.driver(), layers: image.chainIds },
      state: { status: 'created' },
    };
    await withLock(engine.containers.lockFile, async () => {
      rec.name = claimContainerName(engine, id, o.name);
      try {
        if (network.kind === 'user') {
          // under containers.lock, as every address allocation (network-connect.ts); the one
          // create that reads every record: the addresses its network's containers hold
          const n = mustFindNetwork(engine, network.name);
          rec.endpoints = { [n.name]: allocateEndpoint(n, rec, engine.containers.list(), o.endpoint ?? {}) };
        }
        // with the record, under its lock: `volume rm` (which takes it too) sees the volume used
        await ensureContainerVolumes(engine, mounts);
        engine.containers.save(rec);
      } catch (e) {
        engine.containers.releaseName(rec.name, id);
        throw e;
      }
    });
    return rec;
  } catch (e) {
    await layers.removeTree(dir).catch(() => removeTree(dir));
    throw e;
  }
}

/**
 * The addresses the container's files name before its first start (each start writes them
 * again): the user-mode helper's, which also checks now that one is installed.
 */
async function networkAddresses(engine: Engine, network: NetworkMode): Promise<NetworkAddresses> {
  if (network.kind === 'host') return { hostGateway: '127.0.0.1' };
  if (network.kind !== 'usermode') return {};
  const { planUserMode } = await import('../network/usermode');
  const { hostHasLoopbackResolver } = await import('./container-network');
  return planUserMode({
    helper: network.helper, options: network.options, configured: engine.config.defaultRootlessNetworkCmd,
    rootless: engine.paths.rootless, ports: [], apiSocket: '', needsDnsForwarder: hostHasLoopbackResolver(),
  });
}

function withHealthcheck(h: HealthConfig | undefined): { healthcheck?: HealthConfig } {
  return h ? { healthcheck: h } : {};
}
