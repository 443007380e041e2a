#!/usr/bin/env node
// npm run build: native addon + C helper + esbuild bundle + Node single executable (dist/skiff).
// Fully offline: node-gyp gets --nodedir from the running Node, so it never downloads headers.
// Idempotent: every output is regenerated from scratch on each run.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const addonDir = path.join(root, 'native', 'addon');
const helperDir = path.join(root, 'native', 'helper');
const addonOut = path.join(addonDir, 'build', 'Release', 'skiff_native.node');
const helperOut = path.join(helperDir, 'build', 'skiff-helper');
const ISAL_LIBRARY = 'libisal.so.2'; // the name native/helper/gunzip.c and src/native/assets.ts use
const isalOut = path.join(helperDir, 'build', ISAL_LIBRARY);
const bundleOut = path.join(dist, 'skiff.cjs');
const blobOut = path.join(dist, 'sea-prep.blob');
const exeOut = path.join(dist, 'skiff');
const nodeDir = path.dirname(path.dirname(process.execPath));
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// SEA start-up options, measured with hyperfine -N 'dist/skiff --version' (median of 120-150
// runs on a busy 2-core box; `node -e 0` = 110-160 ms there):
//   useCodeCache false: 148-152 ms (user 105 ms);  true: 142-143 ms (user 96-102 ms)  -> on
//   useSnapshot (bundle pre-evaluated in a startup snapshot): no faster (user 99-101 ms), a 5 MB
//     blob, and stdout written by commands was lost after deserialisation -> off
// SKIFF_SEA_CODE_CACHE=0 builds without the code cache, to re-measure.
const useCodeCache = process.env.SKIFF_SEA_CODE_CACHE ? process.env.SKIFF_SEA_CODE_CACHE === '1' : true;

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

// Child processes (node-gyp, the `node -p` in binding.gyp) must use this very Node.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };

// (a) the addon
step(`addon: node-gyp rebuild (nodedir ${nodeDir})`);
run(
  'node-gyp (native/addon)',
  process.execPath,
  [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', `--nodedir=${nodeDir}`, '-j', '2', '--loglevel=warn'],
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
run('compiling native/helper', cc, ['-O2', '-Wall', '-Wextra', '-D_GNU_SOURCE', '-o', helperOut, ...helperSources, ...staticLibs], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'], // warnings stay visible
});

// The cache directory the single executable extracts to is named by this hash, so a new
// build never runs an older build's helper. Each asset's own sha256 is what src/native/assets.ts
// checks the extracted copies against.
const assetFiles = { 'skiff_native.node': addonOut, 'skiff-helper': helperOut, [ISAL_LIBRARY]: isalOut };
const nativeDigests = Object.fromEntries(
  Object.entries(assetFiles).map(([name, file]) => [name, createHash('sha256').update(fs.readFileSync(file)).digest('hex')]),
);
const nativeHash = createHash('sha256')
  .update(fs.readFileSync(addonOut))
  .update('\0')
  .update(fs.readFileSync(helperOut))
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
await esbuild.build({
  entryPoints: [entry],
  outfile: bundleOut,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  define: { __SKIFF_NATIVE_HASH__: JSON.stringify(nativeHash), __SKIFF_NATIVE_DIGESTS__: JSON.stringify(nativeDigests) },
  logLevel: 'warning',
});

// (d) the SEA blob
step(`sea: blob (useCodeCache=${useCodeCache})`);
const seaConfig = path.join(dist, 'sea-config.json');
fs.writeFileSync(
  seaConfig,
  JSON.stringify(
    {
      main: bundleOut,
      output: blobOut,
      disableExperimentalSEAWarning: true,
      useCodeCache,
      useSnapshot: false,
      assets: assetFiles,
    },
    null,
    2,
  ) + '\n',
);
run('node --experimental-sea-config', process.execPath, ['--experimental-sea-config', seaConfig], { cwd: root });

// (e) the executable: copy, strip (before injecting: stripping afterwards would break it),
// inject, chmod. Written under a temporary name and renamed, so a running dist/skiff is
// never overwritten in place.
step('exe: copy node, strip, inject');
const tmpExe = `${exeOut}.tmp-${process.pid}`;
fs.rmSync(tmpExe, { force: true });
process.on('exit', () => fs.rmSync(tmpExe, { force: true })); // gone after the rename; else a failed build
fs.copyFileSync(process.execPath, tmpExe);
fs.chmodSync(tmpExe, 0o755);
run('strip', 'strip', [tmpExe]);
const { inject } = require('postject');
// postject is chatty, and its ELF parser warns about each of node's many .note sections
// ("Can't find string offset for section name '.note.100'"): harmless, so hidden.
const { log, warn } = console;
console.log = console.warn = () => {};
try {
  await inject(tmpExe, 'NODE_SEA_BLOB', fs.readFileSync(blobOut), { sentinelFuse: SEA_FUSE });
} catch (e) {
  fail(`postject failed: ${e instanceof Error ? e.message : e}`);
} finally {
  Object.assign(console, { log, warn });
}
fs.chmodSync(tmpExe, 0o755);
fs.renameSync(tmpExe, exeOut);

const version = execFileSync(exeOut, ['--version'], { encoding: 'utf8' }).trim();
const mb = (fs.statSync(exeOut).size / 1048576).toFixed(1);
step(`done: ${path.relative(root, exeOut)} (${mb} MB), --version: ${version}`);
