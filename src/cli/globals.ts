import type { GlobalOptions } from '../engine/context';

/**
 * Options accepted before the command name (`skiff --root DIR run ...`), as Podman's. They are
 * taken off argv in main.ts so that every clipanion command stays about its own flags.
 */
export const GLOBAL_OPTIONS = [
  { flag: '--root', key: 'root', description: 'Storage root directory (default: $XDG_DATA_HOME/skiff, or /var/lib/skiff as root)' },
  { flag: '--runroot', key: 'runroot', description: 'State directory for running containers (default: $XDG_RUNTIME_DIR/skiff, else /run/user/UID/skiff or $TMPDIR/skiff-UID; /run/skiff as root)' },
  { flag: '--storage-driver', key: 'storageDriver', description: 'Storage driver: overlay, fuse-overlayfs or vfs (default: the best that works here)' },
  { flag: '--log-level', key: 'logLevel', description: 'Set the logging level ("debug", "info", "warn", "error", "fatal"; "debug" shows stack traces of errors)' },
] as const;

export interface ParsedGlobals extends GlobalOptions { logLevel?: string }

let current: ParsedGlobals = {};

export function setGlobals(g: ParsedGlobals): void { current = g; }
export function globals(): ParsedGlobals { return current; }

/** logrus's levels, which docker-cli's --log-level accepts (case does not matter, as ParseLevel). */
const LOG_LEVELS = ['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace'];

/** Is `level` given and not a level docker-cli would accept? */
export function invalidLogLevel(level: string | undefined): boolean {
  return level !== undefined && !LOG_LEVELS.includes(level.toLowerCase());
}

/** Split leading global options from argv. Returns the rest, or an error message. */
export function extractGlobals(argv: string[]): { globals: ParsedGlobals; rest: string[] } | { error: string } {
  const g: Record<string, string> = {};
  let i = 0;
  while (i < argv.length && argv[i].startsWith('--')) {
    const [flag, inline] = argv[i].split('=', 2);
    const def = GLOBAL_OPTIONS.find((o) => o.flag === flag);
    if (!def) break;
    const value = inline ?? argv[i + 1];
    if (value === undefined) return { error: `flag needs an argument: ${flag}` };
    g[def.key] = value;
    i += inline === undefined ? 2 : 1;
  }
  return { globals: g as ParsedGlobals, rest: argv.slice(i) };
}
