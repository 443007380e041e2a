import type { BuildReporter, BuildStepReport } from '../../engine/build';
import { LiveBuildView, type TerminalStream } from './build-live-view';

/** `--progress`: Docker's values (rawjson is not offered). */
export const PROGRESS_MODES = ['auto', 'plain', 'tty', 'quiet'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** The lines Docker keeps of a failed step's output in its error box. */
const FAILURE_TAIL = 10;

export interface BuildProgressView extends BuildReporter {
  /** After a success: the live view's closing frame and the warnings it held back. */
  finish(): void;
  /** After a failure: the failed step's box (and, quiet, everything that was held back). */
  failed(): void;
}

const secs = (ms: number) => (ms / 1000).toFixed(1);

/**
 * The build's progress on STREAM (stderr), as BuildKit draws it:
 *  - plain: `#N LABEL`, the command's output as `#N 0.123 line` (seconds since the step began),
 *    `#N CACHED` or `#N DONE 0.3s`, a blank line between steps;
 *  - tty on a terminal: the live view redrawn in place (build-live-view.ts); `--progress tty`
 *    elsewhere: one `=> [2/3] RUN …  0.3s` line per finished step (`=> CACHED …`), no control
 *    sequences, a step's output shown only when it fails;
 *  - quiet: nothing, unless the build fails: then everything, as plain.
 * `auto` is tty on a terminal and plain elsewhere.
 */
export function buildProgress(mode: ProgressMode, stream: NodeJS.WritableStream & TerminalStream & { isTTY?: boolean }): BuildProgressView {
  const effective = mode === 'auto' ? (stream.isTTY ? 'tty' : 'plain') : mode;
  if (effective === 'tty' && stream.isTTY) return liveProgress(stream);
  let held = '';
  const write = (text: string) => {
    if (effective === 'plain') stream.write(text);
    else if (effective === 'quiet') held += text;
  };
  let n = 0;
  let failure: { label: string; tail: string[]; message: string } | undefined;
  return {
    step(label: string): BuildStepReport {
      const id = ++n;
      const started = Date.now();
      let partial = '';
      let finished = false;
      const tail: string[] = [];
      write(`#${id} ${label}\n`);
      const line = (l: string) => {
        tail.push(l);
        if (tail.length > FAILURE_TAIL) tail.shift();
        write(`#${id} ${((Date.now() - started) / 1000).toFixed(3)} ${l}\n`);
      };
      const flush = () => { if (partial) { line(partial); partial = ''; } };
      return {
        cached() {
          if (finished) return;
          finished = true;
          write(`#${id} CACHED\n\n`);
          if (effective === 'tty') stream.write(`=> CACHED ${label}\n`);
        },
        output(chunk: Buffer) {
          const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
          partial = parts.pop() ?? '';
          for (const p of parts) line(p);
        },
        log(l: string) { write(`#${id} ${l}\n`); },
        done() {
          if (finished) return;
          finished = true;
          flush();
          const took = secs(Date.now() - started);
          write(`#${id} DONE ${took}s\n\n`);
          if (effective === 'tty') stream.write(`=> ${label}  ${took}s\n`);
        },
        failed(message: string) {
          if (finished) return;
          finished = true;
          flush();
          write(`#${id} ERROR: ${message}\n\n`);
          failure = { label, tail: [...tail], message };
        },
      };
    },
    warn(message: string) {
      stream.write(`WARNING: ${message}\n`);
    },
    finish() {},
    failed() {
      if (effective === 'quiet') stream.write(held);
      if (!failure) return;
      if (effective === 'tty') stream.write(`=> ERROR ${failure.label}\n`);
      stream.write(failureBox(failure.label, failure.tail));
    },
  };
}

/** BuildKit's box with a failed step's last output lines, after the progress. */
function failureBox(label: string, tail: string[]): string {
  return `------\n > ${label}:\n${tail.map((l) => `${l}\n`).join('')}------\n`;
}

/** The live view as a BuildProgressView: warnings held until its closing frame is drawn. */
function liveProgress(stream: TerminalStream): BuildProgressView {
  const view = new LiveBuildView(stream);
  const warnings: string[] = [];
  let failure: { label: string; tail: () => string[] } | undefined;
  const close = () => {
    view.close();
    for (const w of warnings.splice(0)) stream.write(`WARNING: ${w}\n`);
  };
  return {
    step(label: string): BuildStepReport {
      const tail: string[] = [];
      const s = view.step(label, (line) => {
        tail.push(line);
        if (tail.length > FAILURE_TAIL) tail.shift();
      });
      return {
        ...s,
        failed(message: string) {
          s.failed(message);
          failure ??= { label, tail: () => [...tail] };
        },
      };
    },
    warn(message: string) { warnings.push(message); },
    finish: close,
    failed() {
      close();
      if (failure) stream.write(failureBox(failure.label, failure.tail()));
    },
  };
}
