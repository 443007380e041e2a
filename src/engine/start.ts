import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { spawnDetached, waitPid } from '../native/addon';
import { helperPath } from '../native/assets';
import { helperArgv } from '../native/helper';
import { buildOciSpec } from '../runtime/oci-spec';
import { encodeMonitorSpec } from '../runtime/monitor-spec';
import { seccompProgramHex } from '../runtime/seccomp/program';
import { SkiffError } from '../util/errors';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';
import { processStartTime } from './lost-container';
import { removeContainerFiles } from './remove';
import { rootfsMount, rootfsStorageDirs } from './rootfs';

export interface StartOptions {
  /** stay attached: stdio passes through, return the exit code */
  attach: boolean;
  /** forward our stdin (docker start -i / run -i) */
  interactive: boolean;
}

/** The file names the monitor writes into the container dir. */
export const MONITOR_FILES = { spec: 'monitor.spec', config: 'config.json', pid: 'pid', exit: 'exit', log: 'ctr.log' };

function gidMapped(engine: Engine, gid: number): boolean {
  const map = engine.userns?.gidMap;
  return !map || map.some((r) => gid >= r.container && gid < r.container + r.size);
}

/** Write config.json (the OCI contract, for inspection) and the monitor's flat spec. */
async function writeSpecs(engine: Engine, c: ContainerRecord, attach: boolean): Promise<string> {
  const dir = engine.containers.dir(c.id);
  const layers = await engine.layers();
  const { target, mount } = rootfsMount(engine, layers, c);
  const spec = buildOciSpec({
    rootfs: target, hostname: c.config.hostname, args: [c.path, ...c.args], env: c.config.env,
    cwd: c.config.cwd, user: c.config.user, tty: c.config.tty, network: c.config.network,
    rootless: engine.paths.rootless, ttyGroupMapped: gidMapped(engine, 5), security: c.config.security,
    etcFiles: { hostname: path.join(dir, 'hostname'), hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf') },
  });
  // --rm: attached, skiff removes the record itself after the exit; detached, the monitor
  // removes everything, record included, under the lock skiff holds to write records.
  const removesRecord = c.config.autoRemove && !attach;
  const cleanup = !c.config.autoRemove ? [] : attach ? rootfsStorageDirs(engine, c) : [dir];
  const seccompProgram = spec.linux.seccomp && await seccompProgramHex(spec.linux.seccomp, spec.process.capabilities.bounding);
  const flat = encodeMonitorSpec(spec, {
    rootfsMount: mount, keepStdin: c.config.openStdin && (attach || false), readyFd: 3,
    pidFile: path.join(dir, MONITOR_FILES.pid), exitFile: path.join(dir, MONITOR_FILES.exit), cleanup, seccompProgram,
    lockFile: removesRecord ? engine.containers.lockFile : undefined,
  });
  fs.writeFileSync(path.join(dir, MONITOR_FILES.config), JSON.stringify(spec, null, 2));
  const specFile = path.join(dir, MONITOR_FILES.spec);
  fs.writeFileSync(specFile, flat);
  return specFile;
}

/**
 * The monitor's report pipe (its fd 3): a first line "ok" or "err CODE message" once the
 * command has exec'd (or failed to), then EOF when the monitor exits.
 */
function watchReports(fd: number): { firstLine: Promise<string>; closed: Promise<void>; stop(): void } {
  const sock = new net.Socket({ fd, readable: true, writable: false });
  let text = '';
  let gotLine: (s: string) => void = () => undefined;
  const firstLine = new Promise<string>((resolve) => { gotLine = resolve; });
  const closed = new Promise<void>((resolve) => {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => { text += d; if (text.includes('\n')) gotLine(text.split('\n')[0].trim()); });
    sock.on('error', () => undefined);
    sock.on('close', () => { gotLine(text.trim()); resolve(); });
  });
  return { firstLine, closed, stop: () => sock.destroy() };
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

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
  fs.rmSync(path.join(dir, MONITOR_FILES.exit), { force: true });
  const specFile = await writeSpecs(engine, c, o.attach);
  const wantsStdin = o.attach && (o.interactive || c.config.tty);
  let logFd: number | undefined;
  if (!o.attach) logFd = fs.openSync(path.join(dir, MONITOR_FILES.log), 'a', 0o600);
  const stdio: [number, number, number] = o.attach ? [wantsStdin ? 0 : -1, 1, 2] : [-1, logFd!, logFd!];
  // Its own session: terminal signals reach us, and we forward them exactly once.
  let child: { pid: number; reportFd: number };
  try {
    // Sealed: the container must not reach the helper's file through /proc/self/exe.
    child = spawnDetached(helperPath(), ['skiff-helper', ...helperArgv(engine.userns, ['monitor', specFile])], stdio, { sealed: true });
  } catch (e) {
    throw new SkiffError(`cannot start container ${c.name}: ${(e as Error).message}`);
  } finally {
    if (logFd !== undefined) fs.closeSync(logFd);
  }
  const reports = watchReports(child.reportFd);
  const exited = async () => { await reports.closed; return waitPid(child.pid); };
  const forward = (sig: NodeJS.Signals) => { try { process.kill(child.pid, sig); } catch { /* gone */ } };
  if (o.attach) for (const s of FORWARDED_SIGNALS) process.on(s, forward);

  const ready = await reports.firstLine;
  if (ready !== 'ok') {
    const code = await exited();
    const m = /^err (\d+) (.*)$/.exec(ready);
    await finishAttached(engine, c, code);
    throw new SkiffError(m ? m[2] : `container ${c.name} failed to start (monitor exit ${code})`, m ? Number(m[1]) : 125);
  }
  // A detached --rm container may already have ended and been removed by its monitor (it
  // takes containers.lock for that): then there is no pid file, and update() finds no record
  // and writes none, so a removed container is never brought back.
  let pid: number | undefined;
  try { pid = Number(fs.readFileSync(path.join(dir, MONITOR_FILES.pid), 'utf8')) || undefined; } catch { /* removed */ }
  await engine.containers.update(c.id, (r) => {
    r.state = {
      status: 'running', pid, pidStart: pid ? processStartTime(pid) : undefined,
      monitorPid: child.pid, monitorStart: processStartTime(child.pid), startedAt: new Date().toISOString(),
    };
  });
  if (!o.attach) {
    reports.stop();
    return undefined;
  }
  const code = await exited();
  for (const s of FORWARDED_SIGNALS) process.off(s, forward);
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
