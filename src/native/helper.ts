import fs from 'node:fs';
import os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { helperPath } from './assets';
import { spawnDetached, spawnPiped, waitPid, type PipedChild } from './addon';
import { SkiffError } from '../util/errors';
import { reapChild } from './reap';
import { helperNamespaceArgs, type UserNamespacePlan } from './helper-namespace';

// net and stream are loaded when a helper's pipes are first wrapped, not with this module: ps
// and run load it and never do, and net is ~5 ms of start-up (docs/PERFORMANCE.md).
const net = () => process.getBuiltinModule('node:net');

/** argv for skiff-helper in MODE, inside the user namespace when `userns` is given. */
export function helperArgv(userns: UserNamespacePlan | undefined, mode: string[]): string[] {
  return [...helperNamespaceArgs(userns), ...mode];
}

export interface HelperRun {
  stdin: Writable;
  /** resolves with what the helper printed on stdout when it exited 0; rejects with its one-line error otherwise */
  done: Promise<string>;
}

/**
 * Start skiff-helper with a pipe on stdin (apply-tar reads the layer from it). It is started with
 * posix_spawn from the native addon, not child_process.spawn: that forks all of Node (page tables
 * of ~100 MB) before exec, ~20 ms of main-thread time per helper, and a pull starts one per layer.
 */
export function startHelper(userns: UserNamespacePlan | undefined, mode: string[], what: string): HelperRun {
  const file = helperPath();
  let child: PipedChild;
  try {
    child = spawnPiped(file, ['skiff-helper', ...helperArgv(userns, mode)]);
  } catch (e) {
    return notStarted(new SkiffError(`${what}: cannot start skiff-helper: ${file}: ${(e as Error).message.replace(/^posix_spawn: /, '')}`));
  }
  const stdin = new (net().Socket)({ fd: child.stdin, readable: false, writable: true });
  // A helper that refuses its input exits before reading all of it, and our next write fails with
  // EPIPE. Its own error (in `done`) says why; writers see EPIPE through their own 'error'
  // listeners or the destroyed stream, and without this one an unobserved EPIPE would crash skiff.
  stdin.on('error', () => {});
  const pid = child.pid;
  const done = Promise.all([readAll(child.stdout), readAll(child.stderr)]).then(async ([stdout, stderr]) => {
    const code = await reapChild(pid);
    // As child_process does on exit: a caller that never ended stdin must not keep its fd open.
    stdin.destroy();
    if (code === 0) return stdout;
    const lines = stderr.trim().split('\n').filter(Boolean);
    // Notes (skipped devices...) come first; the failure is the last line.
    const reason = lines.at(-1)?.replace(/^skiff-helper: /, '') ?? `exited with ${describeExit(code)}`;
    throw new SkiffError(`${what}: ${reason}`);
  });
  return { stdin, done };
}

/** Run a helper mode that needs no input and wait for it. */
export async function runHelper(userns: UserNamespacePlan | undefined, mode: string[], what: string, input?: Readable): Promise<void> {
  const run = startHelper(userns, mode, what);
  if (input) input.pipe(run.stdin);
  else run.stdin.end();
  await run.done;
}

/**
 * Run a helper mode to the end, blocking, with its output discarded; its exit code. For rare
 * clean-up inside synchronous code (a read-only command removing a lost --rm container).
 */
export function runHelperSync(userns: UserNamespacePlan | undefined, mode: string[]): number {
  const child = spawnDetached(helperPath(), ['skiff-helper', ...helperArgv(userns, mode)], [-1, -1, -1]);
  fs.closeSync(child.reportFd);
  return waitPid(child.pid);
}

/** A helper that could not be started: its stdin is already gone (writers get EPIPE at once). */
function notStarted(error: SkiffError): HelperRun {
  const stdin = new (process.getBuiltinModule('node:stream').Writable)({ write: (_chunk, _encoding, callback) => callback() });
  stdin.destroy();
  const done = Promise.reject(error);
  // Not an unhandled rejection while the caller is still busy with stdin: it awaits `done` later.
  done.catch(() => {});
  return { stdin, done };
}

/** Everything the helper writes on one of its output pipes, once it closed it (by exiting). */
function readAll(fd: number): Promise<string> {
  const pipe = new (net().Socket)({ fd, readable: true, writable: false });
  let text = '';
  pipe.setEncoding('utf8').on('data', (d: string) => { text += d; });
  // A read error ends the stream too ('close' follows 'error'); the exit status decides the outcome.
  pipe.on('error', () => {});
  return new Promise((resolve) => pipe.on('close', () => resolve(text)));
}

function describeExit(code: number): string {
  if (code <= 128) return String(code);
  return Object.entries(os.constants.signals).find(([, n]) => n === code - 128)?.[0] ?? String(code);
}
