// Typed wrapper for native/addon (skiff_native.node). The addon is loaded on first call, not at
// import time: most commands never need it, and dlopen (plus, inside the single executable,
// extraction on the very first run) would otherwise be paid by every command.

import { addonPath } from './assets';

interface NativeAddon {
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  unlockFd(fd: number): void;
  spawnDetached(file: string, argv: string[], stdio: number[], sealed: boolean): { pid: number; reportFd: number };
  spawnPiped(file: string, argv: string[]): PipedChild;
  waitPid(pid: number): number;
  tryWaitPid(pid: number): number;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signo: number): void;
  forwardTerminalSignals(pid: number): void;
  stopForwardingSignals(): void;
  readLine(fd: number): string;
}

/** A child started by spawnPiped: its pid and our ends of the pipes on its 0, 1, 2 (all O_CLOEXEC). */
export interface PipedChild { pid: number; stdin: number; stdout: number; stderr: number }

let addon: NativeAddon | undefined;

function load(): NativeAddon {
  if (addon) return addon;
  const file = addonPath();
  const mod = { exports: {} as NativeAddon };
  try {
    process.dlopen(mod, file);
  } catch (e) {
    throw new Error(`cannot load skiff's native addon ${file}: ${(e as Error).message}`);
  }
  return (addon = mod.exports);
}

/**
 * flock(2) on an open file descriptor, without waiting: true when the lock (shared unless
 * `exclusive`) is granted, false when it is held elsewhere. Other failures throw an Error with
 * `code` set to the errno name. There is deliberately no blocking form here: a wait in flock
 * would block the event loop; src/state/lock.ts waits by trying again.
 */
export function tryFlock(fd: number, exclusive: boolean): boolean {
  return load().flock(fd, exclusive, false);
}

/** Release a lock taken with tryFlock() (closing the fd releases it as well). */
export function unlock(fd: number): void {
  load().unlockFd(fd);
}

/**
 * Start `file` with posix_spawn in a new session (cheaper than child_process.spawn, which
 * forks all of Node). stdio: fds for the child's 0, 1, 2 (-1 = /dev/null). The child's fd 3 is
 * a pipe whose read end is returned: it reaches EOF when the child has exited. `sealed`: run a
 * sealed in-memory copy of `file` instead (for the monitor: see native/helper/sealed_exe.c).
 */
export function spawnDetached(file: string, argv: string[], stdio: [number, number, number],
  opts: { sealed?: boolean } = {}): { pid: number; reportFd: number } {
  return load().spawnDetached(file, argv, stdio, opts.sealed ?? false);
}

/**
 * Start `file` with posix_spawn in the caller's session (it dies with the terminal, as a
 * child_process.spawn'ed child would), with pipes on its stdin, stdout and stderr, and default
 * signal dispositions. Returns the pid and the parent's pipe ends; reap it with tryWaitPid.
 */
export function spawnPiped(file: string, argv: string[]): PipedChild {
  return load().spawnPiped(file, argv);
}

/** Reap a child started with spawnDetached; its exit code, or 128+N if killed by signal N. */
export function waitPid(pid: number): number {
  return load().waitPid(pid);
}

/** waitPid without blocking: -1 while the child is still running. */
export function tryWaitPid(pid: number): number {
  return load().tryWaitPid(pid);
}

/**
 * A pidfd for `pid` (O_CLOEXEC; close it with fs.closeSync): it names that one process even
 * after the pid is reused. Throws an Error with `code` ESRCH when there is no such process.
 */
export function pidfdOpen(pid: number): number {
  return load().pidfdOpen(pid);
}

/** Send signal number `signo` to the process a pidfd names; ESRCH once it has exited. */
export function pidfdSendSignal(pidfd: number, signo: number): void {
  load().pidfdSendSignal(pidfd, signo);
}

/**
 * Until the returned function is called, the signals a terminal or a user sends us (INT, TERM,
 * HUP, QUIT, USR1, USR2, WINCH) go to child `pid` from a handler in the addon, not through the
 * event loop: for callers that block in readLine() and waitPid() while the child runs. Node's
 * own handlers for those signals are set aside meanwhile and put back by the returned function.
 */
export function forwardTerminalSignals(pid: number): () => void {
  const a = load();
  a.forwardTerminalSignals(pid);
  return () => a.stopForwardingSignals();
}

/** The first line on `fd`, without its newline, or what came before EOF; blocks until then. */
export function readLine(fd: number): string {
  return load().readLine(fd);
}
