import { matchCommandPath } from './command-match';
import { extractGlobals } from './globals';

/**
 * Which of the single executable's V8 code caches suits a command line (src/sea-main.ts).
 *
 * The build runs a few commands (build/code-cache.mjs) and keeps, for each, a code cache made
 * after the run: it holds the bytecode of every function that command compiled, which Node's
 * own SEA code cache (made right after compiling, before anything runs) does not. A cache holds
 * only one run's functions, and deserialising functions a command never calls costs start-up
 * too, so each command gets the cache of the run that looks like it; the rest get the one made
 * before anything ran. Only start-up speed depends on this choice: with any cache, or none, the
 * bundle runs the same.
 */

/** Cache name by command path as typed ('ps', 'container ls', '--version'), made by the build. */
export type CodeCacheIndex = Readonly<Record<string, string>>;

/** The cache made right after compiling the bundle, before any command ran. */
export const COLD_CODE_CACHE = 'cold';

/** The SEA asset that holds the cache `name`. */
export const codeCacheAsset = (name: string): string => `code-cache/${name}`;

/** The cache for `argv` (the arguments after the executable): the longest indexed path it starts with. */
export function codeCacheFor(argv: readonly string[], index: CodeCacheIndex): string {
  const parsed = extractGlobals([...argv]);
  if ('error' in parsed) return COLD_CODE_CACHE;
  const found = matchCommandPath(parsed.rest, Object.entries(index).map(([p, name]) => ({ paths: [p.split(' ')], name })));
  return 'entry' in found ? found.entry.name : COLD_CODE_CACHE;
}
