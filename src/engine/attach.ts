import os from 'node:os';
import { connectAttach, type AttachStream } from '../runtime/monitor-client';
import { SkiffError } from '../util/errors';
import { parseDetachKeys } from './detach-keys';
import type { ContainerRecord } from './container-store';
import type { Engine } from './context';
import { refreshState } from './container-state';

/**
 * `attach` (and `start -a` of a running container): the container's output from now on, our
 * stdin to its stdin (when it keeps one open), through its monitor's attach socket. The detach
 * keys are watched here, on the client side: the container never sees them.
 */

export interface AttachOptions {
  /** forward our stdin (not --no-stdin) */
  stdin: boolean;
  /** forward the signals we receive to the container (--sig-proxy; Docker does so only without -t) */
  sigProxy: boolean;
  /** --detach-keys, Docker's format ("ctrl-p,ctrl-q") */
  detachKeys?: string;
  /**
   * `attach` reports the detach keys as Docker's does: "read escape sequence", exit 1; `start -a`
   * of a running container takes them as a normal end (exit 0), as Docker's start does.
   */
  detachIsSuccess?: boolean;
}

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Watches input for the detach sequence: returns what to pass on, holding back bytes that may
 * start the sequence (passed on once they turn out not to), and whether it was typed.
 */
export function detachKeyScanner(keys: Buffer): (chunk: Buffer) => { pass: Buffer; detach: boolean } {
  let matched = 0;
  return (chunk) => {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === keys[matched]) {
        matched++;
        if (matched === keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      for (let i = 0; i < matched; i++) out.push(keys[i]);
      matched = b === keys[0] ? 1 : 0;
      if (!matched) out.push(b);
    }
    return { pass: Buffer.from(out), detach: false };
  };
}

/** Attach to a running container; resolves with its exit code, or 1 after the detach keys (as Docker's attach). */
export async function attachContainer(engine: Engine, c: ContainerRecord, o: AttachOptions): Promise<number> {
  c = refreshState(engine, c);
  if (c.state.status !== 'running') throw new SkiffError('You cannot attach to a stopped container, start it first', 1);
  const keys = parseDetachKeys(o.detachKeys);
  const tty = c.config.tty;
  const forwardStdin = o.stdin && c.config.openStdin;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => { finish = resolve; });
  let stream: AttachStream;
  try {
    stream = await connectAttach(engine.containers.dir(c.id), {
      output: (s, d) => (s === 1 ? process.stdout : process.stderr).write(d),
      end: (code) => finish(code ?? exitCodeAfter(engine, c)),
    });
  } catch (e) {
    throw new SkiffError(`cannot attach to container ${c.name}: ${(e as Error).message}`);
  }

  const undo: (() => void)[] = [];
  const stdin = process.stdin;
  if (forwardStdin) {
    if (tty && stdin.isTTY) {
      stdin.setRawMode(true);
      undo.push(() => stdin.setRawMode(false));
    }
    // as Docker's: the keys are looked for only with a terminal in the container (-t)
    const scan = tty ? detachKeyScanner(keys) : (d: Buffer) => ({ pass: d, detach: false });
    const onData = (d: Buffer) => {
      const { pass, detach } = scan(d);
      if (pass.length) stream.sendStdin(pass);
      if (detach) {
        if (o.detachIsSuccess) finish(0);
        else {
          process.stderr.write('read escape sequence\n');
          finish(1);
        }
      }
    };
    stdin.on('data', onData);
    undo.push(() => { stdin.off('data', onData); stdin.pause(); });
  }
  if (tty && process.stdout.isTTY) {
    const resize = () => stream.resize(process.stdout.rows, process.stdout.columns);
    resize();
    process.stdout.on('resize', resize);
    undo.push(() => process.stdout.off('resize', resize));
  }
  if (o.sigProxy && !tty) {
    const forward = (sig: NodeJS.Signals) => stream.signal(os.constants.signals[sig]);
    for (const s of PROXIED_SIGNALS) process.on(s, forward);
    undo.push(() => { for (const s of PROXIED_SIGNALS) process.off(s, forward); });
  }
  const code = await done;
  for (const u of undo.reverse()) u();
  stream.close();
  return code;
}

/** The exit code when the monitor closed the socket without sending one (it was killed). */
function exitCodeAfter(engine: Engine, c: ContainerRecord): number {
  const fresh = engine.containers.get(c.id);
  return fresh ? refreshState(engine, fresh).state.exitCode ?? 0 : 0;
}
