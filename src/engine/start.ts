import fs from 'node:fs';
import path from 'node:path';
import { buildOciSpec } from '../runtime/oci-spec';
import { encodeMonitorSpec } from '../runtime/monitor-spec';
import { monitorFile, readContainerPid, spawnMonitor, type MonitorProcess } from '../runtime/monitor-client';
import { processStartTime } from '../runtime/process-identity';
import { idMapped } from '../runtime/userns';
import { seccompProgramHex } from '../runtime/seccomp/program';
import { SkiffError } from '../util/errors';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';
import { removeContainerFiles } from './remove';
import { rootfsMount, rootfsStorageDirs } from './rootfs';
import { prepareHealthcheck } from './healthcheck';

export interface StartOptions {
  /** stay attached: stdio passes through, return the exit code */
  attach: boolean;
  /** forward our stdin (docker start -i / run -i) */
  interactive: boolean;
}

/** Write config.json (the OCI contract, for inspection) and the monitor's flat spec. */
async function writeSpecs(engine: Engine, c: ContainerRecord, attach: boolean): Promise<string> {
  const dir = engine.containers.dir(c.id);
  const layers = await engine.layers();
  const { target, mount } = rootfsMount(engine, layers, c);
  const spec = buildOciSpec({
    rootfs: target, hostname: c.config.hostname, args: [c.path, ...c.args], env: c.config.env,
    cwd: c.config.cwd, user: c.config.user, tty: c.config.tty, network: c.config.network,
    rootless: engine.paths.rootless, ttyGroupMapped: !engine.userns || idMapped(engine.userns.gidMap, 5), security: c.config.security,
    etcFiles: { hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf') },
  });
  // --rm: attached, skiff removes the record itself after the exit; detached, the monitor
  // removes everything, record included, under the lock skiff holds to write records.
  const removesRecord = c.config.autoRemove && !attach;
  const cleanup = !c.config.autoRemove ? [] : attach ? rootfsStorageDirs(engine, c) : [dir];
  const seccompProgram = spec.linux.seccomp && await seccompProgramHex(spec.linux.seccomp, spec.process.capabilities.bounding);
  const health = c.config.healthcheck && prepareHealthcheck(engine, c, spec, seccompProgram);
  const flat = encodeMonitorSpec(spec, {
    health,
    rootfsMount: mount, keepStdin: c.config.openStdin && (attach || false), readyFd: 3,
    pidFile: monitorFile(dir, 'pid'), exitFile: monitorFile(dir, 'exit'), cleanup, seccompProgram,
    lockFile: removesRecord ? engine.containers.lockFile : undefined,
  });
  fs.writeFileSync(monitorFile(dir, 'config'), JSON.stringify(spec, null, 2));
  const specFile = monitorFile(dir, 'spec');
  fs.writeFileSync(specFile, flat);
  return specFile;
}

/**
 * Start a created (or exited) container: spawn the C monitor in the user namespace. Attached,
 * the container's stdio is ours (no copying through Node) and the exit code is returned;
 * detached, output goes to the container log and we return once the process has exec'd.
 */
export async function startContainer(engine: Engine, c: ContainerRecord, o: StartOptions): Promise<number | undefined> {
  const fresh = refreshState(engine, c);
  // (an --rm container whose monitor died is removed by refreshState)
  if (fresh !== c && c.config.autoRemove && !engine.containers.get(c.id)) throw new SkiffError(`No such container: ${c.name}`, 1);
  c = fresh;
  if (c.state.status === 'running') {
    if (o.attach) throw new SkiffError(`container ${c.name} is already running; attach is not supported yet`);
    return undefined;
  }
  const dir = engine.containers.dir(c.id);
  fs.rmSync(monitorFile(dir, 'exit'), { force: true });
  const specFile = await writeSpecs(engine, c, o.attach);
  const wantsStdin = o.attach && (o.interactive || c.config.tty);
  let logFd: number | undefined;
  if (!o.attach) logFd = fs.openSync(monitorFile(dir, 'log'), 'a', 0o600);
  const stdio: [number, number, number] = o.attach ? [wantsStdin ? 0 : -1, 1, 2] : [-1, logFd!, logFd!];
  let monitor: MonitorProcess;
  try {
    monitor = spawnMonitor(engine.userns, specFile, stdio);
  } catch (e) {
    throw new SkiffError(`cannot start container ${c.name}: ${(e as Error).message}`);
  } finally {
    if (logFd !== undefined) fs.closeSync(logFd);
  }
  const unforward = o.attach ? monitor.forwardSignals() : () => undefined;

  const failure = await monitor.ready();
  if (failure) {
    unforward();
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
    };
  });
  if (!o.attach) {
    monitor.release();
    return undefined;
  }
  const code = await monitor.exited();
  unforward();
  await finishAttached(engine, c, code);
  return code;
}

/** After an attached run: record the exit, or with --rm remove what is left of the container. */
async function finishAttached(engine: Engine, c: ContainerRecord, code: number): Promise<void> {
  if (c.config.autoRemove) {
    await removeContainerFiles(engine, c, false);
    return;
  }
  await engine.containers.update(c.id, (r) => {
    r.state = { ...r.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() };
  });
}
