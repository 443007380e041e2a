import fs from 'node:fs';
import path from 'node:path';
import { forwardTerminalSignals, readLine, spawnDetached, waitPid } from '../native/addon';
import { helperPath, monitorPath } from '../native/assets';
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
  /** --restart: "COUNT running|restarting", rewritten by the monitor at each run and back-off */
  restart: 'restart',
  /** present = the user stopped the container: its monitor must not restart it */
  userStop: 'stopped-by-user',
  /** `update --restart` of a running container: "POLICY MAX", read by its monitor at each exit */
  policy: 'restart-policy',
  /** the monitor's socket for `attach` clients */
  attach: 'attach',
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

/**
 * The monitor's --restart state: restarts so far, whether it is waiting to restart now, and when
 * its current (or last) run started (Docker renews StartedAt at each restart).
 */
export function readRestartState(containerDir: string): { count: number; restarting: boolean; startedAt: string } | undefined {
  let text: string;
  try { text = fs.readFileSync(monitorFile(containerDir, 'restart'), 'utf8'); } catch { return undefined; }
  const m = /^(\d+) (running|restarting) (\d+)\n$/.exec(text);
  return m ? { count: Number(m[1]), restarting: m[2] === 'restarting', startedAt: new Date(Number(m[3])).toISOString() } : undefined;
}

/**
 * A stop by the user (`stop`, `kill`, `rm -f`): call this BEFORE signalling the container, so
 * that its monitor, seeing the container exit, does not restart it whatever its --restart
 * policy (Docker: a manual stop suspends the policy until the next start). The monitor also
 * looks for the file while it waits out a back-off, so a container between two runs (no
 * process to signal) stops within 100 ms; signalling the monitor itself (SIGTERM) ends a
 * back-off at once. `start` clears it (clearStoppedByUser).
 */
export function markStoppedByUser(containerDir: string): void {
  fs.writeFileSync(monitorFile(containerDir, 'userStop'), '');
}

/** A new start puts the restart policy back in force (and starts the restart count over). */
export function clearStoppedByUser(containerDir: string): void {
  fs.rmSync(monitorFile(containerDir, 'userStop'), { force: true });
  fs.rmSync(monitorFile(containerDir, 'restart'), { force: true });
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
  /**
   * Attached with detach keys: the exit code as exited(), or 'detached' when the user typed the
   * keys (the monitor let go of the terminal and runs on: release() it, it is not ours to reap).
   */
  exitedOrDetached(): Promise<number | 'detached'>;
  /** Forward the signals a terminal sends us to the monitor (which passes them on); returns the undo. */
  forwardSignals(): () => void;
  /** Stop watching (detached runs): the monitor lives on, and is no longer ours to reap. */
  release(): void;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * Start the monitor for SPECFILE in its own session (terminal signals reach us, and we forward
 * them exactly once), with stdio from the given fds (-1: /dev/null) and the report pipe on its
 * fd 3. Sealed: it runs from a memfd copy of skiff-monitor, so the container cannot reach the
 * executable's file through /proc/self/exe. Throws when it cannot be started.
 */
export function spawnMonitor(userns: UserNamespacePlan | undefined, specFile: string, stdio: [number, number, number]): MonitorProcess {
  return spawnSealedHelper(monitorPath(), helperArgv(userns, ['monitor', specFile]), stdio);
}

/**
 * Start a helper that lives on after us and reports `ok` or `err CODE message` on its fd 3 as
 * the monitor does: `net-holder`, the keeper of the user networks' namespace (net_holder.c).
 * After `ok` call release(): it closes fd 3 and runs on.
 */
export function spawnReportingHelper(userns: UserNamespacePlan | undefined, mode: string[], stdio: [number, number, number]): MonitorProcess {
  return spawnSealedHelper(helperPath(), helperArgv(userns, mode), stdio);
}

/**
 * Start `skiff-helper exec SPECFILE` (a process in a running container; native/PROTOCOL.md) the
 * way the monitor is started: own session, sealed, report pipe on fd 3. It joins the container's
 * namespaces itself, so it gets no namespace options. Its exit code is the command's; 3 before
 * `ok` means the container is no longer running.
 */
export function spawnExec(specFile: string, stdio: [number, number, number], target?: { pid: number; start: string }): MonitorProcess {
  return spawnSealedHelper(monitorPath(), ['exec', specFile, ...(target ? [String(target.pid), target.start] : [])], stdio);
}

/**
 * `skiff-helper exec SPECFILE` run to its end without the event loop: exec has nothing to do
 * while its command runs (the helper has our stdio and does all the copying), so it blocks in the
 * addon, which also forwards the terminal's signals to the helper when `forwardSignals`. That
 * spares exec's start-up the stream, net and tty modules an asynchronous wait needs.
 * `onReport` runs once the helper has reported (it has read the spec by then). Throws when the
 * helper cannot be started.
 */
export function runExec(specFile: string, stdio: [number, number, number], opts: { forwardSignals: boolean; onReport(): void }): { failure?: MonitorFailure; code: number } {
  const child = spawnDetached(monitorPath(), ['skiff-helper', 'exec', specFile], stdio, { sealed: true });
  const stopForwarding = opts.forwardSignals ? forwardTerminalSignals(child.pid) : () => undefined;
  try {
    let line: string;
    try {
      line = readLine(child.reportFd).trim();
    } finally {
      fs.closeSync(child.reportFd); // the helper writes nothing after its line
    }
    opts.onReport();
    const code = waitPid(child.pid); // the command's exit code once `ok` came; else the helper's
    return line === 'ok' ? { code } : { code, failure: reportedFailure(line, code) };
  } finally {
    stopForwarding();
  }
}

/** A report line other than `ok` ("err CODE message", or nothing) and the helper's exit code. */
function reportedFailure(line: string, monitorExit: number): MonitorFailure {
  const m = /^err (\d+) (.*)$/.exec(line);
  return m ? { monitorExit, code: Number(m[1]), message: m[2] } : { monitorExit };
}

/** FILE: monitorPath() for the modes monitor and exec, helperPath() for the others. */
function spawnSealedHelper(file: string, args: string[], stdio: [number, number, number]): MonitorProcess {
  const child = spawnDetached(file, ['skiff-helper', ...args], stdio, { sealed: true });
  const reports = watchReports(child.reportFd);
  let reaped: Promise<number> | undefined;
  const exited = () => (reaped ??= reports.closed.then(() => reapChild(child.pid)));
  return {
    pid: child.pid,
    exited,
    async exitedOrDetached() {
      // the `detached` line comes before the pipe closes: the race sees it first
      const end = await Promise.race([reports.detached.then(() => 'detached' as const), reports.closed.then(() => 'closed' as const)]);
      return end === 'detached' ? end : exited();
    },
    async ready() {
      const line = await reports.firstLine;
      if (line === 'ok') return undefined;
      return reportedFailure(line, await exited());
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
 * command has exec'd (or failed to), then EOF when the monitor exits; or, attached with detach
 * keys, a line "detached" and EOF while the monitor runs on.
 * Read with fs.read (a blocking read on libuv's thread pool; the pipe is not O_NONBLOCK), not a
 * net.Socket: loading net, and the streams it brings, cost every `run` ~6 ms of CPU at start-up
 * (docs/PERFORMANCE.md), and a net socket's teardown creates process.stderr as well. A read
 * holds one of the pool's threads until the monitor writes or exits, so stop() (a detached run
 * that no longer waits) wakes it by writing a newline into the pipe through /proc/self/fd:
 * released monitors must not pile up on the pool's four threads (`start` of many containers).
 */
function watchReports(fd: number): { firstLine: Promise<string>; detached: Promise<void>; closed: Promise<void>; stop(): void } {
  let text = '';
  let stopped = false;
  let fdClosed = false;
  let gotLine: (s: string) => void = () => undefined;
  const firstLine = new Promise<string>((resolve) => { gotLine = resolve; });
  let gotDetached: () => void = () => undefined;
  const detached = new Promise<void>((resolve) => { gotDetached = resolve; });
  const closed = new Promise<void>((resolve) => {
    const buf = Buffer.allocUnsafe(512);
    const readMore = (): void => {
      fs.read(fd, buf, 0, buf.length, null, (err, n) => {
        if (!stopped && (err ? err.code === 'EINTR' : n > 0)) {
          if (!err) {
            text += buf.toString('latin1', 0, n); // the lines are ASCII
            const lines = text.split('\n');
            if (lines.length > 1) gotLine(lines[0].trim());
            if (lines.slice(1, -1).includes('detached')) gotDetached();
          }
          readMore();
          return;
        }
        fdClosed = true; // before the close: stop() must never open what reuses this number
        fs.close(fd, () => undefined);
        gotLine(text.trim());
        resolve();
      });
    };
    readMore();
  });
  const stop = (): void => {
    if (stopped || fdClosed) return;
    stopped = true;
    try {
      const w = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      try { fs.writeSync(w, '\n'); } finally { fs.closeSync(w); }
    } catch { /* the pending read still ends when the monitor exits */ }
  };
  return { firstLine, detached, closed, stop };
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

/** Frame types of the attach socket (native/helper/attach.c, native/PROTOCOL.md). */
const FRAME = { stdin: 0, stdout: 1, stderr: 2, exit: 3, resize: 4, signal: 5, dns: 6, net: 7 } as const;

/** A connection to a running container's stdio through its monitor's attach socket. */
export interface AttachStream {
  sendStdin(data: Buffer): void;
  resize(rows: number, cols: number): void;
  signal(signo: number): void;
  close(): void;
}

export interface AttachHandlers {
  output(stream: 1 | 2, data: Buffer): void;
  /** the container exited (its code), or the monitor went away without saying (undefined) */
  end(exitCode: number | undefined): void;
}

function frame(type: number, data: Buffer): Buffer {
  const h = Buffer.allocUnsafe(5);
  h[0] = type;
  h.writeUInt32BE(data.length, 1);
  return Buffer.concat([h, data]);
}

/** A parser of the attach socket's frames as they arrive in chunks. */
function frameReader(onFrame: (type: number, data: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (d) => {
    pending = pending.length ? Buffer.concat([pending, d]) : d;
    while (pending.length >= 5) {
      const n = pending.readUInt32BE(1);
      if (pending.length < 5 + n) break;
      onFrame(pending[0], pending.subarray(5, 5 + n));
      pending = pending.subarray(5 + n);
    }
  };
}

/** The attach socket of a container directory, through the directory's fd: the full path can exceed a socket address's 108 bytes. */
function connectSocket(containerDir: string) {
  const net = process.getBuiltinModule('node:net');
  const dirFd = fs.openSync(containerDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const sock = net.connect({ path: `/proc/self/fd/${dirFd}/${MONITOR_FILES.attach}` });
  let open = true; // closed once, at connect or the first error: the number may be reused after
  const closeDir = () => { if (open) { open = false; fs.closeSync(dirFd); } };
  sock.once('connect', closeDir);
  sock.once('error', closeDir);
  return sock;
}

/**
 * Tell a running container's monitor that its later --restart runs attach a user network
 * (`attach` and the fields of a `net-attach` record and the users lock) or no longer do
 * (`detach IFNAME`): a frame 7 on its attach socket, answered with a frame 7, `ok` or why not.
 * Rejects with the monitor's reason, or when it does not answer within `timeoutMs`.
 */
export function tellMonitorNetworks(containerDir: string, fields: string[], timeoutMs = 10_000): Promise<void> {
  return tellMonitor(containerDir, FRAME.net, fields, timeoutMs);
}

/**
 * Tell a container's monitor, in a --restart back-off, the configuration of the embedded DNS
 * server its next runs start (`dns-connect`'s fields without its sockets, which each run's init
 * makes): a frame 6, answered with a frame 6. A monitor whose run is under way refuses it (the
 * run needs the sockets made in its namespace: dns-connect).
 */
export function tellMonitorDns(containerDir: string, fields: string[], timeoutMs = 10_000): Promise<void> {
  return tellMonitor(containerDir, FRAME.dns, fields, timeoutMs);
}

/** One frame of NUL-terminated FIELDS to the monitor, and its answer, a frame of the same type. */
function tellMonitor(containerDir: string, type: number, fields: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connectSocket(containerDir);
    const done = (e?: Error) => { clearTimeout(timer); sock.destroy(); if (e) reject(e); else resolve(); };
    const timer = setTimeout(() => done(new Error('the container\'s monitor did not answer')), timeoutMs);
    sock.on('connect', () => sock.write(frame(type, Buffer.from(fields.map((f) => `${f}\0`).join('')))));
    sock.on('data', frameReader((t, data) => {
      if (t === type) done(data.toString() === 'ok' ? undefined : new Error(data.toString()));
      else if (t === FRAME.exit) done(new Error('the container stopped'));
    }));
    sock.on('error', (e) => done(e));
    sock.on('close', () => done(new Error('the container\'s monitor closed the connection')));
  });
}

/**
 * Connect to the attach socket in a container directory. Rejects when there is none to
 * connect to (the container is not running, or its monitor predates attach).
 */
export function connectAttach(containerDir: string, on: AttachHandlers): Promise<AttachStream> {
  return new Promise((resolve, reject) => {
    const sock = connectSocket(containerDir);
    let exitCode: number | undefined;
    let connected = false;
    sock.on('connect', () => {
      connected = true;
      const send = (type: number, data: Buffer) => { if (!sock.destroyed) sock.write(frame(type, data)); };
      resolve({
        sendStdin: (d) => { for (let i = 0; i < d.length; i += 65536) send(FRAME.stdin, d.subarray(i, i + 65536)); },
        resize: (rows, cols) => send(FRAME.resize, Buffer.from(`${rows} ${cols}`)),
        signal: (signo) => send(FRAME.signal, Buffer.from(String(signo))),
        close: () => sock.destroy(),
      });
    });
    sock.on('data', frameReader((type, data) => {
      if (type === FRAME.stdout || type === FRAME.stderr) on.output(type, data);
      else if (type === FRAME.exit) exitCode = Number(data.toString());
    }));
    sock.on('error', (e) => {
      if (!connected) reject(e);
    });
    sock.on('close', () => { if (connected) on.end(exitCode); });
  });
}
