#!/usr/bin/env node
// npm run build: native addon + C helper + esbuild bundle + Node single executable (dist/skiff).
// The executable embeds the Node runtime pinned in package.json (build/node-runtime.mjs), not
// the Node that runs this script, which only needs to start it.
// Fully offline: node-gyp gets --nodedir from the pinned runtime's package, so it never
// downloads headers. Idempotent: every output is regenerated from scratch on each run.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lazyClipanion } from './lazy-clipanion.mjs';
import { asciiOnly } from './ascii-bundle.mjs';
import { shareEsmInterop } from './shared-esm-interop.mjs';
import { installedRuntime } from './node-runtime.mjs';
import { bundleIndex, checkCodeCaches, makeCodeCaches, WARM_RUNS, wrapBundle } from './code-cache.mjs';
import { slimBundle } from './slim-bundle.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const addonDir = path.join(root, 'native', 'addon');
const helperDir = path.join(root, 'native', 'helper');
const addonOut = path.join(addonDir, 'build', 'Release', 'skiff_native.node');
const helperOut = path.join(helperDir, 'build', 'skiff-helper');
const monitorOut = path.join(helperDir, 'build', 'skiff-monitor');
const ISAL_LIBRARY = 'libisal.so.2'; // the name native/helper/gunzip.c and src/native/assets.ts use
const isalOut = path.join(helperDir, 'build', ISAL_LIBRARY);
const bundleOut = path.join(dist, 'skiff.cjs');
const wrappedOut = path.join(dist, 'skiff.js'); // the bundle as src/sea-main.ts calls it
const seaMainOut = path.join(dist, 'sea-main.cjs');
const codeCacheDir = path.join(dist, 'code-cache');
const slimDir = path.join(dist, 'slim'); // the slim bundles (build/slim-bundle.mjs)
const exeOut = path.join(dist, 'skiff');

// SEA start-up options, measured with hyperfine -N 'dist/skiff --version' (median of 120-150
// runs on a busy 2-core box; `node -e 0` = 110-160 ms there), on Node 20:
//   useCodeCache false: 148-152 ms (user 105 ms);  true: 142-143 ms (user 96-102 ms)  -> on
//   useSnapshot (bundle pre-evaluated in a startup snapshot): no faster (user 99-101 ms), a 5 MB
//     blob, and stdout written by commands was lost after deserialisation -> off
// Re-measured on Node 26.12.1 (user+sys CPU medians of 40-60 interleaved runs, load ~10): the
// code cache still pays, --version 112 ms with it, 139 ms without; ps -a 197 vs 235 ms.
// Node 26 with useSnapshot (SKIFF_SEA_SNAPSHOT=1, below): stdout works now, but --version 154
// against 138 ms, ps -a 175 vs 164 (CPU, 20 interleaved rounds): off. V8 options in execArgv
// measured in docs/PERFORMANCE.md ("The SEA's start-up, measured piece by piece"): none kept.
// Node 24 and 26 themselves boot ~25 ms of CPU slower than Node 20 (`node -e 0`: 135 vs 108 ms),
// which is all that skiff's commands lost in moving off Node 20.
// Since then the code caches are made after running a command like the one typed (src/sea-main.ts,
// build/code-cache.mjs): ps -a 6-23 ms of CPU less than with Node's own cache, exec and run
// within the noise (docs/PERFORMANCE.md, "Code caches made after a run"); and the commands that
// start most often run from slim bundles of their own modules (build/slim-bundle.mjs): exec
// ~16 ms of CPU less, inspect, logs and start ~17-21 ms (docs/PERFORMANCE.md, "Slim bundles").
// SKIFF_SEA_CODE_CACHE=0 builds without any code cache, to re-measure.
const useCodeCache = process.env.SKIFF_SEA_CODE_CACHE ? process.env.SKIFF_SEA_CODE_CACHE === '1' : true;
// SKIFF_SEA_SNAPSHOT=1: a startup snapshot instead, the bundle itself as the SEA's main (src/main.ts,
// the __SKIFF_SEA_SNAPSHOT__ branch; measured in docs/PERFORMANCE.md, "Startup snapshot").
const useSnapshot = process.env.SKIFF_SEA_SNAPSHOT === '1';

const t0 = Date.now();
function step(msg) {
  console.log(`[build ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
}
// Runs quietly; on failure prints the tool's output and stops the build.
function run(what, cmd, args, opts = {}) {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  } catch (e) {
    process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
    fail(`${what} failed${e.status != null ? ` (exit ${e.status})` : `: ${e.message}`}`);
  }
}
function fail(msg) {
  console.error(`build: ${msg}`);
  process.exit(1);
}

let runtime;
try {
  runtime = installedRuntime(root);
} catch (e) {
  fail(e.message);
}

// Child processes (node-gyp, the `node -p` in binding.gyp) run on the pinned runtime too.
const env = { ...process.env, PATH: `${path.dirname(runtime.bin)}${path.delimiter}${process.env.PATH ?? ''}` };

// (a) the addon: N-API, so any Node of the same ABI family loads it; built against the pinned
// runtime's own headers all the same.
step(`addon: node-gyp rebuild (Node ${runtime.version}, nodedir ${path.relative(root, runtime.nodedir)})`);
run(
  'node-gyp (native/addon)',
  runtime.bin,
  [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', `--nodedir=${runtime.nodedir}`, '-j', '2', '--loglevel=warn'],
  { cwd: addonDir, env },
);

// (b) the C helper
const helperSources = fs
  .readdirSync(helperDir)
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => path.join(helperDir, f));
if (helperSources.length === 0) fail('no C sources in native/helper; cannot build skiff-helper');
step(`helper: cc ${helperSources.map((f) => path.basename(f)).join(' ')}`);
fs.mkdirSync(path.dirname(helperOut), { recursive: true });
// zlib, zstd and OpenSSL's sha256 (apply-tar) are linked statically, so the helper that the
// single executable carries needs nothing but libc on the machine it lands on.
const staticLibs = ['-Wl,-Bstatic', '-lz', '-lzstd', '-lcrypto', '-Wl,-Bdynamic', '-lm'];
const missingLib = ['libz.a', 'libzstd.a', 'libcrypto.a'].find(
  (a) => !['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib'].some((d) => fs.existsSync(path.join(d, a))),
);
if (missingLib) fail(`${missingLib} not found: install zlib1g-dev libzstd-dev libssl-dev (apt-get install -y zlib1g-dev libzstd-dev libssl-dev)`);
// ISA-L inflates gzip ~3x faster than zlib. Debian ships no static libisal, so the helper
// dlopens the shared library from its own directory (native/helper/gunzip.c): the one found
// here is copied next to it and travels in the single executable as an asset.
const cc = process.env.CC || 'cc';
const isalFound = execFileSync(cc, [`-print-file-name=${ISAL_LIBRARY}`], { encoding: 'utf8' }).trim();
if (!path.isAbsolute(isalFound) || !fs.existsSync('/usr/include/isa-l/igzip_lib.h')) {
  fail(`${ISAL_LIBRARY} or isa-l/igzip_lib.h not found: install libisal-dev (apt-get install -y libisal-dev)`);
}
fs.copyFileSync(fs.realpathSync(isalFound), isalOut);
// -ffunction-sections + --gc-sections: each executable keeps only the code its modes reach.
const sectionFlags = ['-ffunction-sections', '-fdata-sections', '-Wl,--gc-sections'];
run('compiling native/helper', cc, ['-O2', '-Wall', '-Wextra', '-D_GNU_SOURCE', ...sectionFlags, '-o', helperOut, ...helperSources, ...staticLibs], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'], // warnings stay visible
});
// The monitor (one per running container, for the container's whole life) and exec are a
// second executable of the same sources (main.c's mode table under SKIFF_MONITOR_BUILD), without
// the pull/unpack code and its libraries: it runs from a sealed memfd copy of itself
// (sealed_exe.c), one per container, so every byte of it is resident once per container
// (docs/PERFORMANCE.md, "Memory of the per-container monitor").
const UNPACK_ONLY = new Set(['untar.c', 'gunzip.c', 'tarwrite.c', 'copy_in_out.c']);
const monitorSources = helperSources.filter((f) => !UNPACK_ONLY.has(path.basename(f)));
run('compiling native/helper (monitor)', cc, ['-O2', '-Wall', '-Wextra', '-D_GNU_SOURCE', '-DSKIFF_MONITOR_BUILD', ...sectionFlags, '-o', monitorOut, ...monitorSources, '-lm'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});

// The cache directory the single executable extracts to is named by this hash, so a new
// build never runs an older build's helper. Each asset's own sha256 is what src/native/assets.ts
// checks the extracted copies against.
const assetFiles = { 'skiff_native.node': addonOut, 'skiff-helper': helperOut, 'skiff-monitor': monitorOut, [ISAL_LIBRARY]: isalOut };
const nativeDigests = Object.fromEntries(
  Object.entries(assetFiles).map(([name, file]) => [name, createHash('sha256').update(fs.readFileSync(file)).digest('hex')]),
);
const nativeHash = createHash('sha256')
  .update(fs.readFileSync(addonOut))
  .update('\0')
  .update(fs.readFileSync(helperOut))
  .update('\0')
  .update(fs.readFileSync(monitorOut))
  .update('\0')
  .update(fs.readFileSync(isalOut))
  .digest('hex')
  .slice(0, 16);

// (c) the bundle
const entry = path.join(root, 'src', 'main.ts');
if (!fs.existsSync(entry)) fail(`missing ${path.relative(root, entry)}`);
step(`bundle: esbuild ${path.relative(root, entry)} -> ${path.relative(root, bundleOut)} (native ${nativeHash})`);
fs.mkdirSync(dist, { recursive: true });
const esbuild = await import('esbuild');
// What all bundles (the code, the slim ones and src/sea-main.ts) are built with.
const bundleOptions = { bundle: true, format: 'cjs', platform: 'node', target: `node${runtime.major}`, minify: true, legalComments: 'none', logLevel: 'warning' };
/** src/main.ts bundled into `outfile`, with `plugins` besides lazyClipanion. */
async function bundleMain(outfile, plugins = []) {
  try {
    await esbuild.build({
      ...bundleOptions,
      entryPoints: [entry],
      outfile,
      define: {
        __SKIFF_NATIVE_HASH__: JSON.stringify(nativeHash),
        __SKIFF_NATIVE_DIGESTS__: JSON.stringify(nativeDigests),
        __SKIFF_SEA_SNAPSHOT__: JSON.stringify(useSnapshot),
      },
      plugins: [lazyClipanion, ...plugins], // clipanion without its stdio and tty at load (build/lazy-clipanion.mjs)
    });
    // one interop wrapper per module; pure ASCII, which Node loads without a conversion
    fs.writeFileSync(outfile, asciiOnly(shareEsmInterop(fs.readFileSync(outfile, 'utf8'))));
  } catch (e) {
    fail(e.message);
  }
}
await bundleMain(bundleOut);

// (d) the SEA's main script (src/sea-main.ts), the slim bundles of the commands that start most
// often (build/slim-bundle.mjs) and the code caches it picks from: each slim bundle's made after
// running its command at build time, the full bundle's before anything ran (build/code-cache.mjs).
// Not for a snapshot build: there the full bundle is the main.
const useBootMain = !useSnapshot;
const seaAssets = { ...assetFiles };
if (useBootMain) {
  fs.writeFileSync(wrappedOut, wrapBundle(fs.readFileSync(bundleOut, 'latin1')));
  seaAssets['skiff.js'] = wrappedOut;
  let bundles;
  try {
    bundles = await bundleIndex(root, esbuild);
  } catch (e) {
    fail(e.message);
  }
  step(`slim bundles: ${WARM_RUNS.map((w) => w.name).join(', ')} -> ${path.relative(root, slimDir)}/`);
  fs.rmSync(slimDir, { recursive: true, force: true });
  fs.mkdirSync(slimDir, { recursive: true });
  const runs = [{ name: 'cold', wrapped: wrappedOut, argv: [] }];
  for (const { name, argv } of WARM_RUNS) {
    const out = path.join(slimDir, `${name}.cjs`);
    await bundleMain(out, [slimBundle(root, bundles.paths[name])]);
    const wrapped = path.join(slimDir, `${name}.js`);
    fs.writeFileSync(wrapped, wrapBundle(fs.readFileSync(out, 'latin1')));
    seaAssets[`slim/${name}.js`] = wrapped;
    runs.push({ name, wrapped, argv });
  }
  if (useCodeCache) {
    step(`code caches: ${path.relative(root, codeCacheDir)}/ (each slim bundle run once with its command)`);
    try {
      const files = makeCodeCaches({ runtime: runtime.bin, runs, outDir: codeCacheDir, nativeEnv: { SKIFF_ADDON: addonOut, SKIFF_HELPER: helperOut, SKIFF_MONITOR: monitorOut } });
      for (const [name, file] of Object.entries(files)) seaAssets[`code-cache/${name}`] = file;
    } catch (e) {
      fail(e.message);
    }
  }
  await esbuild.build({
    ...bundleOptions,
    entryPoints: [path.join(root, 'src', 'sea-main.ts')],
    outfile: seaMainOut,
    define: { __SKIFF_BUNDLES__: JSON.stringify(bundles.index), __SKIFF_CODE_CACHE__: JSON.stringify(useCodeCache) },
  });
}

// (e) the executable, made by the pinned runtime itself (node --build-sea: writes the blob and
// injects it into a copy of `executable`). The copy it starts from is stripped first: strip
// after injection would break the executable, and the runtime package's binary carries debug
// info. Written under a temporary name and renamed, so a running dist/skiff is never
// overwritten in place.
step(`sea: node ${runtime.version} --build-sea (useCodeCache=${useCodeCache}, useSnapshot=${useSnapshot})`);
const strippedNode = path.join(dist, `node-stripped.tmp-${process.pid}`);
const tmpExe = `${exeOut}.tmp-${process.pid}`;
// Both are gone after a good build (the rename); else a failed build leaves nothing behind.
process.on('exit', () => {
  fs.rmSync(strippedNode, { force: true });
  fs.rmSync(tmpExe, { force: true });
});
fs.copyFileSync(runtime.bin, strippedNode);
fs.chmodSync(strippedNode, 0o755);
run('strip', 'strip', [strippedNode]);
const seaConfig = path.join(dist, 'sea-config.json');
fs.writeFileSync(
  seaConfig,
  JSON.stringify(
    {
      main: useBootMain ? seaMainOut : bundleOut,
      mainFormat: 'commonjs',
      executable: strippedNode,
      output: tmpExe,
      disableExperimentalSEAWarning: true,
      useCodeCache,
      useSnapshot,
      // skiff's command line and environment are skiff's alone. Node looks for `--env-file FILE`
      // anywhere on its command line, stopping only at `--` (Dotenv::GetDataFromArgs, still so
      // in Node 26), and exits 9 before skiff runs: the SEA puts execArgv before the user's
      // arguments, so a `--` there hands `skiff run --env-file FILE` to skiff. 'none': a
      // NODE_OPTIONS meant for other Node programs (--require, --inspect, ...) is ignored.
      execArgv: ['--'],
      execArgvExtension: 'none',
      assets: seaAssets,
    },
    null,
    2,
  ) + '\n',
);
run('node --build-sea', runtime.bin, ['--build-sea', seaConfig], { cwd: root, env });
fs.chmodSync(tmpExe, 0o755);
fs.renameSync(tmpExe, exeOut);

fs.rmSync(path.join(dist, 'sea-prep.blob'), { force: true }); // left by builds before --build-sea

if (useBootMain) {
  try {
    checkCodeCaches(exeOut, useCodeCache);
  } catch (e) {
    fail(`code caches: ${e.message}`);
  }
}
const version = execFileSync(exeOut, ['--version'], { encoding: 'utf8' }).trim();
const embedded = execFileSync(exeOut, ['version', '--format', '{{.Client.NodeVersion}}'], { encoding: 'utf8' }).trim();
if (embedded !== `v${runtime.version}`) fail(`${path.relative(root, exeOut)} runs on Node ${embedded}, not the pinned ${runtime.version}`);
const mb = (fs.statSync(exeOut).size / 1048576).toFixed(1);
step(`done: ${path.relative(root, exeOut)} (${mb} MB, Node ${runtime.version}), --version: ${version}`);
