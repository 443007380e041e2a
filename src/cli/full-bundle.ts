/**
 * The hand-over from a command's slim bundle to the full one (src/sea-main.ts, build/slim-bundle.mjs).
 *
 * The single executable runs the commands that start most often (`ps`, `exec`, `run`, ...:
 * WARM_RUNS in build/code-cache.mjs) from bundles that hold only that command's modules: a
 * smaller script to copy into the heap and a smaller code cache to deserialise at every start
 * (docs/PERFORMANCE.md, "Slim bundles"). What such a bundle cannot
 * answer (help, usage errors: everything that needs the list of all commands, cli/index.ts and
 * cli/help/dispatch.ts) it hands to the full bundle before anything was printed or changed:
 * sea-main.ts registers how to run the full bundle here, and the slim bundle's stand-in for those
 * two modules calls it. The two bundles are separate scripts with separate module instances, so
 * they meet on a global registered under a well-known symbol, not in a module variable.
 */
const FULL_BUNDLE_RUNNER = Symbol.for('skiff.runFullBundle');

type Runner = () => void;

/** Called by sea-main.ts before it runs a slim bundle (and by the build's cache runs, build/code-cache-run.cjs). */
export function setFullBundleRunner(run: Runner): void {
  (globalThis as { [FULL_BUNDLE_RUNNER]?: Runner })[FULL_BUNDLE_RUNNER] = run;
}

/** Runs the full bundle with the same command line; a slim bundle calls it and goes no further. */
export function runFullBundle(): void {
  const run = (globalThis as { [FULL_BUNDLE_RUNNER]?: Runner })[FULL_BUNDLE_RUNNER];
  if (!run) throw new Error('internal error: a slim bundle needs the full one, and nothing registered how to run it');
  run();
}
