// The code bundles and V8 code caches the single executable carries (src/sea-main.ts,
// src/cli/code-cache.ts): for each command below, a slim bundle of its own (build/slim-bundle.mjs)
// with a cache made by running it with that command line under the pinned runtime
// (build/code-cache-run.cjs) and taking the cache when it exits; and the full bundle, for every
// other command, with the cold cache made before anything runs.
//
// The runs happen at build time, without containers, images or namespaces, in an empty
// throw-away store: `exec` and `run` go as far as their missing container or image, which
// already covers the argument parsing, the engine's context and records, and the error path.
// docs/PERFORMANCE.md, "Code caches made after a run" and "Slim bundles", has what each saves.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** Each slim bundle's (and its cache's) name, and the command line whose run fills the cache. */
export const WARM_RUNS = [
  { name: 'ps', argv: ['ps', '-a'] },
  { name: 'images', argv: ['images'] },
  { name: 'exec', argv: ['exec', 'no-such-container', 'true'] },
  { name: 'run', argv: ['run', '--rm', '--pull', 'never', '--network', 'none', 'no-such-image', 'true'] },
  // the rest of a container's everyday life, each as far as its missing container or image
  { name: 'create', argv: ['create', '--pull', 'never', '--network', 'none', 'no-such-image', 'true'] },
  { name: 'start', argv: ['start', 'no-such-container'] },
  { name: 'stop', argv: ['stop', 'no-such-container'] },
  { name: 'rm', argv: ['rm', '-f', 'no-such-container'] },
  { name: 'logs', argv: ['logs', 'no-such-container'] },
  { name: 'inspect', argv: ['inspect', 'no-such-container'] },
];

/** The bundle as the function sea-main.ts calls: the CommonJS wrapper Node would put around it. */
export function wrapBundle(code) {
  return `(function (exports, require, module, __filename, __dirname) {${code}\n})`;
}

/** The exit code of a cache run whose slim bundle handed over to the full one (build/code-cache-run.cjs). */
export const HANDED_OVER_EXIT = 86; // the same number in code-cache-run.cjs

/**
 * Every command path of src/cli/command-table.ts (noun forms included), mapped to the name of the
 * slim bundle that runs it, or to null (the full bundle); and the table's paths of each slim
 * bundle's command, which build/slim-bundle.mjs keeps in that bundle's table. All paths, not only
 * the slim ones: a command line runs in a slim bundle only when the full table would also pick
 * that command for it (the longest path it starts with).
 */
export async function bundleIndex(root, esbuild) {
  const source = fs.readFileSync(path.join(root, 'src', 'cli', 'command-table.ts'), 'utf8');
  // Only the paths are read: the loaders' import() calls are never made.
  const { code } = await esbuild.transform(source, { loader: 'ts', format: 'cjs' });
  const mod = { exports: {} };
  vm.runInThisContext(`(function (exports, module, require) {${code}\n})`)(mod.exports, mod, () => ({}));
  const table = mod.exports.COMMAND_TABLE;
  const index = {};
  for (const entry of table) for (const p of entry.paths) index[p.join(' ')] = null;
  const paths = {};
  for (const { name, argv } of WARM_RUNS) {
    const entry = table.find((e) => e.paths.some((p) => p.every((w, i) => argv[i] === w)));
    if (!entry) throw new Error(`build/code-cache.mjs: no command in src/cli/command-table.ts for \`${argv.join(' ')}\``);
    for (const p of entry.paths) index[p.join(' ')] = name;
    paths[name] = entry.paths;
  }
  return { index, paths };
}

/**
 * Writes the cache of each of `runs` ({ name, wrapped: the wrapped bundle, argv: the command line
 * to run it with, [] for the cold cache }) into outDir as NAME.v8, running the bundle with
 * `runtime`; returns { name: file }. nativeEnv points the bundles at the freshly built addon and
 * helper (outside the SEA they cannot extract them). A slim bundle that hands its command line
 * over to the full one fails the build: its command would never run from it.
 */
export function makeCodeCaches({ runtime, runs, outDir, nativeEnv }) {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const runner = path.join(path.dirname(new URL(import.meta.url).pathname), 'code-cache-run.cjs');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-code-cache-'));
  const files = {};
  try {
    // A clean environment and an empty store of its own: nothing of the builder's leaks in,
    // nothing of theirs is touched.
    const env = {
      PATH: process.env.PATH, HOME: scratch, LANG: 'C.UTF-8', ...nativeEnv,
      SKIFF_ROOT: path.join(scratch, 'root'), SKIFF_RUNROOT: path.join(scratch, 'run'), XDG_RUNTIME_DIR: path.join(scratch, 'xdg'),
    };
    fs.mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
    for (const { name, wrapped, argv } of runs) {
      const out = path.join(outDir, `${name}.v8`);
      // exec and run fail on their missing container and image, as they are meant to
      const { status, stderr } = spawnSync(runtime, [runner, wrapped, out, ...argv], { env, cwd: scratch, stdio: 'pipe', encoding: 'utf8' });
      if (status === HANDED_OVER_EXIT) throw new Error(`build/code-cache.mjs: \`skiff ${argv.join(' ')}\` in its slim bundle handed over to the full bundle: ${stderr.trim()}`);
      if (!fs.existsSync(out) || fs.statSync(out).size === 0) throw new Error(`build/code-cache.mjs: \`skiff ${argv.join(' ')}\` left no code cache`);
      files[name] = out;
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return files;
}

/**
 * Runs the finished executable with SKIFF_CODE_CACHE_REPORT=1 (src/sea-main.ts: a line for each
 * bundle it runs) and throws unless each command line ran in the bundle meant for it, with V8
 * taking its cache (a cache it rejects, made by another runtime's flags or version, would be
 * compiled over in silence, at full cost), and unless a slim bundle's help hands over to the
 * full bundle. `caches`: whether the executable was built with code caches.
 */
export function checkCodeCaches(exe, caches) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-code-cache-check-'));
  try {
    const env = { PATH: process.env.PATH, HOME: scratch, SKIFF_CODE_CACHE_REPORT: '1', SKIFF_ROOT: path.join(scratch, 'root'), SKIFF_RUNROOT: path.join(scratch, 'run') };
    const report = (name) => `code cache ${name}: ${caches ? 'accepted' : 'not used'}`;
    const checks = [
      { argv: ['no-such-command'], lines: [report('cold')] },
      ...WARM_RUNS.map(({ name, argv }) => ({ argv, lines: [report(name)] })),
      { argv: [...WARM_RUNS[0].argv, '--help'], lines: [report(WARM_RUNS[0].name), report('cold')] },
    ];
    for (const { argv, lines } of checks) {
      const { stderr } = spawnSync(exe, argv, { env, cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      const got = (stderr ?? '').split('\n').filter((l) => l.startsWith('code cache '));
      if (got.join('\n') !== lines.join('\n')) {
        throw new Error(`\`skiff ${argv.join(' ')}\` reported ${got.length ? got.join('; ') : 'nothing'}, not ${lines.join('; ')}`);
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
