import { spawn, type StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { helperPath } from '../native/assets';
import { SkiffError } from '../util/errors';
import { helperNamespaceArgs, type UserNamespacePlan } from './userns';

/** argv for skiff-helper in MODE, inside the user namespace when `userns` is given. */
export function helperArgv(userns: UserNamespacePlan | undefined, mode: string[]): string[] {
  return [...helperNamespaceArgs(userns), ...mode];
}

export interface HelperRun {
  stdin: Writable;
  /** resolves with what the helper printed on stdout when it exited 0; rejects with its one-line error otherwise */
  done: Promise<string>;
}

/** Start skiff-helper with a pipe on stdin (apply-tar reads the layer from it). */
export function startHelper(userns: UserNamespacePlan | undefined, mode: string[], what: string): HelperRun {
  const child = spawn(helperPath(), helperArgv(userns, mode), { stdio: ['pipe', 'pipe', 'pipe'] as StdioOptions });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', (e) => reject(new SkiffError(`${what}: cannot start skiff-helper: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      const lines = stderr.trim().split('\n').filter(Boolean);
      // Notes (skipped devices...) come first; the failure is the last line.
      const reason = lines.at(-1)?.replace(/^skiff-helper: /, '') ?? `exited with ${signal ?? code}`;
      reject(new SkiffError(`${what}: ${reason}`));
    });
  });
  return { stdin: child.stdin!, done };
}

/** Run a helper mode that needs no input and wait for it. */
export async function runHelper(userns: UserNamespacePlan | undefined, mode: string[], what: string, input?: Readable): Promise<void> {
  const run = startHelper(userns, mode, what);
  if (input) input.pipe(run.stdin);
  else run.stdin.end();
  await run.done;
}
