/**
 * Transfer progress as Docker shows it: on a terminal one live line per layer
 * ("a3ed95caeb02: Downloading [=====>      ]  1.2MB/3.4MB"), drawn by cli-progress; otherwise
 * one plain line per change of state ("a3ed95caeb02: Pull complete"); nothing when quiet.
 */
import type { Writable } from 'node:stream';
import { humanSize } from '../util/format';

export interface LayerProgress {
  /** a state without a byte count: "Waiting", "Verifying Checksum", "Pull complete" … */
  state(text: string): void;
  /** a byte-counting state: "Downloading", "Extracting", "Pushing" */
  bytes(text: string, current: number, total: number): void;
}

export interface Progress {
  /** a line above the layer lines ("latest: Pulling from library/busybox") */
  line(text: string): void;
  layer(id: string): LayerProgress;
  /** stop drawing; later output is plain */
  done(): void;
}

export type ProgressMode = 'tty' | 'plain' | 'quiet';

const BAR_WIDTH = 50;

/** Docker's bar: `[=====>     ]`, always with the arrow (jsonmessage.go). */
export function bar(current: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR_WIDTH, Math.floor((current / total) * BAR_WIDTH)) : 0;
  return `[${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled)}]`;
}

function bytesText(current: number, total: number): string {
  return `${humanSize(current)}/${humanSize(total)}`;
}

/**
 * Bars that redraw in place need a terminal's control sequences: only on a terminal, and not
 * with NO_COLOR (no-color.org: set and not empty), which asks for plain output.
 */
export function progressMode(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): 'tty' | 'plain' {
  return isTTY && !env.NO_COLOR ? 'tty' : 'plain';
}

export async function createProgress(out: Writable & { isTTY?: boolean }, mode?: ProgressMode): Promise<Progress> {
  const m = mode ?? progressMode(out.isTTY);
  if (m === 'quiet') return { line() {}, layer: () => ({ state() {}, bytes() {} }), done() {} };
  if (m === 'plain') return plainProgress(out);
  return ttyProgress(out);
}

function plainProgress(out: Writable): Progress {
  return {
    line: (text) => { out.write(`${text}\n`); },
    layer(id) {
      let last = '';
      const say = (text: string) => {
        if (text !== last) out.write(`${id}: ${text}\n`);
        last = text;
      };
      // Byte counts would flood a log: only the state changes are written, as Docker does.
      return { state: say, bytes: (text) => say(text) };
    },
    done() {},
  };
}

async function ttyProgress(out: Writable): Promise<Progress> {
  const { MultiBar } = await import('cli-progress');
  const multi = new MultiBar({
    stream: out as NodeJS.WriteStream,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    autopadding: false,
    linewrap: false,
    fps: 10,
    format: (_opts, params, payload: { id: string; text: string; counting: boolean }) =>
      payload.counting
        ? `${payload.id}: ${payload.text} ${bar(params.value, params.total)} ${bytesText(params.value, params.total)}`
        : `${payload.id}: ${payload.text}`,
  });
  let stopped = false;
  return {
    // After done() the bars are gone and lines are written plainly.
    line: (text) => { if (stopped) out.write(`${text}\n`); else multi.log(`${text}\n`); },
    layer(id) {
      const b = multi.create(1, 0, { id, text: 'Waiting', counting: false });
      return {
        state: (text) => b.update({ text, counting: false }),
        bytes: (text, current, total) => { b.setTotal(total || 1); b.update(current, { text, counting: true }); },
      };
    },
    done: () => {
      if (!stopped) multi.stop();
      stopped = true;
    },
  };
}
