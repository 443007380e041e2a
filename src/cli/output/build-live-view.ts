import type { BuildStepReport } from '../../engine/build';

/**
 * The build's live view on a terminal (`--progress tty`, and `auto` when stderr is one), drawn
 * as BuildKit's: a `[+] Building 2.1s (3/5)` header, then one line per step with its time on
 * the right (`=> CACHED …`, `=> ERROR …`), the running steps' last output lines under them
 * (`=> => # …`) and the lines a step logs (`=> => writing image …`). The frame is redrawn in
 * place (cursor up, erase to the end of each line) on every event and ten times a second for
 * the running timers. No colours: only cursor movement, and only on a terminal.
 *
 * Lines are cut to the terminal's width, so none wraps and the cursor arithmetic holds; while
 * the build runs, a frame taller than the terminal shows the header and its newest lines
 * (cursor-up cannot reach above the screen), and the closing frame is drawn whole.
 */

/** How many of a running step's output lines BuildKit shows under it. */
const OUTPUT_LINES = 6;
const TICK_MS = 100;

interface LiveStep {
  label: string;
  started: number;
  ended?: number;
  state: 'running' | 'done' | 'cached' | 'error';
  /** the last output lines of the command (shown while it runs) */
  output: string[];
  partial: string;
  /** lines the step itself logged (kept under it) */
  logs: string[];
}

export interface TerminalStream extends NodeJS.WritableStream {
  columns?: number;
  rows?: number;
}

/** A command's output line as one line of the view: the text after its last \r, no control characters. */
function displayable(line: string): string {
  const afterCr = line.slice(line.lastIndexOf('\r') + 1);
  return afterCr.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x1f\x7f]/g, '');
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export class LiveBuildView {
  private readonly steps: LiveStep[] = [];
  private readonly started = Date.now();
  /** lines the last frame took on the screen (the cursor is below them) */
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly stream: TerminalStream) {}

  step(label: string, onLine: (line: string) => void): BuildStepReport & { tail(): string[] } {
    const s: LiveStep = { label, started: Date.now(), state: 'running', output: [], partial: '', logs: [] };
    this.steps.push(s);
    this.tick();
    const finish = (state: LiveStep['state']) => {
      if (s.state !== 'running') return false;
      if (s.partial) { this.outputLine(s, s.partial, onLine); s.partial = ''; }
      s.state = state;
      s.ended = Date.now();
      this.draw();
      return true;
    };
    return {
      cached: () => { finish('cached'); },
      output: (chunk: Buffer) => {
        const parts = (s.partial + chunk.toString('utf8')).split('\n');
        s.partial = parts.pop() ?? '';
        for (const p of parts) this.outputLine(s, p, onLine);
        this.draw();
      },
      log: (line: string) => { s.logs.push(line); this.draw(); },
      done: () => { finish('done'); },
      failed: () => { finish('error'); },
      tail: () => [...s.output],
    };
  }

  private outputLine(s: LiveStep, raw: string, onLine: (line: string) => void): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    onLine(line);
    s.output.push(displayable(line));
    if (s.output.length > OUTPUT_LINES) s.output.shift();
  }

  /** The closing frame, whole: `FINISHED` when nothing failed. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw(true);
    this.closed = true;
  }

  /** Keep the running timers moving while some step runs. */
  private tick(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      this.draw();
      if (!this.steps.some((s) => s.state === 'running') && this.timer) { clearInterval(this.timer); this.timer = undefined; }
    }, TICK_MS);
    this.timer.unref();
  }

  private frame(final: boolean): string[] {
    const now = Date.now();
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const fit = (text: string) => (text.length > width ? text.slice(0, width) : text);
    const withTime = (left: string, time: string) => {
      const room = width - time.length - 1;
      const l = left.length > room ? left.slice(0, room) : left;
      return `${l}${' '.repeat(width - l.length - time.length)}${time}`;
    };
    const finished = this.steps.filter((s) => s.state !== 'running').length;
    const failed = this.steps.some((s) => s.state === 'error');
    const lines = [fit(`[+] Building ${secs(now - this.started)} (${finished}/${this.steps.length})${final && !failed ? ' FINISHED' : ''}`)];
    for (const s of this.steps) {
      const prefix = s.state === 'cached' ? 'CACHED ' : s.state === 'error' ? 'ERROR ' : '';
      lines.push(withTime(` => ${prefix}${s.label}`, s.state === 'cached' ? '0.0s' : secs((s.ended ?? now) - s.started)));
      // a pull logs a line per layer and state: its newest ones, as for a command's output
      for (const l of s.logs.slice(-OUTPUT_LINES)) lines.push(fit(` => => ${l}`));
      if (s.state === 'running') for (const o of s.output) lines.push(fit(` => => # ${o}`));
    }
    if (final) return lines;
    const rows = this.stream.rows || 24; // 0: a pty nobody sized
    return lines.length < rows ? lines : [lines[0], ...lines.slice(lines.length - (rows - 2))];
  }

  private draw(final = false): void {
    if (this.closed) return;
    const lines = this.frame(final);
    // up to the frame's first line, then each line erased to its end; what the old frame had
    // below the new one is erased too
    let out = this.drawn ? `\x1b[${this.drawn}A\r` : '';
    for (const l of lines) out += `${l}\x1b[K\n`;
    out += '\x1b[J';
    this.stream.write(out);
    this.drawn = lines.length;
  }
}
