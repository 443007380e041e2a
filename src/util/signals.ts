import os from 'node:os';
import { SkiffError } from './errors';

/**
 * Signal names as users type them for `stop -s`, `kill -s`, `--stop-signal` and an image's
 * StopSignal: `TERM`, `SIGTERM`, `sigterm`, `15`, `SIGRTMIN+3` (Docker's signal.ParseSignal).
 * Returns the number; a name or number Linux does not know is one clear error.
 */
export function parseSignal(text: string): number {
  const s = text.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = s.startsWith('SIG') ? s : `SIG${s}`;
    const rt = /^SIGRT(MIN|MAX)([+-]\d+)?$/.exec(name);
    if (rt) {
      // glibc's SIGRTMIN is 34 (the C library keeps 32 and 33); SIGRTMAX is 64.
      const n = (rt[1] === 'MIN' ? 34 : 64) + Number(rt[2] ?? 0);
      if (n >= 34 && n <= 64) return n;
    } else {
      const n = (os.constants.signals as Record<string, number>)[name];
      if (n) return n;
    }
  }
  throw new SkiffError(`Invalid signal: ${text}`);
}

/** The usual name of a signal number (SIGTERM for 15), for messages; the number when it has none. */
export function signalName(n: number): string {
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : String(n);
}
