/**
 * The single executable's main script (build/build.mjs bundles it on its own; the SEA runs it
 * instead of the bundle). The code (src/main.ts and all it loads, wrapped as a CommonJS function)
 * is an asset, in two kinds: the full bundle, and for the few commands that start most often, a
 * slim bundle of that command's modules alone (build/slim-bundle.mjs). This picks the bundle
 * that suits the command line (cli/code-cache.ts) and compiles it with its V8 code cache: one the
 * build made after running that command, so the functions it calls are deserialised instead of
 * parsed and compiled at every start. Measured in docs/PERFORMANCE.md ("Code caches made after a
 * run", "Slim bundles").
 *
 * Nothing here reads the process beyond argv (and one diagnostic variable): main.ts does all
 * the rest, as it would as the main script itself, but for `--version`, answered here.
 */
import { COLD_CODE_CACHE, codeCacheAsset, slimBundleAsset, slimBundleFor, type BundleIndex } from './cli/code-cache';
import { setFullBundleRunner } from './cli/full-bundle';
import { writeStdout } from './cli/output/stdout';
import { versionLineOf } from './cli/version-flag';

/** The asset holding the full bundle, wrapped as `(function (exports, require, module, __filename, __dirname) {...})`. */
export const BUNDLE_ASSET = 'skiff.js';

// Injected by build/build.mjs (esbuild `define`): every command path and its slim bundle (or
// null), and whether the executable carries code caches (not with SKIFF_SEA_CODE_CACHE=0).
declare const __SKIFF_BUNDLES__: BundleIndex;
declare const __SKIFF_CODE_CACHE__: boolean;

/** Compiles the bundle in asset `asset` with the code cache `cache`, and runs it. */
function runBundle(asset: string, cache: string): void {
  // loaded here, not at the top: `--version` needs neither
  const { getRawAsset } = process.getBuiltinModule('node:sea') as typeof import('node:sea');
  const { Script } = process.getBuiltinModule('node:vm') as typeof import('node:vm');
  // getRawAsset: the bytes in the executable's own mapping, not a copy.
  const script = new Script(Buffer.from(getRawAsset(asset)).toString('latin1'), {
    filename: __filename,
    cachedData: __SKIFF_CODE_CACHE__ ? Buffer.from(getRawAsset(codeCacheAsset(cache))) : undefined,
  });
  // The build checks with it that each command line runs in its bundle, and that V8 accepts
  // every cache (a rejected one is silently compiled over).
  if (process.env.SKIFF_CODE_CACHE_REPORT === '1') {
    process.stderr.write(`code cache ${cache}: ${__SKIFF_CODE_CACHE__ && !script.cachedDataRejected ? 'accepted' : 'not used'}\n`);
  }
  (script.runInThisContext() as (...a: unknown[]) => void)(exports, require, module, __filename, __dirname);
}

const runFull = () => runBundle(BUNDLE_ASSET, COLD_CODE_CACHE);
const args = process.argv.slice(2);
const version = versionLineOf(args);
const slim = version === undefined ? slimBundleFor(args, __SKIFF_BUNDLES__) : undefined;
// `--version` needs nothing of the bundle: answered here, it costs what Node's own start costs.
if (version !== undefined) writeStdout(version);
else if (slim === undefined) runFull();
else {
  // help and usage errors of the slim bundle's command are the full bundle's to answer
  setFullBundleRunner(runFull);
  runBundle(slimBundleAsset(slim), slim);
}
