import { matchCommandPath } from './command-match';
import { extractGlobals } from './globals';

/**
 * Which of the single executable's bundles, and which V8 code cache, suit a command line
 * (src/sea-main.ts).
 *
 * The commands that start most often (`ps`, `exec`, `run`, ...: WARM_RUNS in build/code-cache.mjs)
 * each have a slim bundle of their own (build/slim-bundle.mjs: main.ts with that command's
 * modules alone), and a code cache the build made after running that command
 * (build/code-cache.mjs): it holds the bytecode of every function the run compiled, which a cache
 * made right after compiling (Node's own SEA code cache) does not. Every other command line runs
 * the full bundle with the cold cache, made before anything ran. A slim bundle hands what it
 * cannot answer (help, usage errors) over to the full one (cli/full-bundle.ts). Only start-up
 * speed depends on this choice: in any bundle, with any cache or none, a command line runs the
 * same.
 */

/** Every command path as typed ('ps', 'container ls', 'rm', ...) → its slim bundle's name, or null (the full bundle). Made by the build. */
export type BundleIndex = Readonly<Record<string, string | null>>;

/** The cache of the full bundle, made right after compiling it, before any command ran. */
export const COLD_CODE_CACHE = 'cold';

/** The SEA asset that holds the code cache `name`. */
export const codeCacheAsset = (name: string): string => `code-cache/${name}`;

/** The SEA asset that holds the slim bundle `name`. */
export const slimBundleAsset = (name: string): string => `slim/${name}.js`;

/**
 * The slim bundle for `argv` (the arguments after the executable), or undefined for the full one:
 * the bundle of the longest path it starts with, as the full command table would resolve it.
 */
export function slimBundleFor(argv: readonly string[], index: BundleIndex): string | undefined {
  const parsed = extractGlobals([...argv]);
  if ('error' in parsed) return undefined;
  const found = matchCommandPath(parsed.rest, Object.entries(index).map(([p, name]) => ({ paths: [p.split(' ')], name })));
  return ('entry' in found && found.entry.name) || undefined;
}
