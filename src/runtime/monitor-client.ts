import fs from 'node:fs';
import path from 'node:path';
import { spawnDetached } from '../native/addon';
import { helperPath } from '../native/assets';
import { helperArgv } from '../native/helper';
import { isSameLiveProcess } from './process-identity';
import { reapChild } from '../native/reap';
import type { UserNamespacePlan } from '../native/helper-namespace';

/**
 * The Node side of the container monitor (`skiff-helper monitor SPEC`, native/PROTOCOL.md):
 * starting it, its report pipe, signal forwarding, its exit, and the files it leaves in the
 * container directory. Engine verbs (start, rm, and the lifecycle verbs to come) compose these;
 * none of them speaks the protocol itself.
 */

/** The file names of a container directory that belong to the monitor (it reads or writes them). */
export const MONITOR_FILES = {
  spec: 'monitor.spec', config: 'config.json', pid: 'pid', exit: 'exit', log: 'ctr.log',
  healthSpec: 'health.spec', healthLog: 'health.log',
} as const;

/** The path of one of the monitor's files in a container directory. */
export function monitorFile(containerDir: string, which: keyof typeof MONITOR_FILES): string {
  return path.join(containerDir, MONITOR_FILES[which]);
}

/** The container's host PID as the monitor wrote it; undefined when there is no pid file (yet, or any more). */
export function readContainerPid(containerDir: string): number | undefined {
  try { return Number(fs.readFileSync(monitorFile(containerDir, 'pid'), 'utf8')) || undefined; } catch { return undefined; }
}

/** The exit code the monitor wrote when the container ended, and when; undefined when it wrote none. */
export function readExitFile(containerDir: string): { exitCode: number; finishedAt: string } | undefined {
  const file = monitorFile(containerDir, 'exit');
  try {
    const exitCode = Number(fs.readFileSync(file, 'utf8').trim());
    return { exitCode, finishedAt: fs.statSync(file).mtime.toISOString() };
  } catch {
    return undefined;
  }
}

/** Why a monitor did not get the container running: what it reported, and its own exit code. */
export interface MonitorFailure {
  /** the monitor's exit code (125 setup, 126, 127, ...) */
  monitorExit: number;
  /** from its `err CODE message` line; undefined when it exited without one */
  code?: number;
  message?: string;
}

/** A monitor we started: our child until it is reaped, so its PID cannot be reused meanwhile. */
export interface MonitorProcess {
  readonly pid: number;
  /** Resolves once the container has exec'd (undefined), or with the failure after reaping the monitor. */
  ready(): Promise<MonitorFailure | undefined>;
  /** The monitor's exit code (the container's, 128+N for signal N) once it has exited; reaps it. */
  exited(): Promise<number>;
  /** Forward the signals a terminal sends us to the monitor (which passes them on); returns the undo. */
  forwardSignals(): () => void;
  /** Stop watching (detached runs): the monitor lives on, and is no longer ours to reap. */
  release(): void;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * Start the monitor for SPECFILE in its own session (terminal signals reach us, and we forward
 * them exactly once), with stdio from the given fds (-1: /dev/null) and the report pipe on its
 * fd 3. Sealed: it runs from a memfd copy of the helper, so the container cannot reach the
 * helper's file through /proc/self/exe. Throws when it cannot be started.
 */
export function spawnMonitor(userns: UserNamespacePlan | undefined, specFile: string, stdio: [number, number, number]): MonitorProcess {
  return spawnSealedHelper(helperArgv(userns, ['monitor', specFile]), stdio);
}

/**
 * Start `skiff-helper exec SPECFILE` (a process in a running container; native/PROTOCOL.md) the
 * way the monitor is started: own session, sealed, report pipe on fd 3. It joins the container's
 * namespaces itself, so it gets no namespace options. Its exit code is the command's; 3 before
 * `ok` means the container is no longer running.
 */
export function spawnExec(specFile: string, stdio: [number, number, number], target?: { pid: number; start: string }): MonitorProcess {
  return spawnSealedHelper(['exec', specFile, ...(target ? [String(target.pid), target.start] : [])], stdio);
}

function spawnSealedHelper(args: string[], stdio: [number, number, number]): MonitorProcess {
  const child = spawnDetached(helperPath(), ['skiff-helper', ...args], stdio, { sealed: true });
  const reports = watchReports(child.reportFd);
  let reaped: Promise<number> | undefined;
  const exited = () => (reaped ??= reports.closed.then(() => reapChild(child.pid)));
  return {
    pid: child.pid,
    exited,
    async ready() {
      const line = await reports.firstLine;
      if (line === 'ok') return undefined;
      const monitorExit = await exited();
      const m = /^err (\d+) (.*)$/.exec(line);
      return m ? { monitorExit, code: Number(m[1]), message: m[2] } : { monitorExit };
    },
    forwardSignals() {
      // process.kill by PID is safe here: an unreaped child's PID cannot be given to another process.
      const forward = (sig: NodeJS.Signals) => { try { process.kill(child.pid, sig); } catch { /* gone */ } };
      for (const s of FORWARDED_SIGNALS) process.on(s, forward);
      return () => { for (const s of FORWARDED_SIGNALS) process.off(s, forward); };
    },
    release: () => reports.stop(),
  };
}

/**
 * The report pipe (the monitor's fd 3): a first line "ok" or "err CODE message" once the
 * command has exec'd (or failed to), then EOF when the monitor exits.
 */
function watchReports(fd: number): { firstLine: Promise<string>; closed: Promise<void>; stop(): void } {
  const sock = new (process.getBuiltinModule('node:net').Socket)({ fd, readable: true, writable: false });
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

/**
 * Wait for a monitor that is not our child (started by another skiff) to be gone, by its
 * recorded PID and start time; false when it still runs after `timeoutMs`.
 */
export async function waitForMonitorGone(pid: number | undefined, start: string | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isSameLiveProcess(pid, start)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
