/**
 * The single executable's main script (build/build.mjs bundles it on its own; the SEA runs it
 * instead of the bundle). The bundle itself (src/main.ts and all it loads, wrapped as a CommonJS
 * function) is an asset, compiled here with the V8 code cache that suits the command line
 * (cli/code-cache.ts): one made by the build after running a command like it, so the functions
 * that command calls are deserialised instead of parsed and compiled at every start. Node's own
 * SEA code cache is made before anything runs and holds little more than the bundle's top level.
 * Measured in docs/PERFORMANCE.md ("Code caches made after a run").
 *
 * Nothing here reads the process beyond argv (and one diagnostic variable): main.ts does all
 * the rest, as it would as the main script itself, but for `--version`, answered here.
 */
import { codeCacheAsset, codeCacheFor, type CodeCacheIndex } from './cli/code-cache';
import { writeStdout } from './cli/output/stdout';
import { versionLineOf } from './cli/version-flag';

/** The asset holding the bundle, wrapped as `(function (exports, require, module, __filename, __dirname) {...})`. */
export const BUNDLE_ASSET = 'skiff.js';

// Injected by build/build.mjs (esbuild `define`): cache name by command path, or null when the
// executable was built without code caches (SKIFF_SEA_CODE_CACHE=0).
declare const __SKIFF_CODE_CACHES__: CodeCacheIndex | null;

/** Compiles the bundle with the code cache that suits the command line, and runs it. */
function runBundle(): void {
  // loaded here, not at the top: `--version` needs neither
  const { getRawAsset } = process.getBuiltinModule('node:sea') as typeof import('node:sea');
  const { Script } = process.getBuiltinModule('node:vm') as typeof import('node:vm');
  const cacheName = __SKIFF_CODE_CACHES__ && codeCacheFor(process.argv.slice(2), __SKIFF_CODE_CACHES__);
  // getRawAsset: the bytes in the executable's own mapping, not a copy.
  const script = new Script(Buffer.from(getRawAsset(BUNDLE_ASSET)).toString('latin1'), {
    filename: __filename,
    cachedData: cacheName ? Buffer.from(getRawAsset(codeCacheAsset(cacheName))) : undefined,
  });
  // The build checks with it that V8 accepts every cache (a rejected one is silently compiled over).
  if (process.env.SKIFF_CODE_CACHE_REPORT === '1') {
    process.stderr.write(`code cache ${cacheName ?? '(none)'}: ${cacheName && !script.cachedDataRejected ? 'accepted' : 'not used'}\n`);
  }
  (script.runInThisContext() as (...a: unknown[]) => void)(exports, require, module, __filename, __dirname);
}

const version = versionLineOf(process.argv.slice(2));
// `--version` needs nothing of the bundle: answered here, it costs what Node's own start costs.
if (version !== undefined) writeStdout(version);
else runBundle();
