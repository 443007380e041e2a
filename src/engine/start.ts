import fs from 'node:fs';
import path from 'node:path';
import { buildOciSpec } from '../runtime/oci-spec';
import { parseNetworkMode, type NetworkMode } from '../network/network-mode';
import { encodeMonitorSpec } from '../runtime/monitor-spec';
import { clearStoppedByUser, monitorFile, readContainerPid, spawnMonitor, type MonitorProcess } from '../runtime/monitor-client';
import { currentBootId, processStartTime } from '../runtime/process-identity';
import { withLock } from '../state/lock';
import { stagingRoot } from '../storage/layout';
import { idMapped } from '../runtime/userns';
import { seccompProgramHex } from '../runtime/seccomp/program';
import { containerLog } from './logs-location';
import { SkiffError } from '../util/errors';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';
import { namespaceDonorPids } from './namespace-donors';
import { removeContainerFiles } from './remove';
import { rootfsMount, rootfsStorageDirs } from './rootfs';
import { prepareHealthcheck } from './healthcheck';
import { prepareNetwork, writeBoundPorts } from './container-network';
import { parseDetachKeys } from './detach-keys';
import { holdNetworks, networkSpecRecords, type NetworksHold } from './network-attach';
import { refreshNetworkHosts } from './network-hosts';
import { anonymousVolumeDirs, containerMounts } from './volume-mounts';
import { keepIdStart } from './keep-id-user';

export interface StartOptions {
  /** stay attached: stdio passes through, return the exit code */
  attach: boolean;
  /** run -a: the output streams the user gets when attached (default both; the others still reach the log) */
  streams?: { stdout: boolean; stderr: boolean };
  /** run --sig-proxy=false: the signals we receive are not passed on (they end skiff; the container runs on) */
  sigProxy?: boolean;
  /** forward our stdin (docker start -i / run -i) */
  interactive: boolean;
  /** --detach-keys, when attaching to a container that already runs */
  detachKeys?: string;
}

/** Write config.json (the OCI contract, for inspection) and the monitor's flat spec. */
async function writeSpecs(engine: Engine, c: ContainerRecord, attach: boolean, detachKeys: Buffer | undefined, networks?: NetworksHold): Promise<string> {
  const dir = engine.containers.dir(c.id);
  const layers = await engine.layers();
  const { target, mount } = rootfsMount(engine, layers, c);
  const network = parseNetworkMode(c.config.network);
  const volumes = containerMounts(engine, c);
  const keepId = keepIdStart(engine, c, mount);
  const spec = buildOciSpec({
    rootfs: target, hostname: c.config.hostname, args: [c.path, ...c.args], env: c.config.env,
    cwd: c.config.cwd, user: c.config.user, tty: c.config.tty, network: network.kind === 'host' ? 'host' : 'private',
    rootless: engine.paths.rootless, ttyGroupMapped: !engine.userns || idMapped(engine.userns.gidMap, 5), security: c.config.security,
    run: c.config.run, joinPids: namespaceDonorPids(engine, c.config.run, network),
    etcFiles: etcFiles(engine, dir, network),
    userMounts: [...keepId.mounts, ...volumes.mounts], readonlyRootfs: c.config.readOnlyRootfs,
  });
  // --rm: attached, skiff removes the record itself after the exit; detached, the monitor
  // removes everything, record included, under the lock skiff holds to write records.
  // Attached -it can turn detached (the detach keys): skiff is gone then, so the monitor
  // removes the whole container once it ends, as for a detached run.
  const removesRecord = c.config.autoRemove && (!attach || detachKeys !== undefined);
  // (detached, the monitor takes the container's own anonymous volumes with it, as `run --rm` does)
  const cleanup = !c.config.autoRemove ? [] : attach ? rootfsStorageDirs(engine, c) : [dir, ...anonymousVolumeDirs(engine, c)];
  const detachCleanup = c.config.autoRemove && attach && detachKeys ? [dir, ...anonymousVolumeDirs(engine, c)] : undefined;
  const seccompProgram = spec.linux.seccomp && await seccompProgramHex(spec.linux.seccomp, spec.process.capabilities.bounding);
  const health = c.config.healthcheck && prepareHealthcheck(engine, c, spec, seccompProgram);
  const netStart = await prepareNetwork(engine, c, dir);
  const flat = encodeMonitorSpec(spec, {
    health, volumePrep: volumes.prep, nestedUserns: keepId.maps,
    rootfsMount: keepId.rootfs, keepStdin: c.config.openStdin, readyFd: 3,
    pidFile: monitorFile(dir, 'pid'), exitFile: monitorFile(dir, 'exit'), cleanup, seccompProgram,
    lockFile: removesRecord ? engine.containers.lockFile : undefined,
    // only where the monitor removes the whole container (its directory can be raced)
    cleanupStaging: removesRecord ? stagingRoot(engine.paths.dataRoot) : undefined,
    init: c.config.run?.init, restart: c.config.restartPolicy,
    // always, so that `update --restart` can give a running container a policy it started without
    stopFile: monitorFile(dir, 'userStop'), restartFile: monitorFile(dir, 'restart'), policyFile: monitorFile(dir, 'policy'),
    log: containerLog(engine, c), attachSocket: monitorFile(dir, 'attach'), attached: attach,
    network: netStart.helper, portForwards: netStart.portForwards, portHandoff: netStart.portHandoff, dns: netStart.dns, domainname: c.config.net?.domainname,
    detachKeys, detachCleanup,
    ...(networks ? { userNetworks: networkSpecRecords(engine, c, networks) } : {}),
  });
  fs.writeFileSync(monitorFile(dir, 'config'), JSON.stringify(spec, null, 2));
  const specFile = monitorFile(dir, 'spec');
  fs.writeFileSync(specFile, flat);
  return specFile;
}

/**
 * /etc/hostname, hosts and resolv.conf: a container in another's network namespace shares that
 * container's files (Docker's), so both see the same names and resolvers.
 */
function etcFiles(engine: Engine, dir: string, network: NetworkMode): { hostname: string; hosts: string; resolvConf: string } {
  const owner = network.kind === 'container' ? engine.containers.dir(network.container) : dir;
  return { hostname: path.join(owner, 'hostname'), hosts: path.join(owner, 'hosts'), resolvConf: path.join(owner, 'resolv.conf') };
}

/**
 * Start a created (or exited) container: spawn the C monitor in the user namespace. Attached,
 * the container's stdio is ours (no copying through Node) and the exit code is returned;
 * detached, output goes to the container log and we return once the process has exec'd.
 */
export async function startContainer(engine: Engine, c: ContainerRecord, o: StartOptions): Promise<number | undefined> {
  parseDetachKeys(o.detachKeys); // a bad spec is refused before anything starts
  // Under the container's op lock (container-store.ts opLock): an `rm` racing this start
  // either removes the container first (and we say it is gone) or waits until it runs.
  let started: { c: ContainerRecord; monitor: MonitorProcess; unforward: () => void } | undefined;
  try {
    started = await withLock(engine.containers.opLock(c.id), () => spawnContainer(engine, c.id, o));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SkiffError(`No such container: ${c.name}`, 1);
    throw e;
  }
  if (!started) {
    // it was running already: attaching goes through the monitor's socket, outside the op lock
    if (!o.attach) return undefined;
    const { attachContainer } = await import('./attach');
    return attachContainer(engine, refreshState(engine, engine.containers.mustFind(c.id)),
      { stdin: o.interactive, sigProxy: true, detachKeys: o.detachKeys, detachIsSuccess: true });
  }
  const { monitor, unforward } = started;
  if (!o.attach) {
    monitor.release();
    return undefined;
  }
  const code = await monitor.exitedOrDetached();
  unforward();
  if (code === 'detached') {
    // the user typed the detach keys: the container runs on, its monitor no longer ours (exit 0, as Docker's run)
    monitor.release();
    return 0;
  }
  await finishAttached(engine, started.c, code);
  return code;
}

/** Docker's refusals for a container that cannot be started as it is. */
function refuseStart(c: ContainerRecord): string | undefined {
  switch (c.state.status) {
    case 'paused': return `cannot start a paused container, try unpause instead`;
    case 'removing': return `container is marked for removal and cannot be started`;
    case 'dead': return `container is marked for removal and cannot be started`;
    default: return undefined;
  }
}

/** The start itself, under the op lock: undefined when the container runs already. */
async function spawnContainer(engine: Engine, id: string, o: StartOptions): Promise<{ c: ContainerRecord; monitor: MonitorProcess; unforward: () => void } | undefined> {
  const rec = engine.containers.get(id);
  if (!rec) throw new SkiffError(`No such container: ${id}`, 1);
  const c = refreshState(engine, rec);
  // (an --rm container whose monitor died is removed by refreshState)
  if (c !== rec && c.config.autoRemove && !engine.containers.get(c.id)) throw new SkiffError(`No such container: ${c.name}`, 1);
  const refused = refuseStart(c);
  if (refused) throw new SkiffError(refused, 1);
  if (c.state.status === 'running' || c.state.status === 'restarting') return undefined;
  const dir = engine.containers.dir(c.id);
  fs.rmSync(monitorFile(dir, 'exit'), { force: true });
  fs.rmSync(monitorFile(dir, 'policy'), { force: true }); // the record has the policy now
  if (c.config.restartPolicy) clearStoppedByUser(dir);
  // the monitor watches the user's terminal for the detach keys (with -t and -i, as Docker)
  const detachKeys = o.attach && o.interactive && c.config.tty && c.config.openStdin ? parseDetachKeys(o.detachKeys) : undefined;
  // User networks: the holder of their namespace runs, and stays until the monitor took its
  // own hold on it (network-attach.ts); the monitor's container init attaches the interfaces.
  const networks = c.endpoints && Object.keys(c.endpoints).length ? await holdNetworks(engine) : undefined;
  // Its /etc/hosts names the running peers before its command runs; theirs learn its names.
  if (networks) refreshNetworkHosts(engine, c, new Set(Object.values(c.endpoints ?? {}).map((e) => e.networkId)));
  let monitor: MonitorProcess;
  let unforward: () => void;
  let failure: Awaited<ReturnType<MonitorProcess['ready']>>;
  try {
    const specFile = await writeSpecs(engine, c, o.attach, detachKeys, networks);
    const wantsStdin = o.attach && (o.interactive || c.config.tty);
    // Detached, the monitor writes the log and holds stdin (-i) for attach: it needs none of ours.
    const stdio: [number, number, number] = o.attach
      ? [wantsStdin ? 0 : -1, o.streams?.stdout === false ? -1 : 1, o.streams?.stderr === false ? -1 : 2] : [-1, -1, -1];
    try {
      monitor = spawnMonitor(engine.userns, specFile, stdio);
    } catch (e) {
      throw new SkiffError(`cannot start container ${c.name}: ${(e as Error).message}`);
    }
    unforward = o.attach && o.sigProxy !== false ? monitor.forwardSignals() : () => undefined;
    failure = await monitor.ready();
  } finally {
    networks?.release();
  }
  if (failure) {
    unforward();
    // A host port taken after the probe: the same line as the probe's, and, as then, a container
    // that never started (its state unchanged, Docker's Created; an --rm one removed).
    const refused = failure.message === undefined ? undefined
      : (await import('../network/port-allocation')).bindRefusal(failure.message, c.name, engine.paths.rootless);
    if (refused) {
      writeBoundPorts(dir, []);
      fs.rmSync(monitorFile(dir, 'exit'), { force: true });
      if (c.config.autoRemove) await finishAttached(engine, c, failure.monitorExit);
      throw refused;
    }
    await finishAttached(engine, c, failure.monitorExit);
    throw new SkiffError(failure.message ?? `container ${c.name} failed to start (monitor exit ${failure.monitorExit})`, failure.code ?? 125);
  }
  // A detached --rm container may already have ended and been removed by its monitor (it
  // takes containers.lock for that): then there is no pid file, and update() finds no record
  // and writes none, so a removed container is never brought back.
  const pid = readContainerPid(dir);
  await engine.containers.update(c.id, (r) => {
    r.state = {
      status: 'running', pid, pidStart: pid ? processStartTime(pid) : undefined,
      monitorPid: monitor.pid, monitorStart: processStartTime(monitor.pid), startedAt: new Date().toISOString(),
      bootId: currentBootId(),
      // (prepareNetwork gives a run its own user-mode helper only on the default network and no user network)
      ...(parseNetworkMode(c.config.network).kind === 'user' || networks ? { routedByNetworks: true } : {}),
    };
  });
  // the peers' embedded DNS servers answer for it while this monitor runs: they learn its PID now
  if (networks) refreshNetworkHosts(engine, c, new Set(Object.values(c.endpoints ?? {}).map((e) => e.networkId)));
  return { c, monitor, unforward };
}

/** After an attached run: record the exit, or with --rm remove what is left of the container. */
async function finishAttached(engine: Engine, c: ContainerRecord, code: number): Promise<void> {
  if (c.config.autoRemove) {
    await removeContainerFiles(engine, c, false);
    if (c.config.mounts?.some((m) => m.anonymous)) await (await import('./volume-remove')).removeAnonymousVolumes(engine, c);
    return;
  }
  await engine.containers.update(c.id, (r) => {
    r.state = { ...r.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() };
  });
}
